//! The crate's modules import in one direction: each top-level module sits in a layer (the
//! table below, which `src/lib.rs` describes) and imports only from lower layers; within a
//! module directory the imports form no cycle; and every source file opens with a `//!` line.
//!
//! Imports are read from the text: every `crate::...` and `super::...` path outside a
//! `#[cfg(test)]` block, resolved to the deepest module it names; a `mod child;` declaration
//! counts as the parent using the child, so a child that imports its parent is a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer; a module may import only from a lower number.
const LAYERS: [(&str, u8); 14] = [
    ("config", 1),
    ("uk_time", 1),
    ("metrics", 1),
    ("store", 1),
    ("auth", 1),
    ("history", 2),
    ("seed", 2),
    ("state", 3),
    ("error", 3),
    ("extract", 4),
    ("reads", 4),
    ("api", 5),
    ("server", 6),
    // The crate root only declares modules.
    ("", 7),
];

fn source_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .expect("read src")
        .map(|entry| entry.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// `src/a/b.rs` is `a::b`, `src/a/mod.rs` is `a`, `src/lib.rs` is the root `""`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.last().map(String::as_str) {
        Some("main") => return None, // the binary uses the crate from outside
        Some("lib") | Some("mod") => {
            parts.pop();
        }
        _ => {}
    }
    Some(parts.join("::"))
}

/// The code before the unit tests, without comments.
fn code(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
    before_tests
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `crate::` and `super::` paths in `code`, as segments after `crate`.
fn paths(module: &str, code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for keyword in ["crate::", "super::"] {
        let mut start = 0;
        while let Some(offset) = code[start..].find(keyword) {
            let at = start + offset;
            start = at + keyword.len();
            let preceded_by_ident = at > 0
                && (bytes[at - 1].is_ascii_alphanumeric()
                    || bytes[at - 1] == b'_'
                    || bytes[at - 1] == b':');
            if preceded_by_ident {
                continue;
            }
            let rest: String = code[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':' || *c == '{')
                .collect();
            assert!(
                !rest.starts_with("crate::{"),
                "{module}: name each module in its own `use crate::module::...` line"
            );
            let mut segments: Vec<String> = rest
                .split("::")
                .filter(|segment| !segment.is_empty() && !segment.starts_with('{'))
                .map(str::to_owned)
                .collect();
            if segments.first().map(String::as_str) == Some("super") {
                segments.remove(0);
                let mut base: Vec<String> = module.split("::").map(str::to_owned).collect();
                base.pop();
                while segments.first().map(String::as_str) == Some("super") {
                    segments.remove(0);
                    base.pop();
                }
                base.extend(segments);
                segments = base;
            } else {
                segments.remove(0);
            }
            found.push(segments);
        }
    }
    found
}

/// The deepest known module that `segments` starts with.
fn resolve(modules: &BTreeSet<String>, segments: &[String]) -> String {
    (0..=segments.len())
        .rev()
        .map(|length| segments[..length].join("::"))
        .find(|candidate| modules.contains(candidate))
        .unwrap_or_default()
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let texts: Vec<(String, String)> = files
        .iter()
        .filter_map(|file| {
            let text = std::fs::read_to_string(file).expect("read source");
            assert!(
                text.starts_with("//!"),
                "{} must open with a //! line saying what it is for",
                file.display()
            );
            Some((module_of(&src, file)?, text))
        })
        .collect();
    let modules: BTreeSet<String> = texts.iter().map(|(module, _)| module.clone()).collect();
    texts
        .iter()
        .map(|(module, text)| {
            let code = code(text);
            let children = code.lines().filter_map(|line| {
                let line = line.trim().strip_prefix("pub ").unwrap_or(line.trim());
                let child = line.strip_prefix("mod ")?.strip_suffix(';')?;
                Some(if module.is_empty() {
                    child.to_owned()
                } else {
                    format!("{module}::{child}")
                })
            });
            let used = paths(module, &code)
                .iter()
                .map(|segments| resolve(&modules, segments))
                .chain(children)
                .filter(|used| used != module)
                .collect();
            (module.clone(), used)
        })
        .collect()
}

#[test]
fn modules_import_only_from_lower_layers() {
    let layers: BTreeMap<&str, u8> = LAYERS.into_iter().collect();
    let mut wrong = Vec::new();
    for (module, used) in imports() {
        let Some(own) = layers.get(top(&module)) else {
            wrong.push(format!(
                "{module} is in no layer: add it to LAYERS and src/lib.rs"
            ));
            continue;
        };
        for target in used {
            if top(&target) == top(&module) {
                continue;
            }
            let theirs = layers.get(top(&target)).copied().unwrap_or(u8::MAX);
            if theirs >= *own {
                wrong.push(format!(
                    "{module} (layer {own}) imports {target} (layer {theirs})"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_import_cycle_between_modules() {
    let imports = imports();
    let mut pairs = Vec::new();
    for (module, used) in &imports {
        for target in used {
            if imports
                .get(target)
                .is_some_and(|back| back.contains(module))
            {
                pairs.push(format!("{module} <-> {target}"));
            }
        }
    }
    assert!(pairs.is_empty(), "modules import each other: {pairs:#?}");
    // No longer cycles either: repeatedly remove modules that import nothing left.
    let mut remaining = imports.clone();
    loop {
        let leaves: Vec<String> = remaining
            .iter()
            .filter(|(_, used)| used.iter().all(|target| !remaining.contains_key(target)))
            .map(|(module, _)| module.clone())
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            remaining.remove(&leaf);
        }
    }
    assert!(
        remaining.is_empty(),
        "import cycle among: {:?}",
        remaining.keys().collect::<Vec<_>>()
    );
}

#[test]
fn area_routes_use_neither_the_router_nor_each_other() {
    let imports = imports();
    for (module, used) in &imports {
        if let Some(area) = module.strip_prefix("api::") {
            for target in used {
                assert!(
                    !target.starts_with("api"),
                    "api::{area} imports {target}: share code through state, error or extract"
                );
            }
        }
    }
}

#[test]
fn the_reader_sees_what_the_layout_imports() {
    let imports = imports();
    let of = |module: &str| imports.get(module).cloned().unwrap_or_default();
    assert!(of("api").contains("api::cpis"));
    assert!(of("api::cpis").contains("extract"));
    assert!(of("api::cpis").contains("uk_time"));
    assert!(of("store::accesses").contains("store::connection"));
    assert!(of("history").contains("store"));
    assert!(of("").contains("server"));
    assert!(!of("").contains("api::cpis"));
}
