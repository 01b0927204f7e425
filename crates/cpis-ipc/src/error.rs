//! Errors that cross IPC: a code from a closed set, generated into TypeScript so that the UI's
//! switches are exhaustive, and the fixed, safe message that belongs to each code. No error
//! that crosses IPC carries free text: [`IpcError`] can only be made from an [`IpcErrorCode`].

use cpis_domain::CouldNotCheckReason;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Why a command failed, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IpcErrorCode {
    /// Anything unexpected; the underlying error is never shown.
    Unexpected,
    /// The app has no usable configuration, so it has no core.
    NotSetUp,
    /// The identity provider's discovery document could not be fetched.
    IdentityProviderUnreachable,
    /// A newer sign-in, or the user, cancelled this one.
    SignInCancelled,
    /// The system browser could not be opened.
    BrowserUnavailable,
    /// The browser did not bring the sign-in back in time.
    SignInNotFinished,
    /// The identity provider's answer was refused.
    SignInRefused,
    /// The session could not be stored in the OS keyring.
    KeyringUnavailable,
    /// Nobody is signed in (or the session ended).
    SignInRequired,
    /// Nobody used the app for the inactivity limit: the session is locked (and forgotten),
    /// and nothing is given until someone signs in again.
    Locked,
    /// The selected role does not include what was asked for.
    RoleNotPermitted,
    /// A follow-up named a lookup the app no longer remembers.
    UnknownLookup,
    /// The LA contact time was not `HH:MM` today, or was in the future.
    InvalidTime,
    /// The LA contact could not be appended to the local audit queue.
    AuditFailed,
    /// The central audit log did not answer the review's search.
    AuditLogUnavailable,
    /// The central audit log's answer held a record that could not be read: the review would
    /// be incomplete, so none is shown.
    AuditLogUnreadable,
    /// The review's CSV could not be written.
    ExportFailed,
    /// The local audit queue could not be opened (status bar).
    AuditQueueUnavailable,
    /// A record could not be appended to the local audit queue (status bar).
    AuditQueueWriteFailed,
    /// The local audit queue's status could not be read (status bar).
    AuditQueueUnreadable,
    /// Raised by the UI, never by Rust: an answer did not have the shape of its type.
    InvalidResponse,
}

impl IpcErrorCode {
    /// Every code, for tests that check each one.
    pub const ALL: [IpcErrorCode; 21] = [
        IpcErrorCode::Unexpected,
        IpcErrorCode::NotSetUp,
        IpcErrorCode::IdentityProviderUnreachable,
        IpcErrorCode::SignInCancelled,
        IpcErrorCode::BrowserUnavailable,
        IpcErrorCode::SignInNotFinished,
        IpcErrorCode::SignInRefused,
        IpcErrorCode::KeyringUnavailable,
        IpcErrorCode::SignInRequired,
        IpcErrorCode::Locked,
        IpcErrorCode::RoleNotPermitted,
        IpcErrorCode::UnknownLookup,
        IpcErrorCode::InvalidTime,
        IpcErrorCode::AuditFailed,
        IpcErrorCode::AuditLogUnavailable,
        IpcErrorCode::AuditLogUnreadable,
        IpcErrorCode::ExportFailed,
        IpcErrorCode::AuditQueueUnavailable,
        IpcErrorCode::AuditQueueWriteFailed,
        IpcErrorCode::AuditQueueUnreadable,
        IpcErrorCode::InvalidResponse,
    ];

