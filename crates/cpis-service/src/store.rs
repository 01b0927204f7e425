//! Storage on SQLite or PostgreSQL through one code path (sqlx's `Any` driver, `$N`
//! placeholders, portable SQL), with versioned migrations in `migrations/`.
//!
//! SQLite connections are opened with `journal_mode=WAL`, `synchronous=FULL` (a committed row
//! survives power loss), `foreign_keys=ON` and a busy timeout. PostgreSQL may be shared by
//! several service replicas: migrations take PostgreSQL's advisory lock, and every write is a
//! short transaction keyed by UUIDs or natural keys.

use std::sync::Arc;
use std::time::Duration;

use cpis_domain::{
    Gender, LocalAuthority, NhsNumber, PatientDemographics, PlanType, ProtectionPlan, SocialWorker,
};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Executor, Row};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// The embedded, versioned migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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

/// A person as the demographics stand-in holds them.
pub type Person = PatientDemographics;

/// One stored unscheduled access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccess {
    /// Who looked (the token's `sub`).
    pub user_id: String,
    /// What the access history shows.
    pub record: cpis_domain::AccessRecord,
}

/// A new unscheduled access to record, with the authorities to notify.
#[derive(Debug, Clone)]
pub struct NewAccess {
    /// Whose record.
    pub nhs_number: NhsNumber,
    /// When.
    pub accessed_at: OffsetDateTime,
    /// The token's `sub`.
    pub user_id: String,
    /// The viewer's name.
    pub user_name: String,
    /// The selected role's profile id.
    pub role_profile_id: String,
    /// The selected role's name.
    pub role_name: String,
    /// The organisation's ODS code.
    pub organisation_ods: String,
    /// The organisation's name.
    pub organisation_name: String,
    /// The request's TraceID.
    pub trace_id: String,
    /// ODS codes of the local authorities to notify (one notification each).
    pub notify: Vec<String>,
}

/// One value of a bulk-inserted row.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// Text or NULL.
    Text(Option<String>),
    /// A BIGINT.
    Integer(i64),
}

/// Whether an uploaded plan was new or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// Stored as a new plan.
    Created,
    /// Updated the plan with the same person, authority, type and start.
    Updated,
}

/// The storage handle. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time: queue writers here, in order, instead of letting them
    /// spin in SQLite's busy handler (which gave second-long tail latencies under load).
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    /// SQLite: accesses go to one writer task that commits whatever is waiting in one
    /// transaction (group commit: one fsync for many lookups), answering each only after the
    /// commit. PostgreSQL takes concurrent transactions (and groups commits itself): `None`.
    access_writer: Option<tokio::sync::mpsc::Sender<AccessJob>>,
}

/// An access to record and where to say it is committed.
type AccessJob = (NewAccess, tokio::sync::oneshot::Sender<Result<(), String>>);

/// The most accesses committed together.
const ACCESS_GROUP_MAX: usize = 256;
/// Accesses that may wait for the writer before callers wait to hand theirs over.
const ACCESS_QUEUE: usize = 4096;

