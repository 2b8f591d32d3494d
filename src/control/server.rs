//! The daemon's side of the control socket: who may connect, and carrying out
//! their commands.
//!
//! The socket lies in the store directory with mode 0600 (made in a private
//! directory and renamed into place, so it never exists with a wider mode); on
//! top of that each connection's peer credentials (SO_PEERCRED) are checked:
//! only the daemon's own system user and root may give commands, as only they
//! may open the store's files without a daemon.
//!
//! Each command runs on a thread of its own (at most [`MAX_COMMANDS`] at once,
//! so that commands never take the API's blocking threads), its output goes
//! through a writer thread, and a command line that stops reading loses its
//! output, never the daemon a thread.

use super::commands::{self, Files, FAILURE};
use super::protocol::{self, FileHeader, Reply, MAX_REQUEST};
use super::{Console, Request};
use crate::config::Config;
use crate::extract::Rejection;
use crate::pipeline::ingest::{Content, Named};
use crate::progress::Progress;
use crate::service::{Actor, Services};
use crate::shutdown::Shutdown;
use std::collections::VecDeque;
use std::io::{self, BufReader, BufWriter};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Commands carried out at once; more wait for their turn.
pub const MAX_COMMANDS: usize = 4;
/// How long a command line may take to send its request once connected.
const REQUEST_PATIENCE: Duration = Duration::from_secs(10);
/// How long a command line may go silent while it sends a file (a suspended
/// command, say) before the file counts as not sent.
const FILE_PATIENCE: Duration = Duration::from_secs(300);
/// How long the daemon waits for a command line to take its output.
const WRITE_PATIENCE: Duration = Duration::from_secs(60);
/// Lines of output waiting for a slow command line; progress beyond this is
/// dropped, lines wait.
const OUTPUT_QUEUE: usize = 256;

/// The control socket, bound.
pub struct Control {
    listener: tokio::net::UnixListener,
    commands: Arc<Semaphore>,
}

impl Control {
    /// Bind the control socket at `path`, replacing one left by a daemon that
    /// died (this process holds the store's lock, so no other daemon uses it).
    pub fn bind(path: &Path) -> io::Result<Control> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let parent = path.parent().unwrap_or(Path::new("."));
        let private = tempfile::Builder::new()
            .prefix(".control-")
            .tempdir_in(parent)?;
        let fresh = private.path().join("socket");
        let listener = tokio::net::UnixListener::bind(&fresh)?;
        std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&fresh, path)?;
        Ok(Control {
            listener,
            commands: Arc::new(Semaphore::new(MAX_COMMANDS)),
        })
    }

    /// Carry out commands until the shutdown, then wait up to `grace` for the
    /// running ones (they may be storing documents).
    pub async fn serve(
        self,
        services: Arc<Services>,
        config: Arc<Config>,
        shutdown: Shutdown,
        grace: Duration,
    ) {
        let Control { listener, commands } = self;
        let limits = Limits::of(&config);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown.triggered() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a command");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let peer = match stream.peer_cred() {
                // Who logged in is read now, while the caller surely runs
                // (later its pid could already be another process's).
                Ok(cred) => Peer {
                    uid: cred.uid(),
                    login: cred
                        .pid()
                        .and_then(|pid| crate::os_user::login_of(pid, cred.uid())),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "a command without peer credentials; refused");
                    continue;
                }
            };
            let permit = match commands.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    // Said on the socket's empty buffer, so it never blocks.
                    let mut note = Vec::new();
                    let waiting = format!(
                        "eakte: {MAX_COMMANDS} commands are running; this one waits for its turn"
                    );
                    if may_command(peer.uid) {
                        let _ = protocol::write_json(&mut note, &Reply::Err(waiting));
                        let _ = stream.try_write(&note);
                    }
                    tokio::select! {
                        permit = commands.clone().acquire_owned() => permit.expect("never closed"),
                        _ = shutdown.triggered() => break,
                    }
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
            let spawned = std::thread::Builder::new()
                .name("command".into())
                .spawn(move || {
                    if let Err(e) = handle(stream, &peer, &services, &config, limits) {
                        tracing::warn!(error = %e, uid = peer.uid, "a command's connection failed");
                    }
                    drop(permit);
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a thread for a command");
            }
        }
        // New commands are refused from here on (the command line then waits
        // for the store, and says it is busy), running ones may finish.
        drop(listener);
        let all = u32::try_from(MAX_COMMANDS).unwrap_or(u32::MAX);
        if tokio::time::timeout(grace, commands.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!("commands still running at shutdown were cut off");
        }
    }
}

