//! The command line against a running daemon: every command is carried out by
//! the daemon through its control socket, with the same output and exit
//! status as without a daemon, audited with the operating-system user as the
//! actor; only the daemon's user and root may give commands; long work shows
//! progress on a terminal and stays quiet in scripts.

mod common;

use common::scanmaker::{self, Pose};
use common::{stderr, stdout, Sandbox};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use common::{HUSUM_CASEWORKERS as CASEWORKERS, HUSUM_PEOPLE as PEOPLE};

fn letter(lines: &[&str]) -> Vec<u8> {
    let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    scanmaker::text_pdf(&[lines], Pose::Upright)
}

/// A sandbox with the registry, two letters and an auditor; the letters' ids.
fn sandbox() -> (Sandbox, Vec<u64>) {
    let sb = Sandbox::new();
    sb.import("caseworkers", CASEWORKERS);
    sb.import("recipients", PEOPLE);
    let mut ids = Vec::new();
    for (name, lines) in [
        (
            "petersen.pdf",
            &["BG-Nr. 07450BG0000101", "Widerspruch gegen den Bescheid."][..],
        ),
        (
            "albers.pdf",
            &["Kundennummer 102B000001", "Meine Mietbescheinigung."][..],
        ),
    ] {
        let path = sb.path().join(name);
        std::fs::write(&path, letter(lines)).unwrap();
        let line = sb.ingest(&[&path], &["--site", "husum"]).remove(0);
        ids.push(line["document_id"].as_u64().unwrap());
    }
    (sb, ids)
}

/// The first item of a postbox, as `postbox list --json` shows it.
fn first_item(sb: &Sandbox, postbox: &str) -> String {
    let out = sb.eakte(&["postbox", "list", "--json", postbox]);
    let line = stdout(&out).lines().next().unwrap().to_string();
    serde_json::from_str::<Value>(&line).unwrap()["id"].to_string()
}

fn outcome(out: &Output) -> (Option<i32>, String, String) {
    (out.status.code(), stdout(out), stderr(out))
}

#[test]
fn commands_answer_alike_with_and_without_the_daemon() {
    let (sb, ids) = sandbox();
    let item = first_item(&sb, "sb-h2");
    let good = sb.path().join("good.csv");
    std::fs::write(&good, PEOPLE).unwrap();
    let bad = sb.path().join("bad.csv");
    std::fs::write(&bad, "bg,kundennummer\n07450BG0000101,101A000001\n").unwrap();
    let (doc, good, bad) = (
        ids[0].to_string(),
        good.display().to_string(),
        bad.display().to_string(),
    );
    let commands: Vec<Vec<&str>> = vec![
        vec!["caseworkers", "list"],
        vec!["absence", "list"],
        vec!["users", "list"],
        vec!["postbox", "list", "sb-h2"],
        vec!["postbox", "list", "--json", "--all", "sb-h1"],
        vec!["route", "explain", &doc],
        vec!["route", "explain", "--json", &doc],
        vec!["show", &doc],
        vec!["show", "--json", &doc],
        vec!["search", "--json", "Widerspruch"],
        vec!["search", "Mietbescheinigung"],
        vec!["check"],
        vec!["check", "--json"],
        vec!["recipients", "import", "--dry-run", "--json", &good],
        // Refusals: the same message and exit status.
        vec!["recipients", "import", &bad],
        vec!["show", "424242"],
        vec!["postbox", "start", "424242", "--by", "sb-h2"],
        vec![
            "postbox",
            "resubmit",
            &item,
            "--until",
            "2001-01-01",
            "--by",
            "sb-h2",
        ],
        vec![
            "absence",
            "add",
            "sb-h1",
            "--from",
            "morgen",
            "--to",
            "2026-12-24",
            "--deputy",
            "sb-h2",
        ],
        vec!["absence", "remove", "424242"],
        vec!["users", "revoke", "Niemand"],
    ];
    let daemon = sb.serve();
    daemon.wait_ready();
    let through_daemon: Vec<_> = commands.iter().map(|c| outcome(&sb.eakte(c))).collect();
    assert!(daemon.stop());
    assert!(
        !sb.path().join("store/control.sock").exists(),
        "the socket goes with the daemon"
    );
    for (command, with) in commands.iter().zip(&through_daemon) {
        let without = outcome(&sb.eakte(command));
        assert_eq!(
            with, &without,
            "eakte {command:?}: with the daemon, then without"
        );
    }
    // They did run where they should have: the refusals failed, the rest not.
    let failed: Vec<&Vec<&str>> = commands
        .iter()
        .zip(&through_daemon)
        .filter(|(_, (status, _, _))| *status != Some(0))
        .map(|(c, _)| c)
        .collect();
    assert_eq!(failed.len(), 7, "{failed:?}");
    assert!(through_daemon[16]
        .2
        .contains("there is no postbox item 424242"));
}

