//! The storage handle ([`Store`]): connecting to SQLite or PostgreSQL through one code path
//! (sqlx's `Any` driver), the versioned migrations in `migrations/`, and the write queue.
//!
//! SQLite connections are opened with `journal_mode=WAL`, `synchronous=FULL` (a committed row
//! survives power loss), `foreign_keys=ON` and a busy timeout. PostgreSQL may be shared by
//! several service replicas: migrations take PostgreSQL's advisory lock, and every write is a
//! short transaction keyed by UUIDs or natural keys.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Executor, Row};

use crate::store::access_writer::{ACCESS_QUEUE, AccessJob, access_writer_task};
use crate::store::values::{Backend, StoreError};

/// The embedded, versioned migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The storage handle. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    /// SQLite has one writer at a time: queue writers here, in order, instead of letting them
    /// spin in SQLite's busy handler (which gave second-long tail latencies under load).
    pub(super) sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    /// SQLite: accesses go to one writer task that commits whatever is waiting in one
    /// transaction (group commit: one fsync for many lookups), answering each only after the
    /// commit. PostgreSQL takes concurrent transactions (and groups commits itself): `None`.
    pub(super) access_writer: Option<tokio::sync::mpsc::Sender<AccessJob>>,
}

/// Every SQLite connection's settings. `synchronous = FULL`: a commit is durable before it is
/// answered. The page cache (32 MiB a connection, taken only as used) holds the hot b-tree
/// pages of the audit log's random-keyed indexes (event ids), which the 2 MiB default re-read
/// from the OS at every insert; the WAL is checkpointed every 16,384 pages (64 MiB at 4 KiB)
/// instead of 1,000, so a page rewritten by many commits is copied into the database once per
/// checkpoint, and cut back to 64 MiB after one.
async fn sqlite_pragmas(connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA busy_timeout = 10000",
        "PRAGMA cache_size = -32768",
        "PRAGMA wal_autocheckpoint = 16384",
        "PRAGMA journal_size_limit = 67108864",
    ] {
        connection.execute(pragma).await?;
    }
    Ok(())
}

impl Store {
    /// Connect to `url` (`sqlite://PATH`, created if missing, or `postgres://...`) and run the
    /// migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains('?') {
                url.to_owned()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            options = options.after_connect(|connection, _| {
                Box::pin(async move { sqlite_pragmas(connection).await })
            });
        }
        let pool = options.connect(&url).await?;
        MIGRATOR.run(&pool).await?;
        let dialect = match backend {
            Backend::Sqlite => cpis_audit_log::Dialect::Sqlite,
            Backend::Postgres => cpis_audit_log::Dialect::Postgres,
        };
        cpis_audit_log::AuditLog::install_schema(&pool, dialect)
            .await
            .map_err(|error| match error {
                cpis_audit_log::AuditLogError::Database(error) => StoreError::Database(error),
                _ => StoreError::Corrupt("the central audit log's tables"),
            })?;
        let sqlite_writer = Arc::new(tokio::sync::Mutex::new(()));
        let access_writer = (backend == Backend::Sqlite).then(|| {
            let (sender, receiver) = tokio::sync::mpsc::channel(ACCESS_QUEUE);
            tokio::spawn(access_writer_task(
                pool.clone(),
                backend,
                sqlite_writer.clone(),
                receiver,
            ));
            sender
        });
        Ok(Store {
            pool,
            backend,
            sqlite_writer,
            access_writer,
        })
    }

    /// The pool, for modules that add their own tables through later migrations.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The central audit log on this database.
    pub fn audit_log(&self) -> cpis_audit_log::AuditLog {
        let dialect = match self.backend {
            Backend::Sqlite => cpis_audit_log::Dialect::Sqlite,
            Backend::Postgres => cpis_audit_log::Dialect::Postgres,
        };
        let log = cpis_audit_log::AuditLog::from_pool(self.pool.clone(), dialect);
        match self.backend {
            // Queue the log's writer with the service's other SQLite writers.
            Backend::Sqlite => log.with_writer_lock(self.sqlite_writer.clone()),
            Backend::Postgres => log,
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Hold this while writing: a queue for SQLite's single writer, nothing for PostgreSQL.
    pub(super) async fn writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The value of an SQLite pragma on a pooled connection (for tests and `/readyz`).
    pub async fn sqlite_pragma(&self, name: &str) -> Result<String, StoreError> {
        if !name.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
            return Err(StoreError::Corrupt("pragma name"));
        }
        let row = sqlx::query(AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(&self.pool)
            .await?;
        // journal_mode answers text, synchronous an integer.
        if let Ok(text) = row.try_get::<String, _>(0) {
            return Ok(text);
        }
        Ok(row.try_get::<i64, _>(0)?.to_string())
    }
}
