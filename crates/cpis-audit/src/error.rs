//! Why the queue could not do what was asked.

use crate::schema::SCHEMA_VERSION;

/// Why the queue could not do what was asked. Messages carry no patient data.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The folder or file could not be created or opened.
    #[error("the audit queue could not be opened at its folder")]
    Open(#[source] std::io::Error),
    /// SQLite failed (disk full, corrupt file, locked).
    #[error("the audit queue could not be written or read")]
    Database(#[from] rusqlite::Error),
    /// The file was written by a newer version of the app.
    #[error(
        "the audit queue was written by a newer version (schema {found}, this is {SCHEMA_VERSION})"
    )]
    NewerSchema {
        /// The version found.
        found: i64,
    },
    /// A pragma did not take the value the queue needs.
    #[error("the audit queue could not set {pragma} (got {value})")]
    Pragma {
        /// Which pragma.
        pragma: &'static str,
        /// What it reported.
        value: String,
    },
    /// A stored value could not be read back.
    #[error("the audit queue holds a value it cannot read ({what})")]
    Corrupt {
        /// Which field.
        what: &'static str,
    },
    /// The queue's key could not be had (the OS keyring is unavailable or refused). Nothing
    /// was changed: no file was moved or created.
    #[error("the audit queue's key could not be read from the OS keyring: {0}")]
    KeyUnavailable(String),
    /// The key does not read this file (or it is not an encrypted queue).
    #[error("the audit queue file cannot be read with this key")]
    WrongKey,
    /// The key does not read the queue, and another program (the app or `cpis`) has it open
    /// under another key: it is not set aside under that program; nothing was changed.
    #[error(
        "the audit queue is open in another program and cannot be read with this key; nothing was changed"
    )]
    InUseUnderAnotherKey,
    /// SQLCipher is not compiled in, so the queue could not be encrypted; nothing is written.
    #[error("the audit queue cannot be encrypted: this build has no SQLCipher")]
    NoEncryption,
    /// Encrypting a queue written before encryption failed; the plain file is left as it was.
    #[error(
        "the audit queue could not be encrypted ({what}); the unencrypted file was kept as it was"
    )]
    Encrypting {
        /// What went wrong, without patient data.
        what: String,
    },
    /// An internal lock was poisoned by a panic elsewhere.
    #[error("the audit queue is unavailable after an internal error")]
    Poisoned,
}
