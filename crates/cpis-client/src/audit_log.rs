//! The central audit log's search, for the named nurse review: the AuditEvents since a moment,
//! fetched with the user's token on the same hardened builder as the alert client
//! ([`crate::http::client_builder`]) and read back into audit records.

use std::time::Duration;

use cpis_audit::QueuedRecord;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{Config, join_path};
use crate::redact::Secret;

/// How long to wait for a connection to the central audit log.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the whole search may take.
const SEARCH_TIMEOUT: Duration = Duration::from_secs(15);

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
    /// The answer was not JSON.
    #[error("the central audit log's answer could not be read")]
    InvalidResponse,
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

    /// Every record the central audit log returns for events since `since`, as the caller's
    /// token allows (the log limits the search to the caller's organisation). An entry that
    /// does not read as an audit record is left out.
    pub async fn search_since(
        &self,
        token: &Secret,
        since: OffsetDateTime,
    ) -> Result<Vec<QueuedRecord>, AuditLogError> {
        let since = since
            .format(&Rfc3339)
            .map_err(|_| AuditLogError::InvalidSince)?;
        let mut url = join_path(&self.audit_url, &["AuditEvent"]);
        url.query_pairs_mut().append_pair("since", &since);
        let response = self
            .http
            .get(url)
            .bearer_auth(token.expose())
            .header("Accept", "application/fhir+json")
            .timeout(SEARCH_TIMEOUT)
            .send()
            .await
            .map_err(|_| AuditLogError::Unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(AuditLogError::Refused(status.as_u16()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| AuditLogError::InvalidResponse)?;
        cpis_audit::wire::records_in_searchset(&body).map_err(|_| AuditLogError::InvalidResponse)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bundle_without_entries_has_no_records_and_text_is_refused() {
        let read = |body: &str| cpis_audit::wire::records_in_searchset(body.as_bytes());
        assert!(
            read(r#"{"resourceType": "Bundle"}"#)
                .expect("JSON")
                .is_empty()
        );
        assert!(
            read(r#"{"entry": [{"resource": {"resourceType": "Patient"}}]}"#)
                .expect("JSON")
                .is_empty()
        );
        assert!(read("not json").is_err());
    }
}
