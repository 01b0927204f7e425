//! Sign-in through the trust's token broker (`docs/sign-in.md`, section 4): the system browser
//! goes to the broker's `/authorize` with PKCE S256 and a `state`, the broker signs the user in
//! at CIS2, exchanges the ID token at the API platform and hands a one-time code back to a
//! loopback redirect on `127.0.0.1` (an ephemeral port); `POST /token` with the code and the
//! verifier gives the platform's short-lived access token, the broker session handle and the
//! user. No refresh token and no ID token ever reach this computer.
//!
//! - refresh: `POST /session/refresh` with the session handle; `401 invalid_session` means
//!   sign in again ([`SignInError::SignInRequired`]);
//! - sign-out, lock, user switch: `POST /session/end` (best effort: the caller forgets the
//!   session locally whatever happens);
//! - `GET /session/userinfo` names the user of an access token given to `cpis` by
//!   `CPIS_ACCESS_TOKEN` (the platform's tokens are opaque).
//!
//! The flow is split so that the app, the CLI and the tests can drive it:
//! [`Broker::new`], [`LoopbackRedirect::bind`], [`Broker::begin`] (gives the URL to open),
//! [`LoopbackRedirect::wait_for_callback`] with [`PendingSignIn::state`], then
//! [`Broker::complete`].

mod error;
mod loopback;

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use rand::RngCore as _;
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::config::{SignInConfig, TlsConfig, join_path};
use crate::identity::{Organisation, Role, Session, SignedInUser, Tokens};
use crate::redact::Secret;

pub use error::SignInError;
pub use loopback::{CallbackParams, LoopbackRedirect};

/// The app's and the CLI's client id at the broker.
pub const CLIENT_ID: &str = "cpis-viewer";

/// The longest a sign-in waits for the browser to come back.
pub const DEFAULT_SIGN_IN_WAIT: Duration = Duration::from_secs(5 * 60);

/// The most a broker answer may be.
const MAX_BROKER_ANSWER_BYTES: usize = 256 * 1024;

/// A sign-in in progress: the URL to open and what must come back.
pub struct PendingSignIn {
    /// Open this in the system browser.
    pub authorize_url: Url,
    redirect_uri: String,
    state: String,
    code_verifier: Secret,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PendingSignIn")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl PendingSignIn {
    /// The `state` sent: the loopback listener waits for a callback carrying exactly this.
    pub fn state(&self) -> &str {
        &self.state
    }
}

/// The trust's token broker.
#[derive(Debug, Clone)]
pub struct Broker {
    http: reqwest::Client,
    base: Url,
}

/// The user part of the broker's `/token`, `/session/refresh` and `/session/userinfo` answers.
#[derive(Deserialize)]
struct UserAnswer {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    selected_roleid: Option<String>,
    #[serde(default)]
    nhsid_nrbac_roles: Vec<Role>,
    #[serde(default)]
    nhsid_user_orgs: Vec<Organisation>,
    #[serde(default)]
    authentication_assurance_level: Option<NumberOrText>,
}

impl UserAnswer {
    fn into_user(self) -> (SignedInUser, Option<String>) {
        let user = SignedInUser {
            subject: self.sub,
            name: self.name.unwrap_or_else(|| "Not known".to_owned()),
            selected_roleid: self.selected_roleid,
            roles: self.nhsid_nrbac_roles,
            organisations: self.nhsid_user_orgs,
        };
        (
            user,
            self.authentication_assurance_level
                .map(NumberOrText::into_text),
        )
    }
}

/// The broker's token answer (`/token`, and `/session/refresh` without `session`).
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Secret,
    #[serde(default)]
    expires_in: Option<NumberOrText>,
    #[serde(default)]
    session: Option<Secret>,
    #[serde(flatten)]
    user: UserAnswer,
}

/// A number the platform may send as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(u64),
    Text(String),
}

impl NumberOrText {
    fn seconds(&self) -> Option<u64> {
        match self {
            NumberOrText::Number(number) => Some(*number),
            NumberOrText::Text(text) => text.trim().parse().ok(),
        }
    }

    fn into_text(self) -> String {
        match self {
            NumberOrText::Number(number) => number.to_string(),
            NumberOrText::Text(text) => text,
        }
    }
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
}

