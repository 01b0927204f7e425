//! The local data folder: an audit queue that cannot be opened does not stop the app, and it
//! says so (hazard log H8).

use crate::{start, store};

#[test]
fn an_unusable_data_folder_still_starts_and_reports_the_queue() {
    let parent = tempfile::tempdir().expect("tempdir");
    // A file where the data folder should be: the queue cannot be created there.
    let data = parent.path().join("not-a-folder");
    std::fs::write(&data, b"in the way").expect("write");
    let core = start(&data, store("unusable-folder"));
    let status = core.status();
    assert!(
        status.audit.queue_error.is_some(),
        "the status bar must show the queue incident: {:?}",
        status.audit
    );
}

/// A queue file the keyring's key cannot read (here: not a queue at all) is set aside, never
/// deleted, and the status bar says so (issue 17).
#[test]
fn a_queue_the_keyring_key_cannot_read_is_kept_and_shown_in_the_status_bar() {
    let data = tempfile::tempdir().expect("tempdir");
    let unreadable = b"not readable with this user's key".repeat(64);
    std::fs::write(data.path().join("audit-queue.sqlite3"), &unreadable).expect("write");
    let core = start(data.path(), store("unreadable-queue"));
    let status = core.status();
    assert_eq!(status.audit.unreadable_files, 1, "{:?}", status.audit);
    assert!(status.audit.warning);
    assert_eq!(status.audit.queue_error, None, "a new queue is open");
    let kept: Vec<_> = std::fs::read_dir(data.path())
        .expect("folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.to_string_lossy().contains("audit-queue.unreadable-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(&kept[0]).expect("kept"), unreadable);
}
