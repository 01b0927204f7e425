//! The types that cross the Tauri IPC boundary between the Rust core and the web UI.
//!
//! Architecture invariant: these are the only serialisable types the UI sees. They are small,
//! built from domain types here, never carry tokens, and error messages are fixed, safe
//! strings (never raw error text, which might hold patient data). The TypeScript bindings in
//! `ui/src/backend/bindings.ts` are generated from this file by `cargo xtask codegen`, and a
//! test fails when the committed file drifts from what this crate would generate.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod commands;
mod error;
mod views;

pub use commands::COMMANDS;
pub use cpis_domain::{display_date, display_date_time, display_time};
pub use error::{CouldNotCheckCode, IpcError, IpcErrorCode};
pub use views::*;

/// Where the generated bindings live, relative to the workspace root.
pub const BINDINGS_PATH: &str = "ui/src/backend/bindings.ts";

/// The longest NHS number input accepted over IPC; anything longer is refused unread.
pub const MAX_NHS_NUMBER_INPUT_CHARS: usize = 64;

/// Why an NHS number was rejected, as the UI sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum NhsNumberErrorCode {
    /// Nothing entered.
    Empty,
    /// Something other than digits, spaces or dashes.
    InvalidCharacters,
    /// Not ten digits.
    WrongLength,
    /// Fails the Modulus 11 check.
    CheckDigit,
    /// Far longer than any NHS number.
    TooLong,
}

/// Render the TypeScript declarations for every IPC type, as committed in [`BINDINGS_PATH`].
pub fn render_typescript_bindings() -> String {
    let config = ts_rs::Config::new();
    let declarations = [
        NhsNumberErrorCode::decl(&config),
        IpcErrorCode::decl(&config),
        IpcError::decl(&config),
        CouldNotCheckCode::decl(&config),
        UserView::decl(&config),
        SessionView::decl(&config),
        PatientView::decl(&config),
        PhoneView::decl(&config),
        LocalAuthorityView::decl(&config),
        SocialWorkerView::decl(&config),
        PlanTypeCode::decl(&config),
        PlanStatusCode::decl(&config),
        PlanStatusView::decl(&config),
        PlanView::decl(&config),
        AccessView::decl(&config),
        LookupView::decl(&config),
        LookupResponse::decl(&config),
        ContactMethod::decl(&config),
        LaContactRequest::decl(&config),
        AuditStatusView::decl(&config),
        StatusView::decl(&config),
        UiSettings::decl(&config),
        TrustContactsView::decl(&config),
        SetupProblemView::decl(&config),
        ReviewPeriod::decl(&config),
        ReviewPlanView::decl(&config),
        ReviewRow::decl(&config),
        ReviewView::decl(&config),
    ];
    let mut out = String::from(
        "// Generated from crates/cpis-ipc by `cargo xtask codegen`. Do not edit by hand.\n",
    );
    for declaration in declarations {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out.push_str(
        "\n/** Every command the shell registers; `ui/src/backend` calls only these. */\n",
    );
    out.push_str("export const COMMANDS = [\n");
    for command in COMMANDS {
        out.push_str(&format!("  \"{command}\",\n"));
    }
    out.push_str("] as const;\n\n/** The name of a command. */\nexport type CommandName = (typeof COMMANDS)[number];\n");
    out.push_str("\n/** Every code a command may reject with; `isIpcError` accepts no other. */\n");
    out.push_str("export const IPC_ERROR_CODES: readonly IpcErrorCode[] = [\n");
    for code in IpcErrorCode::ALL {
        out.push_str(&format!("  \"{}\",\n", code.as_str()));
    }
    out.push_str("];\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_typescript_bindings_match_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(BINDINGS_PATH);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == render_typescript_bindings(),
            "{BINDINGS_PATH} is out of date: run `cargo xtask codegen` and commit the result"
        );
    }

    /// The command names a TypeScript file passes to `call`, in order; `Err` when a call does
    /// not name its command with a string literal.
    fn commands_called_in(source: &str) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for (at, _) in source.match_indices("call") {
            let before = source[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let rest = &source[at + "call".len()..];
            if !rest.starts_with(['<', '(']) || source[..at].ends_with("function ") {
                continue;
            }
            let Some(open) = rest.find('(') else { continue };
            let argument = rest[open + 1..].trim_start();
            let Some(quote) = argument.chars().next().filter(|c| matches!(c, '\'' | '"')) else {
                return Err(format!(
                    "a call without a literal command name: call{}",
                    &rest[..open]
                ));
            };
            let name: String = argument[1..].chars().take_while(|c| *c != quote).collect();
            names.push(name);
        }
        Ok(names)
    }

    #[test]
    fn the_ui_backend_calls_exactly_the_shared_commands() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/backend");
        let mut called = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(&folder).expect("ui/src/backend") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("");
            if !name.ends_with(".ts") || name.ends_with(".test.ts") || name == "bindings.ts" {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("readable");
            if name != "call.ts" {
                assert!(
                    !source.contains("@tauri-apps/api/core")
                        && !source.contains("invoke(")
                        && !source.contains("invoke<"),
                    "{name}: only call.ts may use invoke; call a command through `call`"
                );
            }
            let names =
                commands_called_in(&source).unwrap_or_else(|problem| panic!("{name}: {problem}"));
            called.extend(names);
        }
        let shared: std::collections::BTreeSet<String> =
            COMMANDS.iter().map(|command| command.to_string()).collect();
        assert_eq!(
            called, shared,
            "ui/src/backend must call every registered command and no other"
        );
    }

    #[test]
    fn command_calls_are_found_and_a_computed_name_is_refused() {
        assert_eq!(
            commands_called_in(
                "return call<SessionView>('sign_in');\nawait call<unknown>(\n  \"lookup\", { input });\nrecall('x'); x.call('y');"
            ),
            Ok(vec!["sign_in".to_owned(), "lookup".to_owned()])
        );
        assert!(commands_called_in("call(name)").is_err());
        assert_eq!(
            commands_called_in("export function call<T>(command: CommandName) {}"),
            Ok(vec![])
        );
    }
}
