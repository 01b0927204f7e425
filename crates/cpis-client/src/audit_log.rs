//! The central audit log's search, for the named nurse review: the AuditEvents since a moment,
//! fetched with the user's token on the same hardened builder as the alert client
//! ([`crate::http::client_builder`]: no redirects), each page's body capped, read strictly
//! ([`cpis_audit::wire::read_search_page`]: an entry that cannot be read fails the search) and
//! paged through the `next` links of the log itself (same origin and endpoint only, at most
//! [`MAX_PAGES`] pages, inside one deadline). What comes back says whether the list is complete
//! ([`Completeness`]): the records read are checked against the log's own `total`, so a list
//! that is cut, or that misses events, never looks complete.

use std::collections::HashSet;
use std::time::Duration;

use cpis_audit::QueuedRecord;
use cpis_audit::wire::{SearchPageError, read_search_page};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use crate::config::{Config, join_path};
use crate::http_body::{BodyError, read_capped};
use crate::redact::Secret;

/// How long to wait for a connection to the central audit log.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one page may take.
const PAGE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the whole search, every page, may take.
const SEARCH_DEADLINE: Duration = Duration::from_secs(60);
/// The most pages one search reads (the reference log serves 2,000 events a page).
pub const MAX_PAGES: usize = 25;
/// The most bytes one page may hold (2,000 events are about 6 MB).
const PAGE_BODY_CAP: usize = 32 * 1024 * 1024;

/// Why the central audit log could not be searched. No variant carries response text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditLogError {
    /// The HTTP client could not be built from the configuration.
    #[error("could not set up the HTTP client for the central audit log")]
    Setup,
    /// The moment to search from could not be written as RFC 3339.
    #[error("the start of the search could not be formatted")]
    InvalidSince,
    /// No answer: connection refused, TLS failure, timeout, or the body did not arrive.
    #[error("the central audit log could not be reached")]
    Unreachable,
    /// The central audit log answered with a status other than success.
    #[error("the central audit log refused the search with status {0}")]
    Refused(u16),
    /// The answer was not a searchset Bundle, was too large, or contradicted itself (more
    /// records than its `total`).
    #[error("the central audit log's answer could not be read")]
    InvalidResponse,
    /// An entry of the answer could not be read as an audit record: the list would be
    /// incomplete, so there is none.
    #[error("an entry of the central audit log's answer could not be read")]
    UnreadableEntry,
}

/// Whether a search read every event the log holds for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// Every event: as many records as the log's `total`, and no page left.
    Complete,
    /// The log counts more events than it sent (`total`): a page came without some entries,
    /// or events arrived while the pages were read.
    Missing {
        /// Records read.
        read: u64,
        /// Events the log counts.
        total: u64,
    },
    /// Pages were left unread: more than [`MAX_PAGES`], the deadline passed, or a `next` link
    /// led away from the central audit log.
    Cut {
        /// Records read (the newest).
        read: u64,
        /// Events the log counts, when it said.
        total: Option<u64>,
    },
    /// The log did not say how many events there are (no `total`).
    Unconfirmed {
        /// Records read.
        read: u64,
    },
}

impl Completeness {
    /// Whether every event was read.
    pub fn is_complete(self) -> bool {
        self == Completeness::Complete
    }
}

/// What a search read: the records, newest first as served, and whether that is all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSearch {
    /// The audit records read, each once.
    pub records: Vec<QueuedRecord>,
    /// Whether they are all the log holds for the search.
    pub completeness: Completeness,
}

/// A client for the central audit log's search (`GET {audit_url}/AuditEvent?since=…`).
#[derive(Clone)]
pub struct AuditLogClient {
    http: reqwest::Client,
    audit_url: reqwest::Url,
}

impl std::fmt::Debug for AuditLogClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AuditLogClient")
            .field("audit_url", &self.audit_url.as_str())
            .finish_non_exhaustive()
    }
}

impl AuditLogClient {
    /// A client for the configured central audit log.
    pub fn new(config: &Config) -> Result<AuditLogClient, AuditLogError> {
        let http = crate::http::client_builder(&config.tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|_| AuditLogError::Setup)?;
        Ok(AuditLogClient {
            http,
            audit_url: config.services.audit_url.clone(),
        })
    }

