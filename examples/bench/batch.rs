//! Benchmarks of issue 16: a duplex stack of the morning's post against the
//! tesseract CLI reading every page of it, and how well each reads public
//! pages with a ground truth (words in order and words at all).

use super::barcodes;
use super::reading;
use super::scanmaker;
use super::{cli_read, cores, drop_into_inbox, row, wait_documents, Row, Site};
use eakte::model::Role;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The pages of a duplex stack: `letters` one-sheet letters, each sheet with
/// its empty back, a separator sheet (and its empty back) between each two.
fn duplex_pages(letters: usize) -> Vec<Vec<u8>> {
    let mut contents = Vec::new();
    for i in 0..letters {
        if i > 0 {
            // Every kind of separator the scan office has, in turn.
            let code = match i % 3 {
                0 => barcodes::patch_t(60.0),
                1 => barcodes::code39("PATCHT", 60.0, 120.0, 0.5, 15.0),
                _ => barcodes::qr("PATCHT", 80.0, 120.0, 30.0),
            };
            contents.push(
                [barcodes::sheet_text("Trennblatt"), code]
                    .concat()
                    .into_bytes(),
            );
            contents.push(Vec::new());
        }
        let marker = format!("Kontrollnummer {}", 20_000 + i);
        contents.push(scanmaker::text_content(&scanmaker::letter(
            &marker,
            "Widerspruch",
        )));
        contents.push(Vec::new());
    }
    contents
}

/// How the scanner wrote the stack.
#[derive(Clone, Copy)]
pub enum Scanned {
    /// One PDF of greyscale JPEG pages (eakte rasterises each page again);
    /// the CLI gets the pages as greyscale PNG.
    Pdf,
    /// One multi-page bilevel TIFF (read frame by frame, nothing to
    /// rasterise); the CLI gets each frame as a bilevel TIFF of its own.
    Tiff,
}

/// The stack at 300 dpi as eakte gets it, and its pages as the CLI gets them.
fn duplex_stack(dir: &Path, letters: usize, scanned: Scanned) -> (PathBuf, Vec<PathBuf>) {
    let contents = duplex_pages(letters);
    let pdf = scanmaker::drawn_pdf(&contents);
    std::fs::create_dir_all(dir).unwrap();
    let write = |name: String, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    match scanned {
        Scanned::Pdf => {
            let jpegs = scanmaker::rasterise(&pdf, 300, scanmaker::Raster::Jpeg);
            let stack = write("stapel.pdf".into(), &scanmaker::scanned_pdf(&jpegs));
            let pages = scanmaker::rasterise(&pdf, 300, scanmaker::Raster::Png)
                .iter()
                .enumerate()
                .map(|(i, png)| write(format!("seite-{i:04}.png"), png))
                .collect();
            (stack, pages)
        }
        Scanned::Tiff => {
            let stack = write("stapel.tif".into(), &scanmaker::noisy_tiff(&pdf, 300, 0.0));
            let pages = contents
                .iter()
                .enumerate()
                .map(|(i, page)| {
                    let one =
                        scanmaker::noisy_tiff(&scanmaker::drawn_pdf(&[page.clone()]), 300, 0.0);
                    write(format!("seite-{i:04}.tif"), &one)
                })
                .collect();
            (stack, pages)
        }
    }
}

/// Benchmark 9: the duplex stack split, read and routed by `eakte serve`,
/// against the tesseract CLI reading all its pages (PSM 3 both), in the same
/// run; both clocks from the pages being there to the last result on disk,
/// both with their start-up. Once as a scanner's PDF, once as a bilevel TIFF.
pub fn batch_throughput(letters: usize) -> Vec<Row> {
    let mut rows = batch_as(letters, Scanned::Pdf);
    rows.extend(batch_as(letters, Scanned::Tiff));
    rows
}

