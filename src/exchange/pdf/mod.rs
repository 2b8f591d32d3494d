//! An Akte as one paginated PDF, for Akteneinsicht, auditors and courts: a
//! cover page (whose Akte, for whom, by whom, what part), a table of
//! contents (date, type, Schlagwort, Blatt range), every document's pages
//! in order, each with a header line naming the document and its number
//! ("Blatt 17"), and a last page with the SHA-256 of every original.
//!
//! Born-digital PDFs keep their own (vector) pages; scans become pages of
//! their images, upright; e-mails and notes are set as text. Under every
//! page eakte read by OCR lies its text, invisible, so that the court's
//! viewer finds and copies it.
//!
//! Why qpdf: it puts pages of other PDFs together without re-rendering them,
//! lays pages over and under others (qpdf turns an overlay with a rotated
//! page), repairs what it can of a damaged file, and runs as a child process
//! under the tools' limits, so a hostile original never enters the daemon's
//! memory. Pages eakte makes itself come from its own small writer
//! ([`writer`]); scans are turned into PDF pages by leptonica in a child of
//! eakte ([`crate::extract::image_pdf`]). The daemon holds only the plan.

pub mod cut;
pub mod writer;

use crate::extract::image_pdf::{self, Job};
use crate::extract::tool::{self, ToolError};
use crate::model::{Document, FileKind, PageSource};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use writer::{Canvas, Font, Writer, A4};

/// Largest PDF eakte writes (a county's thickest Akte is far below).
const MAX_PDF_BYTES: u64 = 16 * 1024 * 1024 * 1024;
/// Table-of-contents lines per page, and checksum lines per page.
const TOC_LINES: usize = 34;
const HASH_LINES: usize = 22;

/// What the cover page says.
pub struct Cover {
    pub jobcenter: String,
    pub bg: String,
    /// "Nachname, Vorname (geb. TT.MM.JJJJ)" per member.
    pub members: Vec<String>,
    pub exported_by: String,
    /// When, as people read it.
    pub at: String,
    /// The scope in German ("vollständige Akte", "Teilakte (…)").
    pub scope: String,
    /// Who it is for (Sozialgericht, Prüfdienst, …).
    pub receiver: String,
}

/// A document to print, with where its original is.
pub struct Entry {
    pub document: Document,
    pub original: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("{0}")]
    Tool(#[from] ToolError),
    #[error("writing the PDF failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the assembled PDF is not as planned: {0}")]
    Unexpected(String),
}

/// How a document's pages get into the PDF.
enum Part {
    /// The original PDF, all its pages.
    Original(PathBuf),
    /// Pages made of its images (`<prefix>-<n>.pdf`).
    Images(Job),
    /// Pages eakte set (a text, a placeholder), in a file of their own.
    Set(PathBuf),
}

struct Planned<'a> {
    entry: &'a Entry,
    part: Part,
    pages: usize,
    /// Per page: the OCR text to lay under it, if any.
    hidden: Vec<Option<String>>,
    /// Per page: the quarter turns qpdf gives it (a scanned PDF put upright).
    rotations: Vec<u16>,
}

