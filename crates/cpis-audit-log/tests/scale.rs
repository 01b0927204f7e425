//! The central log's storage at scale: monthly partitions on PostgreSQL (install idempotent
//! and safe from several replicas at once, rows in their month's partition, far dates in the
//! `DEFAULT` partition and moved when their month is created, the review query pruned to its
//! months and answered from the review index), and databases from before partitioning kept
//! working. The 10-million-event timing is in `cargo xtask bench` (part `scale`), not here.

use cpis_audit_log::schema::{self, MonthRange};
use cpis_audit_log::{AuditLog, Dialect};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

#[path = "support/postgres.rs"]
mod postgres_support;

/// A fresh database on the test PostgreSQL server; its URL.
async fn fresh_postgres() -> String {
    postgres_support::fresh_database("audit_log_scale").await
}

async fn pool(url: &str) -> AnyPool {
    postgres_support::pool(url).await
}

fn micros(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1_000).expect("micros")
}

/// Store one event row directly (the columns of common.md §C).
async fn insert_event(pool: &AnyPool, event_id: &str, occurred_at_micros: i64, organisation: &str) {
    sqlx::query(
        "INSERT INTO audit_log_events (event_id, device_id, sequence, occurred_at, occurred_at_micros, received_at, organisation_ods, action, outcome, previous_hash, record_hash, sender_user_id, sender_role_profile_id, sender_organisation_ods, resource)
         VALUES ($1, 'device-1', 1, 'at', $2, 'now', $3, 'view', 'ok', 'p', 'h', 'user', 'role', $3, '{}')",
    )
    .bind(event_id)
    .bind(occurred_at_micros)
    .bind(organisation)
    .execute(pool)
    .await
    .expect("insert event");
}

/// The partition holding `event_id`.
async fn partition_of(pool: &AnyPool, table: &str, event_id: &str) -> String {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT tableoid::regclass::text FROM {table} WHERE event_id = $1"
    )))
    .bind(event_id)
    .fetch_one(pool)
    .await
    .expect("row")
    .try_get(0)
    .expect("partition")
}

/// The partitions of `table`, by name.
async fn partitions(pool: &AnyPool, table: &str) -> Vec<String> {
    let rows = sqlx::query(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = $1::text::regclass ORDER BY 1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .expect("partitions");
    rows.iter()
        .map(|row| row.try_get(0).expect("name"))
        .collect()
}

async fn relkind(pool: &AnyPool, table: &str) -> String {
    sqlx::query("SELECT relkind::text FROM pg_class WHERE relname = $1")
        .bind(table)
        .fetch_one(pool)
        .await
        .expect("relkind")
        .try_get(0)
        .expect("kind")
}

#[tokio::test]
async fn install_is_idempotent_and_safe_from_two_replicas_at_once() {
    let url = fresh_postgres().await;
    // Two replicas, each with its own pool, installing at the same moment, several times.
    let (first, second) = (pool(&url).await, pool(&url).await);
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            AuditLog::install_schema(&first, Dialect::Postgres),
            AuditLog::install_schema(&second, Dialect::Postgres),
        );
        a.expect("first replica installs");
        b.expect("second replica installs");
    }
    let per_table = usize::try_from(schema::MONTHS_BACK + schema::MONTHS_AHEAD + 1).expect("n") + 1;
    for table in schema::PARTITIONED_TABLES {
        assert_eq!(relkind(&first, table).await, "p", "{table} is partitioned");
        let names = partitions(&first, table).await;
        assert_eq!(names.len(), per_table, "{table}: {names:?}");
        assert!(names.contains(&schema::default_partition(table)));
        let this_month = MonthRange::around(OffsetDateTime::now_utc(), 0).expect("month");
        assert!(names.contains(&this_month.partition_name(table)));
    }
    // Nothing more to do now: ensure_partitions creates nothing.
    let again = schema::ensure_partitions(&second, Dialect::Postgres, OffsetDateTime::now_utc())
        .await
        .expect("ensure");
    assert!(again.created.is_empty(), "{again:?}");
    assert!(again.unpartitioned.is_empty());
    // The idempotency table stays one plain table.
    assert_eq!(relkind(&first, "audit_log_event_ids").await, "r");
}

