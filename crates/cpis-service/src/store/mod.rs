//! Storage on SQLite or PostgreSQL through one code path (sqlx's `Any` driver, `$N`
//! placeholders, portable SQL), with versioned migrations in `migrations/`, one module per
//! table family: [`people`], [`plans`] (with the local authorities' contacts), [`accesses`]
//! (the access history and notifications, written through [`access_writer`]), [`reads`]
//! (the service's own reads, recorded in the central audit log's table through a group-commit
//! writer), [`bulk`]
//! inserts for seeding, and the API platform's tables: [`roles`] (the role directory) and
//! [`oauth`] (grants, opaque tokens by hash, used `jti`s), over [`connection`] (the [`Store`] handle) and [`values`].

pub mod access_writer;
pub mod accesses;
pub mod bulk;
pub mod connection;
pub mod oauth;
pub mod people;
pub mod plans;
pub mod reads;
pub mod roles;
pub mod values;

pub use crate::store::access_writer::NewAccess;
pub use crate::store::accesses::StoredAccess;
pub(crate) use crate::store::bulk::Cell;
pub use crate::store::connection::{MIGRATOR, Store};
pub use crate::store::oauth::{NewGrant, RefreshOutcome, StoredGrant, TokenPair};
pub use crate::store::people::Person;
pub use crate::store::plans::UpsertOutcome;
pub use crate::store::reads::{ReadNotRecorded, ReadRecorder};
pub use crate::store::roles::DirectoryRole;
pub use crate::store::values::{Backend, StoreError, date_text, from_micros, to_micros};
