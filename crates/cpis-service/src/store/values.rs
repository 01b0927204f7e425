//! The storage layer's vocabulary: which database ([`Backend`]), its errors ([`StoreError`]),
//! and how values are written to portable SQL (instants as microseconds, dates as ISO text).

use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One embedded file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Storage errors. Messages name what failed, never the data involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl,
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored value is not valid: {0}")]
    Corrupt(&'static str),
    /// The group-commit writer failed to commit (its error text; never data).
    #[error("database error while recording accesses: {0}")]
    GroupWrite(String),
    /// The group-commit writer has stopped.
    #[error("the access writer has stopped")]
    WriterStopped,
    /// More people were asked for than the synthetic range holds.
    #[error(
        "{asked} people (children plus 1 mother per 40 children) do not fit in the synthetic 999 range, which holds {capacity} valid NHS numbers; ask for at most {max_children} children"
    )]
    TooManyPeople {
        /// Children plus mothers asked for.
        asked: u64,
        /// Valid synthetic numbers (less a few kept for `not_in_pds`).
        capacity: u64,
        /// The most children that fit.
        max_children: u64,
    },
    /// Seeding was asked for on a database that already holds people.
    #[error("the database already holds people; seed only an empty database")]
    AlreadySeeded,
}

/// Microseconds since the Unix epoch.
pub fn to_micros(moment: OffsetDateTime) -> i64 {
    i64::try_from(moment.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// The instant for microseconds since the Unix epoch.
pub fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map_err(|_| StoreError::Corrupt("timestamp"))
}

/// `YYYY-MM-DD`.
pub fn date_text(date: Date) -> String {
    cpis_fhir::build::fhir_date(date)
}

/// A stored `YYYY-MM-DD` date; `what` names it in the error.
pub(crate) fn parse_date(text: &str, what: &'static str) -> Result<Date, StoreError> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| StoreError::Corrupt(what))
}
