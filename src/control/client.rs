//! The command line's side: carry out a [`Request`] through the running
//! daemon's control socket, or in this process when no daemon holds the
//! store; show its output and progress on this terminal.

use super::commands::{self, Files, FAILURE};
use super::protocol::{self, FileHeader, Reply};
use super::{Console, Request};
use crate::classify::doctype::Rules;
use crate::config::Config;
use crate::pipeline::ingest::{read_named, Content, Named};
use crate::progress::Progress;
use crate::service::{Actor, Services};
use crate::store::StoreError;
use std::collections::VecDeque;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long to wait for a daemon that holds the store but does not answer yet
/// (it opens its control socket once it has started up).
const STARTING_DAEMON: Duration = Duration::from_secs(10);

/// Why a command could not be carried out at all.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "the store at {path} is in use by another eakte process that takes no commands \
         (an `eakte ingest`, or a daemon still starting); try again when it has finished"
    )]
    Busy { path: PathBuf },
    #[error("the running daemon stopped answering: {0}")]
    Daemon(io::Error),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Rules(#[from] crate::classify::doctype::RulesError),
    #[error("{}", not_allowed(.path, .owner))]
    NotAllowed { path: PathBuf, owner: String },
    #[error(
        "the control socket {socket} is served by {server}, neither the store's owner nor \
         root: nothing was sent to it"
    )]
    StrangeServer { socket: PathBuf, server: String },
}

fn not_allowed(path: &std::path::Path, owner: &str) -> String {
    let (who, how) = match owner {
        "root" => ("root".to_string(), "sudo eakte …".to_string()),
        _ => (
            format!("its own user ({owner}) and root"),
            format!("sudo -u {owner} eakte …"),
        ),
    };
    format!(
        "you may not give the daemon of {} commands: only {who} may ({how})",
        path.display()
    )
}