impl Broker {
    /// A client for the configured broker, trusting the roots `tls` adds.
    pub fn new(config: &SignInConfig, tls: &TlsConfig) -> Result<Broker, SignInError> {
        let http = crate::http::client_builder(tls)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|_| SignInError::Broker("could not set up the HTTP client".to_owned()))?;
        Ok(Broker {
            http,
            base: config.broker_url.clone(),
        })
    }

    /// The broker's base URL.
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// Start a sign-in: a fresh `state` and PKCE S256 verifier, and the broker's `/authorize`
    /// URL to open. `login_hint` pre-selects a user; the development provider signs a
    /// synthetic user in without a page when given one.
    pub fn begin(&self, redirect_uri: &str, login_hint: Option<&str>) -> PendingSignIn {
        let state = random_text(16);
        let code_verifier = random_text(32);
        let challenge = {
            use sha2::Digest as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(code_verifier.as_bytes()))
        };
        let mut authorize_url = join_path(&self.base, &["authorize"]);
        {
            let mut query = authorize_url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", CLIENT_ID)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("state", &state)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        PendingSignIn {
            authorize_url,
            redirect_uri: redirect_uri.to_owned(),
            state,
            code_verifier: Secret::new(code_verifier),
        }
    }

    /// Finish a sign-in: check `state`, then exchange the one-time code with the PKCE verifier
    /// and the exact redirect URI at the broker's `/token`.
    pub async fn complete(
        &self,
        pending: PendingSignIn,
        callback: CallbackParams,
    ) -> Result<Session, SignInError> {
        let state_matches = callback
            .state
            .as_deref()
            .is_some_and(|state| constant_time_equal(state.as_bytes(), pending.state.as_bytes()));
        if !state_matches {
            return Err(SignInError::Refused(
                "the sign-in response did not match the request".to_owned(),
            ));
        }
        if let Some(error) = callback.error {
            return Err(SignInError::Refused(printable(&error)));
        }
        let code = callback.code.ok_or(SignInError::MissingCode)?;
        let body = form_body(&[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", pending.redirect_uri.as_str()),
            ("code_verifier", pending.code_verifier.expose()),
            ("client_id", CLIENT_ID),
        ]);
        let request = self
            .http
            .post(join_path(&self.base, &["token"]))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        let answer: TokenAnswer = self.send(request).await?;
        let now = OffsetDateTime::now_utc();
        let session_handle = answer.session.clone().ok_or(SignInError::InvalidAnswer)?;
        let (tokens, user, assurance_level) = tokens_from(answer, session_handle, now);
        Ok(Session {
            user,
            tokens,
            assurance_level,
            signed_in_at: now,
        })
    }

    /// A fresh access token for the session. Refused past the 12 hour limit, and when the
    /// broker no longer knows the session: [`SignInError::SignInRequired`].
    pub async fn refresh(&self, session: &Session) -> Result<Session, SignInError> {
        let now = OffsetDateTime::now_utc();
        if session.is_past_max_age(now) {
            return Err(SignInError::SignInRequired);
        }
        let request = self
            .http
            .post(join_path(&self.base, &["session", "refresh"]))
            .bearer_auth(session.tokens.session_handle.expose());
        let answer: TokenAnswer = self.send(request).await?;
        if answer.user.sub != session.user.subject {
            return Err(SignInError::SubjectChanged);
        }
        let (tokens, user, assurance_level) =
            tokens_from(answer, session.tokens.session_handle.clone(), now);
        Ok(Session {
            user,
            tokens,
            assurance_level: assurance_level.or_else(|| session.assurance_level.clone()),
            signed_in_at: session.signed_in_at,
        })
    }

    /// End the broker session (it revokes the platform's tokens). Best effort: the caller
    /// forgets the session locally whatever this returns.
    pub async fn end(&self, session_handle: &Secret) -> Result<(), SignInError> {
        let response = self
            .http
            .post(join_path(&self.base, &["session", "end"]))
            .bearer_auth(session_handle.expose())
            .send()
            .await
            .map_err(|error| SignInError::Broker(transport_message(&error)))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SignInError::Broker(format!(
                "the broker answered the sign-out with status {}",
                response.status().as_u16()
            )))
        }
    }

    /// The user (and assurance level) of the live session holding `access_token`.
    pub async fn userinfo(
        &self,
        access_token: &Secret,
    ) -> Result<(SignedInUser, Option<String>), SignInError> {
        let request = self
            .http
            .get(join_path(&self.base, &["session", "userinfo"]))
            .bearer_auth(access_token.expose());
        let answer: UserAnswer = self.send(request).await?;
        Ok(answer.into_user())
    }

    /// Send, read the JSON answer, and turn refusals into errors without any body text.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, SignInError> {
        let response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| SignInError::Broker(transport_message(&error)))?;
        let status = response.status();
        let body = crate::http_body::read_capped(response, MAX_BROKER_ANSWER_BYTES)
            .await
            .map_err(|error| SignInError::Broker(error.to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|_| SignInError::InvalidAnswer);
        }
        let error = serde_json::from_slice::<ErrorAnswer>(&body)
            .map(|answer| printable(&answer.error))
            .ok();
        if status == StatusCode::UNAUTHORIZED || error.as_deref() == Some("invalid_session") {
            return Err(SignInError::SignInRequired);
        }
        Err(SignInError::Broker(match error {
            Some(error) => format!("the broker refused: {error}"),
            None => format!("the broker answered with status {}", status.as_u16()),
        }))
    }
}

