//! The commands' work and output; the library does the rest.

pub mod documents;
pub mod postbox;
pub mod registry;
pub mod users;
