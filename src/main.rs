//! The `eakte` command line: parse arguments, load the configuration, set up
//! logging, then call into the library (through `commands`, which formats the
//! output). Nothing here knows how documents work.

mod commands;

use anyhow::Result;
use clap::{Parser, Subcommand};
use commands::{documents, postbox, registry, users};
use eakte::config::Config;
use eakte::postbox::PostboxId;
use eakte::registry::{BgNummer, Kennung};
use eakte::store::{DocumentId, ItemId};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "eakte",
    version,
    about = "E-Akte for jobcenters: scan inbox, OCR, durable store, full-text search, postboxes"
)]
struct Cli {
    /// Configuration file (default: ./eakte.toml if present, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
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
        role: eakte::users::Role,
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
    /// Check the whole trail for altered, removed or cut-off entries.
    Verify {
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
        eakte::extract::pdf::serve_reader_requests().map_err(anyhow::Error::msg)?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => documents::serve(config),
        Command::Ingest { files, site } => documents::ingest(&config, &files, site.as_deref()),
        Command::Search {
            query,
            limit,
            offset,
            json,
        } => documents::search(&config, &query, limit, offset, json),
        Command::Show { id, json } => documents::show(&config, id, json),
        Command::Reindex => documents::reindex(&config),
        Command::Check { json } => documents::check(&config, json),
        Command::Recipients(RecipientsCommand::Import(args)) => registry::import(
            &config,
            registry::Table::Recipients,
            &args.file,
            args.dry_run,
            args.json,
        ),
        Command::Caseworkers(CaseworkersCommand::Import(args)) => registry::import(
            &config,
            registry::Table::Caseworkers,
            &args.file,
            args.dry_run,
            args.json,
        ),
        Command::Caseworkers(CaseworkersCommand::List) => registry::list_caseworkers(&config),
        Command::Absence(AbsenceCommand::Add {
            kennung,
            from,
            to,
            deputy,
        }) => registry::add_absence(&config, kennung, &from, &to, deputy),
        Command::Absence(AbsenceCommand::List) => registry::list_absences(&config),
        Command::Absence(AbsenceCommand::Remove { id }) => registry::remove_absence(&config, id),
        Command::Postbox(PostboxCommand::List {
            postbox: p,
            all,
            json,
        }) => postbox::list(&config, &p, all, json),
        Command::Postbox(change) => {
            use eakte::postbox::ops::Command as C;
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
                        until: registry::parse_day(&until)?,
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
            postbox::change(&config, item, &by, command)
        }
        Command::Route(RouteCommand::Explain { document, json }) => {
            postbox::explain(&config, document, json)
        }
        Command::Users(UsersCommand::Add {
            name,
            role,
            caseworker,
            site,
            team,
        }) => users::add(
            &config,
            eakte::users::NewUser {
                name,
                role,
                caseworker,
                site,
                team,
            },
        ),
        Command::Users(UsersCommand::List) => users::list(&config),
        Command::Users(UsersCommand::Revoke { user }) => users::revoke(&config, &user),
        Command::Audit(AuditCommand::Verify { json }) => users::verify_audit(&config, json),
        Command::PdfReader => unreachable!("handled before the configuration is read"),
        Command::ExtractIsolated { input, output } => {
            eakte::extract::isolated::run_child(&config, &input, &output)
                .map_err(anyhow::Error::msg)?;
            Ok(ExitCode::SUCCESS)
        }
    }
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
