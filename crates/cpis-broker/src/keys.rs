//! The broker's signing key: the RS512 client assertions it sends to CIS2 (`private_key_jwt`)
//! and to the API platform (`client_assertion`), and the public JWKS it publishes.
//!
//! While a key is being rotated the JWKS holds two keys (the signing key's and the extra file's);
//! only the configured `kid` signs.

use std::fmt;
use std::path::Path;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use time::OffsetDateTime;

/// How far ahead an assertion's `exp` is: under the platform's 5 minute limit.
pub const ASSERTION_LIFETIME_SECONDS: i64 = 240;
/// The assertion type both CIS2 and the platform take.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A key that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("could not read {0}")]
    Read(String),
    /// The file is not an RSA private key in PEM.
    #[error("{0} is not an RSA private key in PEM")]
    NotRsaPem(String),
    /// The extra JWKS file is not a JWKS of public keys.
    #[error("{0} is not a JWKS of public keys")]
    BadJwks(String),
    /// Signing failed.
    #[error("could not sign a client assertion")]
    Sign,
}

/// Make jsonwebtoken use aws-lc-rs (as cpis-service does). Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

/// The broker's signing key and its public JWKS.
#[derive(Clone)]
pub struct SigningKey {
    key: EncodingKey,
    kid: String,
    jwks: JwkSet,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The claims of a client assertion (RFC 7523 section 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AssertionClaims {
    /// The client (CIS2 client id, or the platform API key).
    pub iss: String,
    /// The same client.
    pub sub: String,
    /// The token endpoint.
    pub aud: String,
    /// Never used before.
    pub jti: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expiry (seconds), at most 5 minutes after `iat`.
    pub exp: i64,
}

impl SigningKey {
    /// Load the RSA private key `pem_file` named `kid`, and the public keys of `extra_jwks`.
    pub fn load(pem_file: &Path, kid: &str, extra_jwks: Option<&Path>) -> Result<Self, KeyError> {
        let pem =
            std::fs::read(pem_file).map_err(|_| KeyError::Read(pem_file.display().to_string()))?;
        let extra = match extra_jwks {
            Some(path) => {
                let text =
                    std::fs::read(path).map_err(|_| KeyError::Read(path.display().to_string()))?;
                let set: JwkSet = serde_json::from_slice(&text)
                    .map_err(|_| KeyError::BadJwks(path.display().to_string()))?;
                Some((set, path.display().to_string()))
            }
            None => None,
        };
        Self::from_pem(&pem, kid, extra).map_err(|error| match error {
            KeyError::NotRsaPem(_) => KeyError::NotRsaPem(pem_file.display().to_string()),
            other => other,
        })
    }

    /// From PEM bytes, with further public keys to publish.
    pub fn from_pem(
        pem: &[u8],
        kid: &str,
        extra: Option<(JwkSet, String)>,
    ) -> Result<Self, KeyError> {
        install_crypto_provider();
        let key = EncodingKey::from_rsa_pem(pem)
            .map_err(|_| KeyError::NotRsaPem("the signing key".to_owned()))?;
        let mut public = Jwk::from_encoding_key(&key, Algorithm::RS512)
            .map_err(|_| KeyError::NotRsaPem("the signing key".to_owned()))?;
        public.common.key_id = Some(kid.to_owned());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        let mut keys = vec![public];
        if let Some((set, name)) = extra {
            for jwk in set.keys {
                if let jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_) = jwk.algorithm {
                    return Err(KeyError::BadJwks(name));
                }
                if jwk.common.key_id.as_deref() != Some(kid) {
                    keys.push(jwk);
                }
            }
        }
        Ok(SigningKey {
            key,
            kid: kid.to_owned(),
            jwks: JwkSet { keys },
        })
    }

    /// The signing `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public keys to publish.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The claims of a fresh assertion by `client` for `audience` at `now`.
    pub fn assertion_claims(client: &str, audience: &str, now: OffsetDateTime) -> AssertionClaims {
        let iat = now.unix_timestamp();
        AssertionClaims {
            iss: client.to_owned(),
            sub: client.to_owned(),
            aud: audience.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat,
            exp: iat + ASSERTION_LIFETIME_SECONDS,
        }
    }

    /// Sign `claims` RS512 with `kid` in the header.
    pub fn sign(&self, claims: &AssertionClaims) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::RS512);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|_| KeyError::Sign)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const DEV_KEY: &[u8] = include_bytes!("../dev-keys/DEV-ONLY-broker-signing-key.pem");
    const DEV_JWKS: &str = include_str!("../dev-keys/DEV-ONLY-broker.jwks.public.json");

    fn key() -> SigningKey {
        SigningKey::from_pem(DEV_KEY, "cpis-broker-dev-1", None).expect("dev key")
    }

    #[test]
    fn the_assertion_is_rs512_with_kid_iss_sub_aud_and_a_short_expiry() {
        let key = key();
        let now = OffsetDateTime::now_utc();
        let claims = SigningKey::assertion_claims(
            "cpis-broker-dev",
            "http://127.0.0.1:8080/oauth2/token",
            now,
        );
        let jwt = key.sign(&claims).expect("signs");
        let header = jsonwebtoken::decode_header(&jwt).expect("header");
        assert_eq!(header.alg, Algorithm::RS512);
        assert_eq!(header.kid.as_deref(), Some("cpis-broker-dev-1"));
        let public = DecodingKey::from_jwk(&key.jwks().keys[0]).expect("public key");
        let mut validation = Validation::new(Algorithm::RS512);
        validation.set_audience(&["http://127.0.0.1:8080/oauth2/token"]);
        validation.set_issuer(&["cpis-broker-dev"]);
        let decoded =
            jsonwebtoken::decode::<AssertionClaims>(&jwt, &public, &validation).expect("verifies");
        let read = decoded.claims;
        assert_eq!(read.iss, "cpis-broker-dev");
        assert_eq!(read.sub, read.iss);
        assert_eq!(read.aud, "http://127.0.0.1:8080/oauth2/token");
        assert!(read.exp > now.unix_timestamp());
        assert!(read.exp - now.unix_timestamp() <= 300);
        assert_eq!(read.iat, now.unix_timestamp());
        assert!(uuid::Uuid::parse_str(&read.jti).is_ok());
    }

    #[test]
    fn every_assertion_has_its_own_jti() {
        let now = OffsetDateTime::now_utc();
        let jtis: std::collections::HashSet<String> = (0..100)
            .map(|_| SigningKey::assertion_claims("a", "b", now).jti)
            .collect();
        assert_eq!(jtis.len(), 100);
    }

    #[test]
    fn the_published_key_is_the_committed_public_jwks() {
        let published = serde_json::to_value(key().jwks()).expect("json");
        let committed: serde_json::Value = serde_json::from_str(DEV_JWKS).expect("json");
        assert_eq!(published["keys"][0]["n"], committed["keys"][0]["n"]);
        assert_eq!(published["keys"][0]["e"], committed["keys"][0]["e"]);
        assert_eq!(published["keys"][0]["kid"], "cpis-broker-dev-1");
        assert!(published["keys"][0].get("d").is_none());
    }

    #[test]
    fn while_rotating_the_jwks_holds_both_keys() {
        let mut next: JwkSet = serde_json::from_str(DEV_JWKS).expect("jwks");
        next.keys[0].common.key_id = Some("cpis-broker-dev-2".to_owned());
        let key = SigningKey::from_pem(DEV_KEY, "cpis-broker-dev-1", Some((next, "x".into())))
            .expect("key");
        let kids: Vec<_> = key
            .jwks()
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect();
        assert_eq!(kids, ["cpis-broker-dev-1", "cpis-broker-dev-2"]);
        assert_eq!(key.kid(), "cpis-broker-dev-1");
    }

    #[test]
    fn debug_names_only_the_kid() {
        let text = format!("{:?}", key());
        assert!(text.contains("cpis-broker-dev-1"));
        assert!(!text.contains("PRIVATE"));
    }
}
