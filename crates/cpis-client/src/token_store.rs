//! Session storage in the OS keyring, and nowhere else: the Secret Service on Linux, the
//! Keychain on macOS, the Credential Manager on Windows (back ends chosen explicitly in
//! Cargo.toml; never the `keyring` crate's mock store).
//!
//! A session (tokens and claims) is JSON of a few kilobytes, more than Windows allows in one
//! credential (2,560 bytes). It is split into chunks of [`CHUNK_CHARS`] ASCII characters, each
//! its own entry, with a small manifest entry naming the count; the same scheme on every
//! platform so the Linux tests cover it. The manifest also holds the SHA-256 of the whole, so a
//! damaged or mixed-up chunk is detected rather than read as a different token.
//!
//! The calls block (D-Bus round trips on Linux): from async code, call them inside
//! `tokio::task::spawn_blocking` where a stalled keyring must not hold up other work.

use crate::identity::Session;

/// The keyring service name for the app and the CLI.
pub const DEFAULT_SERVICE: &str = "uk.nhs.cpis-viewer";
/// Characters per chunk. JSON here is ASCII, so this is also bytes; well under Windows' limit
/// even if a back end stores UTF-16.
pub const CHUNK_CHARS: usize = 1000;
/// A session never needs more chunks than this; more means a corrupt manifest.
const MAX_CHUNKS: usize = 64;
const MANIFEST_PREFIX: &str = "cpis-session-chunks:v1:";

/// Why the keyring could not be used. Messages never contain token text.
#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    /// No keyring is reachable (for example, no Secret Service on the session bus).
    #[error(
        "the OS keyring is not available ({0}); on Linux start a Secret Service such as gnome-keyring-daemon in a D-Bus session"
    )]
    Unavailable(String),
    /// The stored session could not be read back; it has been cleared.
    #[error("the stored session was unreadable and has been cleared")]
    Corrupt,
}

/// The session store in the OS keyring.
#[derive(Debug, Clone)]
pub struct KeyringTokenStore {
    service: String,
    account: String,
}

fn unavailable(error: keyring::Error) -> TokenStoreError {
    TokenStoreError::Unavailable(error.to_string())
}

impl Default for KeyringTokenStore {
    fn default() -> KeyringTokenStore {
        KeyringTokenStore::new(DEFAULT_SERVICE, "session")
    }
}

impl KeyringTokenStore {
    /// A store under a keyring service and account name (tests use their own).
    pub fn new(service: impl Into<String>, account: impl Into<String>) -> KeyringTokenStore {
        KeyringTokenStore {
            service: service.into(),
            account: account.into(),
        }
    }

    /// The keyring account name of the manifest entry.
    pub fn account(&self) -> &str {
        &self.account
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, TokenStoreError> {
        keyring::Entry::new(&self.service, name).map_err(unavailable)
    }

    fn chunk_name(&self, index: usize) -> String {
        format!("{}#{index}", self.account)
    }

    /// Save a session, replacing whatever was there (another user's session included).
    pub fn save(&self, session: &Session) -> Result<(), TokenStoreError> {
        let json = serde_json::to_string(session)
            .map_err(|error| TokenStoreError::Unavailable(format!("could not encode: {error}")))?;
        self.clear()?;
        let chunks: Vec<&str> = split_ascii(&json, CHUNK_CHARS);
        if chunks.len() > MAX_CHUNKS {
            return Err(TokenStoreError::Unavailable("session too large".into()));
        }
        for (index, chunk) in chunks.iter().enumerate() {
            self.entry(&self.chunk_name(index))?
                .set_password(chunk)
                .map_err(unavailable)?;
        }
        // The manifest last: a crash part-way leaves no manifest, so nothing half-read.
        self.entry(&self.account)?
            .set_password(&format!(
                "{MANIFEST_PREFIX}{}:{}",
                chunks.len(),
                digest(&json)
            ))
            .map_err(unavailable)
    }

    /// The stored session, or `None` when there is none.
    pub fn load(&self) -> Result<Option<Session>, TokenStoreError> {
        let manifest = match self.entry(&self.account)?.get_password() {
            Ok(manifest) => manifest,
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(error) => return Err(unavailable(error)),
        };
        let parsed = manifest
            .strip_prefix(MANIFEST_PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .and_then(|(count, digest)| Some((count.parse::<usize>().ok()?, digest.to_owned())))
            .filter(|(count, _)| (1..=MAX_CHUNKS).contains(count));
        let Some((count, expected_digest)) = parsed else {
            self.clear()?;
            return Err(TokenStoreError::Corrupt);
        };
        let mut json = String::with_capacity(count * CHUNK_CHARS);
        for index in 0..count {
            match self.entry(&self.chunk_name(index))?.get_password() {
                Ok(chunk) => json.push_str(&chunk),
                Err(keyring::Error::NoEntry) => {
                    self.clear()?;
                    return Err(TokenStoreError::Corrupt);
                }
                Err(error) => return Err(unavailable(error)),
            }
        }
        if digest(&json) != expected_digest {
            self.clear()?;
            return Err(TokenStoreError::Corrupt);
        }
        match serde_json::from_str(&json) {
            Ok(session) => Ok(Some(session)),
            Err(_) => {
                self.clear()?;
                Err(TokenStoreError::Corrupt)
            }
        }
    }

    /// Remove the session and every chunk (sign-out, lock, another user signing in). Deletes
    /// as many chunks as the manifest names, and on past any gap until one is missing.
    pub fn clear(&self) -> Result<(), TokenStoreError> {
        let manifest = self.entry(&self.account)?;
        let named = match manifest.get_password() {
            Ok(text) => text
                .strip_prefix(MANIFEST_PREFIX)
                .and_then(|rest| rest.split(':').next())
                .and_then(|count| count.parse::<usize>().ok())
                .unwrap_or(0)
                .min(MAX_CHUNKS),
            Err(_) => 0,
        };
        delete_if_present(&manifest)?;
        for index in 0..MAX_CHUNKS {
            let entry = self.entry(&self.chunk_name(index))?;
            if !delete_if_present(&entry)? && index >= named {
                break;
            }
        }
        Ok(())
    }
}

/// Delete an entry; `Ok(false)` when there was none.
fn delete_if_present(entry: &keyring::Entry) -> Result<bool, TokenStoreError> {
    match entry.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(error) => Err(unavailable(error)),
    }
}

fn digest(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Split text into pieces of at most `size` bytes on character boundaries.
fn split_ascii(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = size.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_keeps_every_character_and_respects_the_limit() {
        let text = "a".repeat(2500) + "é" + &"b".repeat(10);
        let pieces = split_ascii(&text, CHUNK_CHARS);
        assert!(pieces.iter().all(|piece| piece.len() <= CHUNK_CHARS));
        assert_eq!(pieces.concat(), text);
        assert_eq!(pieces.len(), 3);
        assert!(split_ascii("", CHUNK_CHARS).is_empty());
    }
}
