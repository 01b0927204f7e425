//! The verified-ID-token cache: a token's SHA-256 to its claims, kept until the token's `exp`
//! and bounded in size, so a repeat request skips the signature check. The token itself is
//! never kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::auth::claims::Claims;

const CACHE_CAPACITY: usize = 100_000;

/// The key a token is cached under.
pub(crate) type TokenHash = [u8; 32];

struct CachedClaims {
    claims: Arc<Claims>,
    expires_at: u64,
}

/// Verified tokens, by hash.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<TokenHash, CachedClaims>>,
}

impl TokenCache {
    /// The key for `token`.
    pub(crate) fn hash(token: &str) -> TokenHash {
        Sha256::digest(token.as_bytes()).into()
    }

    /// Who an unexpired cached token is for.
    pub(crate) fn get(&self, hash: &TokenHash, now: u64) -> Option<Arc<Claims>> {
        let cache = self.entries.lock().ok()?;
        cache
            .get(hash)
            .filter(|entry| entry.expires_at > now)
            .map(|entry| entry.claims.clone())
    }

    /// Keep a verified token until `expires_at`; when full, drop the expired, else everything.
    pub(crate) fn put(&self, hash: TokenHash, claims: Arc<Claims>, expires_at: u64, now: u64) {
        let Ok(mut cache) = self.entries.lock() else {
            return;
        };
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, entry| entry.expires_at > now);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(hash, CachedClaims { claims, expires_at });
    }

    /// How many tokens are cached.
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map(|cache| cache.len()).unwrap_or(0)
    }
}
