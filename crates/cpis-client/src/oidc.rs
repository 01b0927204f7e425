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

mod error;
mod loopback;
mod messages;
mod metadata;
mod provider_http;

use std::fmt;
use std::time::Duration;

use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow, CoreJwsSigningAlgorithm};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RevocationUrl, Scope,
    TokenResponse,
};
use time::OffsetDateTime;

use crate::config::{OidcConfig, TlsConfig};
use crate::identity::{Session, SignedInUser, Tokens};
use crate::redact::Secret;

pub use error::OidcError;
pub use loopback::{CallbackParams, LoopbackRedirect};
use messages::{discovery_message, printable, token_request_message};
pub use metadata::{NhsClaims, RevocationMetadata};
use metadata::{NhsClient, NhsProviderMetadata, NhsTokenResponse};
pub use provider_http::ProviderHttpError;
use provider_http::{ProviderHttp, transport_message};

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
