//! One transaction's vocabulary: why it aborted, and what its caller sees.

use super::StoreError;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use std::convert::Infallible;

/// Whether a write is flushed before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Durable when the call returns (everything that answers a user).
    Flushed,
    /// For loading many records at once (benchmark corpora), followed by one
    /// [`Store::flush`](super::Store::flush): a crash before it may lose any.
    Unflushed,
}

/// Why a transaction's work stopped.
#[derive(Debug)]
pub(crate) enum Abort<E> {
    /// The change itself refused (an invalid transition, say).
    Refused(E),
    Corrupt {
        tree: &'static str,
        source: serde_json::Error,
    },
    Inconsistent {
        tree: &'static str,
        detail: String,
    },
}

/// The result of work inside a transaction.
pub(crate) type TxResult<T, E = Infallible> = Result<T, ConflictableTransactionError<Abort<E>>>;

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TxError<E> {
    /// The change itself refused (an invalid transition, say); nothing was written.
    #[error(transparent)]
    Refused(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TxError<Infallible> {
    /// A write that cannot be refused fails only in the store.
    pub fn into_store(self) -> StoreError {
        match self {
            TxError::Store(e) => e,
            TxError::Refused(never) => match never {},
        }
    }
}

impl From<TxError<Infallible>> for StoreError {
    fn from(e: TxError<Infallible>) -> StoreError {
        e.into_store()
    }
}

pub(crate) fn into_error<E>(e: TransactionError<Abort<E>>) -> TxError<E> {
    match e {
        TransactionError::Abort(Abort::Refused(e)) => TxError::Refused(e),
        TransactionError::Abort(Abort::Corrupt { tree, source }) => {
            TxError::Store(StoreError::Corrupt { tree, source })
        }
        TransactionError::Abort(Abort::Inconsistent { tree, detail }) => {
            TxError::Store(StoreError::Inconsistent { tree, detail })
        }
        TransactionError::Storage(e) => TxError::Store(StoreError::Sled(e)),
    }
}

pub(crate) fn refuse<T, E>(e: E) -> TxResult<T, E> {
    Err(ConflictableTransactionError::Abort(Abort::Refused(e)))
}

pub(crate) fn inconsistent<T, E>(tree: &'static str, detail: String) -> TxResult<T, E> {
    Err(ConflictableTransactionError::Abort(Abort::Inconsistent {
        tree,
        detail,
    }))
}

/// Read and decode a JSON record inside a transaction.
pub(crate) fn get_json<T: serde::de::DeserializeOwned, E>(
    tree: &TransactionalTree,
    name: &'static str,
    key: &[u8],
) -> TxResult<Option<T>, E> {
    match tree.get(key)? {
        None => Ok(None),
        Some(raw) => serde_json::from_slice(&raw).map(Some).map_err(|source| {
            ConflictableTransactionError::Abort(Abort::Corrupt { tree: name, source })
        }),
    }
}
