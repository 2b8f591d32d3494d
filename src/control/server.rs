//! The daemon's side of the control socket: who may connect, and carrying out
//! their commands.
//!
//! The socket lies in the store directory with mode 0600; on top of that each
//! connection's peer credentials (SO_PEERCRED) are checked: only the daemon's
//! own system user and root may give commands, as only they may open the
//! store's files without a daemon.

use super::commands::{self, Files, FAILURE};
use super::protocol::{self, FileHeader, Reply};
use super::{Console, Request};
use crate::config::Config;
use crate::pipeline::ingest::{Content, Named};
use crate::progress::Progress;
use crate::service::{Actor, Services};
use crate::shutdown::Shutdown;
use std::collections::VecDeque;
use std::io::{self, BufReader, BufWriter};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Bind the control socket at `path`, replacing one left by a daemon that
/// died (this process holds the store's lock, so no other daemon uses it).
pub fn bind(path: &Path) -> io::Result<tokio::net::UnixListener> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    // Connections are checked one by one as well; the mode keeps everyone
    // else from even connecting.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Who may give commands: the daemon's own user, and root.
fn may_command(uid: u32) -> bool {
    // SAFETY: geteuid cannot fail.
    uid == 0 || uid == unsafe { libc::geteuid() }
}

/// Carry out commands from `listener` until the shutdown. Each connection is
/// one command, worked on a blocking thread.
pub async fn serve(
    listener: tokio::net::UnixListener,
    services: Arc<Services>,
    config: Arc<Config>,
    shutdown: Shutdown,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.triggered() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a command");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let uid = match stream.peer_cred() {
            Ok(cred) => cred.uid(),
            Err(e) => {
                tracing::warn!(error = %e, "a command without peer credentials; refused");
                continue;
            }
        };
        let stream = match stream
            .into_std()
            .and_then(|s| s.set_nonblocking(false).map(|()| s))
        {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "cannot take a command");
                continue;
            }
        };
        let (services, config) = (services.clone(), config.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = handle(stream, uid, &services, &config) {
                tracing::warn!(error = %e, uid, "a command's connection failed");
            }
        });
    }
}

/// How long a command line may go silent while it sends a file (a suspended
/// command, say) before the file counts as not sent.
const FILE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

fn handle(stream: UnixStream, uid: u32, services: &Services, config: &Config) -> io::Result<()> {
    stream.set_read_timeout(Some(FILE_PATIENCE))?;
    let writer = Arc::new(Mutex::new(BufWriter::new(stream.try_clone()?)));
    let mut console = SocketConsole {
        writer: writer.clone(),
    };
    if !may_command(uid) {
        let name = crate::service::user_name(uid);
        tracing::warn!(uid, user = %name, "a command from another user; refused");
        console.err(&format!(
            "eakte: {name} may not give the running daemon commands (only its own user and root may)"
        ));
        return send(&writer, &Reply::Exit(FAILURE));
    }
    let mut reader = BufReader::new(stream);
    let Some(request) = protocol::read_json::<Request>(&mut reader)? else {
        return Ok(());
    };
    let actor = Actor::Operator {
        name: crate::service::user_name(uid),
        uid,
    };
    tracing::info!(who = %actor.who(), command = request.name(), "command");
    let mut files = SocketFiles {
        names: request.files().into_iter().map(str::to_string).collect(),
        reader,
    };
    let status = commands::run(services, config, &actor, request, &mut files, &mut console);
    send(&writer, &Reply::Exit(status))
}

type Writer = Arc<Mutex<BufWriter<UnixStream>>>;

fn send(writer: &Writer, reply: &Reply) -> io::Result<()> {
    let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
    protocol::write_json(&mut *w, reply)
}

/// A command's output, sent back to the command line. A command line that
/// went away does not stop the command (it is finished and recorded).
struct SocketConsole {
    writer: Writer,
}

impl Console for SocketConsole {
    fn out(&mut self, line: &str) {
        let _ = send(&self.writer, &Reply::Out(line.to_string()));
    }

    fn err(&mut self, line: &str) {
        let _ = send(&self.writer, &Reply::Err(line.to_string()));
    }

    fn progress(&self) -> Arc<dyn Progress> {
        Arc::new(SocketProgress {
            writer: self.writer.clone(),
        })
    }
}

struct SocketProgress {
    writer: Writer,
}

impl Progress for SocketProgress {
    fn update(&self, what: &str, done: u64, total: u64) {
        let _ = send(
            &self.writer,
            &Reply::Progress {
                what: what.to_string(),
                done,
                total,
            },
        );
    }
}

/// The files the command line sends, in the order the request names them.
struct SocketFiles {
    names: VecDeque<String>,
    reader: BufReader<UnixStream>,
}

impl Files for SocketFiles {
    fn next_file(&mut self) -> Option<Named> {
        let file = self.names.pop_front()?;
        let content = match protocol::read_json::<FileHeader>(&mut self.reader) {
            Ok(Some(FileHeader::Read { name, received_at })) => {
                match protocol::read_bytes(&mut self.reader) {
                    Ok(bytes) => Content::Read {
                        name,
                        received_at,
                        bytes,
                    },
                    Err(e) => Content::Failed(format!("{file} did not arrive whole: {e}")),
                }
            }
            Ok(Some(FileHeader::Rejected(rejection))) => Content::Rejected(rejection),
            Ok(Some(FileHeader::Failed(message))) => Content::Failed(message),
            Ok(None) => Content::Failed(format!("{file} was not sent")),
            Err(e) => Content::Failed(format!("{file} did not arrive: {e}")),
        };
        Some(Named { file, content })
    }
}
