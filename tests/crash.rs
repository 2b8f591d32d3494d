//! Crash safety: whatever moment the daemon dies at, every scan ends up stored and
//! indexed exactly once after a restart, or is still in the inbox, never both
//! half-way, never twice. Two ways of dying: an abort at each step of the pipeline
//! (failpoints, `EAKTE_CRASH_AT`), and SIGKILL at random moments.

mod common;

use common::scanmaker::{self, Pose, Raster};
use common::{rand_u64, wait_for, Sandbox};
use std::time::Duration;

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
    for point in eakte::failpoint::POINTS {
        let sb = Sandbox::new();
        let marker = format!("\"Kontrollnummer {}\"", point.len() * 7 + 1000);
        scanmaker::put(
            &sb.inbox().join("husum/brief.pdf"),
            &letter_pdf(&marker.replace('"', "")),
        );
        let daemon = sb.serve_with_env(&[("EAKTE_CRASH_AT", point)]);
        let log = daemon.log.clone();
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
}

#[test]
fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let sb = Sandbox::with_settle(100, "");
    let mut markers = Vec::new();
    for n in 0..30 {
        let marker = format!("Kontrollnummer {}", 4000 + n * 13);
        let site = ["husum", "niebuell", "Föhr", "Sylt"][n % 4];
        let pdf = letter_pdf(&marker);
        // Every fifth one is a scan that needs OCR, so kills also hit OCR work.
        if n % 5 == 0 {
            let png = scanmaker::rasterise(&pdf, 150, Raster::Png).remove(0);
            scanmaker::put(&sb.inbox().join(format!("{site}/scan {n}.png")), &png);
        } else {
            scanmaker::put(&sb.inbox().join(format!("{site}/brief {n}.pdf")), &pdf);
        }
        markers.push(format!("\"{marker}\""));
    }
    for round in 0..10 {
        let daemon = sb.serve();
        // Half the kills land during start-up and resumption, half during work.
        if round % 2 == 1 {
            daemon.wait_ready();
        }
        std::thread::sleep(Duration::from_millis(100 + rand_u64() % 1400));
        daemon.kill();
        // After every kill the store must already be consistent.
        sb.assert_check_passes();
    }
    finish_and_verify(&sb, &markers);
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
