//! Hostile input through the running daemon: every file that cannot be a
//! document is set aside with a plain reason, within bounded time and memory,
//! odd names are no obstacle, and the daemon keeps serving throughout.

mod common;

use common::scanmaker::{self, Pose, Raster};
use common::{fixture, wait_for, Sandbox};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

fn letter_pdf(marker: &str) -> Vec<u8> {
    scanmaker::text_pdf(
        &[scanmaker::letter(marker, "Veränderungsmitteilung")],
        Pose::Upright,
    )
}

/// A PNG header declaring `side` × `side` pixels with no image data behind it.
fn png_declaring(side: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&side.to_be_bytes());
    png.extend_from_slice(&side.to_be_bytes());
    png.extend_from_slice(b"\x08\x00\x00\x00\x00");
    png
}

/// The daemon's peak resident memory so far (the kernel's high-water mark).
fn peak_rss_mib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

#[test]
fn every_hostile_file_in_the_inbox_is_set_aside_and_the_daemon_keeps_serving() {
    let sb = Sandbox::new();
    let daemon = sb.serve();
    let base = daemon.api();
    let site = sb.inbox().join("husum");
    std::fs::create_dir_all(&site).unwrap();

    let good_png = scanmaker::rasterise(&letter_pdf("Probe"), 50, Raster::Png).remove(0);
    let thousands = scanmaker::text_pdf(&vec![vec!["Seite".to_string()]; 3000], Pose::Upright);
    let generated: Vec<(&str, Vec<u8>)> = vec![
        ("leer.pdf", Vec::new()),
        (
            "archiv.pdf",
            b"PK\x03\x04\x14\0\0\0\x08\0rest of a zip".to_vec(),
        ),
        (
            "programm.pdf",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(),
        ),
        ("bombe.png", png_declaring(50_000)),
        ("abgeschnitten.png", good_png[..good_png.len() / 3].to_vec()),
        ("abgeschnitten.tif", b"II*\0\x08\0\0\0\x0c\0".to_vec()),
        ("dreitausend Seiten.pdf", thousands),
    ];
    let mut hostile: Vec<String> = Vec::new();
    for (name, bytes) in &generated {
        scanmaker::put(&site.join(name), bytes);
        hostile.push(name.to_string());
    }
    for name in [
        "invalid.pdf",
        "corrupt-factur-x-waytoosmall.pdf",
        "infinite-loop-103.pdf",
        "bad1.pdf",
        "corruptedV2PDF.pdf",
        "password-is-test.pdf",
        "encrypted.pdf",
        "hugemono.pdf",
        "20K-gray.png",
    ] {
        std::fs::copy(fixture(&format!("hostile/{name}")), site.join(name)).unwrap();
        hostile.push(name.to_string());
    }
    // Entries that are not files: never opened, never followed.
    std::os::unix::fs::symlink("/dev/zero", site.join("null.pdf")).unwrap();
    let fifo = std::ffi::CString::new(site.join("rohr.pdf").as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    hostile.extend(["null.pdf".to_string(), "rohr.pdf".to_string()]);

    // Odd names on good letters: the name is no reason to lose the letter.
    let odd: [(&OsStr, &str); 3] = [
        (OsStr::new("Zeile\nUmbruch.pdf"), "Halligpost"),
        (OsStr::new("Brief..Kopie...pdf"), "Deichvorland"),
        (OsStr::from_bytes(b"Brief-\xff\xfe.pdf"), "Warftenhaus"),
    ];
    for (name, marker) in &odd {
        scanmaker::put(&site.join(name), &letter_pdf(marker));
    }

    // Everything is dealt with, each hostile file set aside with its reason.
    wait_for("the inbox to be empty", || {
        sb.waiting().is_empty() && sb.processing().is_empty()
    });
    let quarantine = sb.inbox().join(".quarantine/husum");
    for name in &hostile {
        let reason = std::fs::read_to_string(quarantine.join(format!("{name}.reason.txt")))
            .unwrap_or_else(|e| panic!("{name} has no reason file: {e}"));
        assert!(reason.trim().len() > 10, "{name}: {reason}");
        assert!(
            quarantine.join(name).symlink_metadata().is_ok(),
            "{name} is kept beside its reason"
        );
    }
    assert_eq!(
        sb.quarantined().len(),
        hostile.len(),
        "{:?}",
        sb.quarantined()
    );
    // No decoded bomb, no runaway renderer in the daemon itself (readers run in
    // child processes with their own limits).
    let peak = peak_rss_mib(daemon.pid());
    assert!(peak < 1024, "the daemon peaked at {peak} MiB");

    // Still serving: the API answers and a normal letter is filed.
    let health = ureq::get(format!("{base}/healthz")).call().unwrap();
    assert_eq!(health.status().as_u16(), 200);
    scanmaker::put(&site.join("danach.pdf"), &letter_pdf("Nachzuegler"));
    wait_for("the letter after the hostile files", || {
        sb.search("Nachzuegler").len() == 1
    });
    for (_, marker) in &odd {
        assert_eq!(sb.search(marker).len(), 1, "{marker} was filed");
    }
    assert!(daemon.stop());
    let report = sb.assert_check_passes();
    assert_eq!(report["documents"], odd.len() + 1);
}
