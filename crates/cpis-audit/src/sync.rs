//! Sync: sends waiting records to the central audit log and marks them sent only after the
//! server has confirmed that it committed them.
//!
//! How it sends is what the central log says it takes: the transport reads the log's
//! CapabilityStatement (`GET {base}/metadata`) once, and POSTs `batch` Bundles to the base URL
//! only when `rest[].interaction` advertises `batch`; otherwise each event goes to
//! `POST {base}/AuditEvent` on its own, as the national PARS interface has it, over one
//! keep-alive pool, up to [`EVENTS_IN_FLIGHT`] consecutive records at once ([`event_windows`]):
//! the central log checks each device's chain in sequence order whatever order its events
//! arrive in.
//!
//! The pass is a small pipeline: while one batch's confirmations are being marked in the local
//! queue (a transaction with an fsync, on a blocking thread), the next batch is already read
//! and on the wire. Nothing is marked that the server did not confirm.
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
use tokio::sync::{Notify, OnceCell};
use uuid::Uuid;

use crate::error::AuditError;
use crate::queue::AuditQueue;
use crate::record::QueuedRecord;
use crate::wire::{EntryResult, WireError, parse_batch_response};

/// How many records are read (and, on the batch path, sent) at once.
pub const DEFAULT_BATCH_SIZE: usize = 1_000;

/// On the one-event-per-request path, the most events on the wire at once, consecutive records
/// of any device (see [`event_windows`]).
pub const EVENTS_IN_FLIGHT: usize = 64;

/// The largest response read; a larger one is not a confirmation.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Why a request was not confirmed. No patient data, no token.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No access token: the user must sign in before the queue can drain.
    #[error("not signed in")]
    NotSignedIn,
    /// The request did not complete (refused, reset, timed out).
    #[error("the central audit log could not be reached")]
    Unreachable,
    /// The server answered with an error status (for a batch: for the whole batch).
    #[error("the central audit log answered {0}")]
    Status(u16),
    /// The answer was too large.
    #[error("the central audit log answered with too much data")]
    TooLarge,
    /// The central log's CapabilityStatement (`GET {base}/metadata`) could not be read, so it
    /// is not known how it takes events; nothing is sent until it can be.
    #[error("the central audit log's CapabilityStatement could not be read")]
    Capabilities,
    /// The audit URL cannot have `/metadata` or `/AuditEvent` added to it.
    #[error("the central audit log's URL is not a base URL")]
    NotABaseUrl,
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
    /// The central log took part of what was sent and asked for the rest later (`408`, `425`,
    /// `429`); the rest stays waiting and the caller backs off as after a failure.
    #[error("the central audit log asked to resend {0} records later")]
    Deferred(u64),
}

/// How the central log takes events, from its CapabilityStatement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// `batch` Bundles POSTed to the base URL (advertised in `rest[].interaction`).
    Batch,
    /// One AuditEvent per `POST {base}/AuditEvent`, as PARS publishes it.
    SingleEvents,
}

/// Sends serialised events to the central log.
pub trait AuditTransport: Send + Sync {
    /// How the central log takes events. Asked at the start of every pass; a transport may
    /// cache the answer. An error fails the pass (it is retried with back-off), never a guess.
    fn delivery(&self) -> impl Future<Output = Result<Delivery, TransportError>> + Send;

    /// POST one `batch` Bundle; the response body of a 2xx answer.
    fn send_batch(
        &self,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, TransportError>> + Send;

    /// POST each AuditEvent to `{base}/AuditEvent`, all at once; per event, in the order
    /// given, the HTTP status code answered, or why there was none.
    fn send_events(
        &self,
        bodies: Vec<Vec<u8>>,
    ) -> impl Future<Output = Vec<Result<u16, TransportError>>> + Send;
}

/// Supplies the current access token, if the user is signed in.
pub type TokenSource = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// The HTTP transport: the central log's FHIR base URL with the user's bearer token.
pub struct HttpAuditTransport {
    client: reqwest::Client,
    url: reqwest::Url,
    metadata_url: reqwest::Url,
    event_url: reqwest::Url,
    token: TokenSource,
    delivery: OnceCell<Delivery>,
    prefer_single_events: bool,
}

impl std::fmt::Debug for HttpAuditTransport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpAuditTransport")
            .field("url", &self.url.as_str())
            .field("delivery", &self.delivery.get())
            .field("prefer_single_events", &self.prefer_single_events)
            .finish_non_exhaustive()
    }
}

