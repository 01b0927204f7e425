//! `cpis audit status | sync | verify`: the local audit queue from the command line.
//!
//! - `status [--json]`: waiting count, oldest waiting, last confirmed sync, quarantined, sent;
//! - `sync`: send every waiting record to the central audit log now (needs sign-in, or
//!   `CPIS_ACCESS_TOKEN`); records are marked sent only once the log confirms them;
//! - `verify`: check the local hash chain and sequence numbers; exit 1 on any finding;
//! - `recover FILE`: send the waiting records of a queue file set aside because the keyring's
//!   key could not read it, once that key is back in the keyring.
//!
//! The queue is encrypted under the key in the OS keyring (`cpis_client::queue_key`). `status`
//! reports queue files set aside because the key could not read them, and exits 1 while any
//! are kept: an incident for IT (docs/deployment.md).

use std::sync::Arc;
use std::time::Duration;

use cpis_audit::sync::{HttpAuditTransport, sync_until_empty};
use cpis_audit::{AuditQueue, ChainFinding};
use cpis_client::{Config, KeyringTokenStore, QueueKeyStore};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{EXIT_DEFINITIVE, EXIT_NOT_CHECKED, EXIT_SIGN_IN, credentials, print_json};

/// When the central audit log last confirmed records, for a person: UK local time marked GMT or
/// BST, as every time `cpis` prints (`--json` keeps RFC 3339 in UTC).
fn last_confirmed_text(at: Option<OffsetDateTime>) -> String {
    format!(
        "Last confirmed by the central audit log: {}",
        at.map_or_else(|| "never".into(), crate::output::nhs_date_time)
    )
}

/// `verify` found a gap or a break; `status` found unreadable queue files kept.
const EXIT_CHAIN_BROKEN: u8 = 1;

/// The encrypted queue, under the key kept beside the session in the OS keyring.
fn open(config: &Config, store: &KeyringTokenStore) -> Result<AuditQueue, u8> {
    let queue = QueueKeyStore::new(store.service())
        .open_queue(&config.data_dir)
        .map_err(|error| {
            eprintln!("cpis: {error}");
            EXIT_NOT_CHECKED
        })?;
    cpis_client::audit_queue::log_set_aside(&queue);
    Ok(queue)
}

/// What `status` says about queue files the key could not read, one line each.
fn unreadable_text(files: &[std::path::PathBuf]) -> Vec<String> {
    if files.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!(
        "Unreadable audit queue files kept: {}. Their records could not be read with the key in \
         this computer's keyring and have NOT been sent. Nothing was deleted. Report this to \
         your IT service desk.",
        files.len()
    )];
    lines.extend(files.iter().map(|file| format!("  {}", file.display())));
    lines
}

/// The `status --json` object.
#[derive(Debug, Serialize)]
struct StatusJson {
    waiting: u64,
    oldest_waiting_at: Option<String>,
    oldest_waiting_seconds: Option<i64>,
    last_success_at: Option<String>,
    quarantined: u64,
    sent: u64,
    /// Queue files set aside because the keyring's key could not read them.
    unreadable_files: Vec<String>,
}

fn text(time: Option<OffsetDateTime>) -> Option<String> {
    time.and_then(|time| time.format(&Rfc3339).ok())
}

/// `cpis audit status`.
pub fn status(config: &Config, store: &KeyringTokenStore, json: bool) -> u8 {
    let queue = match open(config, store) {
        Ok(queue) => queue,
        Err(code) => return code,
    };
    let status = match queue.status() {
        Ok(status) => status,
        Err(error) => {
            eprintln!("cpis: {error}");
            return EXIT_NOT_CHECKED;
        }
    };
    let age = status
        .oldest_waiting_at
        .map(|oldest| (OffsetDateTime::now_utc() - oldest).whole_seconds());
    if json {
        print_json(&StatusJson {
            waiting: status.waiting,
            oldest_waiting_at: text(status.oldest_waiting_at),
            oldest_waiting_seconds: age,
            last_success_at: text(status.last_success_at),
            quarantined: status.quarantined,
            sent: status.sent,
            unreadable_files: status
                .unreadable_files
                .iter()
                .map(|file| file.display().to_string())
                .collect(),
        });
    } else {
        println!("Waiting to be sent: {}", status.waiting);
        if let Some(age) = age {
            println!("Oldest waiting: {} minutes", age / 60);
        }
        println!("{}", last_confirmed_text(status.last_success_at));
        println!("Sent: {}", status.sent);
        println!(
            "Quarantined (rejected by the central log): {}",
            status.quarantined
        );
        for line in unreadable_text(&status.unreadable_files) {
            println!("{line}");
        }
    }
    if status.unreadable_files.is_empty() {
        EXIT_DEFINITIVE
    } else {
        EXIT_CHAIN_BROKEN
    }
}

/// `cpis audit sync`.
pub async fn sync(config: &Config, store: &KeyringTokenStore) -> u8 {
    let queue = match open(config, store) {
        Ok(queue) => Arc::new(queue),
        Err(code) => return code,
    };
    sync_queue(config, store, queue).await
}

