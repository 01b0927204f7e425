//! The caches, both keyed by SHA-256 (no token is ever kept) and bounded in size: verified CIS2
//! ID tokens ([`TokenCache`]: to their claims until their `exp`, so a repeat skips the signature
//! check), and callers resolved from an opaque access token ([`CallerCache`]: for a few
//! seconds, so a busy client's requests skip the token and role lookups).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::auth::claims::{Claims, Principal};

const CACHE_CAPACITY: usize = 100_000;

/// The key a token is cached under.
pub type TokenHash = [u8; 32];

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

/// How long a resolved caller is kept: a revocation at another replica, or a change in the
/// role directory, takes at most this long to be seen here (a revocation here, at once).
pub const CALLER_CACHE_SECONDS: i64 = 5;

struct CachedCaller {
    principal: Arc<Principal>,
    scope: Arc<str>,
    grant_id: Arc<str>,
    until: i64,
}

/// Callers resolved from an opaque access token (and the `NHSD-Session-URID` sent with it), kept
/// for [`CALLER_CACHE_SECONDS`] (never past the token's expiry) so that a busy client's requests
/// skip the two lookups. Keyed by a SHA-256 over the token and the header; the token itself is
/// never kept. Bounded in size.
#[derive(Default)]
pub struct CallerCache {
    entries: Mutex<HashMap<TokenHash, CachedCaller>>,
}

impl std::fmt::Debug for CallerCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CallerCache")
            .field("entries", &self.len())
            .finish()
    }
}

impl CallerCache {
    /// The key for a token and the role header sent with it.
    pub fn key(token: &str, urid: Option<&str>) -> TokenHash {
        let mut hasher = Sha256::new();
        hasher.update(token.as_bytes());
        hasher.update([0u8]);
        if let Some(urid) = urid {
            hasher.update([1u8]);
            hasher.update(urid.as_bytes());
        }
        hasher.finalize().into()
    }

    /// The caller and the grant's scope, while the entry lives (`now` in seconds).
    pub fn get(&self, key: &TokenHash, now: i64) -> Option<(Arc<Principal>, Arc<str>)> {
        let cache = self.entries.lock().ok()?;
        cache
            .get(key)
            .filter(|entry| entry.until > now)
            .map(|entry| (entry.principal.clone(), entry.scope.clone()))
    }

    /// Keep a resolved caller until `until` (seconds); when full, drop the expired, else all.
    pub fn put(
        &self,
        key: TokenHash,
        principal: Arc<Principal>,
        scope: &str,
        grant_id: &str,
        until: i64,
        now: i64,
    ) {
        let Ok(mut cache) = self.entries.lock() else {
            return;
        };
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, entry| entry.until > now);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(
            key,
            CachedCaller {
                principal,
                scope: Arc::from(scope),
                grant_id: Arc::from(grant_id),
                until,
            },
        );
    }

    /// Forget every caller of a grant (it was revoked).
    pub fn forget_grant(&self, grant_id: &str) {
        if let Ok(mut cache) = self.entries.lock() {
            cache.retain(|_, entry| &*entry.grant_id != grant_id);
        }
    }

    /// How many callers are cached.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|cache| cache.len()).unwrap_or(0)
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
