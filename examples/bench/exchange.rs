//! Benchmark 8: an Akte leaving: the xdomea package and the PDF of an Akte
//! of `docs` documents with about `pages` pages, each against a yardstick in
//! the same run with the same settings: Python's zipfile storing the same
//! originals uncompressed (as eakte stores PDFs and images), and qpdf merging
//! the same born-digital PDFs (the step eakte's PDF also takes).
use super::*;

pub fn exchange(docs: usize, pages: usize) -> Vec<Row> {
    let OnePerson {
        site,
        token,
        admin,
        staging,
    } = one_person(200);
    // A Leistungsakte's mix: mostly letters and Bescheide (PDFs of some
    // pages), some scans, e-mails and notes of a page each.
    let scans = (docs / 20).max(1);
    let mails = docs * 15 / 100;
    let notes = docs / 20;
    let pdfs = docs - scans - mails - notes;
    let scan_pages = 4;
    let pdf_pages =
        ((pages.saturating_sub(scans * scan_pages + mails + notes)) / pdfs.max(1)).max(1);
    let originals = staging.join("originals");
    std::fs::create_dir_all(&originals).unwrap();
    let mut dropped = Vec::new();
    let mut pdf_files = Vec::new();
    for i in 0..pdfs + scans {
        let mut sheets: Vec<Vec<String>> = Vec::new();
        let n = if i < pdfs { pdf_pages } else { scan_pages };
        for p in 0..n {
            let mut lines =
                scanmaker::letter(&format!("Vorgang{i}Seite{p}"), "Bescheid über Leistungen");
            if p == 0 {
                lines.insert(0, "BG-Nr. 07450BG0000001".into());
            }
            sheets.push(lines);
        }
        let pdf = scanmaker::text_pdf(&sheets, scanmaker::Pose::Upright);
        let (name, bytes) = if i < pdfs {
            (format!("brief-{i:04}.pdf"), pdf)
        } else {
            (
                format!("scan-{i:04}.tiff"),
                scanmaker::noisy_tiff(&pdf, 200, 0.0),
            )
        };
        let kept = originals.join(&name);
        std::fs::write(&kept, &bytes).unwrap();
        if i < pdfs {
            pdf_files.push(kept);
        }
        let path = staging.join(&name);
        std::fs::write(&path, &bytes).unwrap();
        dropped.push(path);
    }
    let server = site.serve();
    let before = server.metric(&admin, "eakte_documents_total", "");
    drop_into_inbox(&site, &dropped, "husum");
    wait_documents(
        &server,
        &admin,
        before,
        dropped.len(),
        Duration::from_secs(7200),
    );
    let agent = agent();
    let file = |content_type: &str, schlagwort: &str, body: Vec<u8>| {
        let r = agent
            .post(format!(
                "{}/api/v1/akten/07450BG0000001/documents?schlagwort={schlagwort}",
                server.base
            ))
            .header("Authorization", format!("Bearer {token}"))
            .content_type(content_type)
            .send(&body[..])
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    };
    for i in 0..mails {
        let mail = format!(
            "From: Jens Petersen <jens@example.org>\r\nTo: jobcenter@kreis-nf.invalid\r\nSubject: Nachricht {i}\r\n\
             Date: Thu, 26 Nov 2026 10:00:00 +0100\r\n\r\nSehr geehrte Damen und Herren, anbei Nachricht {i}.\r\n"
        );
        std::fs::write(originals.join(format!("mail-{i}.eml")), &mail).unwrap();
        file("message/rfc822", "Korrespondenz", mail.into_bytes());
    }
    for i in 0..notes {
        let note = format!("Telefonvermerk {i}: Rückruf zur Weiterbewilligung.");
        std::fs::write(originals.join(format!("note-{i}.txt")), &note).unwrap();
        file("text/plain", "Vermerk", note.into_bytes());
    }
    let akte = "/api/v1/akten/07450BG0000001";
    let (_, shown) = server.get(&token, akte);
    let total: usize = shown["schlagworte"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["documents"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, docs, "the Akte holds every document");

    let export = |format: &str| -> (Duration, usize, u64) {
        let baseline = status_kib(server.pid(), "RssAnon").unwrap_or(0);
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (done, pid) = (done.clone(), server.pid());
            std::thread::spawn(move || {
                let mut peak = 0;
                while !done.load(Ordering::Relaxed) {
                    peak = peak.max(status_kib(pid, "RssAnon").unwrap_or(0));
                    std::thread::sleep(Duration::from_millis(10));
                }
                peak
            })
        };
        let started = Instant::now();
        let mut r = agent
            .get(format!(
                "{}{akte}/export?format={format}&empfaenger=Jobcenter%20Kiel",
                server.base
            ))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let bytes = r
            .body_mut()
            .with_config()
            .limit(1 << 34)
            .read_to_vec()
            .unwrap();
        let took = started.elapsed();
        done.store(true, Ordering::Relaxed);
        let peak = sampler.join().unwrap();
        (took, bytes.len(), peak.saturating_sub(baseline))
    };
    let median = |mut runs: Vec<(Duration, usize, u64)>| {
        runs.sort_by_key(|r| r.0);
        let max_memory = runs.iter().map(|r| r.2).max().unwrap_or(0);
        let mid = runs[runs.len() / 2];
        (mid.0, mid.1, max_memory)
    };
    let xdomea = median((0..3).map(|_| export("xdomea")).collect());
    let pdf = median((0..3).map(|_| export("pdf")).collect());

    // Yardsticks, same files, same settings.
    let zip_out = staging.join("yardstick.zip");
    let all: Vec<PathBuf> = std::fs::read_dir(&originals)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let started = Instant::now();
    let status = Command::new("python3")
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED) as z:\n    [z.write(f) for f in sys.argv[2:]]"])
        .arg(&zip_out)
        .args(&all)
        .status()
        .unwrap();
    assert!(status.success());
    let zip_took = started.elapsed();
    let merged = staging.join("yardstick.pdf");
    let started = Instant::now();
    let status = Command::new("qpdf")
        .arg("--empty")
        .arg("--pages")
        .args(&pdf_files)
        .arg("--")
        .arg(&merged)
        .status()
        .unwrap();
    assert!(status.success());
    let qpdf_took = started.elapsed();
    let pages_total = pdfs * pdf_pages + scans * scan_pages + mails + notes;
    let mb = |b: usize| format!("{:.1} MB", b as f64 / 1e6);
    vec![
        row(
            format!("xdomea export of an Akte ({docs} documents, {pages_total} pages; median of 3)"),
            format!(
                "{:.2} s for {} (Python zipfile storing the same originals: {:.2} s); daemon memory +{} MB at most",
                xdomea.0.as_secs_f64(),
                mb(xdomea.1),
                zip_took.as_secs_f64(),
                xdomea.2 / 1024
            ),
            "< 5 s",
        ),
        row(
            format!("PDF of the same Akte ({} pages with cover, contents, checksums; median of 3)", pages_total + 3),
            format!(
                "{:.2} s for {} (qpdf merging its {pdfs} born-digital PDFs alone: {:.2} s); daemon memory +{} MB at most",
                pdf.0.as_secs_f64(),
                mb(pdf.1),
                qpdf_took.as_secs_f64(),
                pdf.2 / 1024
            ),
            "< 15 s",
        ),
    ]
}