#[tokio::test]
async fn rows_of_different_months_land_in_their_month_partitions() {
    let url = fresh_postgres().await;
    let pool = pool(&url).await;
    AuditLog::install_schema(&pool, Dialect::Postgres)
        .await
        .expect("install");
    let now = OffsetDateTime::now_utc();
    for offset in [-13, -1, 0, 2] {
        let month = MonthRange::around(now, offset).expect("month");
        // The first and the last microsecond of the month: the bounds are half-open.
        let first = format!("first-{offset}");
        let last = format!("last-{offset}");
        insert_event(&pool, &first, month.from_micros, "RX1").await;
        insert_event(&pool, &last, month.to_micros - 1, "RX1").await;
        let expected = month.partition_name("audit_log_events");
        assert_eq!(
            partition_of(&pool, "audit_log_events", &first).await,
            expected
        );
        assert_eq!(
            partition_of(&pool, "audit_log_events", &last).await,
            expected
        );
    }
    // The server's read log is partitioned the same way.
    let month = MonthRange::around(now, -3).expect("month");
    sqlx::query(
        "INSERT INTO audit_log_reads (event_id, occurred_at_micros, organisation_ods, user_id, interaction, nhs_number, trace_id, resource)
         VALUES ('read-1', $1, 'RX1', 'user', 'pds-read', '9990000018', 'trace', '{}')",
    )
    .bind(month.from_micros + 1)
    .execute(&pool)
    .await
    .expect("insert read");
    assert_eq!(
        partition_of(&pool, "audit_log_reads", "read-1").await,
        month.partition_name("audit_log_reads")
    );
}

#[tokio::test]
async fn far_dates_land_in_default_and_move_to_their_month_when_it_is_created() {
    let url = fresh_postgres().await;
    let pool = pool(&url).await;
    let now = datetime!(2026-11-15 12:00 UTC);
    schema::ensure_partitions(&pool, Dialect::Postgres, now)
        .await
        .expect("install at the given time");
    // A clock far in the past and one far in the future: stored, never refused.
    let past = micros(datetime!(1999-12-31 23:59 UTC));
    let future = micros(datetime!(2027-06-10 08:00 UTC));
    insert_event(&pool, "past", past, "RX1").await;
    insert_event(&pool, "future", future, "RX1").await;
    assert_eq!(
        partition_of(&pool, "audit_log_events", "past").await,
        "audit_log_events_default"
    );
    assert_eq!(
        partition_of(&pool, "audit_log_events", "future").await,
        "audit_log_events_default"
    );
    // Months later the daily call creates June 2027's partition; the parked event moves there.
    let later =
        schema::ensure_partitions(&pool, Dialect::Postgres, datetime!(2027-03-20 00:00 UTC))
            .await
            .expect("ensure later");
    assert!(
        later
            .created
            .contains(&"audit_log_events_y2027m06".to_string()),
        "{later:?}"
    );
    assert_eq!(
        partition_of(&pool, "audit_log_events", "future").await,
        "audit_log_events_y2027m06"
    );
    assert_eq!(
        partition_of(&pool, "audit_log_events", "past").await,
        "audit_log_events_default"
    );
    // The moved partition has the review index like the others.
    let indexes: i64 = sqlx::query(
        "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'audit_log_events_y2027m06'",
    )
    .fetch_one(&pool)
    .await
    .expect("indexes")
    .try_get(0)
    .expect("count");
    let reference: i64 = sqlx::query(
        "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'audit_log_events_y2027m05'",
    )
    .fetch_one(&pool)
    .await
    .expect("indexes")
    .try_get(0)
    .expect("count");
    assert_eq!(indexes, reference);
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log_events")
        .fetch_one(&pool)
        .await
        .expect("count")
        .try_get(0)
        .expect("count");
    assert_eq!(count, 2, "nothing lost in the move");
}

/// The review query exactly as the log runs it (first page, then a keyset page).
const REVIEW_FIRST: &str = "SELECT event_id, occurred_at_micros, resource FROM audit_log_events WHERE organisation_ods = $1 AND sender_organisation_ods = $1 AND occurred_at_micros >= $2 AND occurred_at_micros <= $3 ORDER BY occurred_at_micros DESC, event_id DESC LIMIT $4";
const REVIEW_COUNT: &str = "SELECT COUNT(*) FROM audit_log_events WHERE organisation_ods = $1 AND sender_organisation_ods = $1 AND occurred_at_micros >= $2 AND occurred_at_micros <= $3";

/// The names of every partition's copy of `audit_log_events_review`.
async fn review_indexes(pool: &AnyPool) -> Vec<String> {
    let rows = sqlx::query(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'audit_log_events_review'::regclass",
    )
    .fetch_all(pool)
    .await
    .expect("review indexes");
    rows.iter().map(|row| row.get(0)).collect()
}