/// Who is on the other end of a connection.
#[derive(Debug, Clone)]
struct Peer {
    uid: u32,
    login: Option<crate::os_user::Login>,
}

/// How much a command line may send.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// A file to ingest or import.
    file_bytes: u32,
}

impl Limits {
    fn of(config: &Config) -> Limits {
        let largest = config
            .extract
            .limits
            .max_bytes
            .max(config.limits.max_upload_bytes);
        Limits {
            file_bytes: u32::try_from(largest).unwrap_or(u32::MAX),
        }
    }
}

/// Who may give commands: the daemon's own user, and root.
fn may_command(uid: u32) -> bool {
    // SAFETY: geteuid cannot fail.
    uid == 0 || uid == unsafe { libc::geteuid() }
}

fn handle(
    stream: UnixStream,
    peer: &Peer,
    services: &Services,
    config: &Config,
    limits: Limits,
) -> io::Result<()> {
    stream.set_read_timeout(Some(REQUEST_PATIENCE))?;
    stream.set_write_timeout(Some(WRITE_PATIENCE))?;
    let (mut console, writer) = SocketConsole::start(stream.try_clone()?)?;
    let status = if may_command(peer.uid) {
        match run(stream, peer, services, config, limits, &mut console) {
            Ok(status) => status,
            // The request itself did not arrive: say so, rather than leave
            // the command line with a connection that just ends.
            Err(e) => {
                console.err(&format!("eakte: the daemon did not get the command: {e}"));
                FAILURE
            }
        }
    } else {
        let name = crate::os_user::user_name(peer.uid);
        tracing::warn!(uid = peer.uid, user = %name, "a command from another user; refused");
        console.err(&format!(
            "eakte: {name} may not give the running daemon commands (only its own user and root may)"
        ));
        FAILURE
    };
    console.finish(status);
    let _ = writer.join();
    Ok(())
}

fn run(
    stream: UnixStream,
    peer: &Peer,
    services: &Services,
    config: &Config,
    limits: Limits,
    console: &mut SocketConsole,
) -> io::Result<u8> {
    let mut reader = BufReader::new(stream);
    let Some(request) = protocol::read_json::<Request>(&mut reader, MAX_REQUEST)? else {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    };
    reader.get_ref().set_read_timeout(Some(FILE_PATIENCE))?;
    let actor = Actor::Operator {
        name: crate::os_user::user_name(peer.uid),
        uid: peer.uid,
        login: peer.login.clone(),
    };
    tracing::info!(who = %actor.who(), command = request.name(), "command");
    let mut files = SocketFiles {
        names: request.files().into_iter().map(str::to_string).collect(),
        reader,
        limits,
        broken: None,
    };
    Ok(commands::run(
        services, config, &actor, request, &mut files, console,
    ))
}

/// A command's output, sent back to the command line by a writer thread of
/// its own. A command line that went away, or stopped reading, does not stop
/// the command (it is finished and recorded); its output is dropped.
struct SocketConsole {
    lines: mpsc::SyncSender<Reply>,
}

