//! The audit queue's encryption key in the OS keyring: one entry per OS user and device
//! (service as the session's, account [`QUEUE_KEY_ACCOUNT`]) holding 64 hexadecimal digits of
//! a random 256-bit key drawn from the OS. Never on disk, never logged ([`QueueKey`]'s `Debug`
//! is redacted).
//!
//! The key is made the first time the queue is opened and never replaced: a key in the
//! keyring that does not read the queue may still read a queue set aside earlier, so it is
//! kept and the new queue is encrypted under it.

use cpis_audit::QueueKey;
use rand::TryRngCore as _;

use crate::token_store::{DEFAULT_SERVICE, TokenStoreError};

/// The keyring account name of the queue's key.
pub const QUEUE_KEY_ACCOUNT: &str = "audit-queue-key";

/// Where the queue's key lives in the OS keyring.
#[derive(Debug, Clone)]
pub struct QueueKeyStore {
    service: String,
}

impl Default for QueueKeyStore {
    fn default() -> QueueKeyStore {
        QueueKeyStore::new(DEFAULT_SERVICE)
    }
}

fn unavailable(error: keyring::Error) -> TokenStoreError {
    TokenStoreError::Unavailable(error.to_string())
}

impl QueueKeyStore {
    /// The key under keyring service `service` (the session's service; tests use their own).
    pub fn new(service: impl Into<String>) -> QueueKeyStore {
        QueueKeyStore {
            service: service.into(),
        }
    }

    fn entry(&self) -> Result<keyring::Entry, TokenStoreError> {
        keyring::Entry::new(&self.service, QUEUE_KEY_ACCOUNT).map_err(unavailable)
    }

    /// The stored key, `None` when there is none. An entry that is not a key is an error
    /// (never overwritten: it may be someone's key damaged in transit, and IT should see it).
    pub fn load(&self) -> Result<Option<QueueKey>, TokenStoreError> {
        match self.entry()?.get_password() {
            Ok(text) => QueueKey::from_hex(&text)
                .map(Some)
                .ok_or(TokenStoreError::Unavailable(
                    "the audit queue key entry in the keyring is not a key".into(),
                )),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// The stored key, or a new random one stored first. Call it only while the queue
    /// folder's lock is held ([`cpis_audit::AuditQueue::open_encrypted_with`] does), so the
    /// app and `cpis` never each make one.
    pub fn load_or_create(&self) -> Result<QueueKey, TokenStoreError> {
        if let Some(key) = self.load()? {
            return Ok(key);
        }
        let key = random_key()?;
        self.entry()?
            .set_password(&key.expose_hex())
            .map_err(unavailable)?;
        // Read back what the keyring holds, so the queue is never encrypted under a key the
        // keyring did not keep.
        self.load()?.ok_or(TokenStoreError::Unavailable(
            "the keyring did not keep the audit queue key".into(),
        ))
    }

    /// Store `key`, replacing any key there. For IT restoring a key and for tests; the app
    /// never replaces a key.
    pub fn replace(&self, key: &QueueKey) -> Result<(), TokenStoreError> {
        self.entry()?
            .set_password(&key.expose_hex())
            .map_err(unavailable)
    }

    /// Remove the key (tests: a lost keyring).
    pub fn delete(&self) -> Result<(), TokenStoreError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Open (creating if needed) the encrypted audit queue in `folder` under this keyring's
    /// key, made when there is none.
    pub fn open_queue(
        &self,
        folder: &std::path::Path,
    ) -> Result<cpis_audit::AuditQueue, cpis_audit::AuditError> {
        cpis_audit::AuditQueue::open_encrypted_with(folder, || {
            self.load_or_create().map_err(|error| error.to_string())
        })
    }
}

/// 256 bits from the operating system's random number generator.
pub fn random_key() -> Result<QueueKey, TokenStoreError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| {
            TokenStoreError::Unavailable(format!("no randomness from the OS for a key: {error}"))
        })?;
    Ok(QueueKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_differ() {
        let first = random_key().expect("key");
        let second = random_key().expect("key");
        assert_ne!(first, second);
        assert_ne!(first.expose_hex(), "0".repeat(64));
    }
}