/// Whether the plan reads through one of `indexes` (`Index Scan using X on T`, `Bitmap Index
/// Scan on X`).
fn uses_index(plan: &str, indexes: &[String]) -> bool {
    plan.lines()
        .filter(|line| line.contains("Index"))
        .any(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words
                .windows(2)
                .filter(|pair| pair[0] == "using" || pair[0] == "on")
                .any(|pair| indexes.iter().any(|index| index == pair[1]))
        })
}

/// `EXPLAIN` of `query` as a generic prepared plan (as sqlx runs it, parameters unknown at
/// plan time) and as a custom plan with the values: the plan text.
async fn explain(pool: &AnyPool, query: &str, values: &str, generic: bool) -> String {
    let mut connection = pool.acquire().await.expect("connection");
    let mode = if generic {
        "force_generic_plan"
    } else {
        "force_custom_plan"
    };
    sqlx::query(sqlx::AssertSqlSafe(format!("SET plan_cache_mode = {mode}")))
        .execute(&mut *connection)
        .await
        .expect("plan mode");
    let name = format!("review_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("PREPARE {name} AS {query}")))
        .execute(&mut *connection)
        .await
        .expect("prepare");
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE {name}({values})"
    )))
    .fetch_all(&mut *connection)
    .await
    .expect("explain");
    sqlx::query(sqlx::AssertSqlSafe(format!("DEALLOCATE {name}")))
        .execute(&mut *connection)
        .await
        .expect("deallocate");
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).expect("plan line"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The month partitions a plan reads (scan nodes that ran, `never executed` excluded).
fn scanned_partitions(plan: &str) -> Vec<String> {
    let mut found: Vec<String> = plan
        .lines()
        .filter(|line| line.contains("Scan") && !line.contains("never executed"))
        .filter_map(|line| {
            line.split_whitespace()
                .skip_while(|word| *word != "on")
                .nth(1)
                .map(str::to_string)
        })
        .filter(|table| table.starts_with("audit_log_events_") && !table.ends_with("_idx"))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[tokio::test]
async fn the_review_query_reads_only_its_months_through_the_review_index() {
    let url = fresh_postgres().await;
    let pool = pool(&url).await;
    AuditLog::install_schema(&pool, Dialect::Postgres)
        .await
        .expect("install");
    // 120,000 events: 40 organisations, one every ~5 minutes over 13 months to now.
    let now = micros(OffsetDateTime::now_utc());
    let span: i64 = 395 * 24 * 3600 * 1_000_000;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_log_events (event_id, device_id, sequence, occurred_at, occurred_at_micros, received_at, organisation_ods, action, outcome, previous_hash, record_hash, sender_user_id, sender_role_profile_id, sender_organisation_ods, resource)
         SELECT md5(g::text), 'device-' || (g % 500), g, 'at', {now} - (g * {span} / 120000), 'now',
                'ORG' || (g % 40), 'view', 'ok', 'p', 'h', 'user', 'role', 'ORG' || (g % 40), '{{\"resourceType\":\"AuditEvent\"}}'
         FROM generate_series(1, 120000) g"
    )))
    .execute(&pool)
    .await
    .expect("seed");
    sqlx::query("VACUUM (ANALYZE) audit_log_events")
        .execute(&pool)
        .await
        .expect("analyze");
    let indexes = review_indexes(&pool).await;
    assert!(indexes.len() > 20, "{indexes:?}");
    // The planner knows the two organisations go together (one in 40 rows match both), rather
    // than multiplying their selectivities (one in 1,600), thanks to the statistics.
    let estimate = sqlx::query(
        "EXPLAIN SELECT event_id FROM audit_log_events WHERE organisation_ods = 'ORG7' AND sender_organisation_ods = 'ORG7'",
    )
    .fetch_all(&pool)
    .await
    .expect("explain")
    .iter()
    .map(|row| row.get::<String, _>(0))
    .next()
    .expect("plan");
    let rows: f64 = estimate
        .split("rows=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|rows| rows.parse().ok())
        .expect("estimated rows");
    assert!(rows > 1_000.0, "estimated {rows} of 3,000 rows: {estimate}");
    let day: i64 = 24 * 3600 * 1_000_000;
    let since = now - day;
    let values = format!("'ORG7', {since}, {now}, 2001");
    let months_of_window: Vec<String> = {
        let mut names = vec![
            MonthRange::around(OffsetDateTime::now_utc(), 0)
                .expect("month")
                .partition_name("audit_log_events"),
        ];
        let yesterday = OffsetDateTime::now_utc() - time::Duration::DAY;
        names.push(
            MonthRange::around(yesterday, 0)
                .expect("month")
                .partition_name("audit_log_events"),
        );
        names.sort();
        names.dedup();
        names
    };
    for generic in [false, true] {
        let plan = explain(&pool, REVIEW_FIRST, &values, generic).await;
        let scanned = scanned_partitions(&plan);
        assert!(
            !scanned.is_empty() && scanned.iter().all(|name| months_of_window.contains(name)),
            "the 24 h review reads only its month(s) {months_of_window:?} (generic plan: {generic}), read {scanned:?}:\n{plan}"
        );
        // Plain or bitmap, forwards or backwards: the planner picks by the rows it expects.
        assert!(
            uses_index(&plan, &indexes) && !plan.contains("Seq Scan"),
            "the page is found through the review index (generic plan: {generic}):\n{plan}"
        );
        if generic {
            // Pruned when the executor starts, with the parameters.
            assert!(
                plan.contains("Subplans Removed"),
                "run-time pruning:\n{plan}"
            );
        }
        let count = explain(
            &pool,
            REVIEW_COUNT,
            &format!("'ORG7', {since}, {now}"),
            generic,
        )
        .await;
        assert!(
            uses_index(&count, &indexes) && !count.contains("Seq Scan"),
            "the total is counted through the review index (generic plan: {generic}):\n{count}"
        );
        let counted = scanned_partitions(&count);
        assert!(
            counted.iter().all(|name| months_of_window.contains(name)),
            "{counted:?}:\n{count}"
        );
    }
}