/// [`batch_throughput`] for one way of scanning.
pub fn batch_as(letters: usize, scanned: Scanned) -> Vec<Row> {
    let name = match scanned {
        Scanned::Pdf => "PDF of JPEG pages",
        Scanned::Tiff => "bilevel TIFF",
    };
    let mut rows = Vec::new();
    {
        let site = Site::new(200);
        // 200 bilevel pages uncompressed are 215 MB, over the default limit.
        let config = std::fs::read_to_string(site.config()).unwrap();
        std::fs::write(site.config(), config + "max_bytes = 1073741824\n").unwrap();
        let (stack, pages) = duplex_stack(&site.dir.join("staging"), letters, scanned);
        let n = pages.len();
        let per_min = |secs: f64| n as f64 * 60.0 / secs;
        let cli = cli_read(&site.dir, &pages, "3");

        let admin = site.user("bench-admin", Role::Admin, None);
        drop_into_inbox(&site, &[stack], "husum");
        let started = Instant::now();
        let server = site.serve();
        wait_documents(&server, &admin, 0.0, 1, Duration::from_secs(3600));
        let eakte = started.elapsed().as_secs_f64();
        let split = server.metric(&admin, "eakte_documents_total", "split");
        assert_eq!(split, 1.0, "the stack was cut");
        rows.push(row(
            format!(
                "{name}: tesseract CLI --psm 3, {} processes, every page of the stack ({n} pages)",
                cores()
            ),
            format!("{:.1} pages/min", per_min(cli)),
            "",
        ));
        rows.push(row(
            format!(
                "{name}: eakte serve, the stack of {letters} letters cut, read, routed (half the pages empty backs)"
            ),
            format!("{:.1} pages/min", per_min(eakte)),
            "",
        ));
        rows.push(row(
            format!("{name}: eakte / tesseract CLI, duplex stack"),
            format!("{:.2}", cli / eakte),
            "≥ 1.5",
        ));
    }
    rows
}

