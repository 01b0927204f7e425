//! The API platform's token endpoint: the RFC 8693 token exchange of a CIS2 ID token
//! (authenticated by an RS512 `client_assertion`), the `refresh_token` grant (with the client
//! secret) and revocation. Lifetimes are read as strings or numbers.

use std::fmt;

use serde::Deserialize;

use crate::http::{Http, read_capped, transport_message};
use crate::keys::CLIENT_ASSERTION_TYPE;
use crate::secret::Secret;

/// `grant_type` of the exchange.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// `subject_token_type` of a CIS2 ID token.
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";

/// Why the platform did not give tokens, in fixed words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// Unreachable, or a server error.
    #[error("the API platform is unavailable: {0}")]
    Unavailable(&'static str),
    /// The platform refused (a 4xx answer); its `error` code when it sent a known one.
    #[error("the API platform refused ({status})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, when it is one of the standard few.
        error: Option<&'static str>,
    },
    /// The answer is not a token answer.
    #[error("the API platform's answer is not valid")]
    Invalid,
}

/// Tokens from the platform.
#[derive(Clone)]
pub struct PlatformTokens {
    /// The opaque access token.
    pub access_token: Secret,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// The refresh token.
    pub refresh_token: Option<Secret>,
    /// The refresh token's lifetime in seconds.
    pub refresh_token_expires_in: Option<u64>,
}

impl fmt::Debug for PlatformTokens {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PlatformTokens")
            .field("expires_in", &self.expires_in)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .finish_non_exhaustive()
    }
}

/// A number the platform sends as a string (`"599"`) or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Lifetime {
    Number(u64),
    Text(String),
}

impl Lifetime {
    fn seconds(&self) -> Option<u64> {
        match self {
            Lifetime::Number(number) => Some(*number),
            Lifetime::Text(text) => text.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<Lifetime>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<Lifetime>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
}

/// Read a token answer. Without `expires_in` the access token is taken to live 10 minutes.
pub fn read_token_answer(body: &[u8]) -> Result<PlatformTokens, PlatformError> {
    let answer: TokenAnswer = serde_json::from_slice(body).map_err(|_| PlatformError::Invalid)?;
    if answer
        .token_type
        .as_deref()
        .is_some_and(|kind| !kind.eq_ignore_ascii_case("bearer"))
        || answer.access_token.is_empty()
    {
        return Err(PlatformError::Invalid);
    }
    let expires_in = match &answer.expires_in {
        Some(lifetime) => lifetime.seconds().ok_or(PlatformError::Invalid)?,
        None => 600,
    };
    Ok(PlatformTokens {
        access_token: Secret::new(answer.access_token),
        expires_in,
        refresh_token: answer
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(Secret::new),
        refresh_token_expires_in: answer
            .refresh_token_expires_in
            .as_ref()
            .and_then(Lifetime::seconds),
    })
}

fn known_error(body: &[u8]) -> Option<&'static str> {
    let answer: ErrorAnswer = serde_json::from_slice(body).ok()?;
    [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
    ]
    .into_iter()
    .find(|known| *known == answer.error)
}

/// The platform's endpoints and the broker's credentials there.
pub struct Platform {
    http: Http,
    token_url: String,
    revoke_url: String,
    api_key: String,
    client_secret: Secret,
}

impl fmt::Debug for Platform {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Platform")
            .field("token_url", &self.token_url)
            .field("revoke_url", &self.revoke_url)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl Platform {
    /// The platform at `token_url` and `revoke_url`, the broker as `api_key`.
    pub fn new(
        http: Http,
        token_url: &str,
        revoke_url: &str,
        api_key: &str,
        client_secret: Secret,
    ) -> Platform {
        Platform {
            http,
            token_url: token_url.to_owned(),
            revoke_url: revoke_url.to_owned(),
            api_key: api_key.to_owned(),
            client_secret,
        }
    }

    /// The token URL (the `aud` of the client assertion).
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The API key (`iss` and `sub` of the client assertion).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), PlatformError> {
        let body = openidconnect::url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .http
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| PlatformError::Unavailable(transport_message(&error)))?;
        let status = response.status().as_u16();
        let body = read_capped(response)
            .await
            .map_err(|error| PlatformError::Unavailable(error.0))?;
        Ok((status, body))
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<PlatformTokens, PlatformError> {
        let (status, body) = self.post_form(&self.token_url, form).await?;
        match status {
            200 => read_token_answer(&body),
            400..=499 => Err(PlatformError::Refused {
                status,
                error: known_error(&body),
            }),
            _ => Err(PlatformError::Unavailable("the token endpoint failed")),
        }
    }

    /// Exchange the CIS2 `id_token` (RFC 8693), authenticated by `client_assertion`.
    pub async fn exchange(
        &self,
        id_token: &Secret,
        client_assertion: &str,
    ) -> Result<PlatformTokens, PlatformError> {
        self.token_request(&[
            ("grant_type", TOKEN_EXCHANGE_GRANT),
            ("subject_token_type", ID_TOKEN_TYPE),
            ("subject_token", id_token.expose()),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", client_assertion),
        ])
        .await
    }

    /// New tokens for `refresh_token` (which the platform rotates).
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<PlatformTokens, PlatformError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", &self.api_key),
            ("client_secret", self.client_secret.expose()),
        ])
        .await
    }

    /// Revoke the grant `token` belongs to.
    pub async fn revoke(&self, token: &Secret) -> Result<(), PlatformError> {
        let (status, _) = self
            .post_form(
                &self.revoke_url,
                &[
                    ("token", token.expose()),
                    ("client_id", &self.api_key),
                    ("client_secret", self.client_secret.expose()),
                ],
            )
            .await?;
        match status {
            200..=299 => Ok(()),
            400..=499 => Err(PlatformError::Refused {
                status,
                error: None,
            }),
            _ => Err(PlatformError::Unavailable("the revocation endpoint failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_as_strings_or_numbers() {
        let text = br#"{"access_token":"a","expires_in":"599","token_type":"Bearer",
            "refresh_token":"r","refresh_token_expires_in":"43199","refresh_count":"0"}"#;
        let tokens = read_token_answer(text).expect("reads");
        assert_eq!(tokens.expires_in, 599);
        assert_eq!(tokens.refresh_token_expires_in, Some(43199));
        let numbers = br#"{"access_token":"a","expires_in":599,"refresh_token_expires_in":43199}"#;
        let tokens = read_token_answer(numbers).expect("reads");
        assert_eq!(tokens.expires_in, 599);
        assert_eq!(tokens.refresh_token_expires_in, Some(43199));
        assert!(tokens.refresh_token.is_none());
    }

    #[test]
    fn bad_answers_are_refused() {
        assert_eq!(
            read_token_answer(br#"{"access_token":"a","expires_in":"soon"}"#).err(),
            Some(PlatformError::Invalid)
        );
        assert_eq!(
            read_token_answer(br#"{"access_token":"a","token_type":"MAC"}"#).err(),
            Some(PlatformError::Invalid)
        );
        assert_eq!(
            read_token_answer(b"<html>").err(),
            Some(PlatformError::Invalid)
        );
    }

    #[test]
    fn debug_hides_tokens() {
        let tokens = read_token_answer(
            br#"{"access_token":"sekrit-access","refresh_token":"sekrit-refresh"}"#,
        )
        .expect("reads");
        let text = format!("{tokens:?}");
        assert!(!text.contains("sekrit"));
    }
}
