//! Crash safety: whatever moment the daemon dies at, every scan ends up stored and
//! indexed exactly once after a restart, or is still in the inbox, never both
//! half-way, never twice; an upload is stored once however often the client
//! retries it; a registry import is applied whole or not at all. Two ways of
//! dying: an abort at each step of the pipeline (failpoints, `EAKTE_CRASH_AT`),
//! and SIGKILL at random moments (during start-up, OCR, filing, uploads and
//! imports).

mod common;

use common::barcodes;
use common::scanmaker::{self, Pose, Raster};
use common::{wait_for, Sandbox};
use eakte::failpoint::Way;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn letter_pdf(marker: &str) -> Vec<u8> {
    scanmaker::text_pdf(
        &[scanmaker::letter(marker, "Mietbescheinigung")],
        Pose::Upright,
    )
}

/// Restart until everything is filed, then prove it: each marker found once,
/// nothing left in the inbox, nothing set aside, `eakte check` clean.
fn finish_and_verify(sb: &Sandbox, markers: &[String]) {
    let daemon = sb.serve();
    wait_for("every scan to be filed", || {
        sb.waiting().is_empty() && sb.processing().is_empty()
    });
    for marker in markers {
        wait_for(&format!("{marker} to be searchable"), || {
            sb.search(marker).len() == 1
        });
    }
    assert!(daemon.stop());
    assert!(
        sb.quarantined().is_empty(),
        "nothing may be set aside: {:?}",
        sb.quarantined()
    );
    let report = sb.assert_check_passes();
    assert_eq!(report["documents"], markers.len(), "{report:#}");
    assert_eq!(
        report["arrivals"],
        markers.len(),
        "each scan recorded exactly once: {report:#}"
    );
    assert_eq!(
        report["items"],
        markers.len(),
        "one postbox item per document, none lost or doubled: {report:#}"
    );
    assert_eq!(
        report["notes"].as_array().unwrap().len(),
        0,
        "nothing pending: {report:#}"
    );
}

#[test]
fn a_crash_at_every_step_of_the_pipeline_loses_and_duplicates_nothing() {
    for &(point, way) in eakte::failpoint::POINTS {
        match way {
            Way::Scan => crash_a_scan(point),
            Way::Duplicate => crash_a_duplicate(point),
            Way::Upload => crash_an_upload(point),
            Way::Import => crash_an_import(point),
            Way::Batch => crash_a_batch(point),
        }
    }
}

/// Start the daemon armed with `point`, and wait until it aborts there.
fn serve_until_crash(sb: &Sandbox, point: &str, cause: impl FnOnce(&common::Daemon)) {
    let daemon = sb.serve_with_env(&[("EAKTE_CRASH_AT", point)]);
    let log = daemon.log.clone();
    cause(&daemon);
    let status = daemon
        .wait_exit(Duration::from_secs(120))
        .expect("the failpoint ends the process");
    assert!(!status.success(), "{point}: the process aborted");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains(&format!("failpoint {point} hit")),
        "{point} was reached"
    );
}

fn crash_a_scan(point: &str) {
    let sb = Sandbox::new();
    let marker = format!("\"Kontrollnummer {}\"", point.len() * 7 + 1000);
    scanmaker::put(
        &sb.inbox().join("husum/brief.pdf"),
        &letter_pdf(&marker.replace('"', "")),
    );
    serve_until_crash(&sb, point, |_| {});
    // Right after the crash: the scan is in the inbox (waiting or claimed), or
    // stored, and the store is consistent either way.
    let in_inbox = sb.waiting().len() + sb.processing().len();
    let report = sb.assert_check_passes();
    let stored = report["documents"].as_u64().unwrap() as usize;
    assert!(in_inbox + stored >= 1, "{point}: the scan vanished");
    assert!(
        in_inbox <= 1 && stored <= 1,
        "{point}: the scan was duplicated"
    );
    finish_and_verify(&sb, &[marker]);
}

