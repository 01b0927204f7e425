//! The platform's opaque tokens: 256 random bits, base64url, and the only form they are
//! stored in, their hex SHA-256.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A new random opaque token (access or refresh).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The hex SHA-256 a token is stored and looked up by.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equality of two secrets in time independent of where they differ (over their digests).
pub fn secrets_equal(left: &str, right: &str) -> bool {
    let left = Sha256::digest(left.as_bytes());
    let right = Sha256::digest(right.as_bytes());
    left.iter()
        .zip(right.iter())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// Whether a bearer token looks like a JWT (three base64url parts): never one of ours.
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}