/// The public pages with a ground truth (tests/fixtures, see its SOURCES.md).
const SAMPLES: &[(&str, &str, &str)] = &[
    (
        "linn brochure, two columns, skewed (JBIG2 PDF)",
        "pdf/skew.pdf",
        "pdf/linn.txt",
    ),
    (
        "eurotext, several languages",
        "scans/eurotext.tif",
        "scans/eurotext.txt",
    ),
    (
        "phototest, 200 dpi",
        "scans/phototest.tif",
        "scans/phototest.txt",
    ),
    (
        "a scanned business letter (JPEG)",
        "scans/jfif.jpg",
        "scans/letter-en.txt",
    ),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Quality: the share of the ground truth's words read in order (longest
/// common subsequence) and at all, eakte against the CLI with the same
/// segmentation (PSM 3) and with one uniform block (PSM 6, what eakte used
/// before), both with the German model as eakte runs it.
pub fn ocr_quality() -> Vec<Row> {
    let site = Site::new(200);
    let work = site.dir.join("quality");
    std::fs::create_dir_all(&work).unwrap();
    // The public samples, and a generated two-column Bescheid.
    let mut samples: Vec<(String, PathBuf, String)> = SAMPLES
        .iter()
        .map(|(what, file, truth)| {
            let truth = std::fs::read_to_string(fixtures().join(truth)).unwrap();
            (what.to_string(), fixtures().join(file), truth)
        })
        .collect();
    let (bescheid, truth) = scanmaker::two_column_bescheid();
    let png = work.join("bescheid.png");
    std::fs::write(
        &png,
        scanmaker::rasterise(&bescheid, 300, scanmaker::Raster::Png).remove(0),
    )
    .unwrap();
    samples.push((
        "a generated two-column Bescheid, 300 dpi".into(),
        png,
        truth,
    ));
    let files: Vec<PathBuf> = samples.iter().map(|(_, f, _)| f.clone()).collect();
    let mut args = vec!["ingest".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = site.eakte(&args);
    let ids: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["document_id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let mut rows = Vec::new();
    for ((what, path, truth), id) in samples.iter().zip(ids) {
        let truth = truth.as_str();
        let (shown, _) = site.eakte(&["show", "--json", &id.to_string()]);
        let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
        let eakte = reading::document_text(&shown);
        // The CLI reads what eakte reads: a PDF page rasterised as eakte does.
        let image = if path.extension().is_some_and(|e| e == "pdf") {
            let prefix = work.join(format!("page-{id}"));
            let status = Command::new("pdftoppm")
                .args(["-r", "300", "-gray", "-singlefile"])
                .arg(path)
                .arg(&prefix)
                .status()
                .unwrap();
            assert!(status.success());
            prefix.with_extension("pgm")
        } else {
            path.clone()
        };
        let cli = |psm: &str| {
            let out = Command::new("tesseract")
                .arg(&image)
                .args(["-", "-l", "deu", "--psm", psm])
                .env("OMP_THREAD_LIMIT", "1")
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let (psm3, psm6) = (cli("3"), cli("6"));
        let figure = |text: &str| {
            format!(
                "{:.2} in order, {:.2} at all",
                reading::in_order(truth, text),
                reading::found(truth, text)
            )
        };
        rows.push(row(format!("{what}: eakte"), figure(&eakte), ""));
        rows.push(row(
            format!("{what}: tesseract CLI --psm 3"),
            figure(&psm3),
            "",
        ));
        rows.push(row(
            format!("{what}: tesseract CLI --psm 6"),
            figure(&psm6),
            "",
        ));
    }
    rows
}

/// The blank-page rule on real pages: every rasterised page of the public
/// samples, against which of them are truly empty (the five empty pages
/// between paperless-ngx's ASN labels; none of the others).
pub fn blank_precision() -> Vec<Row> {
    let site = Site::new(200);
    let samples: &[(&str, &[u32])] = &[
        ("barcodes/split-by-asn-1.pdf", &[2, 5, 6, 8, 10]),
        ("barcodes/patch-code-t-middle.pdf", &[]),
        ("scans/eurotext.tif", &[]),
        ("scans/phototest.tif", &[]),
        ("scans/phototest-rotated-R.png", &[]),
        ("scans/multi-page-images.tiff", &[]),
        ("scans/jfif.jpg", &[]),
        ("pdf/cardinal.pdf", &[]),
        ("pdf/single-page-mixed.pdf", &[]),
        ("pdf/tagged-but-no-text.pdf", &[]),
        ("pdf/masks.pdf", &[]),
        ("pdf/epson.pdf", &[]),
        ("pdf/rotated_skew.pdf", &[]),
        ("pdf/skew.pdf", &[]),
    ];
    let mut args = vec!["ingest".to_string()];
    args.extend(
        samples
            .iter()
            .map(|(f, _)| fixtures().join(f).display().to_string()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = site.eakte(&args);
    let (mut pages, mut truly, mut found, mut right) = (0, 0, 0, 0);
    for (line, (_, blank)) in out.lines().zip(samples) {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = line["document_id"].as_u64().expect("stored");
        let (shown, _) = site.eakte(&["show", "--json", &id.to_string()]);
        let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
        for page in shown["pages"].as_array().unwrap() {
            // Text-layer pages are never rasterised, so never judged.
            if page["source"] == "text_layer" {
                continue;
            }
            pages += 1;
            let is = blank.contains(&(page["number"].as_u64().unwrap() as u32));
            let said = page["source"] == "blank";
            truly += is as usize;
            found += said as usize;
            right += (is && said) as usize;
        }
    }
    vec![row(
        format!("blank-page rule on {pages} real rasterised pages ({truly} truly empty)"),
        format!("{found} found blank, {right} of them truly (precision {right}/{found}, recall {right}/{truly})"),
        "no page with writing left out",
    )]
}
