//! Session storage in the OS keyring, and nowhere else: the Secret Service on Linux, the
//! Keychain on macOS, the Credential Manager on Windows (back ends chosen explicitly in
//! Cargo.toml; never the `keyring` crate's mock store).
//!
//! A session (tokens and claims) is JSON of a few kilobytes, more than Windows allows in one
//! credential (2,560 bytes). It is split into chunks of [`CHUNK_CHARS`] ASCII characters, each
//! its own entry, with a small manifest entry naming the count and the SHA-256 of the whole;
//! the same scheme on every platform so the Linux tests cover it.
//!
//! The app and `cpis` share the entry, and the app rewrites it on every refresh, so a save must
//! never leave a reader with nothing or with a mix of two sessions. Chunks are named after the
//! digest of the session they belong to (`<account>#<digest>#<n>`): a save writes the new
//! chunks, then switches the manifest to them, then deletes the old ones. A reader that finds a
//! chunk gone (deleted by a save that finished meanwhile) reads the manifest again. A
//! `<account>#pending` entry names the chunks a save is writing, so a save that dies part-way
//! leaves nothing that `clear` cannot find.
//!
//! The clinician's last activity (the inactivity lock's clock: `idle_lock.rs`) is a small entry
//! of its own, `<account>#activity`, beside the session rather than inside it: a token refresh
//! rewrites the session's chunks and is not activity, and writing the activity must not rewrite
//! the chunks. It names the session it belongs to by a digest of the broker session handle (the
//! same across refreshes), so a record left by an earlier session is never taken for this one's;
//! [`KeyringTokenStore::clear`] removes it with the session.
//!
//! The calls block (D-Bus round trips on Linux): from async code, call them inside
//! `tokio::task::spawn_blocking` where a stalled keyring must not hold up other work.

use time::OffsetDateTime;

use crate::identity::Session;

/// The keyring service name for the app and the CLI.
pub const DEFAULT_SERVICE: &str = "uk.nhs.cpis-viewer";
/// Characters per chunk. JSON here is ASCII, so this is also bytes; well under Windows' limit
/// even if a back end stores UTF-16.
pub const CHUNK_CHARS: usize = 1000;
/// A session never needs more chunks than this; more means a corrupt manifest.
const MAX_CHUNKS: usize = 64;
const MANIFEST_PREFIX: &str = "cpis-session-chunks:v2:";
/// The first manifest format: chunks named `<account>#<n>`, rewritten in place. Only cleared.
const OLD_MANIFEST_PREFIX: &str = "cpis-session-chunks:v1:";
/// How many times a reader follows a manifest that changed under it before giving up.
const READ_ATTEMPTS: usize = 5;
/// The last activity entry: `cpis-activity:v1:<unix seconds>:<session digest>`.
const ACTIVITY_PREFIX: &str = "cpis-activity:v1:";

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

/// What a manifest (or the pending entry) names: how many chunks, and the session's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ChunkSet {
    count: usize,
    digest: String,
}

impl ChunkSet {
    fn text(&self) -> String {
        format!("{MANIFEST_PREFIX}{}:{}", self.count, self.digest)
    }

    fn parse(text: &str) -> Option<ChunkSet> {
        let (count, digest) = text.strip_prefix(MANIFEST_PREFIX)?.split_once(':')?;
        let count = count.parse::<usize>().ok()?;
        let well_formed = (1..=MAX_CHUNKS).contains(&count)
            && digest.len() == 64
            && digest.bytes().all(|byte| byte.is_ascii_hexdigit());
        well_formed.then(|| ChunkSet {
            count,
            digest: digest.to_owned(),
        })
    }
}

/// What one read of the manifest found.
enum Read {
    Nothing,
    Session(Box<Session>),
    /// A chunk was missing: a concurrent save may have replaced the set.
    Moved(Option<String>),
    Corrupt,
}

impl KeyringTokenStore {
    /// A store under a keyring service and account name (tests use their own).
    pub fn new(service: impl Into<String>, account: impl Into<String>) -> KeyringTokenStore {
        KeyringTokenStore {
            service: service.into(),
            account: account.into(),
        }
    }

