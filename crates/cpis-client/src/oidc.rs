//! OpenID Connect sign-in for a native app (RFC 8252) with the `openidconnect` crate:
//! discovery, authorization code flow with PKCE S256 in the system browser, a loopback redirect
//! on `127.0.0.1` with an ephemeral port, `state` and `nonce` checked, the ID token validated as
//! OpenID Connect Core 3.1.3.7 says (issuer, audience, `azp`, expiry, signature from the
//! provider's JWKS with an algorithm allow-list; `none` and HS* refused), refresh, and a 12 hour
//! limit on every session.
//!
//! The flow is split so that an app, the CLI and the tests can drive it:
//! [`SignIn::discover`], [`LoopbackRedirect::bind`], [`SignIn::begin`] (gives the URL to open),
//! [`LoopbackRedirect::wait_for_callback`], then [`SignIn::complete`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AsyncHttpClient, AuthorizationCode, ClientId,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, RevocationUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::config::{OidcConfig, TlsConfig};
use crate::identity::{Organisation, Role, Session, SignedInUser, Tokens};
use crate::redact::Secret;

/// Scopes asked for, as the NHS Care Identity Service names them (`openid` is added by the
/// crate). `offline_access` asks for a refresh token.
pub const SCOPES: [&str; 5] = [
    "profile",
    "nationalrbacaccess",
    "associatedorgs",
    "selectedrole",
    "offline_access",
];

/// ID token signature algorithms accepted. `none` and the HMAC family are never accepted.
pub const ALLOWED_ID_TOKEN_ALGS: [CoreJwsSigningAlgorithm; 3] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
];

/// The longest a sign-in waits for the browser to come back.
pub const DEFAULT_SIGN_IN_WAIT: Duration = Duration::from_secs(5 * 60);
/// The most a provider response may be.
const MAX_PROVIDER_RESPONSE_BYTES: usize = 1024 * 1024;
/// The most of an HTTP request head the loopback listener reads.
const MAX_CALLBACK_REQUEST_BYTES: usize = 16 * 1024;

/// The NHS CIS2 claims beyond the standard ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NhsClaims {
    /// The role the user selected at sign-in.
    #[serde(default)]
    pub selected_roleid: Option<String>,
    /// Every role the user holds.
    #[serde(default)]
    pub nhsid_nrbac_roles: Vec<Role>,
    /// The organisations the user works for.
    #[serde(default)]
    pub nhsid_user_orgs: Vec<Organisation>,
}

impl AdditionalClaims for NhsClaims {}

/// Discovery metadata beyond OpenID Connect Discovery: the RFC 7009 revocation endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevocationMetadata {
    /// Where tokens are revoked, if the provider says.
    #[serde(default)]
    pub revocation_endpoint: Option<RevocationUrl>,
}

impl AdditionalProviderMetadata for RevocationMetadata {}

type NhsProviderMetadata = openidconnect::ProviderMetadata<
    RevocationMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type NhsIdTokenFields = IdTokenFields<
    NhsClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type NhsTokenResponse = StandardTokenResponse<NhsIdTokenFields, CoreTokenType>;
type NhsClient = openidconnect::Client<
    NhsClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    NhsTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

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

/// The HTTP client the `openidconnect` crate uses: our reqwest, with redirects off (as the crate
/// advises against SSRF) and a size cap on responses.
#[derive(Debug, Clone)]
struct ProviderHttp {
    client: reqwest::Client,
}

/// A transport failure talking to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderHttpError(String);

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, ProviderHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|error| ProviderHttpError(transport_message(&error)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = crate::http_body::read_capped(response, MAX_PROVIDER_RESPONSE_BYTES)
                .await
                .map_err(|error| ProviderHttpError(error.to_string()))?;
            let mut http_response = HttpResponse::new(body);
            *http_response.status_mut() = status;
            *http_response.headers_mut() = headers;
            Ok(http_response)
        })
    }
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

