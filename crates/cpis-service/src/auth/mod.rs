//! The API platform's authentication, as NHS England's API platform (APIM) does it for the
//! "CIS2 separate authentication" pattern: a trust's app exchanges a CIS2 ID token for an
//! opaque access token at `POST /oauth2/token` (`api::oauth`), and the APIs accept only those
//! opaque tokens. This module holds the pieces below the HTTP layer:
//!
//! - [`Verifier`]: the CIS2 ID token (the exchange's `subject_token`) verified for signature
//!   against the CIS2 issuer's JWKS (from its OpenID discovery document, or a file for offline
//!   sites), with an algorithm allow-list (RS*, PS*, ES256, ES384, EdDSA; never `none` or HS*),
//!   and for `iss` (the configured CIS2 issuer), `aud` (the registered CIS2 client id), `exp`
//!   and `nbf` (when present), with 30 seconds of leeway. Verified ID tokens are cached by
//!   SHA-256 until their `exp`. Crypto is `jsonwebtoken` on its `aws_lc_rs`
//!   backend, installed explicitly at start.
//! - [`CallerCache`]: callers resolved from an opaque access token, kept for
//!   [`CALLER_CACHE_SECONDS`] (revocation here forgets them at once).
//! - [`assertion`]: the registered platform app and its RS512 `client_assertion` checks.
//! - [`scopes`]: what each assurance level is granted and what each API accepts.
//! - [`opaque`]: the opaque tokens, stored only as SHA-256 hashes.
//! - [`raw`]: a JWT's header and payload read without trusting them (to answer precisely).
//! - [`claims`]: the ID token claims kept ([`Claims`]) and the caller handlers see
//!   ([`Principal`]).
//!
//! ID token claims read (document these when configuring a real CIS2 client):
//! - `iss`, `aud`, `exp`, `sub` (required), `nbf` (optional);
//! - `name` (required): the user's name, shown in access histories and notifications;
//! - `selected_roleid` (optional): the role used when a request sends no `NHSD-Session-URID`;
//! - `authentication_assurance_level` (`"3"` or `"2"`): which scopes are granted.
//!
//! No roles are read from any token: the role a request acts in is looked up in the
//! platform's role directory (`store::roles`) by the request extractor (`extract`).

pub mod assertion;
mod cache;
pub mod claims;
pub mod keys;
pub mod opaque;
pub mod raw;
pub mod scopes;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Validation;

use crate::auth::cache::TokenCache;
use crate::auth::keys::Keys;

pub use crate::auth::assertion::{AssertionError, PlatformApp, VerifiedAssertion};
pub use crate::auth::cache::{CALLER_CACHE_SECONDS, CallerCache, TokenHash};
pub use crate::auth::claims::{Claims, Principal};
pub use crate::auth::keys::{ALLOWED_ALGORITHMS, KeyLoadError, KeySource, install_crypto_provider};
pub use crate::auth::raw::{raw_header, raw_payload};
pub use crate::auth::scopes::Api;

const LEEWAY_SECONDS: u64 = 30;

/// Why a token was refused. The text is safe to return: it never includes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Not a well-formed JWT.
    #[error("malformed token")]
    Malformed,
    /// The algorithm is not allowed.
    #[error("token algorithm not allowed")]
    AlgorithmNotAllowed,
    /// No key with the token's `kid`.
    #[error("token signing key not known")]
    UnknownKey,
    /// The signature does not verify.
    #[error("token signature not valid")]
    BadSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// Wrong `aud`.
    #[error("token audience not accepted")]
    WrongAudience,
    /// Wrong `iss`.
    #[error("token issuer not accepted")]
    WrongIssuer,
    /// A required claim is missing or of the wrong type.
    #[error("token claims not valid")]
    BadClaims,
    /// The keys could not be fetched.
    #[error("signing keys unavailable")]
    KeysUnavailable,
    /// An API was called with something that is not a live access token issued here (a JWT
    /// included): unknown, expired or revoked.
    #[error("not a valid access token issued by this platform")]
    UnknownToken,
    /// The access token's grant has no scope for this API.
    #[error("the access token has no scope for this API")]
    MissingScope,
}

