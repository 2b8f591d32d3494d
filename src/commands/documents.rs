//! Commands about documents: serve, ingest, search, show, reindex, check.

use anyhow::{Context, Result};
use eakte::config::Config;
use eakte::store::{DocumentId, Store};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn ingest(config: &Config, files: &[PathBuf], site: Option<&str>) -> Result<ExitCode> {
    let mut all_stored = true;
    eakte::ingest::ingest(config, files, site, |line| {
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

pub fn search(
    config: &Config,
    query: &[String],
    limit: usize,
    offset: usize,
    json: bool,
) -> Result<ExitCode> {
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
                hit.id,
                hit.score.unwrap_or_default(),
                hit.received_at,
                site,
                hit.name
            );
            println!("    {}", terminal_snippet(&hit.snippet));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn reindex(config: &Config) -> Result<ExitCode> {
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

pub fn check(config: &Config, json: bool) -> Result<ExitCode> {
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

/// Threads for blocking work (store, index, audit): enough for the audit's
/// group commit to batch many readers and for scans in flight, few enough that
/// a burst of requests queues instead of multiplying memory.
const BLOCKING_THREADS: usize = 32;

/// `eakte serve`: the daemon until SIGINT/SIGTERM.
pub fn serve(config: Config) -> Result<ExitCode> {
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

pub fn show(config: &Config, id: DocumentId, json: bool) -> Result<ExitCode> {
    let store = Store::open(&config.store_dir)?;
    show_document(&store, id, json)?;
    Ok(ExitCode::SUCCESS)
}

fn show_document(store: &Store, id: DocumentId, json: bool) -> Result<()> {
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
    if let Some(c) = &doc.classification {
        println!(
            "  doc type:    {} (Schlagwort {})",
            c.doc_type, c.schlagwort
        );
        println!(
            "  recipient:   {}",
            super::postbox::describe_recognition(&c.recipient)
        );
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
