//! The registered platform app ([`PlatformApp`]: its API key, its public keys, its client
//! secret and the token URL) and its `client_assertion` checks, in the API platform's order
//! and with its distinctions ([`AssertionError`]; `api::oauth` answers each with the platform's
//! text):
//!
//! 1. a JWT at all, with `alg` `RS512` (any other, `none` and HS* included, is refused), a
//!    `kid`, and `typ` `JWT` when a `typ` is given;
//! 2. `iss` = `sub`, and that is the app's API key;
//! 3. `jti` present; `exp` present, an integer, not past and at most 5 minutes ahead;
//! 4. `aud` the token URL;
//! 5. the `kid` names a key in the app's JWKS and the RS512 signature verifies.
//!
//! Whether the `jti` was used before is the store's (`Store::use_jti`).

use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use crate::auth::keys::{KeyLoadError, KeySource, Keys, install_crypto_provider};
use crate::auth::opaque::secrets_equal;
use crate::auth::raw::{raw_header, raw_payload};

/// The longest a client assertion may live: `exp` at most this far ahead.
pub const MAX_ASSERTION_LIFETIME_SECONDS: u64 = 300;

/// Why a client assertion was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// Not a JWT.
    #[error("malformed client assertion")]
    Malformed,
    /// `alg` is not RS512.
    #[error("client assertion algorithm not allowed")]
    Algorithm,
    /// No `kid` header.
    #[error("client assertion has no kid")]
    MissingKid,
    /// `typ` given and not `JWT`.
    #[error("client assertion typ not JWT")]
    Typ,
    /// `iss` or `sub` missing, or different.
    #[error("client assertion iss/sub missing or different")]
    IssSub,
    /// `iss` = `sub` but not the registered API key.
    #[error("client assertion names another app")]
    UnknownClient,
    /// No `jti`.
    #[error("client assertion has no jti")]
    MissingJti,
    /// No `exp`.
    #[error("client assertion has no exp")]
    MissingExp,
    /// `exp` is not an integer.
    #[error("client assertion exp not a number")]
    BadExp,
    /// `exp` more than 5 minutes ahead.
    #[error("client assertion lives too long")]
    ExpTooFar,
    /// `exp` has passed.
    #[error("client assertion expired")]
    Expired,
    /// `aud` missing or not the token URL.
    #[error("client assertion audience not the token URL")]
    Audience,
    /// No key in the app's JWKS with this `kid`.
    #[error("client assertion key not known")]
    UnknownKey,
    /// The signature does not verify.
    #[error("client assertion signature not valid")]
    Signature,
}

/// A verified client assertion: what the replay check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The `jti`.
    pub jti: String,
    /// The `exp` (seconds since the epoch).
    pub exp: u64,
}

/// How long the platform's access tokens live unless configured otherwise (ten minutes, as the
/// API platform's).
pub const DEFAULT_ACCESS_TOKEN_SECONDS: i64 = 600;

/// The registered platform app (the trust's broker).
pub struct PlatformApp {
    api_key: String,
    token_url: String,
    client_secret: Option<String>,
    access_token_seconds: i64,
    keys: Keys,
}

impl std::fmt::Debug for PlatformApp {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PlatformApp")
            .field("api_key", &self.api_key)
            .field("token_url", &self.token_url)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<set>"),
            )
            .finish_non_exhaustive()
    }
}

impl PlatformApp {
    /// The app with API key `api_key`, its public keys from `source` (loaded now, so bad
    /// configuration fails at start), its client secret (refresh and revocation are refused
    /// without one) and the token URL its assertions must name as `aud`.
    pub async fn new(
        api_key: &str,
        source: KeySource,
        client_secret: Option<String>,
        token_url: &str,
    ) -> Result<PlatformApp, KeyLoadError> {
        install_crypto_provider();
        Ok(PlatformApp {
            api_key: api_key.to_owned(),
            token_url: token_url.to_owned(),
            client_secret: client_secret.map(|secret| secret.trim().to_owned()),
            access_token_seconds: DEFAULT_ACCESS_TOKEN_SECONDS,
            keys: Keys::load(api_key, source).await?,
        })
    }