impl AuthError {
    /// A stable code for metrics.
    pub fn code(self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed => "malformed",
            AuthError::AlgorithmNotAllowed => "algorithm",
            AuthError::UnknownKey => "unknown_key",
            AuthError::BadSignature => "signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::WrongAudience => "audience",
            AuthError::WrongIssuer => "issuer",
            AuthError::BadClaims => "claims",
            AuthError::KeysUnavailable => "keys_unavailable",
            AuthError::UnknownToken => "unknown_token",
            AuthError::MissingScope => "scope",
        }
    }
}

/// Verifies CIS2 ID tokens. Shared by all requests.
pub struct Verifier {
    issuer: String,
    audience: String,
    keys: Keys,
    cache: TokenCache,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// The `alg` of a token's header, read without trusting anything else in it.
fn raw_header_algorithm(token: &str) -> Option<String> {
    raw_header(token)?.get("alg")?.as_str().map(str::to_owned)
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

impl Verifier {
    /// Make a verifier for ID tokens of `issuer` addressed to `audience` (the registered CIS2
    /// client id) and load its keys now, so bad configuration fails at start.
    pub async fn new(
        issuer: &str,
        audience: &str,
        source: KeySource,
    ) -> Result<Verifier, KeyLoadError> {
        install_crypto_provider();
        Ok(Verifier {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            keys: Keys::load(issuer, source).await?,
            cache: TokenCache::default(),
        })
    }

    /// Change how soon an unknown `kid` may refetch the JWKS (default one minute).
    pub fn with_refresh_interval(mut self, interval: Duration) -> Verifier {
        self.keys.set_refresh_interval(interval);
        self
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How many verified tokens are cached (for tests and metrics).
    pub fn cached_tokens(&self) -> usize {
        self.cache.len()
    }

    /// Verify an ID token and return its claims. The result is cached until `exp`.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, AuthError> {
        let now = now_seconds();
        let hash = TokenCache::hash(token);
        if let Some(claims) = self.cache.get(&hash, now) {
            return Ok(claims);
        }
        let claims = Arc::new(self.verify_uncached(token).await?);
        self.cache.put(hash, claims.clone(), claims.exp, now);
        Ok(claims)
    }

    async fn verify_uncached(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            // `alg: none` and unknown algorithms fail to parse: say so rather than "malformed".
            if raw_header_algorithm(token).is_some_and(|alg| {
                !ALLOWED_ALGORITHMS
                    .iter()
                    .any(|allowed| format!("{allowed:?}") == alg)
            }) {
                AuthError::AlgorithmNotAllowed
            } else {
                AuthError::Malformed
            }
        })?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let key = match self.keys.find_key(header.kid.as_deref()) {
            Some(key) => key,
            None => {
                if self.keys.refresh_keys().await {
                    self.keys
                        .find_key(header.kid.as_deref())
                        .ok_or(AuthError::UnknownKey)?
                } else {
                    return Err(AuthError::UnknownKey);
                }
            }
        };
        if key.algorithm.is_some_and(|pinned| pinned != header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[self.audience.as_str()]);
        let data =
            jsonwebtoken::decode::<Claims>(token, &key.key, &validation).map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                match error.kind() {
                    ErrorKind::InvalidSignature => AuthError::BadSignature,
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                    ErrorKind::InvalidAudience => AuthError::WrongAudience,
                    ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        AuthError::AlgorithmNotAllowed
                    }
                    ErrorKind::MissingRequiredClaim(_)
                    | ErrorKind::InvalidSubject
                    | ErrorKind::Json(_) => AuthError::BadClaims,
                    ErrorKind::InvalidKeyFormat
                    | ErrorKind::InvalidRsaKey(_)
                    | ErrorKind::InvalidEcdsaKey => AuthError::UnknownKey,
                    _ => AuthError::Malformed,
                }
            })?;
        Ok(data.claims)
    }
}