    /// Every record the central audit log holds for events since `since`, as the caller's
    /// token allows (the log limits the search to the caller's organisation), following its
    /// `next` links, with whether that is all of them. Any entry that cannot be read fails the
    /// whole search.
    pub async fn search_since(
        &self,
        token: &Secret,
        since: OffsetDateTime,
    ) -> Result<AuditSearch, AuditLogError> {
        let since = since
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|_| AuditLogError::InvalidSince)?;
        let endpoint = join_path(&self.audit_url, &["AuditEvent"]);
        let mut url = endpoint.clone();
        url.query_pairs_mut().append_pair("since", &since);
        let deadline = Instant::now() + SEARCH_DEADLINE;
        let mut records = Vec::new();
        let mut seen = HashSet::new();
        let mut pages = 0;
        loop {
            let page = self.page(token, url.clone(), deadline).await?;
            pages += 1;
            for record in page.records {
                if seen.insert(record.event_id) {
                    records.push(record);
                }
            }
            let read = records.len() as u64;
            if page.total.is_some_and(|total| read > total) {
                return Err(AuditLogError::InvalidResponse);
            }
            let Some(next) = page.next else {
                let completeness = match page.total {
                    None => Completeness::Unconfirmed { read },
                    Some(total) if read < total => Completeness::Missing { read, total },
                    Some(_) => Completeness::Complete,
                };
                return Ok(AuditSearch {
                    records,
                    completeness,
                });
            };
            let cut = Completeness::Cut {
                read,
                total: page.total,
            };
            match url.join(&next) {
                Ok(next)
                    if pages < MAX_PAGES
                        && Instant::now() < deadline
                        && next.origin() == endpoint.origin()
                        && next.path() == endpoint.path() =>
                {
                    url = next;
                }
                _ => {
                    tracing::warn!(pages, "review search cut: pages left unread");
                    return Ok(AuditSearch {
                        records,
                        completeness: cut,
                    });
                }
            }
        }
    }

    /// One page, read strictly within its cap and the search's deadline.
    async fn page(
        &self,
        token: &Secret,
        url: reqwest::Url,
        deadline: Instant,
    ) -> Result<cpis_audit::wire::SearchPage, AuditLogError> {
        let timeout = PAGE_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
        let exchange = async {
            let response = self
                .http
                .get(url)
                .bearer_auth(token.expose())
                .header("Accept", "application/fhir+json")
                .send()
                .await
                .map_err(|_| AuditLogError::Unreachable)?;
            let status = response.status();
            if !status.is_success() {
                return Err(AuditLogError::Refused(status.as_u16()));
            }
            read_capped(response, PAGE_BODY_CAP)
                .await
                .map_err(|error| match error {
                    BodyError::TooLarge => AuditLogError::InvalidResponse,
                    BodyError::Truncated => AuditLogError::Unreachable,
                })
        };
        let body = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| AuditLogError::Unreachable)??;
        read_search_page(&body).map_err(|error| match error {
            SearchPageError::UnreadableEntry { index, error } => {
                tracing::warn!(index, %error, "review search: an entry could not be read");
                AuditLogError::UnreadableEntry
            }
            SearchPageError::NotJson | SearchPageError::NotASearchset(_) => {
                tracing::warn!(%error, "review search: the answer is not a searchset Bundle");
                AuditLogError::InvalidResponse
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::{Query, State};
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use cpis_audit::{AuditAction, AuditQueue, NewAuditEntry};
    use cpis_domain::{Actor, NhsNumber, RoleRef};
    use std::collections::HashMap;
    use std::sync::Arc;

    /// A central audit log that answers `?page=N` (no `page`: 0) with the Nth scripted answer,
    /// `{base}` in it replaced with its own URL.
    async fn serve(pages: Vec<(u16, String)>) -> (AuditLogClient, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let pages: Arc<Vec<(u16, String)>> = Arc::new(
            pages
                .into_iter()
                .map(|(status, body)| (status, body.replace("{base}", &base)))
                .collect(),
        );
        async fn answer(
            State(pages): State<Arc<Vec<(u16, String)>>>,
            Query(query): Query<HashMap<String, String>>,
        ) -> axum::response::Response {
            let index: usize = query
                .get("page")
                .and_then(|page| page.parse().ok())
                .unwrap_or(0);
            let (status, body) = pages[index.min(pages.len() - 1)].clone();
            let status = StatusCode::from_u16(status).expect("status");
            let mut response = (
                status,
                [(header::CONTENT_TYPE, "application/fhir+json")],
                body,
            )
                .into_response();
            if status.is_redirection() {
                response.headers_mut().insert(
                    header::LOCATION,
                    header::HeaderValue::from_static("/audit/AuditEvent?page=1"),
                );
            }
            response
        }
        let app = axum::Router::new()
            .route("/audit/AuditEvent", axum::routing::get(answer))
            .with_state(pages);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut config = Config::defaults_with_data_dir(std::env::temp_dir());
        config.services.audit_url = format!("{base}/audit").parse().expect("url");
        (AuditLogClient::new(&config).expect("client"), base)
    }

    /// `count` audit records of views, each as its AuditEvent's JSON.
    fn events(count: usize) -> Vec<(QueuedRecord, String)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let queue = AuditQueue::open(dir.path()).expect("queue");
        (0..count)
            .map(|_| {
                let entry = NewAuditEntry::new(
                    OffsetDateTime::now_utc(),
                    AuditAction::View,
                    Actor {
                        user_id: "nurse-1".into(),
                        user_name: "Tess Triage-Test".into(),
                        role: RoleRef {
                            organisation_ods: "ZZ1ED".into(),
                            ..RoleRef::default()
                        },
                    },
                    NhsNumber::parse("9990000018").expect("valid"),
                    uuid::Uuid::new_v4(),
                );
                let record = queue.append(&entry).expect("append");
                let json = cpis_audit::wire::to_audit_event(&record).to_string();
                (record, json)
            })
            .collect()
    }

    fn searchset(total: Option<u64>, next: Option<&str>, resources: &[&str]) -> String {
        let entries: Vec<String> = resources
            .iter()
            .map(|resource| format!(r#"{{"resource":{resource},"search":{{"mode":"match"}}}}"#))
            .collect();
        let total = total
            .map(|total| format!(r#","total":{total}"#))
            .unwrap_or_default();
        let link = next
            .map(|url| format!(r#","link":[{{"relation":"next","url":"{url}"}}]"#))
            .unwrap_or_default();
        format!(
            r#"{{"resourceType":"Bundle","type":"searchset"{total}{link},"entry":[{}]}}"#,
            entries.join(",")
        )
    }

    async fn search(pages: Vec<(u16, String)>) -> Result<AuditSearch, AuditLogError> {
        let (client, _) = serve(pages).await;
        client
            .search_since(
                &Secret::new("test-token"),
                OffsetDateTime::now_utc() - time::Duration::days(1),
            )
            .await
    }

    /// Issue 16: a Bundle with no `entry` was shown as a complete, empty list.
    #[tokio::test]
    async fn a_bundle_without_entries_is_an_empty_list_only_when_its_total_is_zero() {
        let empty = search(vec![(200, searchset(Some(0), None, &[]))])
            .await
            .expect("empty");
        assert_eq!(empty.completeness, Completeness::Complete);
        assert!(empty.records.is_empty());
        for (body, completeness) in [
            (
                r#"{"resourceType":"Bundle","type":"searchset","total":3}"#,
                Completeness::Missing { read: 0, total: 3 },
            ),
            (
                r#"{"resourceType":"Bundle","type":"searchset"}"#,
                Completeness::Unconfirmed { read: 0 },
            ),
        ] {
            let read = search(vec![(200, body.to_owned())]).await.expect("read");
            assert_eq!(read.completeness, completeness, "{body}");
        }
        for body in [r#"{"resourceType":"Bundle"}"#, "[]", "<html>"] {
            assert_eq!(
                search(vec![(200, body.to_owned())]).await,
                Err(AuditLogError::InvalidResponse),
                "{body}"
            );
        }
    }

    /// Issue 16: an entry that could not be read was left out, and the list looked complete.
    #[tokio::test]
    async fn an_entry_that_cannot_be_read_fails_the_search() {
        let events = events(1);
        let body = searchset(
            Some(2),
            None,
            &[&events[0].1, r#"{"resourceType":"AuditEvent","id":"x"}"#],
        );
        assert_eq!(
            search(vec![(200, body)]).await,
            Err(AuditLogError::UnreadableEntry)
        );
    }

    /// Issue 16: more events than one answer holds were cut without a word. The log's `next`
    /// links are followed, relative or absolute, and the records add up to its `total`.
    #[tokio::test]
    async fn every_page_is_read_through_the_next_links() {
        let events = events(5);
        let json: Vec<&str> = events.iter().map(|(_, json)| json.as_str()).collect();
        let read = search(vec![
            (
                200,
                searchset(Some(5), Some("{base}/audit/AuditEvent?page=1"), &json[0..2]),
            ),
            (
                200,
                searchset(Some(5), Some("AuditEvent?page=2"), &json[2..4]),
            ),
            (200, searchset(Some(5), None, &json[4..5])),
        ])
        .await
        .expect("read");
        assert_eq!(read.completeness, Completeness::Complete);
        let records: Vec<&QueuedRecord> = events.iter().map(|(record, _)| record).collect();
        assert_eq!(read.records.iter().collect::<Vec<_>>(), records);
        // Fewer than the total, over the pages: missing, never complete.
        let short = search(vec![
            (
                200,
                searchset(Some(5), Some("AuditEvent?page=1"), &json[0..2]),
            ),
            (200, searchset(Some(5), None, &json[2..3])),
        ])
        .await
        .expect("read");
        assert_eq!(
            short.completeness,
            Completeness::Missing { read: 3, total: 5 }
        );
        // More than the total: the answer contradicts itself.
        assert_eq!(
            search(vec![(200, searchset(Some(1), None, &json[0..2]))]).await,
            Err(AuditLogError::InvalidResponse)
        );
    }

    #[tokio::test]
    async fn a_next_link_elsewhere_or_past_the_page_limit_cuts_the_list_and_says_so() {
        let events = events(2);
        let json: Vec<&str> = events.iter().map(|(_, json)| json.as_str()).collect();
        for elsewhere in [
            "https://elsewhere.example/audit/AuditEvent?page=1",
            "{base}/other/AuditEvent?page=1",
        ] {
            let read = search(vec![
                (200, searchset(Some(2), Some(elsewhere), &json[0..1])),
                (200, searchset(Some(2), None, &json[1..2])),
            ])
            .await
            .expect("read");
            assert_eq!(
                read.completeness,
                Completeness::Cut {
                    read: 1,
                    total: Some(2)
                },
                "{elsewhere}"
            );
        }
        // A log that always has another page: read MAX_PAGES pages, then cut.
        let endless = search(vec![(
            200,
            searchset(Some(100_000), Some("AuditEvent?page=0"), &json[0..1]),
        )])
        .await
        .expect("read");
        assert_eq!(
            endless.completeness,
            Completeness::Cut {
                read: 1,
                total: Some(100_000)
            }
        );
    }

    /// Issue 16: the review's HTTP followed redirects and read bodies of any size.
    #[tokio::test]
    async fn redirects_are_not_followed_and_bodies_are_capped() {
        assert_eq!(
            search(vec![
                (302, String::new()),
                (200, searchset(Some(0), None, &[]))
            ])
            .await,
            Err(AuditLogError::Refused(302))
        );
        let huge = format!(
            r#"{{"resourceType":"Bundle","type":"searchset","total":0,"pad":"{}"}}"#,
            "x".repeat(PAGE_BODY_CAP)
        );
        assert_eq!(
            search(vec![(200, huge)]).await,
            Err(AuditLogError::InvalidResponse)
        );
    }
}