/// A sign-in in progress: the URL to open and what must come back.
pub struct PendingSignIn {
    /// Open this in the system browser.
    pub authorize_url: openidconnect::url::Url,
    redirect_uri: RedirectUrl,
    state: CsrfToken,
    nonce: Nonce,
    pkce_verifier: PkceCodeVerifier,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PendingSignIn")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

/// What the browser brought back to the loopback redirect.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<Secret>,
    /// The state.
    pub state: Option<String>,
    /// The issuer (RFC 9207), when the provider sends it.
    pub iss: Option<String>,
    /// An error code from the provider.
    pub error: Option<String>,
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl CallbackParams {
    /// Read the query string of the redirect.
    pub fn from_query(query: &str) -> CallbackParams {
        let mut params = CallbackParams::default();
        for (key, value) in openidconnect::url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "code" => params.code = Some(Secret::new(value.into_owned())),
                "state" => params.state = Some(value.into_owned()),
                "iss" => params.iss = Some(value.into_owned()),
                "error" => params.error = Some(value.into_owned()),
                _ => {}
            }
        }
        params
    }
}

/// The loopback listener for the redirect (RFC 8252 7.3): `127.0.0.1`, a port the OS picks.
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    redirect_uri: String,
}

impl LoopbackRedirect {
    /// Listen on `127.0.0.1` on an ephemeral port.
    pub async fn bind() -> Result<LoopbackRedirect, OidcError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|error| OidcError::Loopback(error.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|error| OidcError::Loopback(error.to_string()))?
            .port();
        Ok(LoopbackRedirect {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
        })
    }

    /// The redirect URI to register in the request, port included.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Wait for the browser to come back to `/callback`, answering it with a short page. Other
    /// paths (such as `/favicon.ico`) get a 404 and the wait goes on.
    pub async fn wait_for_callback(self, wait: Duration) -> Result<CallbackParams, OidcError> {
        tokio::time::timeout(wait, async {
            loop {
                let (stream, _) = self
                    .listener
                    .accept()
                    .await
                    .map_err(|error| OidcError::Loopback(error.to_string()))?;
                if let Some(params) = handle_callback_connection(stream).await {
                    return Ok(params);
                }
            }
        })
        .await
        .map_err(|_| OidcError::TimedOut)?
    }
}

const CALLBACK_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>CP-IS Viewer sign-in</title></head><body><main><h1>Sign-in received</h1><p>You can close this browser tab and go back to CP-IS Viewer.</p></main></body></html>";

