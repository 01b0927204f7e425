//! Short, printable messages from the provider's errors, never a response body (it may hold
//! tokens).

use openidconnect::core::CoreErrorResponseType;
use openidconnect::{RequestTokenError, StandardErrorResponse};

use super::OidcError;

/// Keep provider-supplied text short and printable before it reaches a message.
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .filter(|character| !character.is_control())
        .take(200)
        .collect()
}

pub(super) fn discovery_message<E: std::error::Error>(
    error: &openidconnect::DiscoveryError<E>,
) -> String {
    match error {
        openidconnect::DiscoveryError::Request(inner) => printable(&inner.to_string()),
        openidconnect::DiscoveryError::Response(status, _, _) => {
            format!("the provider answered with status {status}")
        }
        openidconnect::DiscoveryError::Parse(_) => "the discovery document is not valid".to_owned(),
        openidconnect::DiscoveryError::Validation(message) => printable(message),
        openidconnect::DiscoveryError::UrlParse(_) => "the issuer is not a valid URL".to_owned(),
        other => printable(&other.to_string()),
    }
}

pub(super) fn token_request_message<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
) -> OidcError {
    // Never include a response body: it may hold tokens.
    OidcError::TokenRequest(match error {
        RequestTokenError::ServerResponse(response) => {
            format!(
                "the provider refused: {}",
                printable(response.error().as_ref())
            )
        }
        RequestTokenError::Request(inner) => printable(&inner.to_string()),
        RequestTokenError::Parse(_, _) => "the token response is not valid".to_owned(),
        RequestTokenError::Other(message) => printable(&message),
    })
}