impl SocketConsole {
    fn start(stream: UnixStream) -> io::Result<(SocketConsole, std::thread::JoinHandle<()>)> {
        let (lines, queued) = mpsc::sync_channel::<Reply>(OUTPUT_QUEUE);
        let writer = std::thread::Builder::new()
            .name("command-output".into())
            .spawn(move || {
                let mut out = BufWriter::new(stream);
                for reply in queued {
                    if protocol::write_json(&mut out, &reply).is_err() {
                        // Gone or stuck: the rest is dropped as it comes.
                        return;
                    }
                }
            })?;
        Ok((SocketConsole { lines }, writer))
    }

    fn finish(self, status: u8) {
        let _ = self.lines.send(Reply::Exit(status));
    }
}

impl Console for SocketConsole {
    fn out(&mut self, line: &str) {
        let _ = self.lines.send(Reply::Out(line.to_string()));
    }

    fn err(&mut self, line: &str) {
        let _ = self.lines.send(Reply::Err(line.to_string()));
    }

    fn file(&mut self, piece: &[u8]) -> io::Result<()> {
        self.lines
            .send(Reply::Chunk(hex::encode(piece)))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))
    }

    fn progress(&self) -> Arc<dyn Progress> {
        Arc::new(SocketProgress {
            lines: self.lines.clone(),
        })
    }
}

/// Progress for the command line. Reported from wherever the work runs (the
/// indexer thread, for a rebuild), so it hardly waits: a report that finds the
/// queue full is dropped, the next one says more anyway; only a step's last
/// one waits (at most as long as the writer waits for the command line).
struct SocketProgress {
    lines: mpsc::SyncSender<Reply>,
}

impl Progress for SocketProgress {
    fn update(&self, what: &str, done: u64, total: u64) {
        let report = Reply::Progress {
            what: what.to_string(),
            done,
            total,
        };
        // The last report of a step waits for its place: it closes the bar.
        let _ = if done >= total {
            self.lines.send(report).map_err(|_| ())
        } else {
            self.lines.try_send(report).map_err(|_| ())
        };
    }
}

/// The files the command line sends, in the order the request names them.
struct SocketFiles {
    names: VecDeque<String>,
    reader: BufReader<UnixStream>,
    limits: Limits,
    /// Why the stream cannot be read on, once a frame was lost: every later
    /// file fails with this one reason instead of garbled ones.
    broken: Option<String>,
}

impl SocketFiles {
    fn read(&mut self, file: &str) -> Result<Content, String> {
        let header = protocol::read_json::<FileHeader>(&mut self.reader, MAX_REQUEST)
            .map_err(|e| format!("{file} did not arrive: {e}"))?;
        Ok(match header {
            Some(FileHeader::Read { name, received_at }) => {
                let bytes = match protocol::read_bytes(&mut self.reader, self.limits.file_bytes) {
                    Ok(bytes) => bytes,
                    Err(e) => match protocol::Oversized::of(&e) {
                        Some(over) => {
                            return Ok(Content::Rejected(Rejection::TooLarge {
                                size: u64::from(over.len),
                                max: u64::from(over.max),
                            }))
                        }
                        None => return Err(format!("{file} did not arrive whole: {e}")),
                    },
                };
                match crate::timefmt::parse(&received_at) {
                    Some(at) => Content::Read {
                        name,
                        received_at: at.to_string(),
                        bytes,
                    },
                    None => Content::Failed(format!("{file}: {received_at:?} is no receipt time")),
                }
            }
            Some(FileHeader::Rejected(rejection)) => Content::Rejected(rejection),
            Some(FileHeader::Failed(message)) => Content::Failed(message),
            None => return Err(format!("{file} was not sent")),
        })
    }
}

impl Files for SocketFiles {
    fn next_file(&mut self) -> Option<Named> {
        let file = self.names.pop_front()?;
        let content = match &self.broken {
            Some(why) => Content::Failed(format!("{file} was not read: {why}")),
            None => self.read(&file).unwrap_or_else(|why| {
                self.broken = Some(format!("an earlier file was lost ({why})"));
                Content::Failed(why)
            }),
        };
        Some(Named { file, content })
    }
}