/// A stack of three letters with separator sheets between them, killed while
/// it is being cut and filed: afterwards the stack and all three letters are
/// there once each, with one item per letter, or the stack is still in the
/// inbox and nothing of it is stored.
fn crash_a_batch(point: &str) {
    let sb = Sandbox::new();
    let markers: Vec<String> = ["Ankerkette", "Bojenfeld", "Dünenpfad"]
        .iter()
        .map(|m| m.to_string())
        .collect();
    let mut pages = Vec::new();
    for (i, marker) in markers.iter().enumerate() {
        if i > 0 {
            pages.push(barcodes::qr("PATCHT", 80.0, 120.0, 30.0).into_bytes());
        }
        pages.push(scanmaker::text_content(&scanmaker::letter(
            marker,
            "Nachweise",
        )));
    }
    let stack = scanmaker::scanned_pdf(&scanmaker::rasterise(
        &scanmaker::drawn_pdf(&pages),
        200,
        Raster::Jpeg,
    ));
    scanmaker::put(&sb.inbox().join("husum/stapel.pdf"), &stack);
    serve_until_crash(&sb, point, |_| {});
    let in_inbox = sb.waiting().len() + sb.processing().len();
    let report = sb.assert_check_passes();
    let stored = report["documents"].as_u64().unwrap();
    assert!(
        (in_inbox == 1 && stored == 0) || stored == 4,
        "{point}: all of the stack or none of it: {in_inbox} in the inbox, {report:#}"
    );
    let daemon = sb.serve();
    wait_for("the stack to be filed", || {
        sb.waiting().is_empty() && sb.processing().is_empty()
    });
    for marker in &markers {
        wait_for(&format!("{marker} to be searchable"), || {
            sb.search(marker).len() == 1
        });
    }
    assert!(daemon.stop());
    let report = sb.assert_check_passes();
    assert_eq!(
        (&report["documents"], &report["arrivals"], &report["items"]),
        (&json!(4), &json!(4), &json!(3)),
        "{point}: the stack and each letter exactly once, an item per letter: {report:#}"
    );
}

/// The second arrival of bytes already stored: recorded once as an arrival of
/// the same document, with no second item.
fn crash_a_duplicate(point: &str) {
    let sb = Sandbox::new();
    let marker = format!("\"Kontrollnummer {}\"", point.len() * 11 + 3000);
    let pdf = letter_pdf(&marker.replace('"', ""));
    scanmaker::put(&sb.inbox().join("husum/brief.pdf"), &pdf);
    let first = sb.serve();
    wait_for("the first arrival to be filed", || {
        sb.waiting().is_empty() && sb.processing().is_empty()
    });
    assert!(first.stop());
    scanmaker::put(&sb.inbox().join("Föhr/nochmal.pdf"), &pdf);
    serve_until_crash(&sb, point, |_| {});
    let in_inbox = sb.waiting().len() + sb.processing().len();
    let report = sb.assert_check_passes();
    let arrivals = report["arrivals"].as_u64().unwrap() as usize;
    assert_eq!(report["documents"], 1, "{point}: {report:#}");
    assert!(
        (in_inbox == 1 && arrivals == 1) || (in_inbox <= 1 && arrivals == 2),
        "{point}: {in_inbox} waiting, {arrivals} arrivals recorded"
    );
    let daemon = sb.serve();
    wait_for("the second arrival to be filed", || {
        sb.waiting().is_empty() && sb.processing().is_empty()
    });
    assert!(daemon.stop());
    let report = sb.assert_check_passes();
    assert_eq!(
        (&report["documents"], &report["arrivals"], &report["items"]),
        (&json!(1), &json!(2), &json!(1)),
        "{point}: one document, both arrivals, one item: {report:#}"
    );
}

