//! The import rules of ARCHITECTURE.md, held against the code: which module of
//! `src/` may use which, that they form no loop, and that only the API knows
//! HTTP. Read from the sources (`crate::<module>` outside comments and unit
//! tests), so a new import that breaks a rule fails here, naming the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Floor 1: the small tools every floor may use.
const TOOLS: &[&str] = &[
    "clock",
    "timefmt",
    "durable",
    "failpoint",
    "health",
    "metrics",
    "progress",
    "shutdown",
    "derived",
    "os_user",
    "untrusted",
    "keyed",
];

/// What each module may use besides the tools (ARCHITECTURE.md, "The rooms").
fn allowed() -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut rules: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let floor = |rules: &mut BTreeMap<&'static str, Vec<&'static str>>,
                 modules: &[&'static str],
                 may: &[&'static str]| {
        for m in modules {
            rules.insert(m, may.to_vec());
        }
    };
    floor(&mut rules, &["model"], &[]);
    floor(&mut rules, TOOLS, &[]);
    floor(&mut rules, &["store", "extract"], &["model"]);
    floor(&mut rules, &["registry"], &["model", "store"]);
    floor(
        &mut rules,
        &["classify", "route"],
        &["model", "store", "registry"],
    );
    let below5 = ["model", "store", "extract", "registry", "classify", "route"];
    floor(
        &mut rules,
        &["postbox", "access", "users", "audit", "index", "inbox"],
        &below5,
    );
    floor(&mut rules, &["config"], &["extract"]);
    // Formats of Akten leaving and arriving: records, the tools' runner and
    // the scan decoder of extract, randomness for a message's UUID.
    floor(&mut rules, &["exchange"], &["model", "extract", "users"]);
    let mut below7: Vec<&str> = below5.to_vec();
    below7.extend([
        "postbox", "access", "users", "audit", "index", "inbox", "config", "exchange",
    ]);
    floor(&mut rules, &["pipeline", "fuzzing"], &below7);
    below7.push("pipeline");
    floor(&mut rules, &["service"], &below7);
    below7.push("service");
    floor(&mut rules, &["api", "control"], &below7);
    below7.extend(["api", "control"]);
    floor(&mut rules, &["web"], &below7);
    below7.push("web");
    floor(&mut rules, &["daemon"], &below7);
    rules
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a source file without comments and without its unit tests.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every top-level module and the modules its code uses, with the files.
fn uses() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for path in files {
        let module = module_of(&src, &path);
        if module == "main" || module == "lib" {
            continue;
        }
        let code = code(&path);
        let entry = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let used: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !used.is_empty() && used != module {
                let file = path.strip_prefix(&src).unwrap().display().to_string();
                entry.entry(used).or_default().insert(file);
            }
        }
    }
    graph
}

#[test]
fn every_module_uses_only_the_floors_below_it() {
    let rules = allowed();
    let mut broken = Vec::new();
    for (module, used) in uses() {
        let Some(may) = rules.get(module.as_str()) else {
            broken.push(format!(
                "src/{module} is not in ARCHITECTURE.md's table (and this test's)"
            ));
            continue;
        };
        for (other, files) in used {
            if !may.contains(&other.as_str()) && !TOOLS.contains(&other.as_str()) {
                broken.push(format!("{module} uses {other} (in {files:?})"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against ARCHITECTURE.md:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_modules_form_no_loop() {
    let graph = uses();
    // Depth-first search for a cycle, reporting its path.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flat_map(|u| u.keys()) {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("modules that use each other: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn only_the_api_and_the_web_ui_know_http_and_extraction_knows_no_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    for path in files {
        let module = module_of(&src, &path);
        let code = code(&path);
        if !["api", "web", "daemon"].contains(&module.as_str()) {
            for http in ["axum::", "hyper::", "hyper_util::", "http_body::"] {
                assert!(
                    !code.contains(http),
                    "{} uses {http}: only the API and the web UI know HTTP",
                    path.display()
                );
            }
        }
        if module == "extract" {
            for other in [
                "crate::store",
                "crate::config",
                "crate::api",
                "crate::service",
            ] {
                assert!(!code.contains(other), "{} uses {other}", path.display());
            }
        }
    }
}
