//! Architecture invariants as tests, in the style of rust-analyzer's `xtask/src/tidy.rs`.
//!
//! Each test checks one "Architecture invariant" line of ARCHITECTURE.md against the source
//! tree or the resolved dependency graph, so that breaking the invariant fails `cargo test`
//! rather than waiting for a reviewer to notice. The checks read source text; they are
//! deliberately simple and say in their failure message which file and line broke the rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

/// Every file under `dir` whose name ends with one of `extensions`, sorted.
fn files_under(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | "node_modules" | "dist" | "gen") {
                    pending.push(path);
                }
            } else if extensions.iter().any(|extension| name.ends_with(extension)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The source of a Rust file without its unit tests: everything before the first
/// `#[cfg(test)] mod …`. Tests may do what production code must not (build a token, print a name).
fn production_source(source: &str) -> &str {
    let mut from = 0;
    while let Some(found) = source[from..].find("#[cfg(test)]") {
        let at = from + found;
        let after = source[at + "#[cfg(test)]".len()..].trim_start();
        if after.starts_with("mod ") {
            return &source[..at];
        }
        from = at + 1;
    }
    source
}

/// Lines of a Rust source without `//` comments (doc comments may name what is forbidden).
fn code_lines(source: &str) -> impl Iterator<Item = (usize, &str)> {
    source.lines().enumerate().filter_map(|(index, line)| {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        (!code.trim().is_empty()).then_some((index + 1, code))
    })
}

/// The library and binary sources of the workspace's crates (not their `tests/` folders).
fn crate_source_dirs() -> Vec<(String, PathBuf)> {
    let root = workspace_root();
    let mut dirs = Vec::new();
    for parent in ["crates"] {
        for entry in std::fs::read_dir(root.join(parent))
            .expect("crates/")
            .flatten()
        {
            let src = entry.path().join("src");
            if src.is_dir() {
                dirs.push((entry.file_name().to_string_lossy().into_owned(), src));
            }
        }
    }
    dirs.push(("src-tauri".to_string(), root.join("src-tauri/src")));
    dirs.push(("xtask".to_string(), root.join("xtask/src")));
    dirs.push(("cpis-e2e".to_string(), root.join("tests/src")));
    dirs.sort();
    dirs
}

/// `cargo metadata` for the workspace, resolved offline from Cargo.lock.
fn cargo_metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version=1", "--locked", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata JSON")
}

/// The names of every crate `package` is built with for its normal (non-dev, non-build) code,
/// directly or through others, for the host platform, as `cargo tree` resolves it. (The resolve
/// in `cargo metadata` unifies features across the whole workspace and every target, so it
/// lists optional dependencies no build of `package` compiles, such as jiff's `log`.)
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "-p", package])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != package)
        .map(str::to_string)
        .collect()
}

/// The workspace package's own `[dependencies]` (direct, normal).
fn direct_dependencies(metadata: &serde_json::Value, package: &str) -> BTreeSet<String> {
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == package && p["source"].is_null())
        .and_then(|p| p["dependencies"].as_array())
        .unwrap_or_else(|| panic!("no workspace package {package}"))
        .iter()
        .filter(|dep| dep["kind"].is_null())
        .filter_map(|dep| dep["name"].as_str().map(str::to_string))
        .collect()
}

/// Crates that do IO: network, files beyond std, databases, processes, clocks, logging.
const IO_CRATES: &[&str] = &[
    "tokio",
    "async-std",
    "mio",
    "socket2",
    "reqwest",
    "hyper",
    "axum",
    "sqlx",
    "rusqlite",
    "libsqlite3-sys",
    "keyring",
    "tracing",
    "log",
    "openidconnect",
    "tauri",
    "serde_json",
    "ts-rs",
];

#[test]
fn the_domain_crate_depends_on_no_io_crate() {
    let dependencies = normal_dependencies("cpis-domain");
    let io: Vec<_> = dependencies
        .iter()
        .filter(|name| IO_CRATES.contains(&name.as_str()))
        .collect();
    assert!(
        io.is_empty(),
        "cpis-domain must do no IO and know no wire format, but depends on {io:?}"
    );
}

