//! The `eakte` command line: parse arguments, load the configuration, set up
//! logging, then hand the command to the library: `serve` runs the daemon,
//! every other command is carried out by [`eakte::control`] (through the
//! running daemon, or in this process when none runs). Nothing here knows how
//! documents work.

use anyhow::Result;
use clap::{Parser, Subcommand};
use eakte::config::Config;
use eakte::control::{Request, Table};
use eakte::model::{BgNummer, DocumentId, ItemId, Kennung, PostboxId, Role};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "eakte",
    version,
    about = "E-Akte for jobcenters: scan inbox, OCR, durable store, full-text search, postboxes"
)]
struct Cli {
    /// Configuration file (default: ./eakte.toml, else /etc/eakte/eakte.toml, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Read no configuration file: the built-in defaults.
    #[arg(long, global = true, conflicts_with = "config")]
    no_config_file: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: watch the inbox, file every scan, until SIGINT/SIGTERM.
    Serve,
    /// Put files through the pipeline once; prints one JSON line per file.
    Ingest {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Site (Standort) to record for these files.
        #[arg(long)]
        site: Option<String>,
    },
    /// Full-text search: words (OCR-tolerant), "phrases", -excluded words.
    Search {
        #[arg(required = true)]
        query: Vec<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Metadata, classification and extracted text of one document.
    Show {
        id: DocumentId,
        #[arg(long)]
        json: bool,
    },
    /// Hand an Akte over to another authority: an xdomea 3.0.0 Abgabe (0401) as a ZIP.
    Export {
        /// BG number, e.g. 07450BG0160367.
        bg: String,
        #[arg(long, default_value = "xdomea")]
        format: String,
        /// Where to write the file.
        #[arg(long)]
        out: PathBuf,
        /// The receiving authority, e.g. "Jobcenter Kiel".
        #[arg(long)]
        empfaenger: String,
        /// Its organisational unit.
        #[arg(long)]
        empfaenger_einheit: Option<String>,
        /// Its DVDV Präfix and Behördenschlüssel.
        #[arg(long)]
        empfaenger_praefix: Option<String>,
        #[arg(long)]
        empfaenger_schluessel: Option<String>,
        /// Only documents received from this day on (YYYY-MM-DD or DD.MM.YYYY).
        #[arg(long)]
        from: Option<String>,
        /// Only documents received up to this day.
        #[arg(long)]
        to: Option<String>,
        /// Only documents under this Schlagwort (repeat for several).
        #[arg(long)]
        schlagwort: Vec<String>,
        /// A note to the receiver.
        #[arg(long)]
        hinweis: Option<String>,
    },
    /// The return cover sheet (Deckblatt) of an Akte as a one-page PDF, to
    /// send with a letter: the answer behind it routes itself.
    Deckblatt {
        /// BG number, e.g. 07450BG0160367.
        bg: String,
        /// The item (Vorgang) of this Akte the answer continues.
        #[arg(long)]
        vorgang: Option<u64>,
        /// Where to write it (default: Deckblatt_<BG>.pdf here).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Take an Akte handed over by another authority (an xdomea 0401 ZIP).
    ImportAkte {
        file: PathBuf,
        /// Write the receipt (Abgabe.ImportBestaetigen.0402) to this file.
        #[arg(long)]
        receipt: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the search index from the store.
    Reindex,
    /// Verify every blob against its SHA-256 and the index against the store.
    Check {
        #[arg(long)]
        json: bool,
    },
    /// The recipient registry (imported from the specialist software).
    #[command(subcommand)]
    Recipients(RecipientsCommand),
    /// Caseworkers and their surname ranges.
    #[command(subcommand)]
    Caseworkers(CaseworkersCommand),
    /// Absences and deputies (Vertretung).
    #[command(subcommand)]
    Absence(AbsenceCommand),
    /// Postboxes (Postkörbe) and their items.
    #[command(subcommand)]
    Postbox(PostboxCommand),
    /// Routing decisions.
    #[command(subcommand)]
    Route(RouteCommand),
    /// API users and their tokens.
    #[command(subcommand)]
    Users(UsersCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Internal: the daemon's PDF reader process (requests on stdin).
    #[command(name = "pdf-reader", hide = true)]
    PdfReader,
    /// Internal: extract one file in a child process for the daemon.
    #[command(name = "extract-isolated", hide = true)]
    ExtractIsolated { input: PathBuf, output: PathBuf },
    /// Internal: scans as PDF pages for the printed Akte (a job list).
    #[command(name = "images-pdf", hide = true)]
    ImagesPdf { list: PathBuf },
    /// Internal: render one page of an original as PNG for the web UI.
    #[command(name = "render-page", hide = true)]
    RenderPage {
        kind: String,
        page: u32,
        rotation: u16,
        input: PathBuf,
        output: PathBuf,
    },
}

/// A CSV import from the specialist software.
#[derive(clap::Args)]
struct ImportArgs {
    /// UTF-8 CSV file with a header row (see README for the columns).
    file: PathBuf,
    /// Check the file and report, change nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum RecipientsCommand {
    /// Upsert recipients by Kundennummer.
    Import(ImportArgs),
}

#[derive(Subcommand)]
enum CaseworkersCommand {
    /// Import caseworkers; their surname ranges replace the previous ones.
    Import(ImportArgs),
    /// Caseworkers with their ranges and current absences.
    List,
}

#[derive(Subcommand)]
enum AbsenceCommand {
    /// Record an absence: new items go to the deputy, who also sees the open ones.
    Add {
        kennung: Kennung,
        /// First day (YYYY-MM-DD or DD.MM.YYYY).
        #[arg(long)]
        from: String,
        /// Last day, inclusive.
        #[arg(long)]
        to: String,
        #[arg(long)]
        deputy: Kennung,
    },
    List,
    Remove {
        id: u64,
    },
}

#[derive(Subcommand)]
enum PostboxCommand {
    /// Items of a postbox (a Kennung, `klaerung` or `klaerung:<site>`), with the
    /// items of absent colleagues the caseworker deputises for.
    List {
        postbox: PostboxId,
        /// Also items that are done or waiting for resubmission.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Start working on an item (new -> in progress).
    Start {
        item: ItemId,
        #[arg(long)]
        by: Kennung,
    },
    /// Mark an item done (zdA).
    Done {
        item: ItemId,
        #[arg(long)]
        by: Kennung,
        #[arg(long)]
        note: Option<String>,
    },
    /// Forward an item to another postbox with a note.
    Forward {
        item: ItemId,
        #[arg(long)]
        to: PostboxId,
        #[arg(long)]
        by: Kennung,
        #[arg(long)]
        note: Option<String>,
    },
    /// Hide an item until a date (Wiedervorlage).
    Resubmit {
        item: ItemId,
        #[arg(long)]
        until: String,
        #[arg(long)]
        by: Kennung,
        #[arg(long)]
        note: Option<String>,
    },
    /// Correct recipient and/or type (e.g. in clearing); the item is routed anew.
    Correct {
        item: ItemId,
        #[arg(long)]
        bg: Option<BgNummer>,
        /// Document type name, as in the rules (e.g. "Widerspruch").
        #[arg(long = "type")]
        doc_type: Option<String>,
        #[arg(long)]
        by: Kennung,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a user and print their API token (shown only this once).
    Add {
        name: String,
        /// caseworker, clearing, teamlead, admin or auditor.
        #[arg(long)]
        role: Role,
        /// For caseworkers: their Kennung.
        #[arg(long)]
        caseworker: Option<Kennung>,
        /// For clearing: their site.
        #[arg(long)]
        site: Option<String>,
        /// For team leads: their team.
        #[arg(long)]
        team: Option<String>,
    },
    List,
    /// Revoke a user's token (by name or id).
    Revoke {
        user: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole trail for altered, removed or cut-off entries; with
    /// --anchor also against the heads anchored outside the store (a trail
    /// rolled back to an older copy of the store).
    Verify {
        #[arg(long)]
        json: bool,
        /// The anchor file or a copy of it (default: `[audit] anchor_file`).
        #[arg(long, value_name = "FILE")]
        anchor: Option<String>,
    },
    /// Who saw or tried to see what of a BG, and when (§ 83 SGB X): every
    /// entry that touched its social data, in any spelling of the number.
    WhoRead {
        bg: String,
        #[arg(long)]
        json: bool,
    },
    /// Did anyone search for these words? Searches are recorded as keyed
    /// hashes of their words; this finds those that held all of them.
    SearchedFor {
        words: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RouteCommand {
    /// Why a document went where it went: recognition evidence, route, history.
    Explain {
        document: DocumentId,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    ensure_single_threaded_openmp();
    tune_malloc();
    let cli = Cli::parse();
    let verbose = matches!(
        cli.command,
        Command::Serve | Command::Ingest { .. } | Command::Reindex
    );
    init_logging(if verbose {
        "info,tantivy=warn,notify=warn"
    } else {
        "warn"
    });
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("eakte: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::PdfReader = cli.command {
        // Needs no configuration: each request carries its limits.
        eakte::extract::pdf::serve_reader_requests()?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::ImagesPdf { list } = &cli.command {
        return match eakte::extract::image_pdf::child(list) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("{e}");
                Ok(ExitCode::FAILURE)
            }
        };
    }
    if let Command::RenderPage {
        kind,
        page,
        rotation,
        input,
        output,
    } = &cli.command
    {
        // Needs no configuration either: the daemon passes what it needs.
        eakte::extract::page_image::render_child(kind, *page, *rotation, input, output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = if cli.no_config_file {
        Config::defaults(&std::env::current_dir()?)
    } else {
        Config::load(cli.config.as_deref())?
    };
    let request = match cli.command {
        Command::Serve => return serve(config),
        Command::PdfReader => unreachable!("handled before the configuration is read"),
        Command::RenderPage { .. } | Command::ImagesPdf { .. } => {
            unreachable!("handled before the configuration is read")
        }
        Command::ExtractIsolated { input, output } => {
            eakte::extract::isolated::run_child(&config.extract, &input, &output)?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Ingest { files, site } => Request::Ingest {
            files: files.iter().map(|f| f.display().to_string()).collect(),
            site,
        },
        Command::Search {
            query,
            limit,
            offset,
            json,
        } => Request::Search {
            query,
            limit,
            offset,
            json,
        },
        Command::Show { id, json } => Request::Show { id, json },
        Command::Export {
            bg,
            format,
            out,
            empfaenger,
            empfaenger_einheit,
            empfaenger_praefix,
            empfaenger_schluessel,
            from,
            to,
            schlagwort,
            hinweis,
        } => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("format", &format);
            query.append_pair("empfaenger", &empfaenger);
            let optional = [
                ("empfaenger_einheit", empfaenger_einheit),
                ("empfaenger_praefix", empfaenger_praefix),
                ("empfaenger_schluessel", empfaenger_schluessel),
                ("from", from),
                ("to", to),
                ("hinweis", hinweis),
            ];
            for (key, value) in optional {
                if let Some(value) = value {
                    query.append_pair(key, &value);
                }
            }
            for s in schlagwort {
                query.append_pair("schlagwort", &s);
            }
            Request::Export {
                bg,
                query: query.finish(),
                out,
            }
        }
        Command::Deckblatt { bg, vorgang, out } => Request::Deckblatt {
            out: out.unwrap_or_else(|| {
                let name = match vorgang {
                    Some(n) => format!("Deckblatt_{}_Vorgang_{n}.pdf", bg.trim()),
                    None => format!("Deckblatt_{}.pdf", bg.trim()),
                };
                // Only the name's safe characters: the BG is typed by a person.
                PathBuf::from(eakte::untrusted::file_name(&name))
            }),
            bg,
            item: vorgang,
        },
        Command::ImportAkte {
            file,
            receipt,
            json,
        } => Request::ImportAkte {
            file: file.display().to_string(),
            receipt,
            json,
        },
        Command::Reindex => Request::Reindex,
        Command::Check { json } => Request::Check { json },
        Command::Recipients(RecipientsCommand::Import(args)) => args.request(Table::Recipients),
        Command::Caseworkers(CaseworkersCommand::Import(args)) => args.request(Table::Caseworkers),
        Command::Caseworkers(CaseworkersCommand::List) => Request::ListCaseworkers,
        Command::Absence(AbsenceCommand::Add {
            kennung,
            from,
            to,
            deputy,
        }) => Request::AddAbsence {
            kennung,
            from,
            to,
            deputy,
        },
        Command::Absence(AbsenceCommand::List) => Request::ListAbsences,
        Command::Absence(AbsenceCommand::Remove { id }) => Request::RemoveAbsence { id },
        Command::Postbox(PostboxCommand::List { postbox, all, json }) => {
            Request::ListPostbox { postbox, all, json }
        }
        Command::Postbox(change) => {
            use eakte::control::Command as C;
            let (item, by, command) = match change {
                PostboxCommand::Start { item, by } => (item, by, C::Start),
                PostboxCommand::Done { item, by, note } => (item, by, C::Done { note }),
                PostboxCommand::Forward { item, to, by, note } => {
                    (item, by, C::Forward { to, note })
                }
                PostboxCommand::Resubmit {
                    item,
                    until,
                    by,
                    note,
                } => (
                    item,
                    by,
                    C::Resubmit {
                        until: eakte::timefmt::day(&until)?,
                        note,
                    },
                ),
                PostboxCommand::Correct {
                    item,
                    bg,
                    doc_type,
                    by,
                    note,
                } => (item, by, C::Correct { bg, doc_type, note }),
                PostboxCommand::List { .. } => unreachable!("handled above"),
            };
            Request::ChangeItem {
                item,
                by,
                change: command,
            }
        }
        Command::Route(RouteCommand::Explain { document, json }) => {
            Request::ExplainRoute { document, json }
        }
        Command::Users(UsersCommand::Add {
            name,
            role,
            caseworker,
            site,
            team,
        }) => Request::AddUser {
            name,
            role,
            caseworker,
            site,
            team,
        },
        Command::Users(UsersCommand::List) => Request::ListUsers,
        Command::Users(UsersCommand::Revoke { user }) => Request::RevokeUser { user },
        Command::Audit(AuditCommand::Verify { json, anchor }) => Request::VerifyAudit {
            json,
            // The configured anchor unless another copy is named.
            anchor: anchor.or_else(|| {
                let file = config.audit.anchor_file.as_ref()?;
                Some(file.display().to_string())
            }),
        },
        Command::Audit(AuditCommand::WhoRead { bg, json }) => Request::AuditEntries {
            bg: Some(bg),
            searched: None,
            json,
        },
        Command::Audit(AuditCommand::SearchedFor { words, json }) => Request::AuditEntries {
            bg: None,
            searched: Some(words),
            json,
        },
    };
    let status = match eakte::control::client::run(&config, request) {
        Ok(status) => status,
        Err(e) => eakte::control::client::failed(&e),
    };
    Ok(ExitCode::from(status))
}

impl ImportArgs {
    fn request(self, table: Table) -> Request {
        Request::Import {
            table,
            file: self.file.display().to_string(),
            dry_run: self.dry_run,
            json: self.json,
        }
    }
}

/// Threads for blocking work (store, index, audit): enough for the audit's
/// group commit to batch many readers and for scans in flight, few enough that
/// a burst of requests queues instead of multiplying memory.
const BLOCKING_THREADS: usize = 32;

/// `eakte serve`: the daemon until SIGINT/SIGTERM.
fn serve(config: Config) -> Result<ExitCode> {
    eakte::daemon::raise_open_file_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // sled and tantivy calls run here; a thousand caseworkers opening their
        // postboxes at once would otherwise start hundreds of threads, each
        // with its own stack and malloc arena, for two cores' worth of work.
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_name("eakte-async")
        .enable_all()
        .build()?;
    let served = runtime.block_on(async {
        // Listen before starting up, so that a signal during a long start-up (an
        // index rebuild) still ends in a clean shutdown rather than a kill.
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let shutdown = eakte::shutdown::Shutdown::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            trigger.trigger();
        });
        eakte::daemon::serve(config, shutdown).await?;
        anyhow::Ok(())
    });
    // `serve` already gave running scans their grace period; whatever still runs
    // (a long OCR, an isolated extraction) stays claimed and resumes next start.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// glibc gives busy threads arenas of their own, up to eight per core, and
/// keeps what they freed; with many request threads the daemon held nearly
/// twice its live memory (measured: 779 MB with a thousand long-polls at 1M
/// documents, 499 MB with these settings). One arena per core, and large blocks
/// mapped and returned on free rather than kept in the heap. Runs before any
/// thread is started.
fn tune_malloc() {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // SAFETY: mallopt only sets allocator parameters; no allocation is in flight
    // on another thread this early.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, cores.clamp(2, 8) as libc::c_int);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// libtesseract uses OpenMP, and libgomp reads `OMP_THREAD_LIMIT` once, when the
/// library is loaded, before `main` runs. Single-threaded engines (one per core)
/// are ~3x faster here than OpenMP threads inside one engine, so when the variable
/// is not set, set it and start this program again.
fn ensure_single_threaded_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("OMP_THREAD_LIMIT", "1")
        .exec();
    // Only reached if exec failed; carry on with OpenMP's default (slower, correct).
    eprintln!("eakte: could not restart with OMP_THREAD_LIMIT=1: {err}");
}
