//! The central audit log's tables, created idempotently (safe for several replicas to run at
//! once on PostgreSQL).
//!
//! - `audit_log_event_ids`: every event id ever stored (the idempotency key), unpartitioned so
//!   a replay is found whatever month it was first stored in.
//! - `audit_log_events`: the events the apps' queues send, each with who sent it (the
//!   authenticated principal: user, role profile and organisation).
//! - `audit_log_devices`: each device's chain head (the last event of its contiguous chain),
//!   the highest sequence number stored, and the organisation that first used it.
//! - `audit_log_findings`: chain findings recorded at ingest.
//! - `audit_log_reads`: the reads the service itself recorded (demographics, CP-IS, access
//!   history, the named nurse review), one PARS AuditEvent each.
//!
//! **PostgreSQL** partitions `audit_log_events` and `audit_log_reads` by range of
//! `occurred_at_micros`, one partition per calendar month in UTC (`audit_log_events_y2026m11`
//! holds 2026-11-01T00:00Z up to, not including, 2026-12-01T00:00Z), from [`MONTHS_BACK`]
//! months before the current month to [`MONTHS_AHEAD`] months after it, plus a `DEFAULT`
//! partition (`audit_log_events_default`) so that no event is ever refused for its date. When
//! a month's partition is created later and the `DEFAULT` partition already holds events of
//! that month, they are moved into it in the same transaction. [`ensure_partitions`] keeps the
//! window moving; the service calls it daily. Every change runs in one transaction under a
//! transaction-scoped advisory lock, after a catalogue check that finds nothing to do without
//! taking any lock, so replicas starting at once neither fail nor block ingest.
//!
//! A database created before partitioning, whose `audit_log_events` is a plain table, is
//! **left unpartitioned** (never copied, never dropped): the columns added since (the sender
//! columns, the device's organisation) are added with empty defaults, every stored event id is
//! copied into `audit_log_event_ids`, the indexes are created, and [`Partitions::unpartitioned`]
//! names it. Moving such a table into partitions is an operator's step (`docs/scale.md`).
//!
//! **SQLite** keeps plain tables.

use sqlx::{AnyPool, Row};
use time::{Date, Month, OffsetDateTime};

use crate::{AuditLogError, Dialect};

/// Months before the current one that get their own partition (at install and every
/// [`ensure_partitions`]); older events go to the `DEFAULT` partition.
pub const MONTHS_BACK: i32 = 24;
/// Months after the current one that get their own partition in advance.
pub const MONTHS_AHEAD: i32 = 3;
/// The tables partitioned by month on PostgreSQL.
pub const PARTITIONED_TABLES: [&str; 2] = ["audit_log_events", "audit_log_reads"];
/// The key of the transaction-scoped advisory lock every schema change holds ("cpisaudt").
const LOCK_KEY: i64 = 0x6370_6973_6175_6474;
/// How long a schema change waits for a table lock (e.g. behind a long review query) before
/// giving up, so that it never queues ingest behind it for longer; the next call retries.
const LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '10s'";

/// A table, index or partition: its name (checked in the catalogue first) and how to create it.
#[derive(Debug)]
struct Object {
    name: &'static str,
    sql: &'static str,
}

impl Object {
    fn is_table(&self) -> bool {
        self.sql.starts_with("CREATE TABLE")
    }
}

/// The statistics a partition of `table` gets beside the parent's (see
/// `audit_log_events_org_sender`).
fn partition_statistics(table: &str, partition: &str) -> Option<String> {
    (table == "audit_log_events").then(|| {
        format!(
            "CREATE STATISTICS IF NOT EXISTS {partition}_org_sender (dependencies) ON organisation_ods, sender_organisation_ods FROM {partition}"
        )
    })
}

const EVENT_IDS: Object = Object {
    name: "audit_log_event_ids",
    sql: "CREATE TABLE IF NOT EXISTS audit_log_event_ids (
        event_id TEXT PRIMARY KEY,
        occurred_at_micros BIGINT NOT NULL
    )",
};