/// Build the PDF of `entries` (in the order given) in `scratch`; returns its path.
pub fn build(
    cover: &Cover,
    entries: &[Entry],
    scratch: &Path,
    timeout: Duration,
) -> Result<PathBuf, PdfError> {
    let mut planned = Vec::with_capacity(entries.len());
    let mut jobs = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let d = &entry.document;
        let ocr_text =
            |p: &crate::model::Page| (p.source == PageSource::Ocr).then(|| p.text.clone());
        let plan = match d.kind {
            FileKind::Pdf => {
                let pages = page_count(&entry.original, scratch, timeout)?;
                let hidden = (0..pages)
                    .map(|n| d.pages.get(n).and_then(ocr_text))
                    .collect();
                let rotations = (0..pages)
                    .map(|n| d.pages.get(n).map_or(0, |p| p.rotation))
                    .collect();
                Planned {
                    entry,
                    part: Part::Original(entry.original.clone()),
                    pages,
                    hidden,
                    rotations,
                }
            }
            FileKind::Tiff | FileKind::Png | FileKind::Jpeg if !d.pages.is_empty() => {
                let job = Job {
                    input: entry.original.clone(),
                    tiff: d.kind == FileKind::Tiff,
                    rotations: d.pages.iter().map(|p| p.rotation).collect(),
                    output: scratch.join(format!("scan-{i}")),
                };
                jobs.push(job.clone());
                Planned {
                    entry,
                    pages: d.pages.len(),
                    hidden: d.pages.iter().map(|p| Some(p.text.clone())).collect(),
                    rotations: vec![0; d.pages.len()],
                    part: Part::Images(job),
                }
            }
            _ => {
                let path = scratch.join(format!("text-{i}.pdf"));
                let pages = set_text(&path, d)?;
                Planned {
                    entry,
                    part: Part::Set(path),
                    pages,
                    hidden: vec![None; pages],
                    rotations: vec![0; pages],
                }
            }
        };
        planned.push(plan);
    }
    image_pdf::convert(&jobs, scratch, timeout)?;

    let toc_pages = entries.len().div_ceil(TOC_LINES).max(1);
    let front = 1 + toc_pages;
    let front_path = scratch.join("front.pdf");
    write_front(&front_path, cover, &planned, toc_pages)?;
    let hashes_path = scratch.join("hashes.pdf");
    write_hashes(&hashes_path, &planned)?;

    // Put it together.
    let merged = scratch.join("merged.pdf");
    let mut args: Vec<OsString> = vec![
        "--empty".into(),
        "--pages".into(),
        front_path.clone().into(),
    ];
    let mut at = front;
    let mut rotate = Vec::new();
    for plan in &planned {
        match &plan.part {
            Part::Original(path) | Part::Set(path) => args.push(path.clone().into()),
            Part::Images(job) => {
                args.extend((1..=plan.pages).map(|n| job.page(n).into_os_string()))
            }
        }
        for (n, r) in plan.rotations.iter().enumerate() {
            if r % 360 != 0 {
                rotate.push(format!("--rotate=+{}:{}", r % 360, at + n + 1));
            }
        }
        at += plan.pages;
    }
    let document_pages = at - front;
    args.push(hashes_path.into());
    args.push("--".into());
    args.extend(rotate.into_iter().map(OsString::from));
    args.push(merged.clone().into());
    qpdf(&args, scratch, timeout)?;

    if document_pages == 0 {
        return Ok(merged);
    }
    let (first, last) = (front + 1, front + document_pages);
    let sizes = page_sizes(&merged, first, last, scratch, timeout)?;
    if sizes.len() != document_pages {
        return Err(PdfError::Unexpected(format!(
            "{} document pages planned, {} found",
            document_pages,
            sizes.len()
        )));
    }
    let stamps = scratch.join("stamps.pdf");
    let hidden = scratch.join("hidden.pdf");
    write_layers(&stamps, &hidden, &planned, &sizes)?;
    let out = scratch.join("akte.pdf");
    let range = format!("--to={first}-{last}");
    let args: Vec<OsString> = vec![
        merged.into(),
        "--overlay".into(),
        stamps.into(),
        range.clone().into(),
        "--".into(),
        "--underlay".into(),
        hidden.into(),
        range.into(),
        "--".into(),
        out.clone().into(),
    ];
    qpdf(&args, scratch, timeout)?;
    Ok(out)
}