/// An e-mail with an attachment filed over the API: after the crash both or
/// neither are there; the client sends it again and it is stored once.
fn crash_an_upload(point: &str) {
    let (sb, token, _) = sandbox_with_registry();
    let marker = format!("Nachfragenummer {}", point.len() * 13 + 5000);
    let mail = scanmaker::email_with_pdf(&marker);
    serve_until_crash(&sb, point, |daemon| {
        let status = post(&daemon.api(), &token, MAIL_PATH, "message/rfc822", &mail);
        assert_eq!(status, None, "{point}: the daemon died under the request");
    });
    let report = sb.assert_check_passes();
    let documents = report["documents"].as_u64().unwrap();
    assert!(
        documents == 0 || documents == 2,
        "{point}: the mail and its attachment, both or neither: {report:#}"
    );
    let daemon = sb.serve();
    let status = post(&daemon.api(), &token, MAIL_PATH, "message/rfc822", &mail);
    assert!(matches!(status, Some(200 | 201)), "{point}: {status:?}");
    wait_for("the mail to be searchable", || {
        sb.search(&format!("\"{marker}\"")).len() == 1
    });
    assert!(daemon.stop());
    let report = sb.assert_check_passes();
    assert_eq!(report["documents"], 2, "{point}: stored once: {report:#}");
}

/// An Akte (an e-mail with its attachment) exported from one eakte, taken
/// by another that dies at `point`: afterwards all of it or nothing is
/// there, and taking it again completes it.
fn crash_an_import(point: &str) {
    let (source, token, _) = sandbox_with_registry();
    let daemon = source.serve();
    let mail = scanmaker::email_with_pdf(&format!("Umzugskarton {}", point.len()));
    let status = post(&daemon.api(), &token, MAIL_PATH, "message/rfc822", &mail);
    assert_eq!(status, Some(201));
    let mut answer = agent()
        .get(format!(
            "{}/api/v1/akten/07450BG0000101/export?empfaenger=Jobcenter%20Kiel",
            daemon.api()
        ))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let package = answer.body_mut().read_to_vec().unwrap();
    assert!(daemon.stop());

    let (sb, _, admin) = sandbox_with_registry();
    const IMPORT: &str = "/api/v1/admin/import/xdomea";
    serve_until_crash(&sb, point, |daemon| {
        let status = post(&daemon.api(), &admin, IMPORT, "application/zip", &package);
        assert_eq!(status, None, "{point}: the daemon died under the request");
    });
    let report = sb.assert_check_passes();
    let documents = report["documents"].as_u64().unwrap();
    assert!(
        documents == 0 || documents == 3,
        "{point}: the mail, its attachment and the message, all or none: {report:#}"
    );
    let daemon = sb.serve();
    let status = post(&daemon.api(), &admin, IMPORT, "application/zip", &package);
    assert!(matches!(status, Some(200 | 201)), "{point}: {status:?}");
    assert!(daemon.stop());
    let report = sb.assert_check_passes();
    assert_eq!(report["documents"], 3, "{point}: taken once: {report:#}");
    assert_eq!(report["items"], 1, "{point}: one item: {report:#}");
}

#[test]
fn a_scan_that_crashes_the_reader_is_set_aside_and_the_daemon_survives_it() {
    let sb = Sandbox::new();
    scanmaker::put(
        &sb.inbox().join("husum/giftig.pdf"),
        &letter_pdf("Giftbrief"),
    );
    // Reading this scan kills the process (as a crash in a C library would).
    let poison = [("EAKTE_CRASH_AT", "during-extract")];
    let first = sb.serve_with_env(&poison);
    assert!(!first
        .wait_exit(Duration::from_secs(120))
        .expect("the daemon dies")
        .success());
    assert_eq!(sb.processing().len(), 1, "the scan stays claimed");

    // After the restart the suspect scan is read in a child process: the child
    // dies, the daemon does not, and the scan is set aside with the reason.
    let second = sb.serve_with_env(&poison);
    wait_for("the scan to be set aside", || sb.quarantined().len() == 1);
    let reason =
        std::fs::read_to_string(sb.inbox().join(".quarantine/husum/giftig.pdf.reason.txt"))
            .unwrap();
    assert!(reason.contains("Absturz"), "{reason}");
    assert!(
        second.stop(),
        "the daemon is still running and stops cleanly"
    );
    assert_eq!(sb.assert_check_passes()["documents"], 0);
}