async fn handle_callback_connection(mut stream: TcpStream) -> Option<CallbackParams> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 1024];
    let read_head = async {
        loop {
            let read = stream.read(&mut buffer).await.ok()?;
            if read == 0 {
                return None;
            }
            head.extend_from_slice(&buffer[..read]);
            if head.windows(4).any(|window| window == b"\r\n\r\n") {
                return Some(());
            }
            if head.len() > MAX_CALLBACK_REQUEST_BYTES {
                return None;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read_head)
        .await
        .ok()??;
    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" || path != "/callback" {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
        return None;
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{CALLBACK_PAGE}",
        CALLBACK_PAGE.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    Some(CallbackParams::from_query(query))
}

/// A discovered identity provider, ready to sign users in.
#[derive(Debug, Clone)]
pub struct SignIn {
    client: NhsClient,
    http: ProviderHttp,
    issuer: String,
    revocation_url: Option<RevocationUrl>,
}

impl SignIn {
    /// Fetch the discovery document and the keys, trusting the roots `tls` adds.
    pub async fn discover(config: &OidcConfig, tls: &TlsConfig) -> Result<SignIn, OidcError> {
        let http = ProviderHttp {
            client: crate::http::client_builder(tls)
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(15))
                .build()
                .map_err(|error| OidcError::Discovery(transport_message(&error)))?,
        };
        let issuer_url = IssuerUrl::new(config.issuer.clone())
            .map_err(|_| OidcError::Discovery("the issuer is not a valid URL".to_owned()))?;
        let metadata = NhsProviderMetadata::discover_async(issuer_url, &http)
            .await
            .map_err(|error| OidcError::Discovery(discovery_message(&error)))?;
        let revocation_url = metadata.additional_metadata().revocation_endpoint.clone();
        let client = NhsClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            None,
        );
        Ok(SignIn {
            client,
            http,
            issuer: config.issuer.clone(),
            revocation_url,
        })
    }

    /// Start a sign-in: a fresh `state`, `nonce` and PKCE S256 verifier, and the URL to open.
    /// `prompt=login` makes the provider authenticate the person at the keyboard even if the
    /// browser has a session (shared clinical workstations). `login_hint` pre-selects a user; the
    /// development provider signs a synthetic user in without a page when given one.
    pub fn begin(
        &self,
        redirect_uri: &str,
        login_hint: Option<&str>,
    ) -> Result<PendingSignIn, OidcError> {
        let redirect_uri = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| OidcError::Loopback("invalid redirect URI".to_owned()))?;
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_redirect_uri(std::borrow::Cow::Owned(redirect_uri.clone()))
            .set_pkce_challenge(pkce_challenge)
            .add_prompt(CoreAuthPrompt::Login);
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (authorize_url, state, nonce) = request.url();
        Ok(PendingSignIn {
            authorize_url,
            redirect_uri,
            state,
            nonce,
            pkce_verifier,
        })
    }

    /// Finish a sign-in: check `state` (and `iss` when sent), exchange the code with the PKCE
    /// verifier and the exact redirect URI, validate the ID token, and read the user.
    pub async fn complete(
        &self,
        pending: PendingSignIn,
        callback: CallbackParams,
    ) -> Result<Session, OidcError> {
        let state_matches = callback.state.as_deref().is_some_and(|state| {
            constant_time_equal(state.as_bytes(), pending.state.secret().as_bytes())
        });
        if !state_matches {
            return Err(OidcError::StateMismatch);
        }
        if let Some(iss) = &callback.iss
            && iss.trim_end_matches('/') != self.issuer.trim_end_matches('/')
        {
            return Err(OidcError::IssuerMismatch);
        }
        if let Some(error) = callback.error {
            return Err(OidcError::Refused(printable(&error)));
        }
        let code = callback.code.ok_or(OidcError::MissingCode)?;
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .map_err(|_| OidcError::TokenRequest("the provider has no token endpoint".to_owned()))?
            .set_pkce_verifier(pending.pkce_verifier)
            .set_redirect_uri(std::borrow::Cow::Owned(pending.redirect_uri))
            .request_async(&self.http)
            .await
            .map_err(token_request_message)?;
        let now = OffsetDateTime::now_utc();
        let nonce = pending.nonce;
        let (user, id_token) =
            self.verified_user(
                &response,
                |claims_nonce: Option<&Nonce>| match claims_nonce {
                    Some(claims_nonce)
                        if constant_time_equal(
                            claims_nonce.secret().as_bytes(),
                            nonce.secret().as_bytes(),
                        ) =>
                    {
                        Ok(())
                    }
                    Some(_) => Err("nonce mismatch".to_owned()),
                    None => Err("missing nonce claim".to_owned()),
                },
            )?;
        Ok(Session {
            user,
            tokens: tokens_from(&response, id_token, None, now),
            signed_in_at: now,
        })
    }

    /// Use the refresh token for new tokens. Refused past the 12 hour limit: sign in again.
    pub async fn refresh(&self, session: &Session) -> Result<Session, OidcError> {
        let now = OffsetDateTime::now_utc();
        if session.is_past_max_age(now) {
            return Err(OidcError::SignInRequired);
        }
        let refresh_token = session
            .tokens
            .refresh_token
            .as_ref()
            .ok_or(OidcError::SignInRequired)?;
        let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
        let response = self
            .client
            .exchange_refresh_token(&refresh_token)
            .map_err(|_| OidcError::TokenRequest("the provider has no token endpoint".to_owned()))?
            .request_async(&self.http)
            .await
            .map_err(token_request_message)?;
        let mut refreshed = session.clone();
        if response.id_token().is_some() {
            // A refreshed ID token carries no nonce (Core 12.2); everything else is checked.
            let (user, id_token) = self.verified_user(&response, |_: Option<&Nonce>| Ok(()))?;
            if user.subject != session.user.subject {
                return Err(OidcError::SubjectChanged);
            }
            refreshed.user = user;
            refreshed.tokens = tokens_from(
                &response,
                id_token,
                session.tokens.refresh_token.clone(),
                now,
            );
        } else {
            refreshed.tokens = tokens_from(
                &response,
                session.tokens.id_token.clone(),
                session.tokens.refresh_token.clone(),
                now,
            );
        }
        Ok(refreshed)
    }

    /// Revoke the session's refresh token at the provider (RFC 7009), so a copy of it is
    /// useless after sign-out. Best effort: the caller clears the keyring whatever happens.
    /// `Ok(false)` when there was nothing to revoke or the provider offers no revocation.
    pub async fn revoke(&self, session: &Session) -> Result<bool, OidcError> {
        let (Some(refresh_token), Some(revocation_url)) =
            (&session.tokens.refresh_token, &self.revocation_url)
        else {
            return Ok(false);
        };
        // RFC 7009 is one form POST. It is written out here because the `oauth2` crate refuses
        // a revocation endpoint without TLS, which the loopback development provider is;
        // plain HTTP is accepted only to a loopback address.
        let url = revocation_url.url();
        let loopback = matches!(
            url.host(),
            Some(openidconnect::url::Host::Ipv4(address)) if address.is_loopback()
        ) || matches!(
            url.host(),
            Some(openidconnect::url::Host::Ipv6(address)) if address.is_loopback()
        ) || url.host_str() == Some("localhost");
        if url.scheme() != "https" && !loopback {
            return Err(OidcError::TokenRequest(
                "the revocation endpoint does not use https".to_owned(),
            ));
        }
        let body = openidconnect::url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", refresh_token.expose())
            .append_pair("token_type_hint", "refresh_token")
            .append_pair("client_id", self.client.client_id().as_str())
            .finish();
        let response = self
            .http
            .client
            .post(url.as_str())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|error| OidcError::TokenRequest(transport_message(&error)))?;
        if !response.status().is_success() {
            return Err(OidcError::TokenRequest(format!(
                "the provider answered the revocation with status {}",
                response.status().as_u16()
            )));
        }
        Ok(true)
    }

    fn verified_user<N: openidconnect::NonceVerifier>(
        &self,
        response: &NhsTokenResponse,
        nonce_verifier: N,
    ) -> Result<(SignedInUser, Secret), OidcError> {
        let id_token = response.id_token().ok_or(OidcError::MissingIdToken)?;
        let verifier = self
            .client
            .id_token_verifier()
            .set_allowed_algs(ALLOWED_ID_TOKEN_ALGS);
        let claims = id_token
            .claims(&verifier, nonce_verifier)
            .map_err(|error| OidcError::InvalidIdToken(printable(&error.to_string())))?;
        // Core 3.1.3.8: at_hash is optional in the code flow; when present it must match.
        if let Some(expected) = claims.access_token_hash() {
            let signing_alg = id_token
                .signing_alg()
                .map_err(|error| OidcError::InvalidIdToken(printable(&error.to_string())))?;
            let signing_key = id_token
                .signing_key(&verifier)
                .map_err(|error| OidcError::InvalidIdToken(printable(&error.to_string())))?;
            let actual = openidconnect::AccessTokenHash::from_token(
                response.access_token(),
                signing_alg,
                signing_key,
            )
            .map_err(|error| OidcError::InvalidIdToken(printable(&error.to_string())))?;
            if &actual != expected {
                return Err(OidcError::InvalidIdToken(
                    "access token hash mismatch".to_owned(),
                ));
            }
        }
        let name = claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.as_str().to_owned())
            .or_else(|| {
                let given = claims.given_name().and_then(|name| name.get(None))?;
                let family = claims.family_name().and_then(|name| name.get(None))?;
                Some(format!("{} {}", given.as_str(), family.as_str()))
            })
            .unwrap_or_else(|| "Not known".to_owned());
        let extra = claims.additional_claims();
        let user = SignedInUser {
            subject: claims.subject().as_str().to_owned(),
            name,
            selected_roleid: extra.selected_roleid.clone(),
            roles: extra.nhsid_nrbac_roles.clone(),
            organisations: extra.nhsid_user_orgs.clone(),
        };
        Ok((user, Secret::new(id_token.to_string())))
    }
}

