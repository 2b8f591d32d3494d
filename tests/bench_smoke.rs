//! The benchmark harness at toy sizes, so that it cannot rot. Its numbers mean
//! nothing here (debug build, tiny data); only that every benchmark runs to the
//! end against the real daemon and produces its rows.
#[path = "../examples/bench/harness.rs"]
mod harness;

#[test]
fn every_benchmark_runs_at_toy_size() {
    // SAFETY: set before any thread of this test binary reads the environment;
    // this file holds a single test.
    unsafe { std::env::set_var("EAKTE_BIN", env!("CARGO_BIN_EXE_eakte")) };
    let mut rows = harness::ocr_throughput(2);
    rows.extend(harness::latency(1));
    rows.extend(harness::born_digital(5, 3));
    rows.extend(harness::exchange::exchange(8, 12));
    rows.extend(harness::batch::batch_throughput(2));
    rows.extend(harness::batch::ocr_quality());
    rows.extend(harness::batch::blank_precision());
    let corpus = harness::corpus(300, 100, 3, None);
    rows.extend(harness::reindex(&corpus));
    rows.extend(harness::search(&corpus, 2, 1));
    rows.extend(harness::longpoll(&corpus, 20, 5, 2));
    rows.extend(harness::ui::ui(&corpus, 3, 1));
    let table = harness::table(&rows);
    println!("{table}");
    for expected in [
        "pages/min",
        "scan to postbox",
        "born-digital",
        "reindex",
        "search, rare term",
        "long-poll",
        "UI page: Postkorb",
        "UI live row",
        "xdomea export",
        "PDF of the same Akte",
        "duplex stack",
        "in order",
        "blank-page rule",
    ] {
        assert!(table.contains(expected), "no row for {expected}:\n{table}");
    }
    // Every row has a measured value.
    assert!(
        rows.iter()
            .all(|r| !r.value.is_empty() && !r.value.contains("NaN")),
        "{table}"
    );
}