const DEVICES: Object = Object {
    name: "audit_log_devices",
    sql: "CREATE TABLE IF NOT EXISTS audit_log_devices (
        device_id TEXT PRIMARY KEY,
        organisation_ods TEXT NOT NULL,
        last_sequence BIGINT NOT NULL,
        last_hash TEXT NOT NULL,
        max_sequence BIGINT NOT NULL DEFAULT 0
    )",
};

const FINDINGS: Object = Object {
    name: "audit_log_findings",
    sql: "CREATE TABLE IF NOT EXISTS audit_log_findings (
        finding_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        sequence BIGINT NOT NULL,
        kind TEXT NOT NULL,
        event_id TEXT NOT NULL,
        found_at TEXT NOT NULL
    )",
};

/// The verify query reads each device's events in sequence order.
const EVENTS_DEVICE_INDEX: Object = Object {
    name: "audit_log_events_device",
    sql: "CREATE INDEX IF NOT EXISTS audit_log_events_device ON audit_log_events (device_id, sequence)",
};

const READS_PATIENT_INDEX: Object = Object {
    name: "audit_log_reads_patient",
    sql: "CREATE INDEX IF NOT EXISTS audit_log_reads_patient ON audit_log_reads (nhs_number, occurred_at_micros)",
};

const READS_ORG_INDEX: Object = Object {
    name: "audit_log_reads_org_time",
    sql: "CREATE INDEX IF NOT EXISTS audit_log_reads_org_time ON audit_log_reads (organisation_ods, occurred_at_micros)",
};

/// `CREATE TABLE audit_log_events`, with `$tail` after its columns: one column list for both
/// dialects (PostgreSQL adds its partitioning).
macro_rules! events_table {
    ($tail:literal) => {
        concat!(
            "CREATE TABLE IF NOT EXISTS audit_log_events (
        event_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        sequence BIGINT NOT NULL,
        occurred_at TEXT NOT NULL,
        occurred_at_micros BIGINT NOT NULL,
        received_at TEXT NOT NULL,
        organisation_ods TEXT NOT NULL,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        record_hash TEXT NOT NULL,
        sender_user_id TEXT NOT NULL,
        sender_role_profile_id TEXT NOT NULL,
        sender_organisation_ods TEXT NOT NULL,
        resource TEXT NOT NULL,
        PRIMARY KEY (event_id, occurred_at_micros)
    )",
            $tail
        )
    };
}

/// `CREATE TABLE audit_log_reads`, with `$tail` after its columns (as `events_table!`).
macro_rules! reads_table {
    ($tail:literal) => {
        concat!(
            "CREATE TABLE IF NOT EXISTS audit_log_reads (
        event_id TEXT NOT NULL,
        occurred_at_micros BIGINT NOT NULL,
        organisation_ods TEXT NOT NULL,
        user_id TEXT NOT NULL,
        interaction TEXT NOT NULL,
        nhs_number TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        resource TEXT NOT NULL,
        PRIMARY KEY (event_id, occurred_at_micros)
    )",
            $tail
        )
    };
}

/// SQLite: the idempotency key as one b-tree keyed by the event id (`WITHOUT ROWID`: a rowid
/// table with a text primary key is two b-trees, the table and its key's index, each written
/// at every insert). A database from before keeps its rowid table (same columns, same
/// statements).
const SQLITE_EVENT_IDS: Object = Object {
    name: "audit_log_event_ids",
    sql: "CREATE TABLE IF NOT EXISTS audit_log_event_ids (
        event_id TEXT PRIMARY KEY,
        occurred_at_micros BIGINT NOT NULL
    ) WITHOUT ROWID",
};

/// SQLite: plain tables.
const SQLITE: &[Object] = &[
    SQLITE_EVENT_IDS,
    Object {
        name: "audit_log_events",
        sql: events_table!(""),
    },
    Object {
        name: "audit_log_events_review",
        sql: "CREATE INDEX IF NOT EXISTS audit_log_events_review ON audit_log_events (organisation_ods, occurred_at_micros, event_id)",
    },
    EVENTS_DEVICE_INDEX,
    DEVICES,
    FINDINGS,
    Object {
        name: "audit_log_reads",
        sql: reads_table!(""),
    },
    READS_PATIENT_INDEX,
    READS_ORG_INDEX,
];