/// Who runs this test, as the system names them.
fn me() -> (String, u32) {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let out = Command::new("id").arg("-un").output().unwrap();
    (stdout(&out).trim().to_string(), uid)
}

#[test]
fn the_first_admin_is_made_while_the_daemon_runs_and_the_system_user_is_the_actor() {
    let sb = Sandbox::new();
    let daemon = sb.serve();
    let base = daemon.api();
    // An empty store: the first admin, the registry and an item's change, all
    // while the daemon runs.
    let admin = sb.add_user(&["Erste Admin", "--role", "admin"]);
    let auditor = sb.add_user(&["Revision", "--role", "auditor"]);
    sb.import("caseworkers", CASEWORKERS);
    sb.import("recipients", PEOPLE);
    let path = sb.path().join("brief.pdf");
    std::fs::write(&path, letter(&["BG-Nr. 07450BG0000101", "Widerspruch."])).unwrap();
    let lines = sb.ingest(&[&path], &["--site", "husum"]);
    assert_eq!(lines[0]["status"], "stored", "{lines:?}");
    let item = first_item(&sb, "sb-h2");
    let out = sb.eakte(&["postbox", "start", &item, "--by", "sb-h2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let changed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(changed["history"][1]["by"], "sb-h2", "{changed:#}");

    let api = common::Api::new(&base);
    let get = |token: &str, path: &str| api.get(token, path);
    let (status, users) = get(&admin, "/api/v1/admin/users");
    assert_eq!(status, 200, "the first admin's token works at once");
    assert_eq!(users.as_array().unwrap().len(), 2);

    let (status, entries) = get(&auditor, "/api/v1/audit?limit=1000");
    assert_eq!(status, 200);
    let (name, uid) = me();
    let actor = format!("{name} (uid {uid}, command line)");
    let entries = entries.as_array().unwrap();
    for action in [
        "add_user",
        "import_caseworkers",
        "import_recipients",
        "postbox_start",
    ] {
        let entry = entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} entry: {entries:#?}"));
        assert_eq!(entry["who"], actor, "{entry:#}");
        assert_eq!(entry["address"], "cli", "{entry:#}");
    }
    let start = entries
        .iter()
        .find(|e| e["action"] == "postbox_start")
        .unwrap();
    assert!(
        start["detail"].as_str().unwrap().contains("by sb-h2"),
        "--by is recorded as a claim of the actor, not as the actor: {start:#}"
    );
    assert!(daemon.stop());
    let out = sb.eakte(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stdout(&out));
}

#[test]
fn only_the_daemons_user_and_root_may_give_commands() {
    let sb = Sandbox::new();
    sb.import("caseworkers", CASEWORKERS);
    let daemon = sb.serve();
    daemon.wait_ready();
    let socket = sb.path().join("store/control.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the socket is the daemon's user's alone"
    );

    for dir in [sb.path().to_path_buf(), sb.path().join("store")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(sb.config(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let as_nobody = || {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_eakte"))
            .args(["caseworkers", "list", "--config"])
            .arg(sb.config())
            .output()
            .expect("setpriv (util-linux) runs a command as another user; run the tests as root")
    };
    // The socket refuses the connection: the command line says who may.
    let out = as_nobody();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("you may not give the daemon of")
            && stderr(&out).contains("only root may (sudo eakte …)"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));

    // Even with the socket opened to everyone by mistake, the daemon checks
    // who is calling and refuses anybody else.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = as_nobody();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("may not give the running daemon commands"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(daemon
        .log_text()
        .contains("a command from another user; refused"));
    assert!(daemon.stop());
}

#[test]
fn ingest_reindex_and_check_run_in_the_daemon_and_long_work_shows_progress_on_a_terminal() {
    let (sb, _) = sandbox();
    let daemon = sb.serve();
    daemon.wait_ready();
    // Files are read by the command and handed to the daemon; the index is
    // committed before the command returns.
    let new = sb.path().join("neu.pdf");
    std::fs::write(
        &new,
        letter(&["BG-Nr. 07450BG0000102", "Veränderungsmitteilung Seedeich."]),
    )
    .unwrap();
    let missing = sb.path().join("fehlt.pdf");
    let out = sb.eakte(&["ingest", new.to_str().unwrap(), missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "one file is missing");
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["status"], "stored", "{lines:?}");
    assert_eq!(lines[1]["status"], "error", "{lines:?}");
    assert_eq!(
        sb.search("Seedeich").len(),
        1,
        "searchable when ingest returns"
    );

    let out = sb.eakte(&["reindex"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("reindexed 3 document(s)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(sb.search("Seedeich").len(), 1);

    // A larger import: progress on a terminal, none in a script.
    let mut csv = String::from(
        "bg_nummer,kundennummer,nachname,vorname,geburtsdatum,strasse,plz,ort,standort\n",
    );
    for n in 0..5000 {
        csv.push_str(&format!(
            "07450BG{:07},{:03}A{:06},Nachname{n},Vorname,1980-01-01,Weg 1,25813,Husum,husum\n",
            5000 + n,
            n % 1000,
            n
        ));
    }
    let file = sb.path().join("viele.csv");
    std::fs::write(&file, &csv).unwrap();
    let quiet = sb.eakte(&["recipients", "import", "--dry-run", file.to_str().unwrap()]);
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(
        stdout(&quiet),
        "5000 added, 0 changed, 0 unchanged, 0 rejected (dry run: nothing changed)\n"
    );
    assert!(
        stderr(&quiet).is_empty(),
        "no progress in a script: {}",
        stderr(&quiet)
    );
    let command = format!(
        "{} recipients import {} --config {}",
        env!("CARGO_BIN_EXE_eakte"),
        file.display(),
        sb.config().display()
    );
    let terminal = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("script (util-linux) gives the command a terminal");
    let shown = stdout(&terminal);
    assert!(terminal.status.success(), "{shown}");
    assert!(
        shown.contains("rows checked"),
        "a progress bar on a terminal: {shown}"
    );
    assert!(shown.contains("5000 added"), "{shown}");
    let out = sb.eakte(&["check"]);
    assert!(
        out.status.success() && stdout(&out).ends_with("OK\n"),
        "{}",
        stdout(&out)
    );
    assert!(daemon.stop());
}

#[test]
fn a_file_over_the_daemons_limit_is_refused_alone_and_the_files_after_it_are_stored() {
    let sb = Sandbox::with_config("[limits]\nmax_bytes = 60000\nmax_upload_bytes = 60000\n");
    let daemon = sb.serve();
    daemon.wait_ready();
    // A command line whose own limit is higher (another configuration, or a
    // file that grew while it was read) sends more than the daemon takes.
    let generous = std::fs::read_to_string(sb.config())
        .unwrap()
        .replace("max_bytes = 60000", "max_bytes = 10000000");
    let client_config = sb.path().join("client.toml");
    std::fs::write(&client_config, generous).unwrap();
    let big = sb.path().join("gross.pdf");
    std::fs::write(&big, vec![b'%'; 100_000]).unwrap();
    let small = sb.path().join("klein.pdf");
    std::fs::write(
        &small,
        letter(&["Kontrollnummer 4711 nach dem grossen Brief."]),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eakte"))
        .args([
            "ingest",
            big.to_str().unwrap(),
            small.to_str().unwrap(),
            "--config",
        ])
        .arg(&client_config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["status"], "rejected", "{lines:?}");
    assert_eq!(lines[0]["code"], "too_large", "{lines:?}");
    assert_eq!(lines[1]["status"], "stored", "{lines:?}");
    assert_eq!(sb.search("Kontrollnummer").len(), 1);
    assert!(daemon.stop());
}

#[test]
fn a_command_beyond_the_fourth_waits_its_turn_and_a_silent_caller_is_let_go() {
    use std::io::Read;
    let sb = Sandbox::new();
    sb.import("caseworkers", CASEWORKERS);
    let daemon = sb.serve();
    daemon.wait_ready();
    // Four callers that connect and never send their command hold every
    // place until the daemon gives up on them.
    let socket = sb.path().join("store/control.sock");
    let silent: Vec<_> = (0..4)
        .map(|_| std::os::unix::net::UnixStream::connect(&socket).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = sb.eakte(&["caseworkers", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("commands are running; this one waits for its turn"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("sb-h1"), "{}", stdout(&out));
    for mut caller in silent {
        let mut answer = Vec::new();
        caller.read_to_end(&mut answer).unwrap();
        assert!(
            String::from_utf8_lossy(&answer).contains("the daemon did not get the command"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    assert!(daemon.stop());
}