/// `cpis audit recover FILE`: the waiting records of a set-aside queue file, sent under the
/// key now in the keyring; once none wait, the file is renamed `audit-queue.recovered-…`.
pub async fn recover(config: &Config, store: &KeyringTokenStore, file: &std::path::Path) -> u8 {
    let key = match QueueKeyStore::new(store.service()).load() {
        Ok(Some(key)) => key,
        Ok(None) => {
            eprintln!(
                "cpis: there is no audit queue key in the keyring to read {}",
                file.display()
            );
            return EXIT_NOT_CHECKED;
        }
        Err(error) => {
            eprintln!("cpis: {error}");
            return EXIT_NOT_CHECKED;
        }
    };
    let queue = match AuditQueue::open_file_encrypted(file, &key) {
        Ok(queue) => Arc::new(queue),
        Err(error) => {
            eprintln!("cpis: {}: {error}", file.display());
            return EXIT_NOT_CHECKED;
        }
    };
    let code = sync_queue(config, store, Arc::clone(&queue)).await;
    let waiting = queue.status().map(|status| status.waiting);
    drop(queue);
    if code == EXIT_DEFINITIVE && matches!(waiting, Ok(0)) {
        match cpis_audit::retire_recovered(file) {
            Ok(renamed) => println!(
                "Every record of this file is confirmed by the central audit log; it is kept as {}.",
                renamed.display()
            ),
            Err(error) => eprintln!("cpis: {error}"),
        }
    }
    code
}

async fn sync_queue(config: &Config, store: &KeyringTokenStore, queue: Arc<AuditQueue>) -> u8 {
    // Sending the audit queue is not the clinician's activity: it never keeps a session open.
    let (token, _) = match credentials(config, store, cpis_client::Activity::DoesNotCount).await {
        Ok(credentials) => credentials,
        Err(message) => {
            eprintln!("cpis: {message}");
            return EXIT_SIGN_IN;
        }
    };
    let token = token.expose().to_owned();
    let transport = match HttpAuditTransport::with_client_builder(
        config.services.audit_url.clone(),
        Arc::new(move || Some(token.clone())),
        Duration::from_secs(30),
        cpis_client::http::client_builder(&config.tls),
    ) {
        Ok(transport) => transport,
        Err(error) => {
            eprintln!("cpis: {error}");
            return EXIT_NOT_CHECKED;
        }
    };
    match sync_until_empty(&queue, &transport, cpis_audit::sync::DEFAULT_BATCH_SIZE).await {
        Ok(report) => {
            println!(
                "Sent {} records; {} quarantined.",
                report.sent, report.quarantined
            );
            EXIT_DEFINITIVE
        }
        Err(error) => {
            eprintln!("cpis: audit sync stopped: {error}. The records wait and are sent later.");
            EXIT_NOT_CHECKED
        }
    }
}

/// `cpis audit verify`.
pub fn verify(config: &Config, store: &KeyringTokenStore) -> u8 {
    let queue = match open(config, store) {
        Ok(queue) => queue,
        Err(code) => return code,
    };
    let report = match queue.verify_chain() {
        Ok(report) => report,
        Err(error) => {
            eprintln!("cpis: {error}");
            return EXIT_NOT_CHECKED;
        }
    };
    let integrity = queue
        .integrity_check()
        .unwrap_or_else(|error| error.to_string());
    println!("Records: {}", report.count);
    println!("SQLite integrity check: {integrity}");
    for finding in &report.findings {
        match finding {
            ChainFinding::Gap { expected, found } => {
                println!("Gap: sequence {expected} expected, {found} found");
            }
            ChainFinding::Break { sequence } => println!("Chain break at sequence {sequence}"),
        }
    }
    if report.findings.is_empty() && integrity == "ok" {
        println!("The local audit chain is whole.");
        EXIT_DEFINITIVE
    } else {
        println!("The local audit chain is NOT whole: report this to your IT service desk.");
        EXIT_CHAIN_BROKEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn unreadable_files_are_reported_plainly_and_only_when_there_are_some() {
        assert!(unreadable_text(&[]).is_empty());
        let lines = unreadable_text(&[std::path::PathBuf::from(
            "/data/audit-queue.unreadable-20261128T010000Z.sqlite3",
        )]);
        assert!(
            lines[0].starts_with("Unreadable audit queue files kept: 1."),
            "{lines:?}"
        );
        assert!(lines[0].contains("NOT been sent"), "{lines:?}");
        assert_eq!(
            lines[1],
            "  /data/audit-queue.unreadable-20261128T010000Z.sqlite3"
        );
    }

    #[test]
    fn the_last_confirmed_sync_is_shown_in_uk_time_never_utc() {
        assert_eq!(
            last_confirmed_text(Some(datetime!(2026-07-25 06:01 UTC))),
            "Last confirmed by the central audit log: 25 July 2026 at 7.01am BST"
        );
        assert_eq!(
            last_confirmed_text(Some(datetime!(2026-11-25 06:01 UTC))),
            "Last confirmed by the central audit log: 25 November 2026 at 6.01am GMT"
        );
        assert_eq!(
            last_confirmed_text(None),
            "Last confirmed by the central audit log: never"
        );
    }
}