/// PostgreSQL: the two big tables partitioned by month. An index created on a partitioned
/// table is created on every partition, now and later.
const POSTGRES: &[Object] = &[
    EVENT_IDS,
    Object {
        name: "audit_log_events",
        sql: events_table!(" PARTITION BY RANGE (occurred_at_micros)"),
    },
    // The review: `organisation_ods = $1 AND sender_organisation_ods = $1 AND
    // occurred_at_micros BETWEEN ..` newest first with keyset paging on (occurred_at_micros,
    // event_id): both equalities, then the order, so a page is read in order and stops after
    // its rows, and the count of the whole search is an index-only scan.
    Object {
        name: "audit_log_events_review",
        sql: "CREATE INDEX IF NOT EXISTS audit_log_events_review ON audit_log_events (organisation_ods, sender_organisation_ods, occurred_at_micros DESC, event_id DESC)",
    },
    // The two organisations are almost always equal: without this the planner multiplies
    // their selectivities, expects a hundred times too few rows, and sorts a whole month
    // instead of reading the index in order. Statistics are per table, so each partition gets
    // its own too (see `partition_statistics`).
    Object {
        name: "audit_log_events_org_sender",
        sql: "CREATE STATISTICS IF NOT EXISTS audit_log_events_org_sender (dependencies) ON organisation_ods, sender_organisation_ods FROM audit_log_events",
    },
    EVENTS_DEVICE_INDEX,
    DEVICES,
    FINDINGS,
    Object {
        name: "audit_log_reads",
        sql: reads_table!(" PARTITION BY RANGE (occurred_at_micros)"),
    },
    READS_PATIENT_INDEX,
    READS_ORG_INDEX,
];

/// Columns added since the first release, with the value rows stored before get:
/// (table, column, definition). Events stored before senders were recorded have an empty
/// (unknown) sender; a device's organisation is that of its first stored event.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    (
        "audit_log_events",
        "sender_user_id",
        "TEXT NOT NULL DEFAULT ''",
    ),
    (
        "audit_log_events",
        "sender_role_profile_id",
        "TEXT NOT NULL DEFAULT ''",
    ),
    (
        "audit_log_events",
        "sender_organisation_ods",
        "TEXT NOT NULL DEFAULT ''",
    ),
    (
        "audit_log_devices",
        "organisation_ods",
        "TEXT NOT NULL DEFAULT ''",
    ),
    // The highest sequence number stored for the device (above `last_sequence` while events
    // beyond a hole are parked); before, the head always moved to the highest one.
    (
        "audit_log_devices",
        "max_sequence",
        "BIGINT NOT NULL DEFAULT 0",
    ),
];

/// After the columns are added to a database from before: every stored event id into the
/// idempotency table, and each device bound to the organisation of its first event.
const BACKFILL: &[&str] = &[
    "INSERT INTO audit_log_event_ids (event_id, occurred_at_micros)
     SELECT event_id, occurred_at_micros FROM audit_log_events WHERE true
     ON CONFLICT (event_id) DO NOTHING",
    "UPDATE audit_log_devices SET organisation_ods = COALESCE((
        SELECT e.organisation_ods FROM audit_log_events e
        WHERE e.device_id = audit_log_devices.device_id
        ORDER BY e.sequence, e.event_id LIMIT 1), '')
     WHERE organisation_ods = ''",
    "UPDATE audit_log_devices SET max_sequence = last_sequence WHERE max_sequence < last_sequence",
];

/// What [`ensure_partitions`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partitions {
    /// Partitions created by this call (none when every one was there).
    pub created: Vec<String>,
    /// Tables that are plain tables from a database created before partitioning, left as
    /// they are (always empty on SQLite, where nothing is partitioned).
    pub unpartitioned: Vec<String>,
}

/// Create the tables in `pool` for `dialect`, if they are not there; on PostgreSQL with the
/// monthly partitions around the current month (see [`ensure_partitions`]).
pub async fn install(pool: &AnyPool, dialect: Dialect) -> Result<(), AuditLogError> {
    match dialect {
        Dialect::Sqlite => install_sqlite(pool).await,
        Dialect::Postgres => ensure_postgres(pool, OffsetDateTime::now_utc())
            .await
            .map(|_| ()),
    }
}

