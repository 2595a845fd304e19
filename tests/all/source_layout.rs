//! The source tree's shape, checked like any behaviour: no import cycle between the engine's
//! files (a file's `crate::engine::…` paths are its imports), and panels that do not name the
//! app.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path: `src/engine/train/session.rs` → `engine::train::session`,
/// `src/engine/train/mod.rs` → `engine::train`.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The text without comments and string literals (their contents may look like paths).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_string && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_string = !in_string;
            } else if !in_string {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// The paths written after `crate::engine::`, braces expanded: `a::{b, c::D}` → `a::b`,
/// `a::c::D`.
fn engine_paths(code: &str) -> Vec<Vec<String>> {
    const PREFIX: &str = "crate::engine::";
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(PREFIX) {
        rest = &rest[at + PREFIX.len()..];
        let (mut found, _) = parse_tree(rest);
        paths.append(&mut found);
    }
    paths
}

/// Parses one use-tree at the start of `s`; returns its expanded paths and the bytes used.
fn parse_tree(s: &str) -> (Vec<Vec<String>>, usize) {
    let mut segments = Vec::new();
    let mut i = 0;
    let bytes = s.as_bytes();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'{' {
            i += 1;
            let mut all = Vec::new();
            loop {
                let (found, used) = parse_tree(&s[i..]);
                i += used;
                for f in found {
                    all.push(segments.iter().cloned().chain(f).collect());
                }
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                match bytes.get(i) {
                    Some(b',') => i += 1,
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => break,
                }
                // A trailing comma before the brace.
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'}') {
                    i += 1;
                    break;
                }
            }
            return (all, i);
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if start == i {
            break;
        }
        segments.push(s[start..i].to_string());
        if s[i..].starts_with("::") {
            i += 2;
        } else {
            break;
        }
    }
    (vec![segments], i)
}

/// The engine's files as a graph: module → the modules it imports.
fn engine_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src().join("engine"), &mut files);
    let modules: BTreeMap<String, PathBuf> =
        files.iter().map(|f| (module_of(f), f.clone())).collect();
    // What each folder's mod.rs re-exports (`pub use child::{A, B}`): `train::A` is `train::child`.
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for (module, file) in &modules {
        if !file.ends_with("mod.rs") {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        for line in code
            .lines()
            .filter(|l| l.trim_start().starts_with("pub use "))
        {
            let tree = line.trim_start().trim_start_matches("pub use ");
            let (paths, _) = parse_tree(tree);
            for p in paths {
                if let (Some(child), Some(item)) = (p.first(), p.last()) {
                    reexports.insert(format!("{module}::{item}"), format!("{module}::{child}"));
                }
            }
        }
    }
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        if file.ends_with("mod.rs") {
            continue; // declarations and re-exports only
        }
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let mut imports = BTreeSet::new();
        for path in engine_paths(&code) {
            // The longest prefix that is a file; through a folder, its re-export.
            let mut target = String::from("engine");
            for segment in &path {
                let next = format!("{target}::{segment}");
                if modules.contains_key(&next) {
                    target = next;
                } else {
                    if let Some(child) = reexports.get(&next) {
                        target = child.clone();
                    }
                    break;
                }
            }
            if target != *module && target != "engine" && !modules[&target].ends_with("mod.rs") {
                imports.insert(target);
            }
        }
        graph.insert(module.clone(), imports);
    }
    graph
}

/// One cycle in `graph`, if there is any, as the modules around it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|n| n == node).unwrap();
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Open);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn the_engine_files_import_each_other_without_cycles() {
    let graph = engine_graph();
    assert!(graph.len() > 20, "the engine's files were found");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle between engine files: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let code = "use crate::engine::{a::X, b::{c::Y, D}};\nfn f() { crate::engine::e::g(); }";
    let paths = engine_paths(&code_only(code));
    let flat: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(flat, ["a::X", "b::c::Y", "b::D", "e::g"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}

/// The files of `src/app` that are the app itself (its state, layout, commands and events);
/// every other file there is a panel.
const APP_FILES: [&str; 5] = ["mod.rs", "apply.rs", "chrome.rs", "events.rs", "layout.rs"];

#[test]
fn panels_never_see_the_app() {
    // A panel draws from what it owns and `Current`, and returns commands: one that named
    // `HitogataApp` could reach into its neighbours again.
    let mut files = Vec::new();
    rust_files(&src().join("app"), &mut files);
    let app_files: Vec<PathBuf> = APP_FILES
        .iter()
        .map(|f| src().join("app").join(f))
        .collect();
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !app_files.contains(f))
        .filter(|f| code_only(&std::fs::read_to_string(f).unwrap()).contains("HitogataApp"))
        .map(|f| module_of(f))
        .collect();
    assert!(
        files.len() > APP_FILES.len() + 5,
        "the check saw no panels: {files:?}"
    );
    assert!(
        offenders.is_empty(),
        "panels naming HitogataApp: {offenders:?}"
    );
}

/// Files a source folder may hold before it asks to be split by concern.
const FILES_PER_FOLDER: usize = 15;

#[test]
fn no_source_folder_holds_more_than_fifteen_files() {
    fn walk(dir: &Path, crowded: &mut Vec<String>, folders: &mut usize) {
        *folders += 1;
        let entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        let files = entries.iter().filter(|p| p.is_file()).count();
        if files > FILES_PER_FOLDER {
            crowded.push(format!("{} ({files} files)", dir.display()));
        }
        for sub in entries.iter().filter(|p| p.is_dir()) {
            walk(sub, crowded, folders);
        }
    }
    let (mut crowded, mut folders) = (Vec::new(), 0);
    walk(&src(), &mut crowded, &mut folders);
    assert!(
        folders > 10,
        "saw only {folders} folders under {}",
        src().display()
    );
    assert!(crowded.is_empty(), "split these by concern: {crowded:?}");
}
