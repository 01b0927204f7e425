//! Bearer token validation: the [`Verifier`] every request goes through, over [`claims`] (the
//! caller and their role), [`keys`] (the signing keys) and [`cache`] (verified tokens).
//!
//! Every API request carries a JWT access token. It is verified for signature against a JWKS
//! (from the issuer's OpenID discovery document, or a file for offline sites), with an algorithm
//! allow-list (RS*, PS*, ES256, ES384, EdDSA; never `none` or HS*), and for `iss`, `aud`, `exp`
//! and `nbf` (when present), with 30 seconds of leeway. Crypto is `jsonwebtoken` on its
//! `aws_lc_rs` backend, installed explicitly at start.
//!
//! Claims read (document these when configuring a real identity provider):
//! - `iss`, `aud`, `exp` (required), `nbf` (optional);
//! - `sub` (required): the user id;
//! - `name` (required): the user's name, shown in access histories and notifications;
//! - `selected_roleid` (optional): the `person_roleid` of the selected role;
//! - `nhsid_nrbac_roles` (optional list): `{person_roleid, org_code, role_code, role_name,
//!   activity_codes}`; the selected role is the entry whose `person_roleid` equals
//!   `selected_roleid`;
//! - `nhsid_user_orgs` (optional list): `{org_code, org_name}`, for the organisation's name
//!   (the ODS code is used when it is absent).
//!
//! Verified tokens are cached by the SHA-256 of the token until their `exp` (bounded in size),
//! so a repeat request skips the signature check.

mod cache;
pub mod claims;
pub mod keys;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Validation;

use crate::auth::cache::TokenCache;
use crate::auth::claims::Claims;
use crate::auth::keys::Keys;

pub use crate::auth::claims::Principal;
pub use crate::auth::keys::{ALLOWED_ALGORITHMS, KeyLoadError, KeySource, install_crypto_provider};

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
        }
    }
}

/// Verifies tokens. Shared by all requests.
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
    use base64::Engine;
    let segment = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    header.get("alg")?.as_str().map(str::to_owned)
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

impl Verifier {
    /// Make a verifier and load its keys now, so bad configuration fails at start.
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

    /// Verify a token and return who it is for. The result is cached until `exp`.
    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        let now = now_seconds();
        let hash = TokenCache::hash(token);
        if let Some(principal) = self.cache.get(&hash, now) {
            return Ok(principal);
        }
        let claims = self.verify_uncached(token).await?;
        let expires_at = claims.exp;
        let principal = Arc::new(claims.principal());
        self.cache.put(hash, principal.clone(), expires_at, now);
        Ok(principal)
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