    /// The code as it crosses IPC (serde's name for it; a test holds the two equal). The
    /// generated bindings list these, so the UI accepts no other code.
    pub fn as_str(self) -> &'static str {
        match self {
            IpcErrorCode::Unexpected => "unexpected",
            IpcErrorCode::NotSetUp => "not_set_up",
            IpcErrorCode::IdentityProviderUnreachable => "identity_provider_unreachable",
            IpcErrorCode::SignInCancelled => "sign_in_cancelled",
            IpcErrorCode::BrowserUnavailable => "browser_unavailable",
            IpcErrorCode::SignInNotFinished => "sign_in_not_finished",
            IpcErrorCode::SignInRefused => "sign_in_refused",
            IpcErrorCode::KeyringUnavailable => "keyring_unavailable",
            IpcErrorCode::SignInRequired => "sign_in_required",
            IpcErrorCode::Locked => "locked",
            IpcErrorCode::RoleNotPermitted => "role_not_permitted",
            IpcErrorCode::UnknownLookup => "unknown_lookup",
            IpcErrorCode::InvalidTime => "invalid_time",
            IpcErrorCode::AuditFailed => "audit_failed",
            IpcErrorCode::AuditLogUnavailable => "audit_log_unavailable",
            IpcErrorCode::AuditLogUnreadable => "audit_log_unreadable",
            IpcErrorCode::ExportFailed => "export_failed",
            IpcErrorCode::AuditQueueUnavailable => "audit_queue_unavailable",
            IpcErrorCode::AuditQueueWriteFailed => "audit_queue_write_failed",
            IpcErrorCode::AuditQueueUnreadable => "audit_queue_unreadable",
            IpcErrorCode::InvalidResponse => "invalid_response",
        }
    }

    /// The fixed message a person sees for this code.
    pub fn message(self) -> &'static str {
        match self {
            IpcErrorCode::Unexpected => {
                "Something went wrong. Try again, and if it keeps happening, follow your local procedure."
            }
            IpcErrorCode::NotSetUp => {
                "CP-IS Viewer is not set up on this computer. Contact your IT service desk."
            }
            IpcErrorCode::IdentityProviderUnreachable => {
                "The sign-in service could not be reached. Check the network and try again."
            }
            IpcErrorCode::SignInCancelled => "Sign-in was cancelled.",
            IpcErrorCode::BrowserUnavailable => "The web browser could not be opened to sign in.",
            IpcErrorCode::SignInNotFinished => "Sign-in did not finish. Try again.",
            IpcErrorCode::SignInRefused => {
                "Sign-in could not be completed. Try again, or contact your registration authority."
            }
            IpcErrorCode::KeyringUnavailable => {
                "Your sign-in could not be stored securely in the system keyring. Contact your IT service desk."
            }
            IpcErrorCode::SignInRequired => "Sign in to see the review.",
            IpcErrorCode::Locked => {
                "CP-IS Viewer locked because nobody used it for a while. Sign in again to continue."
            }
            IpcErrorCode::RoleNotPermitted => {
                "Your selected role does not include the safeguarding review."
            }
            IpcErrorCode::UnknownLookup => {
                "This result is no longer open. Look the patient up again to record contact."
            }
            IpcErrorCode::InvalidTime => {
                "Enter the time as hours and minutes, like 14:30, and not in the future."
            }
            IpcErrorCode::AuditFailed => {
                "The contact could not be saved to the audit log on this computer. Report this to your IT service desk."
            }
            IpcErrorCode::AuditLogUnavailable => {
                "The central audit log could not be reached. Try again in a few minutes."
            }
            IpcErrorCode::AuditLogUnreadable => {
                "The central audit log sent a record that could not be read, so the review is not shown: it could leave views out. Try again. If this keeps happening, tell your IT service desk."
            }
            IpcErrorCode::ExportFailed => "The review could not be saved to your downloads folder.",
            IpcErrorCode::AuditQueueUnavailable => {
                "The audit queue on this computer could not be opened."
            }
            IpcErrorCode::AuditQueueWriteFailed => {
                "A check could not be saved to the audit queue on this computer."
            }
            IpcErrorCode::AuditQueueUnreadable => {
                "The audit queue on this computer could not be read."
            }
            IpcErrorCode::InvalidResponse => "The app received an answer it could not read.",
        }
    }
}

/// An error returned by a command: a stable code and the fixed message for it. It can only be
/// made from a code, so it never carries raw error text (which might hold patient data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IpcError {
    /// Stable machine-readable code.
    code: IpcErrorCode,
    /// The code's fixed message, for the user.
    message: String,
}

impl IpcError {
    /// The error for `code`, with its fixed message.
    pub fn new(code: IpcErrorCode) -> IpcError {
        IpcError {
            code,
            message: code.message().to_owned(),
        }
    }

    /// The generic error for anything unexpected; never includes the underlying error text.
    pub fn unexpected() -> IpcError {
        IpcError::new(IpcErrorCode::Unexpected)
    }

    /// The code.
    pub fn code(&self) -> IpcErrorCode {
        self.code
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Read back from its code alone: the message is always the code's own, never the text read.
impl<'de> Deserialize<'de> for IpcError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<IpcError, D::Error> {
        #[derive(Deserialize)]
        struct CodeOnly {
            code: IpcErrorCode,
        }
        CodeOnly::deserialize(deserializer).map(|wire| IpcError::new(wire.code))
    }
}

impl From<IpcErrorCode> for IpcError {
    fn from(code: IpcErrorCode) -> IpcError {
        IpcError::new(code)
    }
}

/// Why a lookup could not be checked, as the stable code the UI switches over. The same strings
/// as [`CouldNotCheckReason::code`], which the CLI prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CouldNotCheckCode {
    /// The lookup deadline passed.
    Timeout,
    /// The service could not be reached.
    ServiceUnreachable,
    /// The service had a server error.
    ServiceError,
    /// The service refused the request.
    AccessDenied,
    /// The answer could not be read.
    InvalidResponse,
    /// The answer was about another NHS number.
    ResponseForAnotherPatient,
    /// The demographics service could not confirm the patient.
    DemographicsUnavailable,
    /// Sign in again.
    SignInRequired,
    /// The role does not permit lookups.
    RoleNotPermitted,
}