/// Make sure every monthly partition from [`MONTHS_BACK`] months before `now`'s month to
/// [`MONTHS_AHEAD`] months after it exists (and the `DEFAULT` partitions), on PostgreSQL;
/// nothing on SQLite. Idempotent, cheap when nothing is missing (one catalogue query, no
/// lock), and safe to run from several replicas at once. Call it at start-up (which
/// [`install`] does) and then daily, so that next month's partition always exists before its
/// first event arrives. Events of a month without a partition are never refused: they go to
/// the `DEFAULT` partition and move to their month when its partition is created.
pub async fn ensure_partitions(
    pool: &AnyPool,
    dialect: Dialect,
    now: OffsetDateTime,
) -> Result<Partitions, AuditLogError> {
    match dialect {
        Dialect::Sqlite => Ok(Partitions::default()),
        Dialect::Postgres => ensure_postgres(pool, now).await,
    }
}

/// The half-open range of micros since the epoch of one UTC calendar month, and its suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    /// The first microsecond of the month (UTC).
    pub from_micros: i64,
    /// The first microsecond of the next month (UTC).
    pub to_micros: i64,
    /// The year.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u8,
}

impl MonthRange {
    /// The month `offset` months after the one `at` falls in (UTC); `None` out of range.
    pub fn around(at: OffsetDateTime, offset: i32) -> Option<MonthRange> {
        let at = at.to_offset(time::UtcOffset::UTC);
        let index = at.year() * 12 + i32::from(u8::from(at.month())) - 1 + offset;
        let start = month_start(index)?;
        let end = month_start(index + 1)?;
        Some(MonthRange {
            from_micros: start,
            to_micros: end,
            year: index.div_euclid(12),
            month: u8::try_from(index.rem_euclid(12) + 1).ok()?,
        })
    }

    /// The partition of `table` for this month, e.g. `audit_log_events_y2026m11`.
    pub fn partition_name(&self, table: &str) -> String {
        format!("{table}_y{:04}m{:02}", self.year, self.month)
    }
}

/// Micros since the epoch at 00:00 UTC on the first day of month `index` (year * 12 + month
/// - 1).
fn month_start(index: i32) -> Option<i64> {
    let year = index.div_euclid(12);
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, 1).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1_000_000)
}

/// The `DEFAULT` partition of `table`.
pub fn default_partition(table: &str) -> String {
    format!("{table}_default")
}

/// The relations and statistics named `audit_log%` in the current schema, with their kind
/// (`r` table, `p` partitioned table, `i`/`I` index, `s` statistics).
async fn relations<'c, E>(executor: E) -> Result<Vec<(String, String)>, AuditLogError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT c.relname::text, c.relkind::text FROM pg_class c
         WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
           AND c.relname LIKE 'audit\\_log\\_%'
         UNION ALL
         SELECT s.stxname::text, 's' FROM pg_statistic_ext s
         WHERE s.stxnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
           AND s.stxname LIKE 'audit\\_log\\_%'",
    )
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// The columns of `table` in the current schema.
async fn postgres_columns<'c, E>(executor: E, table: &str) -> Result<Vec<String>, AuditLogError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(executor)
    .await?;
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
}