fn tokens_from(
    answer: TokenAnswer,
    session_handle: Secret,
    now: OffsetDateTime,
) -> (Tokens, SignedInUser, Option<String>) {
    let access_token_expires_at = answer
        .expires_in
        .as_ref()
        .and_then(NumberOrText::seconds)
        .and_then(|seconds| i64::try_from(seconds).ok())
        .map(|seconds| now + time::Duration::seconds(seconds));
    let (user, assurance_level) = answer.user.into_user();
    (
        Tokens {
            access_token: answer.access_token,
            access_token_expires_at,
            session_handle,
        },
        user,
        assurance_level,
    )
}

/// An `application/x-www-form-urlencoded` body.
fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut url = Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!());
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

/// `bytes` random bytes as base64url text (43 characters for 32 bytes: a PKCE verifier).
fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

/// Keep broker-supplied text short and printable before it reaches a message.
fn printable(text: &str) -> String {
    text.chars()
        .filter(|character| !character.is_control())
        .take(200)
        .collect()
}

fn transport_message(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    }
}

fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker() -> Broker {
        let mut config = crate::Config::defaults_with_data_dir(std::path::PathBuf::new());
        config.sign_in.broker_url = Url::parse("http://127.0.0.1:9/broker").expect("url");
        Broker::new(&config.sign_in, &config.tls).expect("broker")
    }

    #[test]
    fn callback_query_is_read_and_debug_hides_the_code() {
        let params = CallbackParams::from_query("code=abc123&state=xyz&error=access_denied");
        assert_eq!(params.code.as_ref().map(Secret::expose), Some("abc123"));
        assert_eq!(params.state.as_deref(), Some("xyz"));
        assert_eq!(params.error.as_deref(), Some("access_denied"));
        assert!(!format!("{params:?}").contains("abc123"));
    }

    #[test]
    fn constant_time_equal_compares_whole_values() {
        assert!(constant_time_equal(b"same", b"same"));
        assert!(!constant_time_equal(b"same", b"sane"));
        assert!(!constant_time_equal(b"same", b"same-longer"));
    }

    #[test]
    fn the_authorize_url_asks_for_pkce_s256_and_a_state() {
        let pending = broker().begin("http://127.0.0.1:5555/callback", Some("nurse"));
        let url = &pending.authorize_url;
        assert_eq!(url.path(), "/broker/authorize");
        let pairs: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(pairs["client_id"], "cpis-viewer");
        assert_eq!(pairs["redirect_uri"], "http://127.0.0.1:5555/callback");
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert_eq!(pairs["login_hint"], "nurse");
        assert_eq!(pairs["state"], pending.state());
        assert!(pending.state().len() >= 22);
        let expected_challenge = {
            use sha2::Digest as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(
                pending.code_verifier.expose().as_bytes(),
            ))
        };
        assert_eq!(pairs["code_challenge"], expected_challenge);
        assert_eq!(pending.code_verifier.expose().len(), 43);
        assert!(!format!("{pending:?}").contains(pending.code_verifier.expose()));
        let another = broker().begin("http://127.0.0.1:5555/callback", None);
        assert_ne!(another.state(), pending.state());
        assert!(!another.authorize_url.as_str().contains("login_hint"));
    }

    #[test]
    fn numbers_are_read_as_numbers_or_strings() {
        let answer: TokenAnswer = serde_json::from_str(
            r#"{"access_token":"opaque","expires_in":"599","session":"h","sub":"1","authentication_assurance_level":3}"#,
        )
        .expect("answer");
        assert_eq!(
            answer.expires_in.as_ref().and_then(NumberOrText::seconds),
            Some(599)
        );
        assert_eq!(
            answer
                .user
                .authentication_assurance_level
                .map(NumberOrText::into_text),
            Some("3".to_owned())
        );
    }
}