fn tokens_from(
    response: &NhsTokenResponse,
    id_token: Secret,
    previous_refresh: Option<Secret>,
    now: OffsetDateTime,
) -> Tokens {
    let access_token_expires_at = response
        .expires_in()
        .and_then(|duration| time::Duration::try_from(duration).ok())
        .map(|duration| now + duration);
    Tokens {
        access_token: Secret::new(response.access_token().secret().clone()),
        access_token_expires_at,
        refresh_token: response
            .refresh_token()
            .map(|token| Secret::new(token.secret().clone()))
            .or(previous_refresh),
        id_token,
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

/// Keep provider-supplied text short and printable before it reaches a message.
fn printable(text: &str) -> String {
    text.chars()
        .filter(|character| !character.is_control())
        .take(200)
        .collect()
}

fn discovery_message<E: std::error::Error>(error: &openidconnect::DiscoveryError<E>) -> String {
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

fn token_request_message<RE: std::error::Error + 'static>(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_query_is_read_and_debug_hides_the_code() {
        let params =
            CallbackParams::from_query("code=abc123&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A9090");
        assert_eq!(params.code.as_ref().map(Secret::expose), Some("abc123"));
        assert_eq!(params.state.as_deref(), Some("xyz"));
        assert_eq!(params.iss.as_deref(), Some("http://127.0.0.1:9090"));
        assert!(!format!("{params:?}").contains("abc123"));
    }

    #[test]
    fn constant_time_equal_compares_whole_values() {
        assert!(constant_time_equal(b"same", b"same"));
        assert!(!constant_time_equal(b"same", b"sane"));
        assert!(!constant_time_equal(b"same", b"same-longer"));
    }

    #[test]
    fn the_allow_list_has_no_none_or_hmac() {
        for alg in ALLOWED_ID_TOKEN_ALGS {
            assert!(!matches!(
                alg,
                CoreJwsSigningAlgorithm::None
                    | CoreJwsSigningAlgorithm::HmacSha256
                    | CoreJwsSigningAlgorithm::HmacSha384
                    | CoreJwsSigningAlgorithm::HmacSha512
            ));
        }
    }

    #[tokio::test]
    async fn loopback_answers_the_callback_and_ignores_other_paths() {
        let loopback = LoopbackRedirect::bind().await.expect("bind");
        let redirect_uri = loopback.redirect_uri().to_owned();
        assert!(redirect_uri.starts_with("http://127.0.0.1:"));
        let waiter = tokio::spawn(loopback.wait_for_callback(Duration::from_secs(5)));
        let http = reqwest::Client::new();
        let base = redirect_uri.trim_end_matches("/callback").to_owned();
        let favicon = http
            .get(format!("{base}/favicon.ico"))
            .send()
            .await
            .expect("favicon");
        assert_eq!(favicon.status(), 404);
        let page = http
            .get(format!("{redirect_uri}?code=c0de&state=st4te"))
            .send()
            .await
            .expect("callback");
        assert_eq!(page.status(), 200);
        let params = waiter.await.expect("task").expect("params");
        assert_eq!(params.state.as_deref(), Some("st4te"));
    }

    #[tokio::test]
    async fn loopback_times_out() {
        let loopback = LoopbackRedirect::bind().await.expect("bind");
        assert_eq!(
            loopback.wait_for_callback(Duration::from_millis(50)).await,
            Err(OidcError::TimedOut)
        );
    }
}