/// What is missing, given the relations there are.
#[derive(Debug, Default)]
struct Plan {
    /// Base tables and indexes to create.
    objects: Vec<&'static Object>,
    /// (table, partition name, range; `None` for the `DEFAULT` partition).
    partitions: Vec<(&'static str, String, Option<MonthRange>)>,
    unpartitioned: Vec<String>,
}

fn plan(existing: &[(String, String)], now: OffsetDateTime) -> Plan {
    let kind = |name: &str| {
        existing
            .iter()
            .find(|(relname, _)| relname == name)
            .map(|(_, kind)| kind.as_str())
    };
    let mut plan = Plan::default();
    for object in POSTGRES {
        if kind(object.name).is_none() {
            plan.objects.push(object);
        }
    }
    for table in PARTITIONED_TABLES {
        match kind(table) {
            // A plain table from before: left as it is.
            Some("r") => {
                plan.unpartitioned.push(table.to_string());
                continue;
            }
            // Partitioned, or about to be created partitioned.
            Some("p") | None => {}
            Some(_) => continue,
        }
        let default = default_partition(table);
        if kind(&default).is_none() {
            plan.partitions.push((table, default, None));
        }
        for offset in -MONTHS_BACK..=MONTHS_AHEAD {
            let Some(month) = MonthRange::around(now, offset) else {
                continue;
            };
            let name = month.partition_name(table);
            if kind(&name).is_none() {
                plan.partitions.push((table, name, Some(month)));
            }
        }
    }
    plan
}

async fn ensure_postgres(pool: &AnyPool, now: OffsetDateTime) -> Result<Partitions, AuditLogError> {
    // First without any lock: the usual case (every replica's start-up and the daily call
    // between month ends) has nothing to do.
    let first = plan(&relations(pool).await?, now);
    let mut columns_missing = false;
    for table in ["audit_log_events", "audit_log_devices"] {
        if first.objects.iter().any(|object| object.name == table) {
            continue;
        }
        let columns = postgres_columns(pool, table).await?;
        columns_missing |= ADDED_COLUMNS
            .iter()
            .any(|(t, column, _)| *t == table && !columns.iter().any(|c| c == column));
    }
    if first.objects.is_empty() && first.partitions.is_empty() && !columns_missing {
        return Ok(Partitions {
            created: Vec::new(),
            unpartitioned: first.unpartitioned,
        });
    }
    let mut transaction = pool.begin().await?;
    // Replicas starting at once queue here; each then re-reads the catalogue and finds what
    // the one before it created.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(LOCK_TIMEOUT).execute(&mut *transaction).await?;
    let plan = plan(&relations(&mut *transaction).await?, now);
    // Tables first, then the columns a database from before lacks, then the indexes (which
    // may use those columns).
    for object in plan.objects.iter().filter(|object| object.is_table()) {
        sqlx::query(object.sql).execute(&mut *transaction).await?;
    }
    // A database from before: the columns added since, then the backfill.
    let mut added = false;
    for (table, column, definition) in ADDED_COLUMNS {
        let columns = postgres_columns(&mut *transaction, table).await?;
        if !columns.iter().any(|c| c == column) {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {table} ADD COLUMN {column} {definition}"
            )))
            .execute(&mut *transaction)
            .await?;
            added = true;
        }
    }
    if added {
        for statement in BACKFILL {
            sqlx::query(*statement).execute(&mut *transaction).await?;
        }
    }
    for object in plan.objects.iter().filter(|object| !object.is_table()) {
        sqlx::query(object.sql).execute(&mut *transaction).await?;
    }
    let mut created = Vec::new();
    // The DEFAULT partitions first, so that the month partitions below can check them.
    let (defaults, months): (Vec<_>, Vec<_>) = plan
        .partitions
        .iter()
        .partition(|(_, _, range)| range.is_none());
    for (table, name, _) in defaults {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} DEFAULT"
        )))
        .execute(&mut *transaction)
        .await?;
        if let Some(statistics) = partition_statistics(table, name) {
            sqlx::query(sqlx::AssertSqlSafe(statistics))
                .execute(&mut *transaction)
                .await?;
        }
        created.push(name.clone());
    }
    for (table, name, range) in months {
        let Some(range) = range else { continue };
        create_month(&mut transaction, table, name, range).await?;
        if let Some(statistics) = partition_statistics(table, name) {
            sqlx::query(sqlx::AssertSqlSafe(statistics))
                .execute(&mut *transaction)
                .await?;
        }
        created.push(name.clone());
    }
    transaction.commit().await?;
    Ok(Partitions {
        created,
        unpartitioned: plan.unpartitioned,
    })
}