/// Carry out `request` and return the exit status: through the running
/// daemon if there is one, else in this process.
pub fn run(config: &Config, request: Request) -> Result<u8, ClientError> {
    let socket = super::socket_path(&config.store_dir);
    let deadline = Instant::now() + STARTING_DAEMON;
    loop {
        match UnixStream::connect(&socket) {
            Ok(stream) => {
                trust_server(&stream, config, &socket)?;
                return remote(stream, config, request);
            }
            // The daemon runs as someone else: opening its store here would
            // only fail on its files' permissions, less clearly.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(ClientError::NotAllowed {
                    path: config.store_dir.clone(),
                    owner: store_owner(config).unwrap_or_else(|| "eakte".into()),
                })
            }
            Err(_) => {}
        }
        if store_is_locked(config) {
            // A daemon starting up (its socket comes last), or a command
            // running in its own process: wait for either.
            if Instant::now() >= deadline {
                return Err(ClientError::Busy {
                    path: config.store_dir.clone(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        match crate::pipeline::open_store(config) {
            Ok(store) => return local(config, store, request),
            Err(StoreError::Locked { path }) => {
                if Instant::now() >= deadline {
                    return Err(ClientError::Busy { path });
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(ClientError::Store(e)),
        }
    }
}

fn local(config: &Config, store: crate::store::Store, request: Request) -> Result<u8, ClientError> {
    let rules = Rules::load(config.classify.rules_file.as_deref())?;
    let services = Services::of_process(config, store, rules);
    let mut files = LocalFiles::of(config, &request);
    let mut console = Terminal::writing(request.output());
    let actor = Actor::this_process();
    let status = commands::run(&services, config, &actor, request, &mut files, &mut console);
    Ok(console.finish(status))
}

fn remote(stream: UnixStream, config: &Config, request: Request) -> Result<u8, ClientError> {
    let sending = stream.try_clone().map_err(ClientError::Daemon)?;
    let mut writer = BufWriter::new(sending.try_clone().map_err(ClientError::Daemon)?);
    // A daemon that refuses the caller answers and closes at once, maybe
    // before the request is written: its answer is read all the same.
    let sent = protocol::write_json(&mut writer, &request);
    // The files go on a thread of their own: the daemon answers (one line per
    // ingested file) while later files are still being sent.
    let mut files = LocalFiles::of(config, &request);
    let output = request.output().map(Path::to_path_buf);
    let sender = std::thread::spawn(move || -> io::Result<()> {
        sent?;
        // Whatever happens, the daemon learns that no more comes (it reads
        // the end of the stream instead of waiting for a file for ever).
        struct Done(UnixStream);
        impl Drop for Done {
            fn drop(&mut self) {
                let _ = self.0.shutdown(std::net::Shutdown::Write);
            }
        }
        let _done = Done(sending);
        while let Some(named) = files.next_file() {
            match named.content {
                Content::Read {
                    name,
                    received_at,
                    bytes,
                } => {
                    protocol::write_json(&mut writer, &FileHeader::Read { name, received_at })?;
                    protocol::write_bytes(&mut writer, &bytes)?;
                }
                Content::Rejected(rejection) => {
                    protocol::write_json(&mut writer, &FileHeader::Rejected(rejection))?
                }
                Content::Failed(message) => {
                    protocol::write_json(&mut writer, &FileHeader::Failed(message))?
                }
            }
        }
        writer.flush()
    });
    // The replies are taken off the socket as they come, whatever this
    // terminal does: a pager left waiting must not make the daemon give up
    // on the output of a command that succeeded.
    let (replies, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        loop {
            let reply = protocol::read_json::<Reply>(&mut reader, protocol::MAX_REPLY);
            let last = !matches!(
                reply,
                Ok(Some(
                    Reply::Out(_) | Reply::Err(_) | Reply::Progress { .. } | Reply::Chunk(_)
                ))
            );
            if replies.send(reply).is_err() || last {
                return;
            }
        }
    });
    let mut console = Terminal::writing(output.as_deref());
    let progress = console.progress();
    let status = loop {
        match received.recv().unwrap_or(Ok(None)) {
            Ok(Some(Reply::Chunk(piece))) => {
                let written = hex::decode(piece)
                    .map_err(io::Error::other)
                    .and_then(|bytes| console.file(&bytes));
                if let Err(e) = written {
                    console.err(&format!("eakte: cannot write the file: {e}"));
                    return Ok(console.finish(FAILURE));
                }
            }
            Ok(Some(Reply::Out(line))) => console.out(&line),
            Ok(Some(Reply::Err(line))) => console.err(&line),
            Ok(Some(Reply::Progress { what, done, total })) => progress.update(&what, done, total),
            Ok(Some(Reply::Exit(status))) => break status,
            Ok(None) => {
                return Err(ClientError::Daemon(io::Error::from(
                    io::ErrorKind::UnexpectedEof,
                )))
            }
            Err(e) => return Err(ClientError::Daemon(e)),
        }
    };
    // The daemon has answered; a failed send only means it stopped reading.
    let _ = sender.join();
    Ok(console.finish(status))
}

fn store_owner(config: &Config) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&config.store_dir).ok()?;
    Some(crate::os_user::user_name(meta.uid()))
}

/// Whether some process holds the store open (sled locks its database file
/// with `flock` for as long as it is open). Only asks: a shared lock taken and
/// dropped at once; a daemon opening the store meanwhile retries.
fn store_is_locked(config: &Config) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open(config.store_dir.join("db").join("db")) else {
        return false;
    };
    // SAFETY: flock on a descriptor this function owns; closing it drops the lock.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

/// Send nothing to a socket that someone else put there: the daemon runs as
/// the store's owner (or root, or this very user).
fn trust_server(
    stream: &UnixStream,
    config: &Config,
    socket: &std::path::Path,
) -> Result<(), ClientError> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: SO_PEERCRED writes a `ucred` of `len` bytes into `cred`.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(ClientError::Daemon(io::Error::last_os_error()));
    }
    let owner = std::fs::metadata(&config.store_dir).map(|m| m.uid()).ok();
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    if cred.uid == 0 || cred.uid == me || Some(cred.uid) == owner {
        return Ok(());
    }
    Err(ClientError::StrangeServer {
        socket: socket.to_path_buf(),
        server: format!("{} (uid {})", crate::os_user::user_name(cred.uid), cred.uid),
    })
}

/// The files a request names, read from this machine's disk one by one.
struct LocalFiles {
    paths: VecDeque<PathBuf>,
    max_bytes: u64,
}