    /// The keyring service name (the audit queue's key lives under it too).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The keyring account name of the manifest entry.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The keyring account names of the chunks the manifest names now (for tests that damage
    /// or count them).
    #[doc(hidden)]
    pub fn chunk_accounts(&self) -> Result<Vec<String>, TokenStoreError> {
        Ok(self
            .read_set(&self.account)?
            .map(|set| self.chunk_names(&set))
            .unwrap_or_default())
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, TokenStoreError> {
        keyring::Entry::new(&self.service, name).map_err(unavailable)
    }

    fn pending_name(&self) -> String {
        format!("{}#pending", self.account)
    }

    fn activity_name(&self) -> String {
        format!("{}#activity", self.account)
    }

    fn chunk_names(&self, set: &ChunkSet) -> Vec<String> {
        (0..set.count)
            .map(|index| format!("{}#{}#{index}", self.account, set.digest))
            .collect()
    }

    /// The raw text of an entry, `None` when there is none.
    fn get(&self, name: &str) -> Result<Option<String>, TokenStoreError> {
        match self.entry(name)?.get_password() {
            Ok(text) => Ok(Some(text)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    fn read_set(&self, name: &str) -> Result<Option<ChunkSet>, TokenStoreError> {
        Ok(self.get(name)?.as_deref().and_then(ChunkSet::parse))
    }

    /// Save a session, replacing whatever was there (another user's session included). A
    /// reader at the same time (the other program) sees the old session or the new one.
    pub fn save(&self, session: &Session) -> Result<(), TokenStoreError> {
        let json = serde_json::to_string(session)
            .map_err(|error| TokenStoreError::Unavailable(format!("could not encode: {error}")))?;
        let chunks: Vec<&str> = split_ascii(&json, CHUNK_CHARS);
        if chunks.is_empty() || chunks.len() > MAX_CHUNKS {
            return Err(TokenStoreError::Unavailable("session too large".into()));
        }
        let set = ChunkSet {
            count: chunks.len(),
            digest: digest(&json),
        };
        let previous = self.get(&self.account)?;
        // Name the chunks about to be written first, so a save that dies part-way leaves
        // nothing `clear` cannot find.
        self.entry(&self.pending_name())?
            .set_password(&set.text())
            .map_err(unavailable)?;
        for (name, chunk) in self.chunk_names(&set).iter().zip(&chunks) {
            self.entry(name)?.set_password(chunk).map_err(unavailable)?;
        }
        // The switch: from here a reader gets the new session.
        self.entry(&self.account)?
            .set_password(&set.text())
            .map_err(unavailable)?;
        delete_if_present(&self.entry(&self.pending_name())?)?;
        if let Some(previous) = previous {
            self.delete_chunks_of(&previous, Some(&set))?;
        }
        Ok(())
    }

    /// The stored session, or `None` when there is none.
    pub fn load(&self) -> Result<Option<Session>, TokenStoreError> {
        let mut last_manifest = None;
        for _ in 0..READ_ATTEMPTS {
            match self.read_once()? {
                Read::Nothing => return Ok(None),
                Read::Session(session) => return Ok(Some(*session)),
                Read::Corrupt => {
                    self.clear()?;
                    return Err(TokenStoreError::Corrupt);
                }
                Read::Moved(manifest) => {
                    let now = self.get(&self.account)?;
                    if now.is_some() && now == manifest && last_manifest == manifest {
                        // The same manifest twice with a chunk missing: damaged, not moving.
                        self.clear()?;
                        return Err(TokenStoreError::Corrupt);
                    }
                    last_manifest = manifest;
                }
            }
        }
        Err(TokenStoreError::Unavailable(
            "the stored session kept changing while it was read".into(),
        ))
    }

    fn read_once(&self) -> Result<Read, TokenStoreError> {
        let Some(manifest) = self.get(&self.account)? else {
            return Ok(Read::Nothing);
        };
        let Some(set) = ChunkSet::parse(&manifest) else {
            return Ok(Read::Corrupt);
        };
        let mut json = String::with_capacity(set.count * CHUNK_CHARS);
        for name in self.chunk_names(&set) {
            match self.get(&name)? {
                Some(chunk) => json.push_str(&chunk),
                None => return Ok(Read::Moved(Some(manifest))),
            }
        }
        if digest(&json) != set.digest {
            return Ok(Read::Corrupt);
        }
        Ok(match serde_json::from_str(&json) {
            Ok(session) => Read::Session(Box::new(session)),
            Err(_) => Read::Corrupt,
        })
    }

    /// Record that the clinician was active in `session` at `at` (one small entry; the session
    /// itself is not rewritten). Replaces any earlier record, another session's included.
    pub fn record_activity(
        &self,
        session: &Session,
        at: OffsetDateTime,
    ) -> Result<(), TokenStoreError> {
        let text = format!(
            "{ACTIVITY_PREFIX}{}:{}",
            at.unix_timestamp(),
            session_digest(session)
        );
        self.entry(&self.activity_name())?
            .set_password(&text)
            .map_err(unavailable)
    }

    /// The last activity recorded for `session`, to the second. `None` when there is no
    /// record, it is unreadable, or it belongs to another session: the caller then counts from
    /// the sign-in ([`crate::idle_lock::last_activity`]).
    pub fn recorded_activity(
        &self,
        session: &Session,
    ) -> Result<Option<OffsetDateTime>, TokenStoreError> {
        let Some(text) = self.get(&self.activity_name())? else {
            return Ok(None);
        };
        let parsed = text
            .strip_prefix(ACTIVITY_PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .filter(|(_, digest)| *digest == session_digest(session))
            .and_then(|(seconds, _)| seconds.parse::<i64>().ok())
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok());
        Ok(parsed)
    }

    /// Remove the session, its last activity and every chunk (sign-out, lock, another user
    /// signing in): the manifest's, a half-finished save's, and those of the first format.
    pub fn clear(&self) -> Result<(), TokenStoreError> {
        let manifest = self.get(&self.account)?;
        let pending = self.get(&self.pending_name())?;
        delete_if_present(&self.entry(&self.account)?)?;
        delete_if_present(&self.entry(&self.activity_name())?)?;
        for text in [manifest, pending].into_iter().flatten() {
            self.delete_chunks_of(&text, None)?;
        }
        delete_if_present(&self.entry(&self.pending_name())?)?;
        // The first format's chunks, `<account>#<n>`, until one is missing.
        for index in 0..MAX_CHUNKS {
            if !delete_if_present(&self.entry(&format!("{}#{index}", self.account))?)? {
                break;
            }
        }
        Ok(())
    }

    /// Delete the chunks a manifest text names, unless they are `keep`'s.
    fn delete_chunks_of(&self, text: &str, keep: Option<&ChunkSet>) -> Result<(), TokenStoreError> {
        if text.starts_with(OLD_MANIFEST_PREFIX) {
            return Ok(());
        }
        if let Some(set) = ChunkSet::parse(text)
            && Some(&set) != keep
        {
            for name in self.chunk_names(&set) {
                delete_if_present(&self.entry(&name)?)?;
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

/// Which session an activity record belongs to: the first 32 hex digits of the SHA-256 of its
/// broker session handle, which a refresh keeps.
fn session_digest(session: &Session) -> String {
    let mut digest = digest(session.tokens.session_handle.expose());
    digest.truncate(32);
    digest
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
