//! `eakte serve` against a real inbox folder: scans dropped into site folders are
//! filed and searchable, unusable ones are set aside with a reason, files still
//! being written wait, and nothing dropped while the daemon was down is missed.

mod common;

use common::scanmaker::{self, Pose, Raster};
use common::{fixture, wait_for, Sandbox};
use std::path::PathBuf;
use std::time::Duration;

fn letter_pdf(marker: &str) -> Vec<u8> {
    scanmaker::text_pdf(
        &[scanmaker::letter(marker, "Veränderungsmitteilung")],
        Pose::Upright,
    )
}

fn only_hit(sb: &Sandbox, query: &str) -> u64 {
    let mut hits = Vec::new();
    wait_for(&format!("a hit for {query}"), || {
        hits = sb.search(query);
        !hits.is_empty()
    });
    assert_eq!(hits.len(), 1, "{query}: {hits:?}");
    hits[0]
}

#[test]
fn scans_in_site_folders_are_filed_and_unusable_entries_set_aside_with_a_reason() {
    let sb = Sandbox::new();
    let daemon = sb.serve();
    let inbox = sb.inbox();
    scanmaker::put(
        &inbox.join("Föhr/Brief an das Jobcenter.pdf"),
        &letter_pdf("Wykerhafenamt"),
    );
    let scan = scanmaker::rasterise(&letter_pdf("Eidersperrwerk"), 200, Raster::Png).remove(0);
    scanmaker::put(&inbox.join("Tönning/Scan 0001 (Müller).png"), &scan);
    scanmaker::put(
        &inbox.join("ohne Standort.pdf"),
        &letter_pdf("Marschbahnhof"),
    );
    scanmaker::put(
        &inbox.join("husum/2026/November/tief.pdf"),
        &letter_pdf("Koogverwaltung"),
    );
    // Not scans: temporary files of scanners and copy tools stay untouched.
    scanmaker::put(&inbox.join("husum/.~lock.Brief.pdf#"), b"lock");
    scanmaker::put(&inbox.join("husum/Kopie.pdf.part"), b"%PDF-1.4 incomplete");
    scanmaker::put(&inbox.join("husum/~$Antrag.docx"), b"owner");
    // Unusable: an encrypted PDF, a symlink (never followed), an empty file.
    std::fs::copy(
        fixture("hostile/encrypted.pdf"),
        inbox.join("husum/verschlüsselt.pdf"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", inbox.join("husum/link.pdf")).unwrap();
    scanmaker::put(&inbox.join("husum/leer.pdf"), b"");

    let ignored: Vec<PathBuf> = [
        "husum/.~lock.Brief.pdf#",
        "husum/Kopie.pdf.part",
        "husum/~$Antrag.docx",
    ]
    .iter()
    .map(|p| inbox.join(p))
    .collect();
    wait_for("the inbox to hold only ignored files", || {
        let mut waiting = sb.waiting();
        waiting.retain(|p| !ignored.contains(p));
        waiting.is_empty() && sb.processing().is_empty()
    });
    // Commands that need the store are carried out by the running daemon
    // (issue 12: before, they said the daemon held the store and stopped).
    let out = sb.eakte(&["check"]);
    assert!(
        out.status.success() && common::stdout(&out).ends_with("OK\n"),
        "{}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    let foehr = only_hit(&sb, "Wykerhafenamt");
    let toenning = only_hit(&sb, "Eidersperrwerk");
    let top = only_hit(&sb, "Marschbahnhof");
    let deep = only_hit(&sb, "Koogverwaltung");
    assert!(daemon.stop(), "SIGTERM ends the daemon cleanly");

    for path in &ignored {
        assert!(
            path.symlink_metadata().is_ok(),
            "{} must stay",
            path.display()
        );
    }
    let q = inbox.join(".quarantine/husum");
    let reason =
        |name: &str| std::fs::read_to_string(q.join(format!("{name}.reason.txt"))).unwrap();
    assert!(q.join("verschlüsselt.pdf").is_file());
    assert!(
        reason("verschlüsselt.pdf").contains("Kennwort"),
        "{}",
        reason("verschlüsselt.pdf")
    );
    assert!(q
        .join("link.pdf")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(
        reason("link.pdf").contains("Verknüpfung"),
        "{}",
        reason("link.pdf")
    );
    assert!(
        reason("leer.pdf").contains("leer"),
        "{}",
        reason("leer.pdf")
    );
    assert_eq!(sb.quarantined().len(), 3);

    let doc = sb.show(foehr);
    assert_eq!(doc["site"], "Föhr");
    assert_eq!(doc["original_name"], "Brief an das Jobcenter.pdf");
    assert_eq!(sb.show(toenning)["original_name"], "Scan 0001 (Müller).png");
    assert_eq!(sb.show(toenning)["site"], "Tönning");
    assert_eq!(sb.show(top)["site"], serde_json::Value::Null);
    assert_eq!(
        sb.show(deep)["site"],
        "husum",
        "the first folder names the site at any depth"
    );
    let report = sb.assert_check_passes();
    assert_eq!(report["documents"], 4);
}

#[test]
fn a_scan_still_being_written_is_taken_only_when_complete() {
    let sb = Sandbox::with_settle(3000, "");
    let _daemon = sb.serve();
    let pdf = letter_pdf("Schleusenwärter");
    let path = sb.inbox().join("husum/langsam.pdf");
    // Written in pieces, each well within the settle window (a slow SMB copy).
    let pieces = pdf.chunks(pdf.len() / 8 + 1).collect::<Vec<_>>();
    scanmaker::put(&path, pieces[0]);
    for piece in &pieces[1..] {
        std::thread::sleep(Duration::from_millis(400));
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(piece)
            .unwrap();
        assert!(path.exists(), "taken while still being written");
        assert!(
            sb.quarantined().is_empty(),
            "a half-written file was judged broken"
        );
    }
    only_hit(&sb, "Schleusenwärter");
    assert!(sb.quarantined().is_empty());
    assert!(sb.waiting().is_empty());
}

#[test]
fn scans_dropped_while_the_daemon_was_down_are_filed_at_start_and_duplicates_once() {
    let sb = Sandbox::new();
    assert!(sb.serve().stop(), "an idle daemon stops cleanly");
    let pdf = letter_pdf("Mitteldeichweg");
    scanmaker::put(&sb.inbox().join("husum/a.pdf"), &pdf);
    scanmaker::put(&sb.inbox().join("niebuell/gleicher Brief.pdf"), &pdf);
    scanmaker::put(
        &sb.inbox().join("niebuell/anderer.pdf"),
        &letter_pdf("Bohmstedter Feld"),
    );

    let daemon = sb.serve();
    let id = only_hit(&sb, "Mitteldeichweg");
    only_hit(&sb, "\"Bohmstedter Feld\"");
    wait_for("an empty inbox", || {
        sb.waiting().is_empty() && sb.processing().is_empty()
    });
    assert!(daemon.stop());

    let doc = sb.show(id);
    assert_eq!(
        doc["arrivals"].as_array().unwrap().len(),
        2,
        "the second arrival is recorded, not lost"
    );
    let report = sb.assert_check_passes();
    assert_eq!(report["documents"], 2);
    assert_eq!(report["arrivals"], 3);
}

/// An inbox on a network share sends no file events: with `[inbox] watch =
/// false` the periodic rescan alone finds every scan. A writer that pauses for
/// longer than the settle window (a stalled copy; smbd keeps the file open)
/// is waited for, not taken half-written.
#[test]
fn without_file_events_rescans_file_every_scan_and_wait_for_a_paused_writer() {
    let sb = Sandbox::with_settle(300, "");
    // The sandbox's own [inbox] section gets the key (one section per file).
    let config = std::fs::read_to_string(sb.config()).unwrap();
    std::fs::write(
        sb.config(),
        config.replace("rescan_secs = 1\n", "rescan_secs = 1\nwatch = false\n"),
    )
    .unwrap();
    let daemon = sb.serve();
    daemon.wait_ready();
    assert!(
        daemon.log_text().contains("file events are off"),
        "{}",
        daemon.log_text()
    );
    scanmaker::put(
        &sb.inbox().join("husum/ruhig.pdf"),
        &letter_pdf("Hallighaus"),
    );
    only_hit(&sb, "Hallighaus");

    let pdf = letter_pdf("Sielzugweg");
    let path = sb.inbox().join("Sylt/gestockt.pdf");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut writer = std::fs::File::create(&path).unwrap();
    use std::io::Write;
    writer.write_all(&pdf[..pdf.len() / 2]).unwrap();
    // Five settle windows and two rescans without a byte written.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(path.exists(), "taken while its writer still held it");
    assert!(sb.processing().is_empty() && sb.quarantined().is_empty());
    writer.write_all(&pdf[pdf.len() / 2..]).unwrap();
    drop(writer);
    only_hit(&sb, "Sielzugweg");
    assert!(sb.quarantined().is_empty(), "{:?}", sb.quarantined());
    assert!(daemon.stop());
    assert_eq!(sb.assert_check_passes()["documents"], 2);
}
