//! The TEST-ONLY signing key (public, committed under `crates/cpis-service/tests/keys`), the
//! tokens it signs and the JWKS that trusts it. Never for a real service.

use anyhow::Context;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::json;

/// The issuer the bench service and bare server are configured with.
pub const ISSUER: &str = "https://idp.bench.invalid";
/// The audience.
pub const AUDIENCE: &str = "cpis-service";
/// The key id.
pub const KEY_ID: &str = "test-rsa";

const RSA_KEY: &[u8] =
    include_bytes!("../../cpis-service/tests/keys/TEST-ONLY-rsa-signing-key.pem");

/// jsonwebtoken's crypto on `aws_lc_rs`, as in the service.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

fn encoding_key() -> anyhow::Result<EncodingKey> {
    EncodingKey::from_rsa_pem(RSA_KEY).context("TEST-ONLY RSA key")
}

fn jwk() -> anyhow::Result<Jwk> {
    let mut jwk = Jwk::from_encoding_key(&encoding_key()?, Algorithm::RS256).context("jwk")?;
    jwk.common.key_id = Some(KEY_ID.into());
    Ok(jwk)
}

/// The JWKS with the one test key.
pub fn jwks() -> anyhow::Result<JwkSet> {
    Ok(JwkSet { keys: vec![jwk()?] })
}

/// A CIS2-shaped token for a synthetic unscheduled-care nurse (B0107), RS256.
pub fn token(expires_in: i64) -> anyhow::Result<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "bench-nurse",
        "name": "Bea Bench-Test",
        "iat": now,
        "exp": now + expires_in,
        "selected_roleid": "role-bench-nurse",
        "nhsid_nrbac_roles": [{
            "person_roleid": "role-bench-nurse",
            "org_code": "ZZ1ED",
            "role_code": "R8000",
            "role_name": "Nurse Access Role",
            "activity_codes": ["B0107"],
        }],
        "nhsid_user_orgs": [{"org_code": "ZZ1ED", "org_name": "ZZ1ED Hospital (synthetic)"}],
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KEY_ID.into());
    jsonwebtoken::encode(&header, &claims, &encoding_key()?).context("sign")
}

/// What the bare RS256 route checks a token with: the same key, algorithm, issuer, audience and
/// required claims as the service's verifier.
#[derive(Clone)]
pub struct BareVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for BareVerifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BareVerifier")
            .finish_non_exhaustive()
    }
}

impl BareVerifier {
    pub fn new() -> anyhow::Result<BareVerifier> {
        let key = DecodingKey::from_jwk(&jwk()?).context("decoding key")?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Ok(BareVerifier { key, validation })
    }

    /// Verify the signature and claims; true when valid.
    pub fn verify(&self, token: &str) -> bool {
        jsonwebtoken::decode::<serde_json::Value>(token, &self.key, &self.validation).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bare_verifier_accepts_the_minted_token_and_nothing_else() {
        install_crypto_provider();
        let verifier = BareVerifier::new().expect("verifier");
        let valid = token(60).expect("token");
        assert!(verifier.verify(&valid));
        assert!(!verifier.verify(&format!("{valid}x")));
        assert!(!verifier.verify(&token(-120).expect("expired token")));
    }
}