fn qpdf(args: &[OsString], scratch: &Path, timeout: Duration) -> Result<(), PdfError> {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(OsString::as_os_str).collect();
    // qpdf exits 3 when it repaired something and wrote the file anyway.
    match tool::run_writing(
        "qpdf",
        &args,
        &scratch.join("qpdf.out"),
        timeout,
        MAX_PDF_BYTES,
    ) {
        Ok(_) => Ok(()),
        Err(ToolError::Failed { message, .. })
            if message.contains("operation succeeded with warnings") =>
        {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The pages of the PDF at `path` (qpdf reads damaged files too).
fn page_count(path: &Path, scratch: &Path, timeout: Duration) -> Result<usize, PdfError> {
    let out = scratch.join("npages.out");
    let args = [std::ffi::OsStr::new("--show-npages"), path.as_os_str()];
    let result = tool::run("qpdf", &args, &out, timeout);
    match result {
        Ok(_) => {}
        Err(ToolError::Failed { message, .. }) if message.contains("warning") => {}
        Err(e) => return Err(e.into()),
    }
    let text = std::fs::read_to_string(&out)?;
    text.trim()
        .parse()
        .map_err(|_| PdfError::Unexpected(format!("qpdf counted {text:?} pages")))
}

/// Each page's size as shown (points, turned by its rotation), `first` to `last`.
fn page_sizes(
    path: &Path,
    first: usize,
    last: usize,
    scratch: &Path,
    timeout: Duration,
) -> Result<Vec<(f32, f32)>, PdfError> {
    let out = scratch.join("pdfinfo.out");
    let (f, l) = (first.to_string(), last.to_string());
    let args: [&std::ffi::OsStr; 5] = [
        "-f".as_ref(),
        f.as_ref(),
        "-l".as_ref(),
        l.as_ref(),
        path.as_os_str(),
    ];
    tool::run("pdfinfo", &args, &out, timeout)?;
    let text = std::fs::read_to_string(&out)?;
    let mut sizes: Vec<(f32, f32)> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("Page") else {
            continue;
        };
        let rest = rest.trim_start();
        let (_, rest) = rest.split_once(' ').unwrap_or(("", ""));
        let rest = rest.trim_start();
        if let Some(size) = rest.strip_prefix("size:") {
            let numbers: Vec<f32> = size
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            if let [w, h, ..] = numbers[..] {
                sizes.push((w, h));
            }
        } else if let Some(rot) = rest.strip_prefix("rot:") {
            if matches!(rot.trim().parse::<u32>(), Ok(90 | 270)) {
                if let Some(last) = sizes.last_mut() {
                    *last = (last.1, last.0);
                }
            }
        }
    }
    Ok(sizes)
}

fn german_day(at: &str) -> String {
    crate::timefmt::parse(at)
        .map(|t| crate::timefmt::german_day(crate::clock::german_date(t)))
        .unwrap_or_default()
}

fn doc_type(d: &Document) -> String {
    d.classification
        .as_ref()
        .map(|c| c.doc_type.clone())
        .unwrap_or_else(|| "Dokument".into())
}

fn schlagwort(d: &Document) -> String {
    d.classification
        .as_ref()
        .map(|c| c.schlagwort.clone())
        .unwrap_or_default()
}

/// The first line of `text` that fits `width`, with `…` if there was more.
fn cut(text: &str, width: f32, size: f32) -> String {
    let mut lines = writer::wrap(text, width, size).into_iter();
    let first = lines.next().unwrap_or_default();
    if lines.next().is_none() {
        return first;
    }
    let mut shorter: String = first
        .chars()
        .take(first.chars().count().saturating_sub(1))
        .collect();
    shorter.push('…');
    shorter
}

/// Cover page and table of contents.
fn write_front(
    path: &Path,
    cover: &Cover,
    planned: &[Planned<'_>],
    toc_pages: usize,
) -> Result<(), PdfError> {
    let mut w = Writer::new(std::fs::File::create(path)?)?;
    let mut c = Canvas::default();
    let mut y = A4.1 - 90.0;
    c.text(Font::Regular, 11.0, 60.0, y + 30.0, &cover.jobcenter);
    c.text(Font::Bold, 22.0, 60.0, y - 10.0, "Aktenauszug");
    y -= 50.0;
    let line = |c: &mut Canvas, label: &str, value: &str, y: &mut f32| {
        c.text(Font::Bold, 11.0, 60.0, *y, label);
        for (i, part) in writer::wrap(value, 330.0, 11.0).iter().enumerate() {
            c.text(Font::Regular, 11.0, 200.0, *y - i as f32 * 14.0, part);
            if i > 0 {
                *y -= 14.0;
            }
        }
        *y -= 22.0;
    };
    line(&mut c, "Bedarfsgemeinschaft", &cover.bg, &mut y);
    let members = if cover.members.is_empty() {
        "—".to_string()
    } else {
        cover.members.join("; ")
    };
    line(&mut c, "Mitglieder", &members, &mut y);
    line(&mut c, "Umfang", &cover.scope, &mut y);
    line(&mut c, "Bestimmt für", &cover.receiver, &mut y);
    line(&mut c, "Erstellt am", &cover.at, &mut y);
    line(&mut c, "Erstellt von", &cover.exported_by, &mut y);
    let blatt: usize = planned.iter().map(|p| p.pages).sum();
    line(
        &mut c,
        "Inhalt",
        &format!(
            "{} {}, {blatt} Blatt",
            planned.len(),
            if planned.len() == 1 {
                "Dokument"
            } else {
                "Dokumente"
            }
        ),
        &mut y,
    );
    c.rule(60.0, A4.0 - 60.0, 110.0);
    c.text(
        Font::Regular,
        9.0,
        60.0,
        95.0,
        "Die Blattzahlen stehen unten rechts auf jeder Seite. Die letzte Seite nennt die SHA-256-Prüfsumme",
    );
    c.text(
        Font::Regular,
        9.0,
        60.0,
        83.0,
        "jedes Originals; gegen sie lässt sich jedes Original aus der E-Akte prüfen.",
    );
    w.page(A4, c)?;

    let mut blatt = 1;
    let mut rows = Vec::new();
    for p in planned {
        let d = &p.entry.document;
        let range = match p.pages {
            0 => "—".to_string(),
            1 => format!("{blatt}"),
            n => format!("{blatt}–{}", blatt + n - 1),
        };
        blatt += p.pages;
        rows.push([
            german_day(&d.received_at),
            doc_type(d),
            schlagwort(d),
            d.original_name.clone(),
            range,
        ]);
    }
    for page in 0..toc_pages {
        let mut c = Canvas::default();
        let mut y = A4.1 - 70.0;
        c.text(
            Font::Bold,
            16.0,
            50.0,
            y,
            if page == 0 {
                "Inhaltsverzeichnis"
            } else {
                "Inhaltsverzeichnis (Fortsetzung)"
            },
        );
        y -= 30.0;
        let columns = [50.0, 115.0, 215.0, 315.0, 500.0];
        for (x, head) in columns
            .iter()
            .zip(["Eingang", "Art", "Schlagwort", "Dokument", "Blatt"])
        {
            c.text(Font::Bold, 9.0, *x, y, head);
        }
        c.rule(50.0, A4.0 - 50.0, y - 4.0);
        y -= 18.0;
        for row in rows.iter().skip(page * TOC_LINES).take(TOC_LINES) {
            let widths = [60.0, 95.0, 95.0, 180.0, 60.0];
            for ((x, width), text) in columns.iter().zip(widths).zip(row.iter()) {
                c.text(Font::Regular, 9.0, *x, y, &cut(text, width, 9.0));
            }
            y -= 19.0;
        }
        w.page(A4, c)?;
    }
    w.finish()?;
    Ok(())
}

/// The last page(s): the SHA-256 of every original.
fn write_hashes(path: &Path, planned: &[Planned<'_>]) -> Result<(), PdfError> {
    let mut w = Writer::new(std::fs::File::create(path)?)?;
    let pages = planned.len().div_ceil(HASH_LINES).max(1);
    for page in 0..pages {
        let mut c = Canvas::default();
        let mut y = A4.1 - 70.0;
        c.text(
            Font::Bold,
            16.0,
            50.0,
            y,
            "Prüfsummen der Originale (SHA-256)",
        );
        y -= 30.0;
        for p in planned.iter().skip(page * HASH_LINES).take(HASH_LINES) {
            let d = &p.entry.document;
            let name = cut(&d.original_name, 480.0, 9.0);
            c.text(
                Font::Regular,
                9.0,
                50.0,
                y,
                &format!("{} · {name}", german_day(&d.received_at)),
            );
            c.text(Font::Regular, 8.0, 62.0, y - 12.0, d.sha256.as_str());
            y -= 30.0;
        }
        w.page(A4, c)?;
    }
    w.finish()?;
    Ok(())
}

/// A text document (e-mail, note) or an original eakte cannot show, set
/// on A4 pages; returns the number of pages.
fn set_text(path: &Path, d: &Document) -> Result<usize, PdfError> {
    let text = match d.kind {
        FileKind::Eml | FileKind::Text => d.text(),
        _ => format!(
            "Dieses Original kann nicht als Seite gezeigt werden.\n\nName: {}\nGröße: {} Bytes\nSHA-256: {}\n\n{}",
            d.original_name,
            d.size,
            d.sha256,
            d.text()
        ),
    };
    let (size, top, bottom) = (10.0, A4.1 - 60.0, 50.0);
    let lines = writer::wrap(&text, A4.0 - 120.0, size);
    let per_page = ((top - bottom) / (size * 1.35)) as usize;
    let mut w = Writer::new(std::fs::File::create(path)?)?;
    for chunk in lines.chunks(per_page.max(1)) {
        let mut c = Canvas::default();
        for (i, line) in chunk.iter().enumerate() {
            c.text(
                Font::Regular,
                size,
                60.0,
                top - i as f32 * size * 1.35,
                line,
            );
        }
        w.page(A4, c)?;
    }
    if w.page_count() == 0 {
        w.page(A4, Canvas::default())?;
    }
    let pages = w.page_count();
    w.finish()?;
    Ok(pages)
}

/// The page laid over each document page (its header line and Blatt
/// number) and the one laid under it (its OCR text, invisible).
fn write_layers(
    stamps: &Path,
    hidden: &Path,
    planned: &[Planned<'_>],
    sizes: &[(f32, f32)],
) -> Result<(), PdfError> {
    let mut over = Writer::new(std::fs::File::create(stamps)?)?;
    let mut under = Writer::new(std::fs::File::create(hidden)?)?;
    let mut blatt = 0;
    for p in planned {
        let d = &p.entry.document;
        let head = format!(
            "{} · {} · Eingang {}",
            doc_type(d),
            d.original_name,
            german_day(&d.received_at)
        );
        for n in 0..p.pages {
            let (w, h) = sizes[blatt];
            blatt += 1;
            let mut c = Canvas::default();
            let head = format!("{head} · Seite {} von {}", n + 1, p.pages);
            let head = cut(&head, w - 40.0, 7.0);
            c.text(Font::Regular, 7.0, 20.0, h - 12.0, &head);
            c.text(Font::Bold, 10.0, w - 75.0, 12.0, &format!("Blatt {blatt}"));
            over.page((w, h), c)?;
            let mut c = Canvas::default();
            if let Some(Some(text)) = p.hidden.get(n) {
                c.invisible(w, h, text);
            }
            under.page((w, h), c)?;
        }
    }
    over.finish()?;
    under.finish()?;
    Ok(())
}
