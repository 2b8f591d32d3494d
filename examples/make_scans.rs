//! Generate benchmark input: `N` one-page scans of German letters (greyscale PNG at
//! 300 dpi, as the scan office's scanners deliver), each with its own words.
//!
//!     cargo run --release --example make_scans -- OUT_DIR N
//!
//! Uses the same scan maker as the tests (tests/common/scanmaker.rs).

#[path = "../tests/common/scanmaker.rs"]
#[allow(dead_code)]
mod scanmaker;

use scanmaker::{Pose, Raster};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: make_scans OUT_DIR N");
        std::process::exit(2);
    };
    let out = std::path::Path::new(out);
    std::fs::create_dir_all(out).unwrap();
    for i in 0..n {
        let marker = format!("Kontrollnummer {}", 10_000 + i);
        let pdf = scanmaker::text_pdf(
            &[scanmaker::letter(&marker, "Weiterbewilligungsantrag")],
            Pose::Upright,
        );
        let png = scanmaker::rasterise(&pdf, 300, Raster::Png).remove(0);
        std::fs::write(out.join(format!("scan-{i:04}.png")), png).unwrap();
    }
}
