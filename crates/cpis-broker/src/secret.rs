//! Secrets in memory ([`Secret`], whose `Debug` never shows the value), the random handles and
//! codes the broker hands out, and their SHA-256 form (the only form the store keeps).

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A token, code or key text. `Debug` shows only that it is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for sending it where it belongs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the value, lowercase hex: how the store keys it.
    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(redacted)")
    }
}

/// 32 random bytes from the operating system's generator, base64url without padding (43
/// characters): a session handle, a one-time code or a `state`.
pub fn random_token() -> Secret {
    // oauth2's CSRF token generator: the OS's CSPRNG, base64url, no padding.
    Secret::new(
        openidconnect::CsrfToken::new_random_len(32)
            .secret()
            .to_owned(),
    )
}

/// SHA-256 of `text`, lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The PKCE S256 challenge of `verifier` (RFC 7636 4.2).
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Seal `plain` under `key`, a one-time random code, with AES-256-GCM (aws-lc-rs): the AEAD
/// key is SHA-256(`"cpis-broker seal v2"` ‖ key), the nonce 12 random bytes stored in front of
/// the ciphertext, base64url. The store keeps the sealed access token beside the code's hash
/// until the app redeems the code, so what the database holds is useless without the code,
/// which only the app has, and a changed byte fails to open rather than opening to something
/// else. `None` only if the operating system's random generator fails.
pub fn seal(key: &Secret, plain: &str) -> Option<String> {
    let sealing = aead_key(key)?;
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).ok()?;
    let mut data = plain.as_bytes().to_vec();
    sealing
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
        .ok()?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&data);
    Some(URL_SAFE_NO_PAD.encode(sealed))
}

/// Open what [`seal`] sealed under `key`; `None` when the key is wrong, the value was changed
/// or it does not open to text.
pub fn open_sealed(key: &Secret, sealed: &str) -> Option<Secret> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = ciphertext.to_vec();
    let plain = aead_key(key)?
        .open_in_place(nonce, Aad::empty(), &mut data)
        .ok()?;
    String::from_utf8(plain.to_vec()).ok().map(Secret::new)
}

const NONCE_LEN: usize = 12;

fn aead_key(key: &Secret) -> Option<LessSafeKey> {
    let material = Sha256::new()
        .chain_update(b"cpis-broker seal v2")
        .chain_update(key.expose().as_bytes())
        .finalize();
    UnboundKey::new(&AES_256_GCM, &material)
        .ok()
        .map(LessSafeKey::new)
}

/// Compare without an early exit on the first difference.
pub fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
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
    fn tokens_are_43_base64url_characters_and_differ() {
        let first = random_token();
        let second = random_token();
        assert_eq!(first.expose().len(), 43);
        assert!(
            first
                .expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(first, second);
    }

    #[test]
    fn sealed_values_open_only_with_their_key() {
        let key = random_token();
        let token = "an-opaque-access-token-longer-than-one-block-of-thirty-two-bytes";
        let sealed = seal(&key, token).expect("sealed");
        assert!(!sealed.contains("opaque"));
        assert_ne!(
            seal(&key, token).expect("sealed"),
            sealed,
            "a fresh nonce each time"
        );
        let mut changed = URL_SAFE_NO_PAD.decode(&sealed).expect("base64");
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert_eq!(open_sealed(&key, &URL_SAFE_NO_PAD.encode(changed)), None);
        assert_eq!(open_sealed(&key, "AAAA"), None);
        assert_eq!(
            open_sealed(&key, &sealed).map(|s| s.expose().to_owned()),
            Some(token.to_owned())
        );
        let other = random_token();
        assert_ne!(
            open_sealed(&other, &sealed).map(|s| s.expose().to_owned()),
            Some(token.to_owned())
        );
    }

    #[test]
    fn debug_hides_the_value() {
        let secret = Secret::new("very-secret-value");
        assert!(!format!("{secret:?}").contains("very-secret"));
    }

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn constant_time_equal_compares_whole_values() {
        assert!(constant_time_equal(b"same", b"same"));
        assert!(!constant_time_equal(b"same", b"sane"));
        assert!(!constant_time_equal(b"same", b"same-longer"));
    }
}