impl LocalFiles {
    fn of(config: &Config, request: &Request) -> LocalFiles {
        LocalFiles {
            paths: request.files().into_iter().map(PathBuf::from).collect(),
            max_bytes: config.extract.limits.max_bytes,
        }
    }
}

impl Files for LocalFiles {
    fn next_file(&mut self) -> Option<Named> {
        let path = self.paths.pop_front()?;
        Some(read_named(&path, self.max_bytes))
    }
}

/// This process's terminal: standard output and error, and a progress bar on
/// standard error when it is a terminal (never in scripts and logs).
pub struct Terminal {
    bar: Arc<Bar>,
    /// The file the command's output goes to, if it makes one.
    output: Option<Output>,
}

/// A file being written for the command line: into a temporary file beside
/// it, renamed into place only when the command succeeded (a failed export
/// leaves no half file under the name asked for).
struct Output {
    target: PathBuf,
    file: Option<tempfile::NamedTempFile>,
}

impl Output {
    fn write(&mut self, piece: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            let dir = match self.target.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            self.file = Some(tempfile::NamedTempFile::new_in(dir)?);
        }
        self.file.as_mut().expect("opened above").write_all(piece)
    }

    fn keep(self) -> io::Result<()> {
        let file = match self.file {
            Some(file) => file,
            None => {
                tempfile::NamedTempFile::new_in(self.target.parent().unwrap_or(Path::new(".")))?
            }
        };
        file.as_file().sync_all()?;
        file.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

struct Bar {
    shown: bool,
    bar: Mutex<Option<(String, indicatif::ProgressBar)>>,
}

impl Terminal {
    /// This terminal, writing the command's file to `output`.
    pub fn writing(output: Option<&Path>) -> Terminal {
        let mut terminal = Terminal::new();
        terminal.output = output.map(|target| Output {
            target: target.to_path_buf(),
            file: None,
        });
        terminal
    }

    /// The command ended with `status`: keep its file if it succeeded.
    pub fn finish(&mut self, status: u8) -> u8 {
        let Some(output) = self.output.take() else {
            return status;
        };
        if status != commands::SUCCESS {
            return status;
        }
        let target = output.target.clone();
        match output.keep() {
            Ok(()) => status,
            Err(e) => {
                eprintln!("eakte: cannot write {}: {e}", target.display());
                FAILURE
            }
        }
    }

    pub fn new() -> Terminal {
        Terminal {
            bar: Arc::new(Bar {
                shown: io::stderr().is_terminal(),
                bar: Mutex::new(None),
            }),
            output: None,
        }
    }

    /// Print without tearing the progress bar, and without letting what
    /// came from outside (names, page text) control the terminal.
    fn print(&self, line: &str, to_stderr: bool) {
        let line = crate::untrusted::printable(line);
        let bar = self.bar.bar.lock().unwrap_or_else(|e| e.into_inner());
        let print = || {
            if to_stderr {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        };
        match bar.as_ref() {
            Some((_, bar)) => bar.suspend(print),
            None => print(),
        }
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal::new()
    }
}

impl Console for Terminal {
    fn out(&mut self, line: &str) {
        self.print(line, false);
    }

    fn err(&mut self, line: &str) {
        self.print(line, true);
    }

    fn progress(&self) -> Arc<dyn Progress> {
        self.bar.clone()
    }

    fn file(&mut self, piece: &[u8]) -> io::Result<()> {
        match self.output.as_mut() {
            Some(output) => output.write(piece),
            None => Err(io::Error::other("this command writes no file")),
        }
    }
}

impl Progress for Bar {
    fn update(&self, what: &str, done: u64, total: u64) {
        if !self.shown {
            return;
        }
        let mut current = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_none_or(|(step, _)| step != what) {
            if let Some((_, old)) = current.take() {
                old.finish();
            }
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:<20} [{bar:40}] {human_pos}/{human_len} ({eta})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_message(what.to_string());
            *current = Some((what.to_string(), bar));
        }
        if let Some((_, bar)) = current.as_ref() {
            bar.set_length(total);
            bar.set_position(done);
            if done >= total {
                bar.finish();
            }
        }
    }
}

/// The error of a command that could not be carried out, as the command line
/// prints it, with the exit status.
pub fn failed(e: &ClientError) -> u8 {
    eprintln!("eakte: {e}");
    FAILURE
}