/// Create the partition `name` of `table` for `range`. When the `DEFAULT` partition already
/// holds events of that month (stored while the month had no partition), they are moved into
/// the new partition before it is attached: nothing is refused and nothing is lost.
async fn create_month(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
    name: &str,
    range: &MonthRange,
) -> Result<(), AuditLogError> {
    let default = default_partition(table);
    let (from, to) = (range.from_micros, range.to_micros);
    let parked: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {default} WHERE occurred_at_micros >= {from} AND occurred_at_micros < {to} LIMIT 1) parked"
    )))
    .fetch_one(&mut **transaction)
    .await?
    .try_get(0)?;
    if parked == 0 {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} FOR VALUES FROM ({from}) TO ({to})"
        )))
        .execute(&mut **transaction)
        .await?;
        return Ok(());
    }
    for statement in [
        format!("CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"),
        format!(
            "WITH moved AS (DELETE FROM {default} WHERE occurred_at_micros >= {from} AND occurred_at_micros < {to} RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        format!("ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to})"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

async fn install_sqlite(pool: &AnyPool) -> Result<(), AuditLogError> {
    // Tables first, then the columns a database from before lacks, then the indexes.
    for object in SQLITE.iter().filter(|object| object.is_table()) {
        sqlx::query(object.sql).execute(pool).await?;
    }
    upgrade_sqlite(pool).await?;
    for object in SQLITE.iter().filter(|object| !object.is_table()) {
        sqlx::query(object.sql).execute(pool).await?;
    }
    Ok(())
}

/// Add the columns added since to a SQLite database from before, then backfill.
async fn upgrade_sqlite(pool: &AnyPool) -> Result<(), AuditLogError> {
    let mut added = false;
    for (table, column, definition) in ADDED_COLUMNS {
        if sqlite_has_column(pool, table, column).await? {
            continue;
        }
        let result = sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} ADD COLUMN {column} {definition}"
        )))
        .execute(pool)
        .await;
        match result {
            Ok(_) => added = true,
            // Another process added it meanwhile.
            Err(_) if sqlite_has_column(pool, table, column).await? => {}
            Err(error) => return Err(error.into()),
        }
    }
    if added {
        for statement in BACKFILL {
            sqlx::query(*statement).execute(pool).await?;
        }
    }
    Ok(())
}

async fn sqlite_has_column(
    pool: &AnyPool,
    table: &str,
    column: &str,
) -> Result<bool, AuditLogError> {
    let found: i64 = sqlx::query("SELECT COUNT(*) FROM pragma_table_info($1) WHERE name = $2")
        .bind(table)
        .bind(column)
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    Ok(found > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn months_are_utc_calendar_months() {
        let month = MonthRange::around(datetime!(2026-11-28 00:30 UTC), 0).expect("month");
        assert_eq!(
            month.partition_name("audit_log_events"),
            "audit_log_events_y2026m11"
        );
        assert_eq!(
            month.from_micros,
            datetime!(2026-11-01 00:00 UTC).unix_timestamp() * 1_000_000
        );
        assert_eq!(
            month.to_micros,
            datetime!(2026-12-01 00:00 UTC).unix_timestamp() * 1_000_000
        );
        // Across a year end, both ways, and from a time given in another offset.
        let ahead = MonthRange::around(datetime!(2026-11-28 00:30 UTC), 3).expect("month");
        assert_eq!((ahead.year, ahead.month), (2027, 2));
        let back = MonthRange::around(datetime!(2026-11-28 00:30 UTC), -24).expect("month");
        assert_eq!((back.year, back.month), (2024, 11));
        let local = MonthRange::around(datetime!(2026-12-01 00:30 +01:00), 0).expect("month");
        assert_eq!((local.year, local.month), (2026, 11));
    }

    #[test]
    fn a_fresh_database_gets_every_table_and_the_whole_window() {
        let plan = plan(&[], datetime!(2026-11-28 00:30 UTC));
        assert_eq!(plan.objects.len(), POSTGRES.len());
        let per_table = (MONTHS_BACK + MONTHS_AHEAD + 1) as usize + 1;
        assert_eq!(plan.partitions.len(), 2 * per_table);
        assert!(plan.unpartitioned.is_empty());
    }

    #[test]
    fn a_plain_table_from_before_is_left_unpartitioned() {
        let existing = vec![("audit_log_events".to_string(), "r".to_string())];
        let plan = plan(&existing, datetime!(2026-11-28 00:30 UTC));
        assert_eq!(plan.unpartitioned, vec!["audit_log_events".to_string()]);
        assert!(
            plan.partitions
                .iter()
                .all(|(table, _, _)| *table == "audit_log_reads")
        );
    }
}