/// The group-commit writer: takes what is waiting (at most [`ACCESS_GROUP_MAX`]), writes it in
/// one transaction, then answers every caller with the commit's result.
async fn access_writer_task(
    pool: AnyPool,
    backend: Backend,
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    mut receiver: tokio::sync::mpsc::Receiver<AccessJob>,
) {
    let mut batch: Vec<AccessJob> = Vec::with_capacity(ACCESS_GROUP_MAX);
    while let Some(job) = receiver.recv().await {
        batch.push(job);
        while batch.len() < ACCESS_GROUP_MAX {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let result = {
            let _guard = match backend {
                Backend::Sqlite => Some(sqlite_writer.lock().await),
                Backend::Postgres => None,
            };
            write_accesses(&pool, batch.iter().map(|(access, _)| access)).await
        };
        let result = result.map_err(|error| error.to_string());
        for (_, reply) in batch.drain(..) {
            // The caller may have gone (request timeout); the access is recorded all the same.
            let _ = reply.send(result.clone());
        }
    }
}

async fn write_accesses<'a>(
    pool: &AnyPool,
    accesses: impl Iterator<Item = &'a NewAccess>,
) -> Result<(), StoreError> {
    let mut transaction = pool.begin().await?;
    for access in accesses {
        let access_id = uuid::Uuid::new_v4().to_string();
        let at = to_micros(access.accessed_at);
        sqlx::query(
            "INSERT INTO accesses (id, nhs_number, accessed_at, user_id, user_name, \
             role_profile_id, role_name, organisation_ods, organisation_name, trace_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&access_id)
        .bind(access.nhs_number.as_str())
        .bind(at)
        .bind(&access.user_id)
        .bind(&access.user_name)
        .bind(&access.role_profile_id)
        .bind(&access.role_name)
        .bind(&access.organisation_ods)
        .bind(&access.organisation_name)
        .bind(&access.trace_id)
        .execute(&mut *transaction)
        .await?;
        for ods_code in &access.notify {
            sqlx::query(
                "INSERT INTO notifications (id, access_id, la_ods_code, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&access_id)
            .bind(ods_code)
            .bind(at)
            .execute(&mut *transaction)
            .await?;
        }
    }
    transaction.commit().await?;
    Ok(())
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

fn parse_date(text: &str, what: &'static str) -> Result<Date, StoreError> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| StoreError::Corrupt(what))
}

async fn sqlite_pragmas(connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA busy_timeout = 10000",
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
        cpis_audit_log::AuditLog::install_schema(&pool)
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
        cpis_audit_log::AuditLog::from_pool(self.pool.clone(), dialect)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Hold this while writing: a queue for SQLite's single writer, nothing for PostgreSQL.
    async fn writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
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

    /// A person by NHS number.
    pub async fn person(&self, nhs_number: &NhsNumber) -> Result<Option<Person>, StoreError> {
        let row = sqlx::query(
            "SELECT family_name, given_names, date_of_birth, gender FROM people WHERE nhs_number = $1",
        )
        .bind(nhs_number.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let given_names: String = row.try_get(1)?;
        let given_names: Vec<String> =
            serde_json::from_str(&given_names).map_err(|_| StoreError::Corrupt("given names"))?;
        let gender: String = row.try_get(3)?;
        Ok(Some(PatientDemographics {
            nhs_number: nhs_number.clone(),
            family_name: row.try_get(0)?,
            given_names,
            date_of_birth: parse_date(&row.try_get::<String, _>(2)?, "date of birth")?,
            gender: Gender::from_fhir_code(&gender).ok_or(StoreError::Corrupt("gender"))?,
        }))
    }

    /// A person's date of birth and all their stored plans (newest start first), in one query;
    /// `None` when the person is unknown.
    pub async fn person_plans(
        &self,
        nhs_number: &NhsNumber,
    ) -> Result<Option<(Date, Vec<ProtectionPlan>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.date_of_birth, pl.plan_type, pl.start_date, pl.end_date, \
                    pl.social_worker_name, pl.social_worker_phone, \
                    la.ods_code, la.name, la.office_hours_phone, la.emergency_duty_phone \
             FROM people p \
             LEFT JOIN plans pl ON pl.nhs_number = p.nhs_number \
             LEFT JOIN local_authorities la ON la.ods_code = pl.la_ods_code \
             WHERE p.nhs_number = $1 \
             ORDER BY pl.start_date DESC, pl.plan_type",
        )
        .bind(nhs_number.as_str())
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let date_of_birth = parse_date(&first.try_get::<String, _>(0)?, "date of birth")?;
        let mut plans = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(plan) = plan_from_row(row)? {
                plans.push(plan);
            }
        }
        Ok(Some((date_of_birth, plans)))
    }

    /// Record an unscheduled access and its notifications, returning once they are committed
    /// (together with any other accesses waiting at the same moment).
    pub async fn record_access(&self, access: &NewAccess) -> Result<(), StoreError> {
        let Some(access_writer) = &self.access_writer else {
            return write_accesses(&self.pool, std::iter::once(access)).await;
        };
        let (reply, committed) = tokio::sync::oneshot::channel();
        access_writer
            .send((access.clone(), reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        committed
            .await
            .map_err(|_| StoreError::WriterStopped)?
            .map_err(StoreError::GroupWrite)
    }

    /// The most recent accesses to a record, newest first, at most `limit`.
    pub async fn recent_accesses(
        &self,
        nhs_number: &NhsNumber,
        limit: i64,
    ) -> Result<Vec<StoredAccess>, StoreError> {
        let rows = sqlx::query(
            "SELECT accessed_at, user_id, user_name, role_name, organisation_ods, \
                    organisation_name \
             FROM accesses WHERE nhs_number = $1 \
             ORDER BY accessed_at DESC, id DESC LIMIT $2",
        )
        .bind(nhs_number.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredAccess {
                    user_id: row.try_get(1)?,
                    record: cpis_domain::AccessRecord {
                        accessed_at: from_micros(row.try_get(0)?)?,
                        viewer_name: row.try_get(2)?,
                        viewer_role: row.try_get(3)?,
                        organisation_ods: row.try_get(4)?,
                        organisation_name: row.try_get(5)?,
                    },
                })
            })
            .collect()
    }

    /// A local authority's notifications at or after `since`, oldest first, at most `limit`:
    /// `(notification id, NHS number, access)`.
    pub async fn notifications_since(
        &self,
        la_ods_code: &str,
        since: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<(String, NhsNumber, cpis_domain::AccessRecord)>, StoreError> {
        let rows = sqlx::query(
            "SELECT n.id, a.nhs_number, a.accessed_at, a.user_name, a.role_name, \
                    a.organisation_ods, a.organisation_name \
             FROM notifications n JOIN accesses a ON a.id = n.access_id \
             WHERE n.la_ods_code = $1 AND n.created_at >= $2 \
             ORDER BY n.created_at, n.id LIMIT $3",
        )
        .bind(la_ods_code)
        .bind(to_micros(since))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let nhs_number = NhsNumber::parse(&row.try_get::<String, _>(1)?)
                    .map_err(|_| StoreError::Corrupt("NHS number"))?;
                Ok((
                    row.try_get(0)?,
                    nhs_number,
                    cpis_domain::AccessRecord {
                        accessed_at: from_micros(row.try_get(2)?)?,
                        viewer_name: row.try_get(3)?,
                        viewer_role: row.try_get(4)?,
                        organisation_ods: row.try_get(5)?,
                        organisation_name: row.try_get(6)?,
                    },
                ))
            })
            .collect()
    }

    /// Whether the demographics stand-in knows this person.
    pub async fn person_exists(&self, nhs_number: &NhsNumber) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM people WHERE nhs_number = $1")
            .bind(nhs_number.as_str())
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Store one uploaded plan and its authority's contact details, all or nothing.
    pub async fn upsert_plan(
        &self,
        nhs_number: &NhsNumber,
        plan: &ProtectionPlan,
        now: OffsetDateTime,
    ) -> Result<UpsertOutcome, StoreError> {
        let authority = &plan.local_authority;
        let _writer = self.writer().await;
        let mut transaction = self.pool.begin().await?;
        // A write first, so SQLite takes the write lock (and waits for it) at once.
        sqlx::query(
            "INSERT INTO local_authorities (ods_code, name, office_hours_phone, emergency_duty_phone) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ods_code) DO UPDATE SET name = excluded.name, \
             office_hours_phone = excluded.office_hours_phone, \
             emergency_duty_phone = excluded.emergency_duty_phone",
        )
        .bind(&authority.ods_code)
        .bind(&authority.name)
        .bind(&authority.office_hours_phone)
        .bind(&authority.emergency_duty_phone)
        .execute(&mut *transaction)
        .await?;
        let start = date_text(plan.start);
        let existing = sqlx::query(
            "SELECT id FROM plans WHERE nhs_number = $1 AND la_ods_code = $2 \
             AND plan_type = $3 AND start_date = $4",
        )
        .bind(nhs_number.as_str())
        .bind(&authority.ods_code)
        .bind(plan.plan_type.short_code())
        .bind(&start)
        .fetch_optional(&mut *transaction)
        .await?;
        let outcome = if existing.is_some() {
            UpsertOutcome::Updated
        } else {
            UpsertOutcome::Created
        };
        sqlx::query(
            "INSERT INTO plans (id, nhs_number, la_ods_code, plan_type, start_date, end_date, \
             social_worker_name, social_worker_phone, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (nhs_number, la_ods_code, plan_type, start_date) DO UPDATE SET \
             end_date = excluded.end_date, social_worker_name = excluded.social_worker_name, \
             social_worker_phone = excluded.social_worker_phone, updated_at = excluded.updated_at",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(nhs_number.as_str())
        .bind(&authority.ods_code)
        .bind(plan.plan_type.short_code())
        .bind(&start)
        .bind(plan.end.map(date_text))
        .bind(
            plan.social_worker
                .as_ref()
                .map(|worker| worker.name.clone()),
        )
        .bind(
            plan.social_worker
                .as_ref()
                .map(|worker| worker.phone.clone()),
        )
        .bind(to_micros(now))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(outcome)
    }

    /// How many people are stored.
    pub async fn count_people(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM people")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// Insert rows in one multi-row statement: `rows` of `columns` values each.
    pub(crate) async fn insert_rows(
        &self,
        connection: &mut AnyConnection,
        table_and_columns: &str,
        columns: usize,
        rows: &[Vec<Cell>],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut sql = format!("INSERT INTO {table_and_columns} VALUES ");
        let mut number = 0usize;
        for (index, _) in rows.iter().enumerate() {
            if index > 0 {
                sql.push(',');
            }
            sql.push('(');
            for column in 0..columns {
                if column > 0 {
                    sql.push(',');
                }
                number += 1;
                sql.push('$');
                sql.push_str(&number.to_string());
            }
            sql.push(')');
        }
        // Safe: the SQL is built only from our own table and column names and placeholders.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in rows {
            for value in row {
                query = match value {
                    Cell::Text(text) => query.bind(text.clone()),
                    Cell::Integer(number) => query.bind(*number),
                };
            }
        }
        query.execute(&mut *connection).await?;
        Ok(())
    }
}

fn plan_from_row(row: &AnyRow) -> Result<Option<ProtectionPlan>, StoreError> {
    let Some(plan_type) = row.try_get::<Option<String>, _>(1)? else {
        return Ok(None);
    };
    let plan_type =
        PlanType::from_short_code(&plan_type).ok_or(StoreError::Corrupt("plan type"))?;
    let start = parse_date(&row.try_get::<String, _>(2)?, "plan start")?;
    let end = match row.try_get::<Option<String>, _>(3)? {
        Some(text) => Some(parse_date(&text, "plan end")?),
        None => None,
    };
    let social_worker = match (
        row.try_get::<Option<String>, _>(4)?,
        row.try_get::<Option<String>, _>(5)?,
    ) {
        (Some(name), Some(phone)) => Some(SocialWorker { name, phone }),
        _ => None,
    };
    Ok(Some(ProtectionPlan {
        plan_type,
        start,
        end,
        local_authority: LocalAuthority {
            ods_code: row.try_get(6)?,
            name: row.try_get(7)?,
            office_hours_phone: row.try_get(8)?,
            emergency_duty_phone: row.try_get(9)?,
        },
        social_worker,
    }))
}