#[test]
fn the_domain_crate_reads_no_clock_file_network_or_environment() {
    let forbidden = [
        "std::fs",
        "std::net",
        "std::env",
        "std::process",
        "std::io",
        "SystemTime",
        "Instant::now",
        "now_utc",
        "now_local",
        "println!",
        "eprintln!",
        "print!",
    ];
    // The one clock read: `uk_time::uk_today`, the UK date now (issue 16's shared contract);
    // everything else in the crate takes the instant as an argument.
    let allowed = [("crates/cpis-domain/src/uk_time.rs", "now_utc")];
    let mut found = Vec::new();
    for file in files_under(&workspace_root().join("crates/cpis-domain/src"), &[".rs"]) {
        let source = read(&file);
        for (line, code) in code_lines(production_source(&source)) {
            for word in forbidden {
                if code.contains(word) && !allowed.contains(&(relative(&file).as_str(), word)) {
                    found.push(format!("{}:{line}: {word}", relative(&file)));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the domain crate does IO:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_shell_holds_no_http_sql_or_token_code() {
    let metadata = cargo_metadata();
    let direct = direct_dependencies(&metadata, "cpis-viewer");
    let forbidden_crates = [
        "reqwest",
        "hyper",
        "sqlx",
        "rusqlite",
        "keyring",
        "openidconnect",
        "oauth2",
        "jsonwebtoken",
    ];
    let bad: Vec<_> = forbidden_crates
        .iter()
        .filter(|name| direct.contains(**name))
        .collect();
    assert!(bad.is_empty(), "src-tauri depends directly on {bad:?}");

    let forbidden_words = [
        "reqwest::",
        "sqlx::",
        "rusqlite::",
        "keyring::",
        "openidconnect::",
        "access_token",
        "refresh_token",
        "id_token",
        "Bearer",
        "SELECT ",
        "INSERT ",
    ];
    let mut found = Vec::new();
    for file in files_under(&workspace_root().join("src-tauri/src"), &[".rs"]) {
        let source = read(&file);
        for (line, code) in code_lines(production_source(&source)) {
            for word in forbidden_words {
                if code.contains(word) {
                    found.push(format!("{}:{line}: {word}", relative(&file)));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "src-tauri is a thin shell; HTTP, SQL and tokens belong in crates/:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_backend_module_calls_invoke() {
    let ui = workspace_root().join("ui/src");
    let backend = ui.join("backend");
    let mut found = Vec::new();
    for file in files_under(&ui, &[".ts", ".tsx"]) {
        if file.starts_with(&backend) {
            continue;
        }
        let name = file.to_string_lossy();
        // Component tests mock the IPC (mockIPC) rather than call it.
        if name.ends_with(".test.ts") || name.ends_with(".test.tsx") || name.contains("/test/") {
            continue;
        }
        for (line, code) in read(&file).lines().enumerate() {
            if code.contains("@tauri-apps/api/core") || code.contains("invoke(") {
                found.push(format!("{}:{}", relative(&file), line + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "only ui/src/backend may call invoke:\n{}",
        found.join("\n")
    );
}

/// One `struct` found in a source file, with its derives and its fields.
#[derive(Debug)]
struct StructItem {
    file: String,
    line: usize,
    name: String,
    derives_debug: bool,
    fields: Vec<(String, String)>,
}

/// The named-field structs of a Rust source, with whether they derive `Debug`.
fn structs_of(file: &Path) -> Vec<StructItem> {
    let source = read(file);
    let source = production_source(&source);
    let lines: Vec<&str> = source.lines().collect();
    let mut items = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed
            .strip_prefix("pub struct ")
            .or_else(|| trimmed.strip_prefix("pub(crate) struct "))
            .or_else(|| trimmed.strip_prefix("struct "))
        else {
            continue;
        };
        if !rest.trim_end().ends_with('{') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The attributes directly above the struct.
        let mut derives_debug = false;
        let mut above = index;
        while above > 0 {
            above -= 1;
            let attribute = lines[above].trim();
            if attribute.starts_with("#[")
                || attribute.starts_with("///")
                || attribute.ends_with(")]")
            {
                if attribute.contains("derive(") && attribute.contains("Debug") {
                    derives_debug = true;
                }
                continue;
            }
            break;
        }
        let mut fields = Vec::new();
        for field_line in &lines[index + 1..] {
            let field = field_line.trim();
            if field.starts_with('}') {
                break;
            }
            if field.starts_with("//") || field.starts_with("#[") {
                continue;
            }
            let field = field
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            if let Some((field_name, field_type)) = field.split_once(':') {
                fields.push((
                    field_name.trim().to_string(),
                    field_type.trim().trim_end_matches(',').to_string(),
                ));
            }
        }
        items.push(StructItem {
            file: relative(file),
            line: index + 1,
            name,
            derives_debug,
            fields,
        });
    }
    items
}

/// Field names that identify a patient when they hold raw text or dates.
const IDENTIFYING_FIELDS: &[&str] = &[
    "nhs_number",
    "name",
    "display_name",
    "family",
    "family_name",
    "given",
    "given_names",
    "birth_date",
    "date_of_birth",
    "address",
    "postcode",
    "postal_code",
];

/// Types that redact themselves, so a derived `Debug` over them prints nothing identifying.
const REDACTING_TYPES: &[&str] = &["NhsNumber", "PatientDemographics", "Secret", "SocialWorker"];

/// Structs that hold identifying fields but are not about a patient (staff, organisations,
/// configuration), with the reason.
const NOT_PATIENT_DATA: &[(&str, &str)] = &[
    (
        "LocalAuthority",
        "an organisation: the local authority's name",
    ),
    (
        "LaContact",
        "an organisation: the local authority's name as CP-IS gave it",
    ),
    (
        "LocalAuthorityView",
        "an organisation: the local authority's name",
    ),
    (
        "LocalAuthorityJson",
        "an organisation: the local authority's name",
    ),
    (
        "CareTeam",
        "the CP-IS care team: its name is the local authority team's",
    ),
    (
        "SocialWorkerView",
        "staff: the social worker's name and work phone",
    ),
    (
        "SocialWorkerJson",
        "staff: the social worker's name and work phone",
    ),
    (
        "UserView",
        "staff: the signed-in clinician, shown in the app's own header",
    ),
    (
        "WhoamiJson",
        "staff: the signed-in clinician, printed by `cpis whoami`",
    ),
    ("Principal", "staff: the caller of the reference service"),
    (
        "CapabilitySoftware",
        "the central log's product name in its CapabilityStatement",
    ),
    (
        "CapabilitySearchParam",
        "a search parameter's name in the central log's CapabilityStatement",
    ),
    (
        "Object",
        "a database table's or index's name in the audit log schema",
    ),
    (
        "Endpoint",
        "an API endpoint's name in a PARS AuditEvent (CP-IS, PDS), never a person",
    ),
    (
        "Claims",
        "staff: the caller's token claims in the reference service",
    ),
];

/// Crates that never hold patient data: developer tools that start processes and print
/// figures. Their `name` fields name processes and benchmarks.
const TOOLING_CRATES: &[&str] = &["xtask", "cpis-supervisor", "cpis-bench"];

#[test]
fn types_that_hold_patient_data_redact_debug() {
    let mut found = Vec::new();
    for (crate_name, src) in crate_source_dirs() {
        if TOOLING_CRATES.contains(&crate_name.as_str()) {
            continue;
        }
        for file in files_under(&src, &[".rs"]) {
            for item in structs_of(&file) {
                if !item.derives_debug
                    || NOT_PATIENT_DATA
                        .iter()
                        .any(|(name, _)| *name == item.name.as_str())
                {
                    continue;
                }
                let leaking: Vec<_> = item
                    .fields
                    .iter()
                    .filter(|(field, field_type)| {
                        IDENTIFYING_FIELDS.contains(&field.as_str())
                            && !REDACTING_TYPES.iter().any(|safe| field_type.contains(safe))
                    })
                    .map(|(field, _)| field.clone())
                    .collect();
                if !leaking.is_empty() {
                    found.push(format!(
                        "{crate_name}: {}:{} {} derives Debug over {leaking:?}",
                        item.file, item.line, item.name
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "types that hold patient data must write their own redacting Debug:\n{}",
        found.join("\n")
    );
}

/// The top-level module of the crate that a source file belongs to: `src/a.rs` and
/// `src/a/b.rs` are both in `a`. `None` for the crate root and for separate binaries.
fn top_level_module(src: &Path, file: &Path) -> Option<String> {
    let inside = file.strip_prefix(src).ok()?;
    let mut parts = inside.components();
    let first = parts.next()?.as_os_str().to_string_lossy().into_owned();
    let is_file = parts.next().is_none();
    if first == "bin" && !is_file {
        return None;
    }
    let name = first.trim_end_matches(".rs").to_string();
    if is_file && matches!(name.as_str(), "lib" | "main") {
        return None;
    }
    Some(name)
}

/// The top-level modules a piece of code names through `crate::…` paths, including
/// `use crate::{a, b::c}` groups. A top-level module's own file names them as `super::…` too.
fn modules_named(code: &str, through: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    let identifier = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(at) = rest.find(through) {
        let before = rest[..at].chars().last();
        rest = &rest[at + through.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Split the group's top level on commas.
            let mut depth = 0;
            let mut item_start = 0;
            for (index, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        named.insert(identifier(&group[item_start..index]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        named.insert(identifier(&group[item_start..index]));
                        item_start = index + 1;
                    }
                    _ => {}
                }
            }
        } else {
            named.insert(identifier(rest));
        }
    }
    named.retain(|name| !name.is_empty() && name != "self");
    named
}

/// Strongly connected components of more than one node (import circles), by Tarjan's
/// algorithm.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a str) {
        state.index.insert(node, state.next);
        state.low.insert(node, state.next);
        state.next += 1;
        state.stack.push(node);
        state.on_stack.insert(node);
        let graph = state.graph;
        for next in graph.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.push(member.to_string());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found
}

#[test]
fn circles_are_found_by_the_check_itself() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("api", vec!["audit", "store"]),
        ("audit", vec!["api"]),
        ("store", vec![]),
    ]
    .into_iter()
    .map(|(from, to)| {
        (
            from.to_string(),
            to.into_iter().map(str::to_string).collect(),
        )
    })
    .collect();
    assert_eq!(
        circles(&graph),
        vec![vec!["api".to_string(), "audit".to_string()]]
    );
    assert_eq!(
        modules_named(
            "use crate::{store::{Store, Row}, auth};\nlet x = crate::api::f();",
            "crate::"
        ),
        ["api", "auth", "store"]
            .into_iter()
            .map(str::to_string)
            .collect()
    );
}

#[test]
fn no_import_circle_between_the_modules_of_a_crate() {
    let mut found = Vec::new();
    for (crate_name, src) in crate_source_dirs() {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in files_under(&src, &[".rs"]) {
            let Some(module) = top_level_module(&src, &file) else {
                continue;
            };
            let source = read(&file);
            let code: String = code_lines(production_source(&source))
                .map(|(_, code)| format!("{code}\n"))
                .collect();
            let mut named = modules_named(&code, "crate::");
            if file.parent() == Some(src.as_path()) {
                named.extend(modules_named(&code, "super::"));
            }
            named.remove(&module);
            graph.entry(module).or_default().extend(named);
        }
        let modules: BTreeSet<String> = graph.keys().cloned().collect();
        for targets in graph.values_mut() {
            targets.retain(|target| modules.contains(target));
        }
        for circle in circles(&graph) {
            found.push(format!("{crate_name}: {}", circle.join(" ↔ ")));
        }
    }
    assert!(
        found.is_empty(),
        "modules of a crate must import in one direction; these import each other:\n{}",
        found.join("\n")
    );
}

/// Files outside cpis-fhir allowed to spell a FHIR resource, with the reason.
const FHIR_OUTSIDE_CPIS_FHIR: &[(&str, &str)] = &[
    (
        "crates/cpis-bench/src/bare.rs",
        "the bare baseline route answers a fixed body on purpose: it must not call the code it is the baseline for",
    ),
    (
        "crates/cpis-client/src/alert/classify.rs",
        "the second, independent check of a \"no plan\" answer (hazard control): it must not share cpis-fhir's parser, which made the first decision",
    ),
    (
        "xtask/src/bench/scale.rs",
        "a placeholder resource for the benchmark's filler rows, never read back as FHIR",
    ),
    (
        "xtask/src/fuzz.rs",
        "writes the fuzzers' seed corpus as text: seeds are bytes, not wire types",
    ),
];

#[test]
fn fhir_wire_types_live_only_in_cpis_fhir() {
    let mut found = Vec::new();
    for (crate_name, src) in crate_source_dirs() {
        if crate_name == "cpis-fhir" {
            continue;
        }
        for file in files_under(&src, &[".rs"]) {
            let path = relative(&file);
            if FHIR_OUTSIDE_CPIS_FHIR
                .iter()
                .any(|(allowed, _)| *allowed == path)
            {
                continue;
            }
            let source = read(&file);
            for (line, code) in code_lines(production_source(&source)) {
                let spells_a_resource = [
                    "\"resourceType\":",
                    "\"resourceType\" :",
                    "get(\"resourceType\")",
                    "rename = \"resourceType\"",
                ]
                .iter()
                .any(|spelling| code.contains(spelling));
                if spells_a_resource {
                    found.push(format!("{path}:{line}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "FHIR resources are built and read through cpis_fhir's wire types only:\n{}",
        found.join("\n")
    );
}

/// Places in the IPC crates that turn an error into text, with how many there are and why
/// that text is safe to cross IPC. A new one must be added here with its reason.
const ERROR_TEXT_THAT_MAY_CROSS_IPC: &[(&str, usize, &str)] = &[
    (
        "crates/cpis-ipc/src/views/lookup.rs",
        1,
        "NhsNumberError's Display: one fixed sentence per variant for the person who typed the number",
    ),
    (
        "crates/cpis-app/src/lib.rs",
        2,
        "start-up problems for the setup page: they name a configuration setting and file, before anyone signs in",
    ),
    (
        "crates/cpis-app/src/setup.rs",
        1,
        "start-up problems for the setup page: they name a configuration setting and file, before anyone signs in",
    ),
    (
        "src-tauri/src/lib.rs",
        1,
        "printed to the terminal when the window cannot open at all; it never crosses IPC",
    ),
];

/// How many times a line of code turns an error value into text.
fn error_text_in(code: &str) -> usize {
    [
        "error.to_string()",
        "err.to_string()",
        "(e.to_string()",
        " e.to_string()",
        "{error}",
        "{error:",
        "{err}",
        "{err:",
        "{e}",
        "{e:",
    ]
    .iter()
    .map(|pattern| code.matches(pattern).count())
    .sum()
}

#[test]
fn no_ipc_error_carries_free_text() {
    let root = workspace_root();
    // IpcError's fields are private and it is built in one place, from a code.
    let error_rs = read(&root.join("crates/cpis-ipc/src/error.rs"));
    let ipc_error = structs_of(&root.join("crates/cpis-ipc/src/error.rs"))
        .into_iter()
        .find(|item| item.name == "IpcError")
        .expect("IpcError in crates/cpis-ipc/src/error.rs");
    assert!(!ipc_error.fields.is_empty(), "IpcError has no named fields");
    assert!(
        production_source(&error_rs)
            .lines()
            .filter(|line| line.contains("pub struct IpcError"))
            .count()
            == 1
            && !production_source(&error_rs)
                .split("pub struct IpcError")
                .nth(1)
                .and_then(|rest| rest.split('}').next())
                .is_some_and(|body| body.contains("pub ")),
        "IpcError's fields must stay private, so that it can only be made from a code"
    );
    let mut built = Vec::new();
    let mut counted = BTreeMap::new();
    for dir in [
        "crates/cpis-ipc/src",
        "crates/cpis-app/src",
        "src-tauri/src",
    ] {
        for file in files_under(&root.join(dir), &[".rs"]) {
            let path = relative(&file);
            let source = read(&file);
            for (line, code) in code_lines(production_source(&source)) {
                let builds_one = code.contains("IpcError {")
                    && !["->", "struct ", "impl"]
                        .iter()
                        .any(|word| code.contains(word));
                if builds_one && path != "crates/cpis-ipc/src/error.rs" {
                    built.push(format!("{path}:{line}"));
                }
                let texts = error_text_in(code);
                if texts > 0 {
                    *counted.entry(path.clone()).or_insert(0) += texts;
                }
            }
        }
    }
    assert!(
        built.is_empty(),
        "IpcError is made only by IpcError::new(code) in cpis-ipc:\n{}",
        built.join("\n")
    );
    let allowed: BTreeMap<String, usize> = ERROR_TEXT_THAT_MAY_CROSS_IPC
        .iter()
        .map(|(path, count, _)| (path.to_string(), *count))
        .collect();
    assert_eq!(
        counted, allowed,
        "error text in the IPC crates changed: each place that turns an error into text needs a \
         reason in ERROR_TEXT_THAT_MAY_CROSS_IPC (and raw error text never crosses IPC)"
    );
}

/// The workspace members the fuzz workspace builds by path; they stay off the workspace-hack so
/// that the fuzz build does not compile the service's and the app's dependencies
/// (`.config/hakari.toml`).
const OFF_THE_HACK: &[&str] = &["cpis-domain", "cpis-fhir", "cpis-client", "cpis-audit"];

#[test]
fn every_other_member_depends_on_the_workspace_hack() {
    // Without it, `cargo build -p X`, `cargo test` and `cargo xtask` resolve different feature
    // sets and compile the dependencies again each time: CI ran out of disk that way.
    let metadata = cargo_metadata();
    let members: Vec<String> = metadata["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(|id| {
            metadata["packages"]
                .as_array()?
                .iter()
                .find(|p| p["id"] == *id)
                .and_then(|p| p["name"].as_str())
                .map(str::to_owned)
        })
        .collect();
    assert!(members.len() > 10, "workspace members: {members:?}");
    let mut missing = Vec::new();
    let mut extra = Vec::new();
    for member in members.iter().filter(|name| *name != "workspace-hack") {
        let has = direct_dependencies(&metadata, member).contains("workspace-hack");
        let wanted = !OFF_THE_HACK.contains(&member.as_str());
        if wanted && !has {
            missing.push(member.clone());
        }
        if !wanted && has {
            extra.push(member.clone());
        }
    }
    assert!(
        missing.is_empty() && extra.is_empty(),
        "add `workspace-hack` to {missing:?}; take it off {extra:?} (see .config/hakari.toml)"
    );
}