impl CouldNotCheckCode {
    /// The code as it is serialised: `timeout`, `invalid_response`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            CouldNotCheckCode::Timeout => "timeout",
            CouldNotCheckCode::ServiceUnreachable => "service_unreachable",
            CouldNotCheckCode::ServiceError => "service_error",
            CouldNotCheckCode::AccessDenied => "access_denied",
            CouldNotCheckCode::InvalidResponse => "invalid_response",
            CouldNotCheckCode::ResponseForAnotherPatient => "response_for_another_patient",
            CouldNotCheckCode::DemographicsUnavailable => "demographics_unavailable",
            CouldNotCheckCode::SignInRequired => "sign_in_required",
            CouldNotCheckCode::RoleNotPermitted => "role_not_permitted",
        }
    }
}

impl From<CouldNotCheckReason> for CouldNotCheckCode {
    fn from(reason: CouldNotCheckReason) -> CouldNotCheckCode {
        match reason {
            CouldNotCheckReason::Timeout => CouldNotCheckCode::Timeout,
            CouldNotCheckReason::ServiceUnreachable => CouldNotCheckCode::ServiceUnreachable,
            CouldNotCheckReason::ServiceError => CouldNotCheckCode::ServiceError,
            CouldNotCheckReason::AccessDenied => CouldNotCheckCode::AccessDenied,
            CouldNotCheckReason::InvalidResponse => CouldNotCheckCode::InvalidResponse,
            CouldNotCheckReason::ResponseForAnotherPatient => {
                CouldNotCheckCode::ResponseForAnotherPatient
            }
            CouldNotCheckReason::DemographicsUnavailable => {
                CouldNotCheckCode::DemographicsUnavailable
            }
            CouldNotCheckReason::SignInRequired => CouldNotCheckCode::SignInRequired,
            CouldNotCheckReason::RoleNotPermitted => CouldNotCheckCode::RoleNotPermitted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_serialises_as_its_code_and_fixed_message() {
        let mut seen = std::collections::HashSet::new();
        for code in IpcErrorCode::ALL {
            let json = serde_json::to_value(IpcError::new(code)).expect("json");
            let text = json["code"].as_str().expect("a string code").to_owned();
            assert!(
                !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text}"
            );
            assert_eq!(text, code.as_str());
            assert!(seen.insert(text), "codes are distinct");
            assert_eq!(json["message"], code.message());
            assert!(code.message().ends_with('.'), "{code:?}");
        }
    }

    #[test]
    fn an_error_read_back_takes_its_codes_message_not_the_text_read() {
        let read: IpcError =
            serde_json::from_str(r#"{"code":"export_failed","message":"raw text 9990000018"}"#)
                .expect("json");
        assert_eq!(read, IpcError::new(IpcErrorCode::ExportFailed));
    }

    #[test]
    fn codes_the_ui_and_tests_already_use_keep_their_strings() {
        for (code, text) in [
            (IpcErrorCode::Unexpected, "unexpected"),
            (IpcErrorCode::NotSetUp, "not_set_up"),
            (IpcErrorCode::SignInNotFinished, "sign_in_not_finished"),
            (IpcErrorCode::SignInCancelled, "sign_in_cancelled"),
            (IpcErrorCode::SignInRequired, "sign_in_required"),
            (IpcErrorCode::AuditLogUnavailable, "audit_log_unavailable"),
            (IpcErrorCode::InvalidResponse, "invalid_response"),
        ] {
            assert_eq!(serde_json::to_value(code).expect("json"), text);
        }
    }

    #[test]
    fn could_not_check_codes_are_the_domain_codes() {
        for reason in CouldNotCheckReason::ALL {
            let code = CouldNotCheckCode::from(reason);
            assert_eq!(code.as_str(), reason.code());
            assert_eq!(
                serde_json::to_value(CouldNotCheckCode::from(reason)).expect("json"),
                reason.code()
            );
        }
    }
}
