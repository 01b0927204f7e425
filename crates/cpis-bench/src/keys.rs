//! The TEST-ONLY signing key (public, committed under `crates/cpis-service/tests/keys`), the
//! tokens it signs and the JWKS that trusts it, and the service's token exchange: a CIS2-style
//! ID token signed with that key (playing CIS2's key) and an RS512 client assertion signed
//! with the broker's DEV-ONLY key (`crates/cpis-broker/dev-keys`), exchanged at the service's
//! `/oauth2/token` for the opaque access token its APIs accept. Never for a real service.

use anyhow::Context;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::json;

/// The issuer the bench service (as its CIS2 issuer) and bare server are configured with.
pub const ISSUER: &str = "https://idp.bench.invalid";
/// The audience of the bare route's RS256 token.
pub const AUDIENCE: &str = "cpis-service";
/// The registered CIS2 client id (the service's default): the `aud` of the bench ID token.
pub const CIS2_CLIENT_ID: &str = "cpis-broker";
/// The platform app's API key (the service's default).
pub const API_KEY: &str = "cpis-broker-dev";
/// The broker's DEV-ONLY key id.
pub const BROKER_KID: &str = "cpis-broker-dev-1";
/// The synthetic unscheduled-care nurse of `dev-idp/users.json` (`ed-nurse`, B0107), whom
/// `cpis-service seed` and `seed-roles` put in the role directory.
const NURSE_SUB: &str = "900000000001";
const NURSE_NAME: &str = "Tess Triage-Test";
const NURSE_ROLE: &str = "555000000101";
/// The key id.
pub const KEY_ID: &str = "test-rsa";

const RSA_KEY: &[u8] =
    include_bytes!("../../cpis-service/tests/keys/TEST-ONLY-rsa-signing-key.pem");
const BROKER_KEY: &[u8] =
    include_bytes!("../../cpis-broker/dev-keys/DEV-ONLY-broker-signing-key.pem");

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

/// A CIS2-style ID token for the synthetic ED nurse, RS256 with the TEST-ONLY key, at AAL3.
pub fn id_token() -> anyhow::Result<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": ISSUER,
        "aud": CIS2_CLIENT_ID,
        "sub": NURSE_SUB,
        "name": NURSE_NAME,
        "iat": now,
        "exp": now + 300,
        "acr": "AAL3_ANY",
        "amr": ["SCA"],
        "authentication_assurance_level": "3",
        "selected_roleid": NURSE_ROLE,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KEY_ID.into());
    jsonwebtoken::encode(&header, &claims, &encoding_key()?).context("sign the ID token")
}

/// The broker's RS512 client assertion for `token_url`.
pub fn client_assertion(token_url: &str) -> anyhow::Result<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": API_KEY,
        "sub": API_KEY,
        "aud": token_url,
        "jti": uuid::Uuid::new_v4().to_string(),
        "exp": now + 240,
    });
    let mut header = Header::new(Algorithm::RS512);
    header.kid = Some(BROKER_KID.into());
    let key = EncodingKey::from_rsa_pem(BROKER_KEY).context("DEV-ONLY broker key")?;
    jsonwebtoken::encode(&header, &claims, &key).context("sign the client assertion")
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Exchange the nurse's ID token at the service (`base`: `http://127.0.0.1:PORT`) for an opaque
/// access token (it lives about 10 minutes).
pub async fn service_token(base: &str) -> anyhow::Result<String> {
    let token_url = format!("{}/oauth2/token", base.trim_end_matches('/'));
    let fields = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
        ),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:id_token".to_owned(),
        ),
        ("subject_token", id_token()?),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
        ),
        ("client_assertion", client_assertion(&token_url)?),
    ];
    let body = fields
        .iter()
        .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let response = reqwest::Client::new()
        .post(&token_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .context("the token exchange request failed")?;
    let status = response.status();
    let answer: serde_json::Value = response
        .json()
        .await
        .context("the token endpoint's answer is not JSON")?;
    if !status.is_success() {
        anyhow::bail!(
            "the token exchange was refused ({status}): {}",
            answer["error_description"]
                .as_str()
                .unwrap_or("no description")
        );
    }
    answer["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token in the answer")
}

/// The bare RS256 route's token (the baseline): a CIS2-shaped JWT for a synthetic
/// unscheduled-care nurse (B0107). The service accepts no JWT: see [`service_token`].
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