/// The tables as a database from before senders and partitioning had them.
const BEFORE: &[&str] = &[
    "CREATE TABLE audit_log_events (
        event_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, sequence BIGINT NOT NULL,
        occurred_at TEXT NOT NULL, occurred_at_micros BIGINT NOT NULL, received_at TEXT NOT NULL,
        organisation_ods TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL,
        previous_hash TEXT NOT NULL, record_hash TEXT NOT NULL, resource TEXT NOT NULL)",
    "CREATE INDEX audit_log_events_org_time ON audit_log_events (organisation_ods, occurred_at_micros)",
    "CREATE INDEX audit_log_events_device ON audit_log_events (device_id, sequence)",
    "CREATE TABLE audit_log_devices (device_id TEXT PRIMARY KEY, last_sequence BIGINT NOT NULL, last_hash TEXT NOT NULL)",
    "CREATE TABLE audit_log_findings (finding_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, sequence BIGINT NOT NULL, kind TEXT NOT NULL, event_id TEXT NOT NULL, found_at TEXT NOT NULL)",
    "INSERT INTO audit_log_events VALUES ('old-1', 'device-old', 1, 'at', 1700000000000000, 'now', 'RX1', 'view', 'ok', 'p', 'h', '{}')",
    "INSERT INTO audit_log_events VALUES ('old-2', 'device-old', 2, 'at', 1700000000000001, 'now', 'RX1', 'view', 'ok', 'h', 'h2', '{}')",
    "INSERT INTO audit_log_devices VALUES ('device-old', 2, 'h2')",
];

/// After install on a database from before: the rows are all there, the new columns exist
/// with an unknown (empty) sender, every event id is in the idempotency table, the device is
/// bound to its first event's organisation, and a new event can be stored.
async fn check_upgraded(pool: &AnyPool) {
    let rows = sqlx::query(
        "SELECT event_id, sender_user_id, sender_organisation_ods FROM audit_log_events ORDER BY event_id",
    )
    .fetch_all(pool)
    .await
    .expect("events");
    let rows: Vec<(String, String, String)> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("old-1".into(), String::new(), String::new()),
            ("old-2".into(), String::new(), String::new())
        ]
    );
    let ids: i64 = sqlx::query(
        "SELECT COUNT(*) FROM audit_log_event_ids WHERE event_id IN ('old-1', 'old-2')",
    )
    .fetch_one(pool)
    .await
    .expect("ids")
    .get(0);
    assert_eq!(ids, 2);
    let owner: String = sqlx::query(
        "SELECT organisation_ods FROM audit_log_devices WHERE device_id = 'device-old'",
    )
    .fetch_one(pool)
    .await
    .expect("device")
    .get(0);
    assert_eq!(owner, "RX1");
    insert_event(pool, "new-1", 1_800_000_000_000_000, "RX1").await;
}

