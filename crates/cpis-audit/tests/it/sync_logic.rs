//! The sync loop over a transport.

use super::*;
use cpis_audit::sync::{AuditTransport, SyncError, TransportError, sync_until_empty};
use cpis_audit::wire::{parse_batch, to_batch_response};
use std::sync::{Arc, Mutex};

/// Per call number and record, the status line to answer (`Err` for a server error).
type Answer = Box<dyn Fn(usize, &cpis_audit::QueuedRecord) -> Result<String, ()> + Send + Sync>;

/// Answers each batch by a script: per entry, the status line the server would give.
struct Scripted {
    answer: Answer,
    calls: Mutex<usize>,
    fail_first: Mutex<usize>,
}

impl AuditTransport for Scripted {
    async fn send_batch(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let call = {
            let mut calls = self.calls.lock().expect("lock");
            *calls += 1;
            *calls
        };
        {
            let mut fail = self.fail_first.lock().expect("lock");
            if *fail > 0 {
                *fail -= 1;
                return Err(TransportError::Unreachable);
            }
        }
        let records = parse_batch(&body).expect("client sends valid bundles");
        let statuses: Vec<String> = records
            .iter()
            .map(|record| {
                (self.answer)(call, record.as_ref().expect("valid event"))
                    .unwrap_or_else(|()| "500 Internal Server Error".into())
            })
            .collect();
        Ok(serde_json::to_vec(&to_batch_response(&statuses)).expect("json"))
    }
}

fn filled(count: usize) -> (tempfile::TempDir, Arc<AuditQueue>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = Arc::new(AuditQueue::open(dir.path()).expect("open"));
    for _ in 0..count {
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append");
    }
    (dir, queue)
}

#[tokio::test]
async fn confirmed_records_are_marked_sent_and_rejected_ones_quarantined() {
    let (_dir, queue) = filled(7);
    let transport = Scripted {
        answer: Box::new(|_, record| {
            Ok(if record.sequence == 4 {
                "422 Unprocessable Entity".into()
            } else {
                "201 Created".into()
            })
        }),
        calls: Mutex::new(0),
        fail_first: Mutex::new(0),
    };
    let report = sync_until_empty(&queue, &transport, 3).await.expect("sync");
    assert_eq!((report.sent, report.quarantined), (6, 1));
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.sent, status.quarantined), (0, 6, 1));
    assert_eq!(*transport.calls.lock().expect("lock"), 3);
}

#[tokio::test]
async fn entries_the_log_asks_to_resend_later_wait_and_are_never_quarantined() {
    let (_dir, queue) = filled(4);
    let transport = Scripted {
        answer: Box::new(|call, record| {
            Ok(if call == 1 && record.sequence == 2 {
                "429 Too Many Requests".into()
            } else {
                "201 Created".into()
            })
        }),
        calls: Mutex::new(0),
        fail_first: Mutex::new(0),
    };
    let error = sync_until_empty(&queue, &transport, 10)
        .await
        .expect_err("deferred");
    assert!(matches!(error, SyncError::Deferred(1)));
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.sent, status.quarantined), (1, 3, 0));
    // The next pass sends it.
    let report = sync_until_empty(&queue, &transport, 10)
        .await
        .expect("sync");
    assert_eq!((report.sent, report.quarantined), (1, 0));
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.sent, status.quarantined), (0, 4, 0));
}

#[tokio::test]
async fn nothing_is_marked_sent_without_a_confirmation() {
    let (_dir, queue) = filled(5);
    let transport = Scripted {
        answer: Box::new(|_, _| Err(())),
        calls: Mutex::new(0),
        fail_first: Mutex::new(1),
    };
    let error = sync_until_empty(&queue, &transport, 10)
        .await
        .expect_err("down");
    assert!(matches!(
        error,
        SyncError::Transport(TransportError::Unreachable)
    ));
    assert_eq!(queue.status().expect("status").waiting, 5);
    // A 500 for an entry is not a confirmation either: the whole answer is refused.
    let error = sync_until_empty(&queue, &transport, 10)
        .await
        .expect_err("500");
    assert!(matches!(error, SyncError::Response(_)));
    assert_eq!(queue.status().expect("status").waiting, 5);
}
