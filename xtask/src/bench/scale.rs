//! Scale benchmark: the named nurse review's query on PostgreSQL over 10,000,000 stored events
//! (100,000 in the smoke run), in the central log's real schema (monthly partitions and the
//! review index, installed by `cpis_audit_log::schema` through the `bench_setup_for_xtask`
//! step of `crates/cpis-audit-log/tests/scale.rs`).
//!
//! - **Seed**, set-based (`INSERT ... SELECT ... FROM generate_series`, in chunks of a
//!   million): 150 organisations, 10,000 devices each bound to one organisation, events evenly
//!   spread over the last 395 days (about 13 months), in time order as ingest stores them.
//!   Rows of the [`FULL_ORGANISATIONS`] measured organisations carry the real AuditEvent a view
//!   becomes (`cpis_audit::wire::to_audit_event`, ~3.2 kB); the other organisations' rows
//!   carry a short stand-in, which keeps the seed to ~5 GB and minutes instead of ~23 GB. The
//!   measured organisations' rows are interleaved with everyone else's as in a real table, so
//!   each of their rows is still on its own heap page. The month partitions are made
//!   `UNLOGGED` for the seed (it writes no WAL); reads are unaffected. `VACUUM ANALYZE` after.
//! - **Measure** with `pgbench` (prepared statements, as sqlx runs them; one connection;
//!   every transaction's latency logged), the review exactly as `AuditLog::search` runs it: a
//!   `REPEATABLE READ` transaction with the count of the whole search and a page of 2,000 (+1)
//!   resources, newest first, for the last 24 hours, the last 30 days, and the last page of
//!   those 30 days by keyset (after the cursor of the page before). Rotates over the measured
//!   organisations. Baseline: `SELECT 1` in the same pgbench mode, same run (the round trip).
//! - **Show** the plans: `EXPLAIN (ANALYZE, BUFFERS)` of each page query is kept under
//!   `target/bench/scale/<smoke|full>/` and summarised in the figure's note (partitions read,
//!   the index used).
//!
//! The database is dropped at the end.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::servers::{mode, work_dir};
use super::{Figure, Goal, Scale, percentile};

const SECTION: &str = "Scale";
const FULL_EVENTS: u64 = 10_000_000;
const SMOKE_EVENTS: u64 = 100_000;
const CHUNK: u64 = 1_000_000;
const ORGANISATIONS: u64 = 150;
const DEVICES: u64 = 10_000;
const SPAN_DAYS: i64 = 395;
/// The organisations measured (R000 to R004), whose rows carry the full AuditEvent.
const FULL_ORGANISATIONS: u64 = 5;
const PAGE: u64 = 2_000;
const GOAL_MS: f64 = 50.0;
const DAY_MICROS: i64 = 24 * 3600 * 1_000_000;