/// `base` with one more path segment.
fn under(base: &reqwest::Url, segment: &str) -> Result<reqwest::Url, TransportError> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| TransportError::NotABaseUrl)?
        .pop_if_empty()
        .push(segment);
    Ok(url)
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
            .pool_max_idle_per_host(EVENTS_IN_FLIGHT)
            .build()
            .map_err(|_| TransportError::Unreachable)?;
        Ok(HttpAuditTransport {
            client,
            metadata_url: under(&audit_base_url, "metadata")?,
            event_url: under(&audit_base_url, "AuditEvent")?,
            url: audit_base_url,
            token,
            delivery: OnceCell::new(),
            prefer_single_events: false,
        })
    }

    /// Send one event per request even when the central log advertises batches, without
    /// reading its CapabilityStatement (every PARS endpoint takes `POST /AuditEvent`). For the
    /// drain benchmark's PARS path, and for a gateway that mishandles batches.
    #[must_use]
    pub fn prefer_single_events(mut self) -> HttpAuditTransport {
        self.prefer_single_events = true;
        self
    }

    fn token(&self) -> Result<String, TransportError> {
        (self.token)().ok_or(TransportError::NotSignedIn)
    }

    async fn read_capabilities(&self) -> Result<Delivery, TransportError> {
        let response = self
            .client
            .get(self.metadata_url.clone())
            .bearer_auth(self.token()?)
            .header("Accept", "application/fhir+json")
            .header("X-Request-ID", Uuid::new_v4().to_string())
            .send()
            .await
            .map_err(|_| TransportError::Unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(TransportError::Status(status.as_u16()));
        }
        let body = read_limited(response).await?;
        delivery_from_capability_statement(&body)
    }
}