#[tokio::test]
async fn a_postgres_database_from_before_is_left_unpartitioned_and_keeps_working() {
    let url = fresh_postgres().await;
    let pool = pool(&url).await;
    for statement in BEFORE {
        sqlx::query(*statement)
            .execute(&pool)
            .await
            .expect("old schema");
    }
    let (a, b) = tokio::join!(
        AuditLog::install_schema(&pool, Dialect::Postgres),
        AuditLog::install_schema(&pool, Dialect::Postgres),
    );
    a.expect("install over the old tables");
    b.expect("install over the old tables");
    assert_eq!(
        relkind(&pool, "audit_log_events").await,
        "r",
        "left as a plain table"
    );
    check_upgraded(&pool).await;
    let report = schema::ensure_partitions(&pool, Dialect::Postgres, OffsetDateTime::now_utc())
        .await
        .expect("ensure");
    assert_eq!(report.unpartitioned, vec!["audit_log_events".to_string()]);
    assert!(report.created.is_empty(), "{report:?}");
    // The read log did not exist before: it is created partitioned.
    assert_eq!(relkind(&pool, "audit_log_reads").await, "p");
}

#[tokio::test]
async fn a_sqlite_database_from_before_keeps_plain_tables_and_keeps_working() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("before.db").display());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("sqlite");
    for statement in BEFORE {
        sqlx::query(*statement)
            .execute(&pool)
            .await
            .expect("old schema");
    }
    for _ in 0..2 {
        AuditLog::install_schema(&pool, Dialect::Sqlite)
            .await
            .expect("install over the old tables");
    }
    check_upgraded(&pool).await;
    let report = schema::ensure_partitions(&pool, Dialect::Sqlite, OffsetDateTime::now_utc())
        .await
        .expect("ensure");
    assert_eq!(report, schema::Partitions::default());
}

/// Not a test: the set-up step of `cargo xtask bench` (part `scale`), which runs it with
/// `--ignored`. Installs the log's real schema (partitions and indexes as shipped) in the
/// database `CPIS_SCALE_BENCH_DATABASE` and writes to `CPIS_SCALE_BENCH_RESOURCE` the
/// AuditEvent a typical view becomes (`cpis_audit::wire::to_audit_event`), which the bench
/// stores in every seeded row so that the review reads back realistic resources.
#[tokio::test]
#[ignore = "a set-up step of cargo xtask bench (part scale), not a test"]
async fn bench_setup_for_xtask() {
    use cpis_audit::{AuditAction, QueuedRecord, RecordedPlan};
    use cpis_domain::{Actor, RoleRef};

    sqlx::any::install_default_drivers();
    let url = std::env::var("CPIS_SCALE_BENCH_DATABASE").expect("CPIS_SCALE_BENCH_DATABASE");
    let out = std::env::var("CPIS_SCALE_BENCH_RESOURCE").expect("CPIS_SCALE_BENCH_RESOURCE");
    let pool = pool(&url).await;
    AuditLog::install_schema(&pool, Dialect::Postgres)
        .await
        .expect("install");
    let record = QueuedRecord {
        event_id: Uuid::new_v4(),
        device_id: Uuid::new_v4(),
        sequence: 48_213,
        occurred_at: OffsetDateTime::now_utc(),
        action: AuditAction::View,
        actor: Actor {
            user_id: "555023456789".into(),
            user_name: "Robin Testnurse".into(),
            role: RoleRef {
                role_profile_id: "999000000101".into(),
                role_code: "R8001".into(),
                role_name: "Nurse".into(),
                organisation_ods: "Z9T01".into(),
                organisation_name: "Testshire General Hospital NHS Foundation Trust".into(),
            },
        },
        patient_nhs_number: "9990000018".into(),
        outcome: "plan_found".into(),
        trace_id: Uuid::new_v4(),
        unscheduled: true,
        detail: String::new(),
        plans: Some(vec![RecordedPlan::new(
            None,
            "Testshire County Council",
            Some("Z9L01"),
        )]),
        previous_hash: "9f2c4be1d35a0a6e8c7d1f04b2e9a3c5d6f708192a3b4c5d6e7f8091a2b3c4d5".into(),
        record_hash: "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9".into(),
    };
    let resource = cpis_audit::wire::to_audit_event(&record);
    std::fs::write(&out, resource.to_string()).expect("write the resource");
}
