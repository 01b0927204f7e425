//! The queue's encryption key: 256 random bits that SQLCipher uses as a raw key
//! (`PRAGMA key = "x'…'"`, no passphrase derivation). The key lives only in memory and in the
//! OS keyring (`cpis-client`'s `queue_key`); its `Debug` is redacted and it is never logged or
//! written to disk.

/// A 256-bit raw SQLCipher key for the local audit queue.
#[derive(Clone, PartialEq, Eq)]
pub struct QueueKey([u8; 32]);

impl std::fmt::Debug for QueueKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("QueueKey(<redacted>)")
    }
}

impl QueueKey {
    /// A key of these bytes. Callers draw them from the OS's randomness (a fixed value is for
    /// tests only).
    pub fn from_bytes(bytes: [u8; 32]) -> QueueKey {
        QueueKey(bytes)
    }

    /// The key from its 64 hexadecimal digits (as kept in the keyring); `None` when the text
    /// is not exactly that.
    pub fn from_hex(text: &str) -> Option<QueueKey> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).ok()?;
        Some(QueueKey(bytes))
    }

    /// The key as 64 lowercase hexadecimal digits, for the keyring entry. Never log it.
    pub fn expose_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The value of `PRAGMA key` / `ATTACH … KEY` for this key as a raw key: `x'<hex>'`.
    pub(crate) fn sql_value(&self) -> String {
        format!("x'{}'", self.expose_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = QueueKey::from_bytes([0xab; 32]);
        let debug = format!("{key:?}");
        assert!(!debug.to_lowercase().contains("abab"), "{debug}");
        assert_eq!(debug, "QueueKey(<redacted>)");
    }

    #[test]
    fn hex_round_trips_and_refuses_anything_else() {
        let key = QueueKey::from_bytes(std::array::from_fn(|index| index as u8));
        assert_eq!(QueueKey::from_hex(&key.expose_hex()), Some(key.clone()));
        assert_eq!(key.expose_hex().len(), 64);
        assert_eq!(key.sql_value(), format!("x'{}'", key.expose_hex()));
        assert_eq!(QueueKey::from_hex("abcd"), None);
        assert_eq!(QueueKey::from_hex(&"zz".repeat(32)), None);
        assert_eq!(QueueKey::from_hex(&"ab".repeat(33)), None);
    }
}