/// The body of `response`, at most [`MAX_RESPONSE_BYTES`].
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, TransportError> {
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

/// How a central log takes events, from its CapabilityStatement: [`Delivery::Batch`] only
/// when some `rest[].interaction` has the code `batch`. Anything but a CapabilityStatement is
/// an error.
pub fn delivery_from_capability_statement(body: &[u8]) -> Result<Delivery, TransportError> {
    let statement: cpis_fhir::capability::CapabilityStatement =
        serde_json::from_slice(body).map_err(|_| TransportError::Capabilities)?;
    if statement.resource_type != "CapabilityStatement" {
        return Err(TransportError::Capabilities);
    }
    Ok(if statement.advertises_batch() {
        Delivery::Batch
    } else {
        Delivery::SingleEvents
    })
}

impl AuditTransport for HttpAuditTransport {
    async fn delivery(&self) -> Result<Delivery, TransportError> {
        if self.prefer_single_events {
            return Ok(Delivery::SingleEvents);
        }
        // Read once for the transport's life; a failure is not kept, the next pass asks again.
        self.delivery
            .get_or_try_init(|| self.read_capabilities())
            .await
            .copied()
    }

    async fn send_batch(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let response = self
            .client
            .post(self.url.clone())
            .bearer_auth(self.token()?)
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
        read_limited(response).await
    }

    async fn send_events(&self, bodies: Vec<Vec<u8>>) -> Vec<Result<u16, TransportError>> {
        let token = match self.token() {
            Ok(token) => token,
            Err(_) => {
                return bodies
                    .iter()
                    .map(|_| Err(TransportError::NotSignedIn))
                    .collect();
            }
        };
        let count = bodies.len();
        let mut requests = tokio::task::JoinSet::new();
        for (index, body) in bodies.into_iter().enumerate() {
            let request = self
                .client
                .post(self.event_url.clone())
                .bearer_auth(&token)
                .header("Content-Type", "application/fhir+json")
                .header("Accept", "application/fhir+json")
                .header("X-Request-ID", Uuid::new_v4().to_string())
                .body(body);
            requests.spawn(async move {
                let answer = async {
                    let response = request
                        .send()
                        .await
                        .map_err(|_| TransportError::Unreachable)?;
                    let status = response.status().as_u16();
                    // Read the answer to the end, so the connection goes back to the pool.
                    read_limited(response).await?;
                    Ok(status)
                };
                (index, answer.await)
            });
        }
        let mut answers: Vec<Result<u16, TransportError>> = (0..count)
            .map(|_| Err(TransportError::Unreachable))
            .collect();
        while let Some(joined) = requests.join_next().await {
            // A request task that panicked leaves its event unanswered (Unreachable).
            if let Ok((index, answer)) = joined
                && let Some(slot) = answers.get_mut(index)
            {
                *slot = answer;
            }
        }
        answers
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

/// The fate of one read batch: what to mark, and why the pass must stop, if it must.
#[derive(Debug, Default)]
struct Answered {
    committed: Vec<Uuid>,
    rejected: Vec<(Uuid, String)>,
    later: u64,
    /// A failure after which nothing more is sent this pass (what was confirmed before it is
    /// still marked).
    failure: Option<SyncError>,
}

impl Answered {
    fn take(&mut self, event_id: Uuid, result: EntryResult) {
        match result {
            EntryResult::Committed => self.committed.push(event_id),
            EntryResult::Rejected { status } => self.rejected.push((event_id, status)),
            EntryResult::Later { .. } => self.later += 1,
        }
    }
}

/// One event's answer on the PARS path: `200`/`201` committed; `408`/`425`/`429` later; any
/// other `4xx` rejected; anything else (`5xx`, `3xx`, another `2xx`) not a confirmation.
fn event_result(code: u16) -> Result<EntryResult, TransportError> {
    let status = || {
        let reason = reqwest::StatusCode::from_u16(code)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("");
        format!("{code} {reason}").trim_end().to_string()
    };
    match code {
        200 | 201 => Ok(EntryResult::Committed),
        408 | 425 | 429 => Ok(EntryResult::Later { status: status() }),
        400..=499 => Ok(EntryResult::Rejected { status: status() }),
        _ => Err(TransportError::Status(code)),
    }
}

/// The AuditEvent for one record as sent (typed serialisation, no `serde_json::Value`).
fn event_body(record: &QueuedRecord) -> Vec<u8> {
    crate::wire::audit_event_json(record)
}

/// The `batch` Bundle of `records` as sent (typed serialisation).
fn batch_body(records: &[QueuedRecord]) -> Vec<u8> {
    crate::wire::batch_bundle_json(records)
}

async fn send_as_batch<T: AuditTransport>(transport: &T, batch: &[QueuedRecord]) -> Answered {
    let mut answered = Answered::default();
    let results = async {
        let response = transport.send_batch(batch_body(batch)).await?;
        Ok::<_, SyncError>(parse_batch_response(&response, batch.len())?)
    };
    match results.await {
        Ok(results) => {
            for (record, result) in batch.iter().zip(results) {
                answered.take(record.event_id, result);
            }
        }
        Err(error) => answered.failure = Some(error),
    }
    answered
}

/// The windows the one-event-per-request path sends `batch` in: consecutive records (of any
/// device, several of one device together), at most [`EVENTS_IN_FLIGHT`] a window, each window
/// sent only after every answer of the last. The events of a window arrive in any order; the
/// central log checks each device's chain in sequence order whatever the arrival order (an
/// event beyond a hole waits there until the hole is filled), so that costs no false finding.
pub fn event_windows(batch: &[QueuedRecord]) -> Vec<&[QueuedRecord]> {
    batch.chunks(EVENTS_IN_FLIGHT).collect()
}

/// On the one-event-per-request path, the windows on the wire at once: while one window's
/// last answers are awaited, the next window is already sent, so the central log's writer is
/// never idle between windows.
pub const WINDOWS_IN_FLIGHT: usize = 2;
// `send_as_events` runs exactly two lanes.
const _: () = assert!(WINDOWS_IN_FLIGHT == 2);

/// Whether an answer means the pass must stop (a failure, or a request to come back later).
fn stops(answer: &Result<u16, TransportError>) -> bool {
    !matches!(
        answer.as_ref().map(|code| event_result(*code)),
        Ok(Ok(EntryResult::Committed | EntryResult::Rejected { .. }))
    )
}

/// Send `batch` one event per request, window by window ([`event_windows`]), up to
/// [`WINDOWS_IN_FLIGHT`] windows at once (window `i` goes in lane `i % WINDOWS_IN_FLIGHT`;
/// each lane sends its next window after every answer of its last). After a window with a
/// failure or a request to come back later no further window is started; every answer
/// received, in any window, is still taken (marked only when confirmed).
async fn send_as_events<T: AuditTransport>(transport: &T, batch: &[QueuedRecord]) -> Answered {
    let windows = event_windows(batch);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let lane = |first: usize| {
        let (windows, stop) = (&windows, &stop);
        async move {
            let mut answered: Vec<(usize, Vec<Result<u16, TransportError>>)> = Vec::new();
            for index in (first..windows.len()).step_by(WINDOWS_IN_FLIGHT) {
                if stop.load(std::sync::atomic::Ordering::Acquire) {
                    break;
                }
                let window = windows[index];
                let mut answers = transport
                    .send_events(window.iter().map(event_body).collect())
                    .await;
                if answers.len() != window.len() {
                    answers = window
                        .iter()
                        .map(|_| Err(TransportError::Unreachable))
                        .collect();
                }
                if answers.iter().any(stops) {
                    stop.store(true, std::sync::atomic::Ordering::Release);
                }
                answered.push((index, answers));
            }
            answered
        }
    };
    let (mut answers, others) = tokio::join!(lane(0), lane(1));
    answers.extend(others);
    answers.sort_by_key(|(index, _)| *index);
    let mut answered = Answered::default();
    for (index, answers) in answers {
        for (record, answer) in windows[index].iter().zip(answers) {
            match answer.and_then(event_result) {
                Ok(result) => answered.take(record.event_id, result),
                Err(error) => {
                    if answered.failure.is_none() {
                        answered.failure = Some(error.into());
                    }
                }
            }
        }
    }
    answered
}

/// Mark what the server confirmed and quarantine what it rejected, in one blocking task.
fn mark(
    queue: &Arc<AuditQueue>,
    committed: Vec<Uuid>,
    rejected: Vec<(Uuid, String)>,
) -> tokio::task::JoinHandle<Result<(), AuditError>> {
    let queue = Arc::clone(queue);
    tokio::task::spawn_blocking(move || {
        let now = OffsetDateTime::now_utc();
        if !committed.is_empty() {
            queue.mark_sent(&committed, now)?;
        }
        for (event_id, status) in &rejected {
            queue.quarantine(
                *event_id,
                &format!("rejected by the central log: {status}"),
                now,
            )?;
        }
        Ok(())
    })
}

async fn finish(
    marking: Option<tokio::task::JoinHandle<Result<(), AuditError>>>,
) -> Result<(), AuditError> {
    match marking {
        Some(marking) => marking.await.map_err(|_| AuditError::Poisoned)?,
        None => Ok(()),
    }
}

/// Send every waiting record, batch by batch, until the queue is empty or something fails.
/// Batches go as the transport's [`AuditTransport::delivery`] says; batch `n + 1` is read and
/// sent while batch `n`'s confirmations are being marked.
pub async fn sync_until_empty<T: AuditTransport>(
    queue: &Arc<AuditQueue>,
    transport: &T,
    batch_size: usize,
) -> Result<SyncReport, SyncError> {
    let delivery = transport.delivery().await?;
    let batch_size = batch_size.max(1);
    let mut report = SyncReport::default();
    let mut marking = None;
    let mut batch = blocking(queue, move |queue| queue.next_batch(batch_size)).await?;
    while let Some(last) = batch.last() {
        let after = last.sequence;
        let answered = match delivery {
            Delivery::Batch => send_as_batch(transport, &batch).await,
            Delivery::SingleEvents => send_as_events(transport, &batch).await,
        };
        // The previous batch's marking ran while this one was on the wire.
        finish(marking.take()).await?;
        let Answered {
            committed,
            rejected,
            later,
            failure,
        } = answered;
        report.sent += committed.len() as u64;
        report.quarantined += rejected.len() as u64;
        let stop = failure.is_some() || later > 0;
        // Read the next batch before this one's marking takes the queue's lock.
        let next = if stop {
            Vec::new()
        } else {
            blocking(queue, move |queue| {
                queue.next_batch_after(after, batch_size)
            })
            .await?
        };
        marking = Some(mark(queue, committed, rejected));
        if stop {
            // What was confirmed is marked first; the rest waits for the next pass.
            finish(marking.take()).await?;
            return Err(failure.unwrap_or(SyncError::Deferred(later)));
        }
        batch = next;
    }
    finish(marking).await?;
    Ok(report)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_only_when_the_capability_statement_advertises_them() {
        let advertised = br#"{"resourceType":"CapabilityStatement","rest":[{"mode":"server","interaction":[{"code":"batch","documentation":"at most 5000 AuditEvent"}]}]}"#;
        assert_eq!(
            delivery_from_capability_statement(advertised).ok(),
            Some(Delivery::Batch)
        );
        for single in [
            &br#"{"resourceType":"CapabilityStatement","rest":[{"mode":"server","resource":[{"type":"AuditEvent","interaction":[{"code":"create"}]}]}]}"#[..],
            br#"{"resourceType":"CapabilityStatement","rest":[{"interaction":[{"code":"transaction"}]}]}"#,
            br#"{"resourceType":"CapabilityStatement"}"#,
        ] {
            assert_eq!(
                delivery_from_capability_statement(single).ok(),
                Some(Delivery::SingleEvents)
            );
        }
        for not_one in [
            &b"not json"[..],
            br#"{"resourceType":"OperationOutcome"}"#,
            br#"{"resourceType":"CapabilityStatement","rest":{"interaction":[]}}"#,
            b"[]",
        ] {
            assert!(matches!(
                delivery_from_capability_statement(not_one),
                Err(TransportError::Capabilities)
            ));
        }
    }

    #[test]
    fn each_event_status_is_read_as_the_contract_says() {
        assert_eq!(event_result(201).ok(), Some(EntryResult::Committed));
        assert_eq!(event_result(200).ok(), Some(EntryResult::Committed));
        for code in [408, 425, 429] {
            assert!(matches!(event_result(code), Ok(EntryResult::Later { .. })));
        }
        assert_eq!(
            event_result(422).ok(),
            Some(EntryResult::Rejected {
                status: "422 Unprocessable Entity".into()
            })
        );
        assert_eq!(
            event_result(403).ok(),
            Some(EntryResult::Rejected {
                status: "403 Forbidden".into()
            })
        );
        for code in [202, 204, 302, 500, 503] {
            assert!(matches!(
                event_result(code),
                Err(TransportError::Status(found)) if found == code
            ));
        }
    }

    #[test]
    fn the_event_and_metadata_urls_sit_under_the_base() {
        for base in [
            "http://127.0.0.1:8080/audit/FHIR/R4",
            "http://127.0.0.1:8080/audit/FHIR/R4/",
        ] {
            let base: reqwest::Url = base.parse().expect("url");
            assert_eq!(
                under(&base, "AuditEvent").expect("url").as_str(),
                "http://127.0.0.1:8080/audit/FHIR/R4/AuditEvent"
            );
            assert_eq!(
                under(&base, "metadata").expect("url").as_str(),
                "http://127.0.0.1:8080/audit/FHIR/R4/metadata"
            );
        }
    }
}