    /// Change how soon an unknown `kid` may refetch a JWKS URL (default one minute).
    pub fn with_refresh_interval(mut self, interval: Duration) -> PlatformApp {
        self.keys.set_refresh_interval(interval);
        self
    }

    /// Issue access tokens that live `seconds` instead of the platform's ten minutes (the
    /// end-to-end tests shorten it to see the app refresh).
    pub fn with_access_token_seconds(mut self, seconds: u32) -> PlatformApp {
        self.access_token_seconds = i64::from(seconds);
        self
    }

    /// How long an access token lives, in seconds.
    pub fn access_token_seconds(&self) -> i64 {
        self.access_token_seconds
    }

    /// The API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The token URL (`aud` of its assertions).
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// Whether `client_id` and `client_secret` are this app's (refresh, revocation).
    pub fn authenticates(&self, client_id: &str, client_secret: &str) -> bool {
        let Some(secret) = &self.client_secret else {
            return false;
        };
        // Both compared, always, in time independent of where they differ.
        let id_ok = secrets_equal(client_id, &self.api_key);
        let secret_ok = secrets_equal(client_secret, secret);
        id_ok && secret_ok && !client_secret.is_empty()
    }

    /// Check a client assertion at `now` (seconds since the epoch).
    pub async fn verify_assertion(
        &self,
        assertion: &str,
        now: u64,
    ) -> Result<VerifiedAssertion, AssertionError> {
        let header = raw_header(assertion).ok_or(AssertionError::Malformed)?;
        let claims = raw_payload(assertion).ok_or(AssertionError::Malformed)?;
        if header.get("alg").and_then(Value::as_str) != Some("RS512") {
            return Err(AssertionError::Algorithm);
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .filter(|kid| !kid.is_empty())
            .ok_or(AssertionError::MissingKid)?;
        if let Some(typ) = header.get("typ")
            && !typ
                .as_str()
                .is_some_and(|typ| typ.eq_ignore_ascii_case("JWT"))
        {
            return Err(AssertionError::Typ);
        }
        let iss = claims.get("iss").and_then(Value::as_str);
        let sub = claims.get("sub").and_then(Value::as_str);
        match (iss, sub) {
            (Some(iss), Some(sub)) if iss == sub && !iss.is_empty() => {
                if iss != self.api_key {
                    return Err(AssertionError::UnknownClient);
                }
            }
            _ => return Err(AssertionError::IssSub),
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|jti| !jti.is_empty())
            .ok_or(AssertionError::MissingJti)?;
        let exp = claims.get("exp").ok_or(AssertionError::MissingExp)?;
        let exp = exp.as_u64().ok_or(AssertionError::BadExp)?;
        if exp > now + MAX_ASSERTION_LIFETIME_SECONDS {
            return Err(AssertionError::ExpTooFar);
        }
        if exp <= now {
            return Err(AssertionError::Expired);
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => *aud == self.token_url,
            Some(Value::Array(auds)) => {
                auds.iter().any(|aud| aud.as_str() == Some(&self.token_url))
            }
            _ => false,
        };
        if !audience_ok {
            return Err(AssertionError::Audience);
        }
        let key = match self.keys.find_key(Some(kid)) {
            Some(key) => key,
            None if self.keys.refresh_keys().await => self
                .keys
                .find_key(Some(kid))
                .ok_or(AssertionError::UnknownKey)?,
            None => return Err(AssertionError::UnknownKey),
        };
        if key
            .algorithm
            .is_some_and(|pinned| pinned != Algorithm::RS512)
        {
            return Err(AssertionError::Signature);
        }
        let mut validation = Validation::new(Algorithm::RS512);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(assertion, &key.key, &validation)
            .map_err(|_| AssertionError::Signature)?;
        Ok(VerifiedAssertion {
            jti: jti.to_owned(),
            exp,
        })
    }
}
