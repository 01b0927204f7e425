//! Sync: sends waiting records to the central audit log in batches, and marks them sent only
//! after the server has confirmed that it committed them.
//!
//! Delivery is at least once (a lost acknowledgement means a resend); the central log
//! de-duplicates by event id, so the result is exactly once. A record the server rejects as
//! invalid is quarantined and the rest go on. Failures back off exponentially with jitter,
//! without limit: nothing is ever dropped.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use time::OffsetDateTime;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::error::AuditError;
use crate::queue::AuditQueue;
use crate::wire::{EntryResult, WireError, parse_batch_response, to_batch_bundle};

/// How many records go in one batch.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// The largest batch response read; a larger one is not a confirmation.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Why a batch was not confirmed. No patient data, no token.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No access token: the user must sign in before the queue can drain.
    #[error("not signed in")]
    NotSignedIn,
    /// The request did not complete (refused, reset, timed out).
    #[error("the central audit log could not be reached")]
    Unreachable,
    /// The server answered with an error status for the whole batch.
    #[error("the central audit log answered {0}")]
    Status(u16),
    /// The answer was too large.
    #[error("the central audit log answered with too much data")]
    TooLarge,
}

/// Why a sync pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The local queue failed.
    #[error(transparent)]
    Queue(#[from] AuditError),
    /// The batch was not delivered.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The answer was not a valid confirmation of the batch.
    #[error("the central audit log's answer was not a valid confirmation ({0})")]
    Response(#[from] WireError),
    /// The central log took part of the batch and asked for the rest later (e.g. `429`); the
    /// rest stays waiting and the caller backs off as after a failure.
    #[error("the central audit log asked to resend {0} records later")]
    Deferred(u64),
}

/// Sends one serialised batch and returns the response body of a 2xx answer.
pub trait AuditTransport: Send + Sync {
    /// POST the `batch` Bundle.
    fn send_batch(
        &self,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, TransportError>> + Send;
}

/// Supplies the current access token, if the user is signed in.
pub type TokenSource = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// The HTTP transport: POST to the central log's FHIR base URL with the user's bearer token.
pub struct HttpAuditTransport {
    client: reqwest::Client,
    url: reqwest::Url,
    token: TokenSource,
}

impl std::fmt::Debug for HttpAuditTransport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpAuditTransport")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl HttpAuditTransport {
    /// A transport to `audit_base_url` (e.g. `http://127.0.0.1:8080/audit/FHIR/R4`).
    pub fn new(
        audit_base_url: reqwest::Url,
        token: TokenSource,
        timeout: Duration,
    ) -> Result<HttpAuditTransport, TransportError> {
        HttpAuditTransport::with_client_builder(
            audit_base_url,
            token,
            timeout,
            reqwest::Client::builder(),
        )
    }

    /// A transport whose client starts from `builder`: the app and `cpis` pass the one from
    /// `cpis_client::http`, with the trust's extra certificate authorities and no redirects.
    pub fn with_client_builder(
        audit_base_url: reqwest::Url,
        token: TokenSource,
        timeout: Duration,
        builder: reqwest::ClientBuilder,
    ) -> Result<HttpAuditTransport, TransportError> {
        let client = builder
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|_| TransportError::Unreachable)?;
        Ok(HttpAuditTransport {
            client,
            url: audit_base_url,
            token,
        })
    }
}

impl AuditTransport for HttpAuditTransport {
    async fn send_batch(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let token = (self.token)().ok_or(TransportError::NotSignedIn)?;
        let mut response = self
            .client
            .post(self.url.clone())
            .bearer_auth(token)
            .header("Content-Type", "application/fhir+json")
            .header("Accept", "application/fhir+json")
            .header("X-Request-ID", Uuid::new_v4().to_string())
            .body(body)
            .send()
            .await
            .map_err(|_| TransportError::Unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(TransportError::Status(status.as_u16()));
        }
        let mut out = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| TransportError::Unreachable)?
        {
            if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(TransportError::TooLarge);
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

/// What one sync pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Records confirmed by the server and marked sent.
    pub sent: u64,
    /// Records the server rejected, now quarantined.
    pub quarantined: u64,
}

async fn blocking<T: Send + 'static>(
    queue: &Arc<AuditQueue>,
    work: impl FnOnce(&AuditQueue) -> Result<T, AuditError> + Send + 'static,
) -> Result<T, AuditError> {
    let queue = Arc::clone(queue);
    tokio::task::spawn_blocking(move || work(&queue))
        .await
        .map_err(|_| AuditError::Poisoned)?
}

/// Send every waiting record, batch by batch, until the queue is empty or a batch fails.
pub async fn sync_until_empty<T: AuditTransport>(
    queue: &Arc<AuditQueue>,
    transport: &T,
    batch_size: usize,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    loop {
        let batch = blocking(queue, move |queue| queue.next_batch(batch_size)).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let body = serde_json::to_vec(&to_batch_bundle(&batch)).map_err(|_| WireError::NotJson)?;
        let response = transport.send_batch(body).await?;
        let results = parse_batch_response(&response, batch.len())?;
        let mut committed: Vec<Uuid> = Vec::new();
        let mut rejected: Vec<(Uuid, String)> = Vec::new();
        let mut later = 0u64;
        for (record, result) in batch.iter().zip(results) {
            match result {
                EntryResult::Committed => committed.push(record.event_id),
                EntryResult::Rejected { status } => rejected.push((record.event_id, status)),
                EntryResult::Later { .. } => later += 1,
            }
        }
        report.sent += committed.len() as u64;
        report.quarantined += rejected.len() as u64;
        blocking(queue, move |queue| {
            let now = OffsetDateTime::now_utc();
            queue.mark_sent(&committed, now)?;
            for (event_id, status) in &rejected {
                queue.quarantine(
                    *event_id,
                    &format!("rejected by the central log: {status}"),
                    now,
                )?;
            }
            Ok(())
        })
        .await?;
        if later > 0 {
            // What was taken is marked; the rest waits for the next pass, after a back-off.
            return Err(SyncError::Deferred(later));
        }
    }
}

/// Wakes the background sync when a record is appended.
#[derive(Debug, Clone, Default)]
pub struct SyncTrigger(Arc<Notify>);

impl SyncTrigger {
    /// A new trigger.
    pub fn new() -> SyncTrigger {
        SyncTrigger::default()
    }

    /// Ask the background sync to run now.
    pub fn poke(&self) {
        self.0.notify_one();
    }
}

/// The retry delays after failures: exponential from 1 second to 5 minutes, with jitter,
/// never giving up.
pub fn retry_delays() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(300))
        .with_jitter()
        .without_max_times()
        .build()
}

/// The background sync loop for the app: drains the queue whenever poked (and every
/// `idle_interval` regardless), backing off after failures. Runs until the task is dropped.
pub async fn run_background_sync<T: AuditTransport>(
    queue: Arc<AuditQueue>,
    transport: T,
    trigger: SyncTrigger,
    idle_interval: Duration,
    on_pass: impl Fn(&Result<SyncReport, SyncError>) + Send,
) {
    let mut delays = retry_delays();
    loop {
        let result = sync_until_empty(&queue, &transport, DEFAULT_BATCH_SIZE).await;
        let failed = result.is_err();
        on_pass(&result);
        if failed {
            let delay = delays.next().unwrap_or(Duration::from_secs(300));
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = trigger.0.notified() => {}
            }
        } else {
            delays = retry_delays();
            tokio::select! {
                () = tokio::time::sleep(idle_interval) => {}
                () = trigger.0.notified() => {}
            }
        }
    }
}
