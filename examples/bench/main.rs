//! `eakte-bench`: the benchmarks of BENCHMARKS.md.
//!
//!   cargo run --release --example bench -- all
//!   cargo run --release --example bench -- corpus --docs 1000000
//!
//! Every benchmark generates its own data in a temporary directory
//! (`EAKTE_BENCH_DIR` picks where) and drives the release `eakte` binary.
mod harness;

use clap::{Parser, Subcommand};
use harness::Row;

#[derive(Parser)]
#[command(about = "eakte benchmarks: prints a Markdown table per benchmark")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// 1. OCR throughput of `eakte serve` against the tesseract CLI.
    Ocr {
        #[arg(long, default_value_t = 60)]
        pages: usize,
    },
    /// 2. Scan-to-postbox latency of single one-page scans.
    Latency {
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
    /// 3. Born-digital ingest: PDFs through the inbox, e-mails over the API.
    BornDigital {
        #[arg(long, default_value_t = 2000)]
        pdfs: usize,
        #[arg(long, default_value_t = 500)]
        emails: usize,
    },
    /// 8. An Akte leaving: its xdomea package and its PDF.
    Exchange {
        #[arg(long, default_value_t = 200)]
        docs: usize,
        #[arg(long, default_value_t = 1000)]
        pages: usize,
    },
    /// 9. A duplex stack with separator sheets, split, read and routed, against the CLI.
    Batch {
        #[arg(long, default_value_t = 50)]
        letters: usize,
    },
    /// 10. OCR quality on public pages with a ground truth (words in order, eakte and the
    /// CLI), and the blank-page rule's precision on real pages.
    OcrQuality,
    /// 4–6. On a synthetic corpus: reindex, search latency, long-poll.
    Corpus(CorpusRun),
    /// Everything at its default size, 100k-document corpus.
    All,
}

const CASEWORKERS: usize = 1000;

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Part {
    Reindex,
    Search,
    Longpoll,
    Ui,
}

/// Print rows as soon as they are measured: a failure later in a long run
/// keeps what came before.
fn emit(rows: Vec<Row>) {
    use std::io::Write;
    print!("{}", harness::table_rows(&rows));
    let _ = std::io::stdout().flush();
}

#[derive(clap::Args)]
struct CorpusRun {
    /// Documents in the corpus.
    #[arg(long, default_value_t = 100_000)]
    docs: usize,
    /// Concurrent search clients (the load generator).
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Seconds of search load.
    #[arg(long, default_value_t = 30)]
    secs: u64,
    /// Concurrent long-polling clients.
    #[arg(long, default_value_t = 1000)]
    pollers: usize,
    /// Letters per second arriving while they poll.
    #[arg(long, default_value_t = 20)]
    rate: u64,
    /// Seconds of arriving letters.
    #[arg(long, default_value_t = 30)]
    poll_secs: u64,
    /// Build the corpus in DIR and keep it; a later run with the same
    /// sizes measures it again without building it.
    #[arg(long, value_name = "DIR")]
    keep: Option<std::path::PathBuf>,
    /// Run only this part (reindex, search, longpoll or ui).
    #[arg(long)]
    only: Option<Part>,
    /// Requests per UI page (and as many API calls beside them).
    #[arg(long, default_value_t = 300)]
    ui_requests: usize,
    /// Letters whose row is awaited in an open browser Postkorb.
    #[arg(long, default_value_t = 20)]
    ui_letters: usize,
}

fn corpus(run: CorpusRun) {
    let CorpusRun {
        docs,
        clients,
        secs,
        pollers,
        rate,
        poll_secs,
        keep,
        only,
        ui_requests,
        ui_letters,
    } = run;
    // Ten documents per BG on average (at 1M documents 100,000 BGs, a big
    // city's jobcenter); 1000 caseworkers share them (a caseload of 100 BGs
    // each), and each long-polling client is one of them.
    let corpus = harness::corpus(docs, (docs / 10).max(10), CASEWORKERS, keep.as_deref());
    if let Some(load_secs) = corpus.load_secs {
        emit(vec![Row {
            what: format!("loading the synthetic corpus into the store ({docs} documents)"),
            value: format!("{load_secs:.0} s"),
            target: String::new(),
        }]);
    }
    let runs = |part| only.is_none_or(|o| o == part);
    if runs(Part::Reindex) {
        emit(harness::reindex(&corpus));
    }
    if runs(Part::Search) {
        emit(harness::search(&corpus, clients, secs));
    }
    if runs(Part::Longpoll) {
        emit(harness::longpoll(&corpus, pollers, rate, poll_secs));
    }
    if runs(Part::Ui) {
        emit(harness::ui::ui(&corpus, ui_requests, ui_letters));
    }
}

fn main() {
    let cli = Cli::parse();
    print!("{}", harness::table_header());
    match cli.bench {
        Bench::Ocr { pages } => emit(harness::ocr_throughput(pages)),
        Bench::Latency { runs } => emit(harness::latency(runs)),
        Bench::BornDigital { pdfs, emails } => emit(harness::born_digital(pdfs, emails)),
        Bench::Exchange { docs, pages } => emit(harness::exchange::exchange(docs, pages)),
        Bench::Batch { letters } => {
            emit(harness::batch::batch_as(
                letters,
                harness::batch::Scanned::Pdf,
            ));
            emit(harness::batch::batch_as(
                letters,
                harness::batch::Scanned::Tiff,
            ));
        }
        Bench::OcrQuality => {
            emit(harness::batch::ocr_quality());
            emit(harness::batch::blank_precision());
        }
        Bench::Corpus(run) => corpus(run),
        Bench::All => {
            emit(harness::ocr_throughput(60));
            emit(harness::batch::ocr_quality());
            emit(harness::batch::blank_precision());
            emit(harness::batch::batch_throughput(50));
            emit(harness::latency(10));
            emit(harness::born_digital(2000, 500));
            emit(harness::exchange::exchange(200, 1000));
            corpus(CorpusRun {
                docs: 100_000,
                clients: 4,
                secs: 30,
                pollers: 1000,
                rate: 20,
                poll_secs: 30,
                keep: None,
                only: None,
                ui_requests: 300,
                ui_letters: 20,
            });
        }
    }
}
