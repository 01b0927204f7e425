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