const CASEWORKER: &str = "kennung,name,standort,von,bis\nsb-1,Eins,husum,A,Z\n";
const RECIPIENT: &str =
    "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n\
    07450BG0000101,101A000001,Petersen,Jens,04.03.1980,Norderstraße 12,25813,Husum,husum\n";

/// A sandbox whose registry knows one recipient (BG 07450BG0000101) and their
/// caseworker `sb-1`; returns it with sb-1's and an admin's token.
fn sandbox_with_registry() -> (Sandbox, String, String) {
    let sb = Sandbox::with_settle(100, "");
    sb.import("caseworkers", CASEWORKER);
    sb.import("recipients", RECIPIENT);
    let caseworker = sb.add_user(&["anna", "--role", "caseworker", "--caseworker", "sb-1"]);
    let admin = sb.add_user(&["admin", "--role", "admin"]);
    (sb, caseworker, admin)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// POST `body`; the status, or `None` when the daemon died under the request.
fn post(base: &str, token: &str, path: &str, content_type: &str, body: &[u8]) -> Option<u16> {
    agent()
        .post(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .content_type(content_type)
        .send(body)
        .ok()
        .map(|r| r.status().as_u16())
}

fn mail(marker: &str) -> Vec<u8> {
    format!(
        "From: Jens Petersen <jens@example.org>\r\nTo: jobcenter@kreis-nf.invalid\r\n\
         Subject: Nachfrage\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\n\r\n\
         Sehr geehrte Damen und Herren, zu {marker} frage ich nach dem Stand.\r\n"
    )
    .into_bytes()
}

const MAIL_PATH: &str = "/api/v1/akten/07450BG0000101/documents?schlagwort=Korrespondenz";

/// A small, seeded random source: a failing run can be repeated with its seed.
struct Rng(u64);

impl Rng {
    /// From `EAKTE_CRASH_SEED`, or a fresh seed; printed either way.
    fn seeded() -> Rng {
        let seed = std::env::var("EAKTE_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(common::rand_u64);
        eprintln!("crash test seed: {seed} (EAKTE_CRASH_SEED={seed} repeats this run)");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// What a kill is aimed at, and what it was seen to hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Moment {
    /// Start-up and resuming claimed scans.
    StartUp,
    /// A scan being read by tesseract (a PNG claimed).
    Ocr,
    /// A scan being filed: its original written, its scan not yet finished.
    Filing,
    /// An e-mail being filed over the API.
    Upload,
}

/// Whether a scan was being filed when the daemon died: a claimed scan whose
/// original is in the blob store already.
fn killed_while_filing(sb: &Sandbox) -> bool {
    sb.processing().iter().any(|claimed| {
        let bytes = std::fs::read(claimed).unwrap_or_default();
        let sha = eakte::model::Sha256::of(&bytes);
        let s = sha.as_str();
        sb.path()
            .join("store/blobs")
            .join(&s[..2])
            .join(&s[2..4])
            .join(s)
            .exists()
    })
}

fn claimed_png(sb: &Sandbox) -> bool {
    sb.processing()
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "png"))
}

/// Wait up to `limit` for `condition`; whether it held.
fn within(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

#[test]
fn hundreds_of_scans_and_uploads_survive_two_dozen_sigkills() {
    const ROUNDS: usize = 24;
    const SCANS: usize = 288;
    const MAILS: usize = 36;
    // Sent in each upload round; the six upload rounds could file them all.
    const MAILS_PER_ROUND: usize = 6;
    let mut rng = Rng::seeded();
    let (sb, token, _) = sandbox_with_registry();
    let scans: Vec<(String, Vec<u8>, String)> = (0..SCANS)
        .map(|n| {
            let marker = format!("Kontrollnummer {}", 20_000 + n * 7);
            let site = ["husum", "niebuell", "Föhr", "Sylt"][n % 4];
            let pdf = letter_pdf(&marker);
            // Every sixth needs OCR, so kills also land in OCR work.
            if n % 6 == 0 {
                let png = scanmaker::rasterise(&pdf, 150, Raster::Png).remove(0);
                (format!("{site}/scan {n}.png"), png, marker)
            } else {
                (format!("{site}/brief {n}.pdf"), pdf, marker)
            }
        })
        .collect();
    let mails: Vec<String> = (0..MAILS)
        .map(|n| format!("Nachfragenummer {}", 70_000 + n * 11))
        .collect();
    // Whether each mail has been answered with success; the client retries the
    // others after the restart, as a real one would.
    let mut filed = [false; MAILS];
    let mut seen = std::collections::HashSet::new();
    let aims = [Moment::StartUp, Moment::Ocr, Moment::Filing, Moment::Upload];

    for round in 0..ROUNDS {
        for (name, bytes, _) in scans
            .iter()
            .skip(round * SCANS / ROUNDS)
            .take(SCANS / ROUNDS)
        {
            scanmaker::put(&sb.inbox().join(name), bytes);
        }
        let aim = aims[round % aims.len()];
        let daemon = sb.serve();
        // Mails the upload client has had answered in this round.
        let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let pending: Vec<(usize, String)> = mails
            .iter()
            .enumerate()
            .filter(|(i, _)| !filed[*i])
            .map(|(i, m)| (i, m.clone()))
            .take(MAILS_PER_ROUND)
            .collect();
        let uploads = (aim == Moment::Upload).then(|| {
            let base = daemon.api();
            let token = token.clone();
            let pending = pending.clone();
            let answered = answered.clone();
            std::thread::spawn(move || {
                let (mut done, mut cut_off) = (Vec::new(), false);
                for (i, marker) in &pending {
                    match post(&base, &token, MAIL_PATH, "message/rfc822", &mail(marker)) {
                        Some(201) => done.push(*i),
                        Some(status) => panic!("mail {i}: status {status}"),
                        None => {
                            cut_off = true; // the daemon died under it
                            break;
                        }
                    }
                    answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                (done, cut_off)
            })
        });
        // Aim, then let chance pick the exact moment.
        match aim {
            Moment::StartUp => {}
            Moment::Ocr => {
                within(Duration::from_secs(20), || claimed_png(&sb));
            }
            Moment::Filing => {
                within(Duration::from_secs(20), || killed_while_filing(&sb));
            }
            Moment::Upload => {
                // Kill after a random number of answers, while the client
                // is already sending the next mail (sending one takes far
                // longer than the kill takes to land): the kill always finds
                // an upload in flight, whatever this machine's speed.
                daemon.wait_ready();
                let answers = rng.below(pending.len() as u64) as usize;
                within(Duration::from_secs(60), || {
                    answered.load(std::sync::atomic::Ordering::SeqCst) >= answers
                });
            }
        }
        std::thread::sleep(Duration::from_millis(match aim {
            Moment::StartUp => 50 + rng.below(900),
            Moment::Ocr => rng.below(200),
            Moment::Filing => rng.below(2),
            Moment::Upload => 0,
        }));
        let ocr_running = claimed_png(&sb);
        daemon.kill();
        if ocr_running {
            seen.insert(Moment::Ocr);
        }
        if killed_while_filing(&sb) {
            seen.insert(Moment::Filing);
        }
        if round % aims.len() == 0 {
            seen.insert(Moment::StartUp);
        }
        if let Some(uploads) = uploads {
            let (done, cut_off) = uploads.join().unwrap();
            for i in done {
                filed[i] = true;
            }
            if cut_off {
                seen.insert(Moment::Upload);
            }
        }
        // After every kill the store and index must already be consistent.
        let report = sb.assert_check_passes();
        // An original written and not yet recorded: the kill came while filing.
        let notes = report["notes"].to_string();
        if notes.contains("belong to no document") {
            seen.insert(Moment::Filing);
        }
    }
    for moment in aims {
        assert!(
            seen.contains(&moment),
            "no kill landed during {moment:?} (seen: {seen:?}); repeat with the seed above"
        );
    }

    // The last start: the client posts what was never confirmed (a mail stored
    // just before a kill comes back as the same document, not a second one).
    let daemon = sb.serve();
    let base = daemon.api();
    for (i, marker) in mails.iter().enumerate().filter(|(i, _)| !filed[*i]) {
        let status = post(&base, &token, MAIL_PATH, "message/rfc822", &mail(marker));
        assert!(matches!(status, Some(200 | 201)), "mail {i}: {status:?}");
    }
    wait_for("every scan to be filed", || {
        sb.waiting().is_empty() && sb.processing().is_empty()
    });
    let markers: Vec<&String> = scans.iter().map(|(_, _, m)| m).chain(&mails).collect();
    for marker in &markers {
        let phrase = format!("\"{marker}\"");
        wait_for(&format!("{marker} to be searchable"), || {
            sb.search(&phrase).len() == 1
        });
    }
    assert!(daemon.stop());
    assert!(sb.quarantined().is_empty(), "{:?}", sb.quarantined());
    let report = sb.assert_check_passes();
    assert_eq!(report["documents"], SCANS + MAILS, "{report:#}");
    assert_eq!(report["items"], SCANS, "one item per scan: {report:#}");
    assert!(
        report["arrivals"].as_u64().unwrap() >= (SCANS + MAILS) as u64,
        "{report:#}"
    );
    assert_eq!(report["notes"].as_array().unwrap().len(), 0, "{report:#}");
    // Every original is stored bit-exact, as it was dropped in.
    for (name, bytes, _) in &scans {
        assert!(
            stored_original(sb.path(), bytes).as_deref() == Some(&bytes[..]),
            "{name} is stored byte for byte"
        );
    }
}

/// The stored original of `bytes`, read from the blob store.
fn stored_original(sandbox: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
    let sha = eakte::model::Sha256::of(bytes);
    let s = sha.as_str();
    std::fs::read(
        sandbox
            .join("store/blobs")
            .join(&s[..2])
            .join(&s[2..4])
            .join(s),
    )
    .ok()
}

#[test]
fn a_registry_import_killed_midway_is_all_or_nothing() {
    let (sb, _, admin) = sandbox_with_registry();
    let people = 20_000;
    let mut csv = String::from(
        "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n",
    );
    for n in 0..people {
        csv.push_str(&format!(
            "07450BG{:07},{:03}A{:06},Nachname{n},Vorname,1980-01-01,Weg 1,25813,Husum,husum\n",
            1000 + n,
            n % 1000,
            n
        ));
    }
    let import = "/api/v1/admin/recipients/import";
    let mut kills = 0;
    let mut applied = false;
    while kills < 6 && !applied {
        let daemon = sb.serve();
        let base = daemon.api();
        let body = csv.clone().into_bytes();
        let (a, b) = (base.clone(), admin.clone());
        let request = std::thread::spawn(move || post(&a, &b, import, "text/csv", &body));
        std::thread::sleep(Duration::from_millis(common::rand_u64() % 600));
        daemon.kill();
        kills += 1;
        applied = request.join().unwrap() == Some(200);

        // After the kill, a dry run of the same file says what is there: all of
        // it or none of it, never a part.
        let daemon = sb.serve();
        let base = daemon.api();
        let response = agent()
            .post(format!("{base}{import}?dry_run=true"))
            .header("Authorization", format!("Bearer {admin}"))
            .content_type("text/csv")
            .send(csv.as_bytes())
            .unwrap()
            .body_mut()
            .read_json::<serde_json::Value>()
            .unwrap();
        let added = response["added"].as_u64().unwrap();
        assert!(
            added == 0 || added == people,
            "after kill {kills}: {added} of {people} people would still be added"
        );
        if applied {
            assert_eq!(added, 0, "a confirmed import is durable");
        }
        daemon.kill();
        sb.assert_check_passes();
    }
    // Whatever happened, importing again completes it.
    let daemon = sb.serve();
    let base = daemon.api();
    assert_eq!(
        post(&base, &admin, import, "text/csv", csv.as_bytes()),
        Some(200)
    );
    assert!(daemon.stop());
    sb.assert_check_passes();
}
