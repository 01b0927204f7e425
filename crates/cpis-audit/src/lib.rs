//! The durable local audit queue. Every view of a child's record is appended here before (and
//! regardless of) anything else, and later synced to the central audit log.
//!
//! Promises, each tested:
//! - durable: SQLite with `journal_mode=WAL` and `synchronous=FULL`, so an append that returned
//!   `Ok` survives a crash or power loss;
//! - ordered and gapless: each record gets the next per-device sequence number in the same
//!   transaction as its insert;
//! - tamper-evident: each record carries the SHA-256 of the previous record's hash and its own
//!   canonical encoding ([`chain`]), which the central log re-checks;
//! - never evicted: records are marked sent or quarantined, never deleted;
//! - private: the folder is owner-only (0700) and the file owner-only (0600) on Unix;
//! - encrypted at rest: SQLCipher (AES-256) under a random 256-bit key that lives only in the
//!   OS keyring ([`QueueKey`], [`AuditQueue::open_encrypted_with`]); a queue written before
//!   encryption is encrypted in place on first open, and one the key cannot read is moved
//!   aside and reported ([`QueueStatus::unreadable_files`]), never deleted.
//!
//! The queue never touches the network. Syncing lives elsewhere and only reads batches and
//! marks records sent after the server has confirmed that it committed them.

pub mod chain;
mod error;
mod key;
mod plan;
mod queue;
mod record;
mod schema;
mod storage;
pub mod sync;
pub mod wire;

pub use chain::{CanonicalRecord, GENESIS_HASH, record_hash};
pub use error::AuditError;
pub use key::QueueKey;
pub use plan::RecordedPlan;
pub use queue::{AuditQueue, QUEUE_FILE_NAME, retire_recovered};
pub use record::{
    AuditAction, ChainFinding, ChainReport, NewAuditEntry, QueueStatus, QueuedRecord,
};
pub use schema::SCHEMA_VERSION;
