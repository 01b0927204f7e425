//! The audit queue's key in the real OS keyring: made once and kept; a key lost or replaced
//! sets the queue aside (never deleted), starts a new one and reports it; the old key, found
//! again, reads the set-aside file.

use cpis_audit::{AuditAction, AuditQueue, NewAuditEntry};
use cpis_client::QueueKeyStore;
use cpis_client::queue_key::{QUEUE_KEY_ACCOUNT, random_key};
use cpis_domain::NhsNumber;

use crate::support::secret_service::require_secret_service;
use crate::support::synthetic::user_with;

fn key_store() -> QueueKeyStore {
    QueueKeyStore::new(format!(
        "uk.nhs.cpis-viewer.tests.queue-key.{}",
        uuid::Uuid::new_v4()
    ))
}

fn view() -> NewAuditEntry {
    let mut entry = NewAuditEntry::new(
        time::OffsetDateTime::now_utc(),
        AuditAction::View,
        user_with(&["B0107"]).actor(),
        NhsNumber::parse("9990000018").expect("synthetic"),
        uuid::Uuid::new_v4(),
    );
    entry.outcome = "no_plan".into();
    entry
}

fn is_plain_sqlite(path: &std::path::Path) -> bool {
    std::fs::read(path)
        .expect("read")
        .starts_with(b"SQLite format 3\0")
}

#[test]
fn the_queue_key_is_made_once_in_the_keyring_and_encrypts_the_queue() {
    require_secret_service();
    let keys = key_store();
    assert_eq!(keys.load().expect("keyring"), None);
    let data = tempfile::tempdir().expect("tempdir");
    let queue = keys.open_queue(data.path()).expect("open");
    queue.append(&view()).expect("append");
    let key = keys.load().expect("keyring").expect("a key was made");
    let device = queue.device_id();
    drop(queue);
    assert!(!is_plain_sqlite(
        &data.path().join(cpis_audit::QUEUE_FILE_NAME)
    ));
    // The key is not on disk, in any form.
    for entry in std::fs::read_dir(data.path()).expect("folder") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        assert!(
            !bytes
                .windows(64)
                .any(|window| window == key.expose_hex().as_bytes()),
            "the key is on disk"
        );
    }
    let queue = keys.open_queue(data.path()).expect("reopen");
    assert_eq!(queue.device_id(), device);
    assert_eq!(
        keys.load().expect("keyring"),
        Some(key.clone()),
        "never replaced"
    );
    assert_eq!(queue.status().expect("status").waiting, 1);
    // It is the key that reads the file.
    drop(queue);
    assert!(AuditQueue::open_encrypted(data.path(), &key).is_ok());
    keys.delete().expect("clean up");
    assert_eq!(QUEUE_KEY_ACCOUNT, "audit-queue-key");
}

#[test]
fn a_lost_key_sets_the_queue_aside_starts_a_new_one_and_the_old_key_reads_it_again() {
    require_secret_service();
    let keys = key_store();
    let data = tempfile::tempdir().expect("tempdir");
    let queue = keys.open_queue(data.path()).expect("open");
    let first = queue.append(&view()).expect("append");
    let old_device = queue.device_id();
    drop(queue);
    let old_key = keys.load().expect("keyring").expect("key");

    keys.delete().expect("the keyring loses the key");
    let queue = keys.open_queue(data.path()).expect("a new queue");
    let aside = queue.set_aside_at_open().expect("set aside").to_path_buf();
    let new_key = keys.load().expect("keyring").expect("a new key");
    assert_ne!(new_key, old_key);
    assert_ne!(queue.device_id(), old_device);
    let status = queue.status().expect("status");
    assert_eq!(status.unreadable_files, vec![aside.clone()]);
    assert_eq!(status.waiting, 0);
    drop(queue);

    // The keyring restored: the old key reads the set-aside file, every record whole.
    let recovered = AuditQueue::open_file_encrypted(&aside, &old_key).expect("recover");
    assert_eq!(recovered.next_batch(10).expect("batch"), vec![first]);
    keys.delete().expect("clean up");
}

#[test]
fn another_key_in_the_keyring_sets_the_queue_aside_and_is_kept() {
    require_secret_service();
    let keys = key_store();
    let data = tempfile::tempdir().expect("tempdir");
    let queue = keys.open_queue(data.path()).expect("open");
    queue.append(&view()).expect("append");
    drop(queue);
    let other = random_key().expect("key");
    keys.replace(&other).expect("another key");
    let queue = keys.open_queue(data.path()).expect("a new queue");
    assert!(queue.set_aside_at_open().is_some());
    assert_eq!(queue.status().expect("status").unreadable_files.len(), 1);
    assert_eq!(
        keys.load().expect("keyring"),
        Some(other),
        "a key that may read a set-aside file is never replaced"
    );
    drop(queue);
    keys.delete().expect("clean up");
}
