//! Why sign-in, refresh or the broker's answers failed: messages that never contain a token, a
//! code or a session handle.

/// Why sign-in, refresh, sign-out or a user look-up at the broker failed. Never contains a
/// token, a code or a session handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// The loopback redirect listener failed.
    #[error("the sign-in redirect could not be received: {0}")]
    Loopback(String),
    /// The browser did not come back in time.
    #[error("sign-in timed out waiting for the browser")]
    TimedOut,
    /// The broker (or CIS2 behind it) refused, for example because the user cancelled.
    #[error("the sign-in was refused: {0}")]
    Refused(String),
    /// The redirect had no code.
    #[error("the sign-in response had no authorization code")]
    MissingCode,
    /// The broker could not be reached, or answered with an error.
    #[error("the sign-in service could not be used: {0}")]
    Broker(String),
    /// The broker's answer could not be read.
    #[error("the sign-in service's answer was not valid")]
    InvalidAnswer,
    /// The broker session is unknown, ended or past its 12 hours: sign in again.
    #[error("the session has ended; sign in again")]
    SignInRequired,
    /// A refreshed answer named another user.
    #[error("the refreshed session is for a different user")]
    SubjectChanged,
}
