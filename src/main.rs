//! The `eakte` command line: parse arguments, load the configuration, set up
//! logging, then call into the library. Nothing here knows how documents work.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use eakte::config::Config;
use eakte::store::{DocumentId, Store};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "eakte",
    version,
    about = "E-Akte for jobcenters: scan inbox, OCR, durable store, full-text search"
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
    /// Metadata and extracted text of one document.
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
    /// Internal: extract one file in a child process for the daemon.
    #[command(name = "extract-isolated", hide = true)]
    ExtractIsolated { input: PathBuf, output: PathBuf },
}

fn main() -> ExitCode {
    ensure_single_threaded_openmp();
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
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve(config),
        Command::ExtractIsolated { input, output } => {
            eakte::extract::isolated::run_child(&config, &input, &output)
                .map_err(anyhow::Error::msg)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest { files, site } => {
            let mut all_stored = true;
            eakte::ingest::ingest(&config, &files, site.as_deref(), |line| {
                all_stored &= line.is_stored();
                println!(
                    "{}",
                    serde_json::to_string(line).expect("ingest lines serialise")
                );
            })?;
            Ok(if all_stored {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Search {
            query,
            limit,
            offset,
            json,
        } => {
            let index = eakte::index::SearchIndex::open_read_only(&config.index_dir)?;
            let results = index.search(&query.join(" "), limit, offset)?;
            if json {
                for hit in &results.hits {
                    println!("{}", serde_json::to_string(hit)?);
                }
            } else {
                println!("{} document(s) found", results.total);
                for hit in &results.hits {
                    let site = hit.site.as_deref().unwrap_or("-");
                    println!(
                        "\n#{}  score {:.2}  {}  {}  {}",
                        hit.id, hit.score, hit.received_at, site, hit.name
                    );
                    println!("    {}", terminal_snippet(&hit.snippet));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { id, json } => {
            let store = Store::open(&config.store_dir)?;
            show(&store, id, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reindex => {
            let store = Store::open(&config.store_dir)?;
            let started = std::time::Instant::now();
            let (index, _) = eakte::index::SearchIndex::open(&config.index_dir)?;
            let mut indexer = eakte::index::indexer::Indexer::new(index)?;
            let n = indexer.rebuild(&store)?;
            indexer.finish()?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "reindexed {n} document(s) in {secs:.1} s ({:.0} documents/s)",
                n as f64 / secs.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { json } => {
            let store = Store::open(&config.store_dir)?;
            let index = match eakte::index::SearchIndex::open_read_only(&config.index_dir) {
                Ok(index) => Some(index),
                Err(eakte::index::IndexError::Missing { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            let report = eakte::check::check(&store, index.as_ref(), &config.inbox_dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{} document(s), {} arrival(s), {} blob(s) verified",
                    report.documents, report.arrivals, report.blobs_verified
                );
                for note in &report.notes {
                    println!("note: {note}");
                }
                for problem in &report.problems {
                    println!("PROBLEM: {problem}");
                }
                println!("{}", if report.ok() { "OK" } else { "FAILED" });
            }
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn serve(config: Config) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("eakte-async")
        .enable_all()
        .build()?;
    let served = runtime.block_on(async {
        // Listen before starting up, so that a signal during a long start-up (an
        // index rebuild) still ends in a clean shutdown rather than a kill.
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        };
        eakte::daemon::serve(config, shutdown).await?;
        anyhow::Ok(())
    });
    // `serve` already gave running scans their grace period; whatever still runs
    // (a long OCR, an isolated extraction) stays claimed and resumes next start.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served?;
    Ok(ExitCode::SUCCESS)
}

fn show(store: &Store, id: DocumentId, json: bool) -> Result<()> {
    let doc = store
        .document(id)?
        .with_context(|| format!("there is no document {id}"))?;
    let state = if store.is_pending_index(id)? {
        "stored, waiting to be indexed"
    } else {
        "stored and indexed"
    };
    if json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            document: &'a eakte::store::Document,
            state: &'a str,
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&Shown {
                document: &doc,
                state
            })?
        );
        return Ok(());
    }
    print_document(store, &doc, state)
}

fn print_document(store: &Store, doc: &eakte::store::Document, state: &str) -> Result<()> {
    println!("document {}", doc.id);
    println!("  state:       {state}");
    println!("  name:        {}", doc.original_name);
    println!("  site:        {}", doc.site.as_deref().unwrap_or("-"));
    println!("  type:        {}", doc.kind.mime_type());
    println!("  size:        {} bytes", doc.size);
    println!("  sha256:      {}", doc.sha256);
    println!("  received:    {}", doc.received_at);
    println!("  stored:      {}", doc.stored_at);
    if let Some(c) = doc.mean_confidence() {
        println!("  confidence:  {c:.0} (mean OCR word confidence)");
    }
    for a in &doc.arrivals {
        if let Some(a) = store.arrival(*a)? {
            let dup = if a.duplicate { " (duplicate)" } else { "" };
            println!(
                "  arrival {}:  {} at {}{dup}",
                a.id, a.source, a.received_at
            );
        }
    }
    for page in &doc.pages {
        let mut how = format!("{:?}", page.source);
        if let Some(c) = page.confidence {
            how.push_str(&format!(", confidence {c:.0}"));
        }
        if page.rotation != 0 {
            how.push_str(&format!(", turned {}°", page.rotation));
        }
        println!("\n--- page {} ({how}) ---\n{}", page.number, page.text);
    }
    Ok(())
}

/// Snippets are HTML (`<b>` marks hits); show the marks as «…» on a terminal.
fn terminal_snippet(html: &str) -> String {
    html.replace("<b>", "«")
        .replace("</b>", "»")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
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
