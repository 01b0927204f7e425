//! The types that cross the Tauri IPC boundary between the Rust core and the web UI.
//!
//! Architecture invariant: these are the only serialisable types the UI sees. They are small,
//! built from domain types here, never carry tokens, and error messages are fixed, safe
//! strings (never raw error text, which might hold patient data). The TypeScript bindings in
//! `ui/src/backend/bindings.ts` are generated from this file by `cargo xtask codegen`, and a
//! test fails when the committed file drifts from what this crate would generate.

use cpis_domain::{NhsNumber, NhsNumberError};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod views;

pub use cpis_domain::{display_date, display_date_time, display_time};
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

/// The result of checking an NHS number the user typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NhsNumberCheck {
    /// A valid NHS number, formatted for display (`943 476 5919`).
    Valid {
        /// The spaced form.
        formatted: String,
    },
    /// Not a valid NHS number.
    Invalid {
        /// Why, as a stable code.
        code: NhsNumberErrorCode,
        /// The NHS error message to show under the field.
        message: String,
    },
}

/// An error returned by a command: a stable code and a message that is safe to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IpcError {
    /// Stable machine-readable code.
    pub code: String,
    /// A safe, fixed message for the user.
    pub message: String,
}

impl IpcError {
    /// The generic error for anything unexpected; never includes the underlying error text.
    pub fn unexpected() -> IpcError {
        IpcError {
            code: "unexpected".into(),
            message: "Something went wrong. Try again, and if it keeps happening, follow your local procedure.".into(),
        }
    }
}

/// Facts about the running app for the status bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
}

/// Check an NHS number typed or scanned by the user.
pub fn check_nhs_number(input: &str) -> NhsNumberCheck {
    if input.chars().count() > MAX_NHS_NUMBER_INPUT_CHARS {
        return NhsNumberCheck::Invalid {
            code: NhsNumberErrorCode::TooLong,
            message: NhsNumberError::WrongLength { digits: 0 }.to_string(),
        };
    }
    match NhsNumber::parse(input) {
        Ok(nhs_number) => NhsNumberCheck::Valid {
            formatted: nhs_number.to_string(),
        },
        Err(error) => NhsNumberCheck::Invalid {
            code: match error {
                NhsNumberError::Empty => NhsNumberErrorCode::Empty,
                NhsNumberError::InvalidCharacters => NhsNumberErrorCode::InvalidCharacters,
                NhsNumberError::WrongLength { .. } => NhsNumberErrorCode::WrongLength,
                NhsNumberError::CheckDigit => NhsNumberErrorCode::CheckDigit,
            },
            message: error.to_string(),
        },
    }
}

/// Render the TypeScript declarations for every IPC type, as committed in [`BINDINGS_PATH`].
pub fn render_typescript_bindings() -> String {
    let config = ts_rs::Config::new();
    let declarations = [
        NhsNumberErrorCode::decl(&config),
        NhsNumberCheck::decl(&config),
        IpcError::decl(&config),
        AppInfo::decl(&config),
        UserView::decl(&config),
        SessionView::decl(&config),
        PatientView::decl(&config),
        LocalAuthorityView::decl(&config),
        SocialWorkerView::decl(&config),
        PlanTypeCode::decl(&config),
        PlanStatus::decl(&config),
        PlanView::decl(&config),
        AccessView::decl(&config),
        LookupView::decl(&config),
        LookupResponse::decl(&config),
        ContactMethod::decl(&config),
        LaContactRequest::decl(&config),
        AuditStatusView::decl(&config),
        StatusView::decl(&config),
        UiSettings::decl(&config),
        TrustPhoneView::decl(&config),
        TrustContactsView::decl(&config),
        SetupProblemView::decl(&config),
        ReviewPeriod::decl(&config),
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

    #[test]
    fn valid_numbers_are_formatted() {
        assert_eq!(
            check_nhs_number("9990000018"),
            NhsNumberCheck::Valid {
                formatted: "999 000 0018".into()
            }
        );
    }

    #[test]
    fn invalid_numbers_carry_code_and_message_without_the_input() {
        let check = check_nhs_number("9990000019");
        let json = serde_json::to_string(&check).expect("serialise");
        assert_eq!(
            json,
            r#"{"status":"invalid","code":"check_digit","message":"Enter a valid NHS number. The number you entered is not a real NHS number"}"#
        );
        assert!(matches!(
            check_nhs_number(&"1".repeat(1000)),
            NhsNumberCheck::Invalid {
                code: NhsNumberErrorCode::TooLong,
                ..
            }
        ));
    }
}
