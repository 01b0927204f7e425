//! Why sign-in, refresh or callback handling failed: messages that never contain a token.

/// Why sign-in, refresh or callback handling failed. Never contains a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The provider's discovery document or keys could not be fetched or were invalid.
    #[error("could not read the identity provider's configuration: {0}")]
    Discovery(String),
    /// The `state` that came back is not the one sent: possibly a forged redirect.
    #[error("the sign-in response did not match the request (state mismatch)")]
    StateMismatch,
    /// The `iss` in the redirect (RFC 9207) is not the configured issuer.
    #[error("the sign-in response came from another identity provider")]
    IssuerMismatch,
    /// The provider refused (for example, the user cancelled).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The redirect had no code.
    #[error("the sign-in response had no authorization code")]
    MissingCode,
    /// The token request failed.
    #[error("could not get tokens from the identity provider: {0}")]
    TokenRequest(String),
    /// The token response had no ID token.
    #[error("the identity provider sent no ID token")]
    MissingIdToken,
    /// The ID token failed validation.
    #[error("the ID token was refused: {0}")]
    InvalidIdToken(String),
    /// The loopback redirect listener failed.
    #[error("the sign-in redirect could not be received: {0}")]
    Loopback(String),
    /// The browser did not come back in time.
    #[error("sign-in timed out waiting for the browser")]
    TimedOut,
    /// The session is past its 12 hours, or has no refresh token: sign in again.
    #[error("the session has ended; sign in again")]
    SignInRequired,
    /// A refreshed ID token named another user.
    #[error("the refreshed tokens are for a different user")]
    SubjectChanged,
}