/// `psql` or `pgbench`, on PATH or in the newest `/usr/lib/postgresql/*/bin`.
fn tool(name: &str) -> PathBuf {
    let on_path = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if on_path {
        return PathBuf::from(name);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin").join(name))
        .filter(|path| path.exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| PathBuf::from(name))
}

/// Run `sql` (one or more statements) with psql against `url`; its unaligned output.
fn psql(url: &str, sql: &str, variables: &[(&str, &str)]) -> Result<String> {
    let mut command = Command::new(tool("psql"));
    command.args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url]);
    for (name, value) in variables {
        command.arg("-v").arg(format!("{name}={value}"));
    }
    let output = command
        .arg("-c")
        .arg(sql)
        .output()
        .context("could not run psql")?;
    if !output.status.success() {
        bail!(
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Run a psql script file (variables with `:'name'` quoting need a file, not `-c`).
fn psql_file(url: &str, path: &Path, variables: &[(&str, &str)]) -> Result<String> {
    let mut command = Command::new(tool("psql"));
    command.args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url]);
    for (name, value) in variables {
        command.arg("-v").arg(format!("{name}={value}"));
    }
    let output = command
        .arg("-f")
        .arg(path)
        .output()
        .context("could not run psql")?;
    if !output.status.success() {
        bail!(
            "psql -f {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

const SEED: &str = "SET synchronous_commit = off;
INSERT INTO audit_log_events (event_id, device_id, sequence, occurred_at, occurred_at_micros, received_at, organisation_ods, action, outcome, previous_hash, record_hash, sender_user_id, sender_role_profile_id, sender_organisation_ods, resource)
SELECT md5(g::text)::uuid::text, md5('device' || d)::uuid::text, g / :devices + 1, ts, t, ts, org,
       CASE WHEN g % 7 = 0 THEN 'la_contacted' ELSE 'view' END, 'plan_found',
       md5('p' || g) || md5('q' || g), md5('r' || g) || md5('s' || g),
       'user-' || (d % 5000), '999000000101', org,
       CASE WHEN d % :organisations < :full THEN :'resource' ELSE :'small' END
FROM generate_series(:lo::bigint, :hi::bigint) g,
LATERAL (SELECT g % :devices AS d, :now::bigint - (:total::bigint - g) * :step::bigint AS t) x,
LATERAL (SELECT 'R' || lpad((d % :organisations)::text, 3, '0') AS org,
                to_char(to_timestamp(t / 1e6) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS ts) y;
";

/// The review's count and page queries, as `AuditLog::search` runs them.
const COUNT: &str = "SELECT COUNT(*) FROM audit_log_events WHERE organisation_ods = :org AND sender_organisation_ods = :org AND occurred_at_micros >= :since AND occurred_at_micros <= :until";
const FIRST_PAGE: &str = "SELECT event_id, occurred_at_micros, resource FROM audit_log_events WHERE organisation_ods = :org AND sender_organisation_ods = :org AND occurred_at_micros >= :since AND occurred_at_micros <= :until ORDER BY occurred_at_micros DESC, event_id DESC LIMIT :fetch";
const KEYSET_PAGE: &str = "SELECT event_id, occurred_at_micros, resource FROM audit_log_events WHERE organisation_ods = :org AND sender_organisation_ods = :org AND occurred_at_micros >= :since AND occurred_at_micros <= :until AND (occurred_at_micros < :after_micros OR (occurred_at_micros = :after_micros AND event_id < :after_id)) ORDER BY occurred_at_micros DESC, event_id DESC LIMIT :fetch";

/// One measured review: its name, the page query, and the pgbench variables per organisation.
struct Review {
    name: &'static str,
    slug: &'static str,
    page: &'static str,
    /// Per organisation: (variable, value) for pgbench's `-D`.
    variables: Vec<Vec<(String, String)>>,
}

fn organisation(index: u64) -> String {
    format!("R{index:03}")
}

/// Seed `events` events into the fresh database at `url`; the number actually stored.
fn seed(url: &str, dir: &Path, events: u64, resource: &str, now_micros: i64) -> Result<u64> {
    // Unlogged month partitions for the seed: no WAL for rows the bench throws away.
    psql(
        url,
        "DO $$ DECLARE p regclass; BEGIN
           FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'audit_log_events'::regclass LOOP
             EXECUTE format('ALTER TABLE %s SET UNLOGGED', p);
           END LOOP; END $$",
        &[],
    )?;
    let script = dir.join("seed.sql");
    std::fs::write(&script, SEED).context("writing seed.sql")?;
    let step = SPAN_DAYS * DAY_MICROS / i64::try_from(events).context("events")?;
    let small = r#"{"resourceType":"AuditEvent"}"#;
    let mut low = 1;
    while low <= events {
        let high = (low + CHUNK - 1).min(events);
        let started = std::time::Instant::now();
        psql_file(
            url,
            &script,
            &[
                ("lo", &low.to_string()),
                ("hi", &high.to_string()),
                ("total", &events.to_string()),
                ("now", &now_micros.to_string()),
                ("step", &step.to_string()),
                ("devices", &DEVICES.to_string()),
                ("organisations", &ORGANISATIONS.to_string()),
                ("full", &FULL_ORGANISATIONS.to_string()),
                ("resource", resource),
                ("small", small),
            ],
        )?;
        eprintln!(
            "scale: seeded events {low}..={high} of {events} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        low = high + 1;
    }
    let started = std::time::Instant::now();
    psql(url, "VACUUM (ANALYZE) audit_log_events", &[])?;
    eprintln!(
        "scale: VACUUM ANALYZE in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    psql(url, "SELECT COUNT(*) FROM audit_log_events", &[])?
        .parse()
        .context("count")
}

/// Replace pgbench's `:name` variables by literal values, for EXPLAIN.
fn literal(query: &str, variables: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = variables.iter().collect();
    // Longest names first, so `:after_micros` is not taken for `:after`.
    sorted.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut text = query.to_string();
    for (name, value) in sorted {
        let quoted = if value.parse::<i64>().is_ok() {
            value.clone()
        } else {
            format!("'{value}'")
        };
        text = text.replace(&format!(":{name}"), &quoted);
    }
    text
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the query: the plan text, and a one-line summary.
fn explain(url: &str, dir: &Path, slug: &str, query: &str) -> Result<String> {
    let plan = psql(url, &format!("EXPLAIN (ANALYZE, BUFFERS) {query}"), &[])?;
    std::fs::write(dir.join(format!("explain-{slug}.txt")), &plan)
        .with_context(|| format!("writing explain-{slug}.txt"))?;
    let partitions: Vec<&str> = {
        let mut names: Vec<&str> = plan
            .lines()
            .filter(|line| line.contains("Scan") && !line.contains("never executed"))
            .filter_map(|line| {
                line.split_whitespace()
                    .skip_while(|word| *word != "on")
                    .nth(1)
            })
            .filter(|name| name.starts_with("audit_log_events_") && !name.ends_with("_idx"))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    };
    let access = if plan.contains("Seq Scan") {
        "SEQ SCAN"
    } else if plan.contains("Index Scan Backward") {
        "Index Scan Backward on the review index"
    } else if plan.contains("Bitmap Index Scan") {
        "Bitmap Index Scan on the review index"
    } else if plan.contains("Index Scan") {
        "Index Scan on the review index"
    } else {
        "no index scan"
    };
    let execution = plan
        .lines()
        .find_map(|line| line.trim().strip_prefix("Execution Time:"))
        .map_or(String::new(), |time| {
            format!(", server execution {}", time.trim())
        });
    Ok(format!(
        "EXPLAIN: {} partition(s) read ({}), {access}{execution}",
        partitions.len(),
        partitions.join(", ")
    ))
}

/// Run `script` with pgbench for `transactions` transactions on one connection, prepared
/// statements; every transaction's latency in ms.
fn pgbench(
    url: &str,
    dir: &Path,
    label: &str,
    script: &str,
    variables: &[(String, String)],
    transactions: u64,
) -> Result<Vec<f64>> {
    let script_path = dir.join(format!("{label}.sql"));
    std::fs::write(&script_path, script).context("writing the pgbench script")?;
    let prefix = dir.join(format!("log-{label}"));
    for entry in std::fs::read_dir(dir)
        .context("reading the work folder")?
        .flatten()
    {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(&format!("log-{label}."))
        {
            std::fs::remove_file(entry.path()).context("removing an old pgbench log")?;
        }
    }
    let mut command = Command::new(tool("pgbench"));
    command
        .args(["-n", "-M", "prepared", "-c", "1", "-j", "1", "-l"])
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg("-t")
        .arg(transactions.to_string())
        .arg("-f")
        .arg(&script_path);
    for (name, value) in variables {
        command.arg("-D").arg(format!("{name}={value}"));
    }
    let output = command.arg(url).output().context("could not run pgbench")?;
    if !output.status.success() {
        bail!(
            "pgbench {label} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir)
        .context("reading the work folder")?
        .flatten()
    {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(&format!("log-{label}."))
        {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).context("reading the pgbench log")?;
        for line in text.lines() {
            // client_id transaction_no time_us script_no time_epoch time_us
            let micros: f64 = line
                .split_whitespace()
                .nth(2)
                .and_then(|field| field.parse().ok())
                .context("a pgbench log line without a latency")?;
            latencies.push(micros / 1000.0);
        }
    }
    if latencies.len() as u64 != transactions {
        bail!(
            "pgbench {label}: {} latencies logged for {transactions} transactions",
            latencies.len()
        );
    }
    Ok(latencies)
}

fn transaction(page: &str) -> String {
    format!("BEGIN ISOLATION LEVEL REPEATABLE READ;\n{COUNT};\n{page};\nCOMMIT;\n")
}

/// The whole part: seed, measure, drop. Six figures (p50 and p95 of three reviews).
pub fn run(scale: &Scale) -> Result<Vec<Figure>> {
    let events = if scale.smoke {
        SMOKE_EVENTS
    } else {
        FULL_EVENTS
    };
    let transactions: u64 = if scale.smoke { 10 } else { 200 };
    let dir = work_dir(&format!("scale/{}", mode(scale)), true)?;
    let server_url = crate::postgres::ensure_postgres()?;
    let (server, _) = server_url
        .rsplit_once('/')
        .context("the PostgreSQL URL has no database")?;
    let name = format!("cpis_bench_scale_{}", mode(scale));
    let admin = format!("{server}/postgres");
    psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"), &[])?;
    psql(&admin, &format!("CREATE DATABASE {name}"), &[])?;
    let url = format!("{server}/{name}");
    let result = measure(scale, &dir, &url, events, transactions);
    // Whatever happened, give the disk back.
    let dropped = psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"), &[]);
    let figures = result?;
    dropped?;
    Ok(figures)
}

fn measure(
    scale: &Scale,
    dir: &Path,
    url: &str,
    events: u64,
    transactions: u64,
) -> Result<Vec<Figure>> {
    // The real schema, and the AuditEvent a view becomes.
    let resource_path = dir.join("resource.json");
    let mut setup = Command::new(env!("CARGO"));
    setup
        .current_dir(crate::root())
        .args([
            "test",
            "-q",
            "-p",
            "cpis-audit-log",
            "--test",
            "scale",
            "--",
            "--ignored",
            "--exact",
            "bench_setup_for_xtask",
        ])
        .env("CPIS_SCALE_BENCH_DATABASE", url)
        .env("CPIS_SCALE_BENCH_RESOURCE", &resource_path);
    let status = setup.status().context("running the scale set-up step")?;
    if !status.success() {
        bail!("the scale set-up step (cpis-audit-log tests/scale.rs bench_setup_for_xtask) failed");
    }
    let resource = std::fs::read_to_string(&resource_path).context("reading resource.json")?;
    let now_micros = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("clock")?
            .as_micros(),
    )
    .context("clock")?;
    let seed_started = std::time::Instant::now();
    let stored = seed(url, dir, events, &resource, now_micros)?;
    let seed_seconds = seed_started.elapsed().as_secs_f64();
    if stored != events {
        bail!("seeded {stored} events, wanted {events}");
    }
    let size = psql(
        url,
        "SELECT pg_size_pretty(SUM(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'audit_log_events'::regclass",
        &[],
    )?;
    let partitions = psql(
        url,
        "SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'audit_log_events'::regclass",
        &[],
    )?;

    let fetch = (PAGE + 1).to_string();
    let day_since = now_micros - DAY_MICROS;
    let month_since = now_micros - 30 * DAY_MICROS;
    let base = |index: u64, since: i64| -> Vec<(String, String)> {
        vec![
            ("org".into(), organisation(index)),
            ("since".into(), since.to_string()),
            ("until".into(), now_micros.to_string()),
            ("fetch".into(), fetch.clone()),
        ]
    };
    // The cursor of the last full page of each organisation's 30 days: the keyset page after
    // it is the last page of the search.
    let mut keyset = Vec::new();
    for index in 0..FULL_ORGANISATIONS {
        let variables = base(index, month_since);
        let total: u64 = psql(url, &literal(COUNT, &variables), &[])?
            .parse()
            .context("count")?;
        let pages_before = total.saturating_sub(1) / PAGE;
        let offset = (pages_before * PAGE).max(1) - 1;
        let cursor = psql(
            url,
            &format!(
                "{} OFFSET {offset}",
                literal(FIRST_PAGE, &variables).replace(&format!("LIMIT {fetch}"), "LIMIT 1")
            ),
            &[],
        )?;
        let mut fields = cursor.split('|');
        let (Some(after_id), Some(after_micros)) = (fields.next(), fields.next()) else {
            bail!("no cursor for {}", organisation(index));
        };
        let mut variables = variables;
        variables.push(("after_micros".into(), after_micros.to_string()));
        variables.push(("after_id".into(), after_id.to_string()));
        keyset.push(variables);
    }
    let reviews = [
        Review {
            name: "review 24 h, first page",
            slug: "day",
            page: FIRST_PAGE,
            variables: (0..FULL_ORGANISATIONS)
                .map(|i| base(i, day_since))
                .collect(),
        },
        Review {
            name: "review 30 days, first page",
            slug: "month",
            page: FIRST_PAGE,
            variables: (0..FULL_ORGANISATIONS)
                .map(|i| base(i, month_since))
                .collect(),
        },
        Review {
            name: "review 30 days, last page (keyset)",
            slug: "keyset",
            page: KEYSET_PAGE,
            variables: keyset,
        },
    ];
    let mut notes = Vec::new();
    for review in &reviews {
        let first = review.variables.first().context("no organisation")?;
        let summary = explain(url, dir, review.slug, &literal(review.page, first))?;
        notes.push(summary);
    }
    // Per review: per run p50 and p95; and the baseline's.
    let mut p50 = vec![Vec::new(); reviews.len()];
    let mut p95 = vec![Vec::new(); reviews.len()];
    let mut base_p50 = Vec::new();
    let mut base_p95 = Vec::new();
    let per_organisation = (transactions / FULL_ORGANISATIONS).max(1);
    for run in 0..scale.runs {
        let baseline = pgbench(url, dir, "select1", "SELECT 1;\n", &[], transactions)?;
        base_p50.push(percentile(&baseline, 0.50));
        base_p95.push(percentile(&baseline, 0.95));
        for (index, review) in reviews.iter().enumerate() {
            let mut latencies = Vec::new();
            for variables in &review.variables {
                latencies.extend(pgbench(
                    url,
                    dir,
                    review.slug,
                    &transaction(review.page),
                    variables,
                    per_organisation,
                )?);
            }
            p50[index].push(percentile(&latencies, 0.50));
            p95[index].push(percentile(&latencies, 0.95));
            eprintln!(
                "scale run {}: {} p50 {:.1} ms p95 {:.1} ms",
                run + 1,
                review.name,
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.95)
            );
        }
    }
    let context = format!(
        "{events} events in {partitions} partitions ({size}; seeded in {seed_seconds:.0} s), \
         {ORGANISATIONS} organisations, pages of {PAGE} with the count, {per_organisation} transactions x {FULL_ORGANISATIONS} organisations per run"
    );
    let mut figures = Vec::new();
    for (index, review) in reviews.iter().enumerate() {
        for (quantile, values, baseline) in [
            ("p50", &p50[index], &base_p50),
            ("p95", &p95[index], &base_p95),
        ] {
            figures.push(Figure {
                section: SECTION.into(),
                name: format!("{} {quantile}", review.name),
                unit: "ms".into(),
                values: values.clone(),
                baseline_name: format!("SELECT 1 round trip, pgbench prepared, {quantile}"),
                baseline: baseline.clone(),
                goal: Goal::ValueAtMost(GOAL_MS),
                note: format!("{context}; {}", notes[index]),
            });
        }
    }
    Ok(figures)
}
