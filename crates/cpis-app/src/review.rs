//! The named nurse review: views with plans found at the user's organisation, from the central
//! audit log (through [`cpis_client::AuditLogClient`]), each with whether LA contact was
//! recorded after it, and its CSV export.

use std::collections::HashMap;

use cpis_audit::{AuditAction, QueuedRecord};
use cpis_client::AuditLogError;
use cpis_domain::{ACTIVITY_SAFEGUARDING_REVIEW, NhsNumber};
use cpis_ipc::{IpcError, IpcErrorCode, ReviewPeriod, ReviewRow, ReviewView, display_date_time};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppCore;
use crate::la_contact::LaContactDetail;

impl AppCore {
    /// The named nurse review: views with plans found at the user's organisation in
    /// `period`, from the central audit log, with whether LA contact was recorded.
    pub async fn review(&self, period: ReviewPeriod) -> Result<ReviewView, IpcError> {
        let Some((token, user)) = self.credentials().await else {
            return Err(IpcError::new(IpcErrorCode::SignInRequired));
        };
        let Some(role) = user
            .selected_role()
            .filter(|role| role.has_activity(ACTIVITY_SAFEGUARDING_REVIEW))
        else {
            return Err(IpcError::new(IpcErrorCode::RoleNotPermitted));
        };
        let now = OffsetDateTime::now_utc();
        let records = self
            .audit_log
            .search_since(&token, now - period.duration())
            .await
            .map_err(|error| match error {
                AuditLogError::InvalidSince | AuditLogError::Setup => IpcError::unexpected(),
                AuditLogError::Refused(status) => {
                    tracing::warn!(status, "review search refused");
                    IpcError::new(IpcErrorCode::AuditLogUnavailable)
                }
                AuditLogError::Unreachable | AuditLogError::InvalidResponse => {
                    IpcError::new(IpcErrorCode::AuditLogUnavailable)
                }
            })?;
        Ok(ReviewView {
            period,
            organisation_ods: role.org_code.clone(),
            rows: review_rows(&records),
            generated_at: display_date_time(now),
        })
    }

    /// Save the review as CSV in `folder` (the user's downloads folder), owner-only, and
    /// return the file's path. The named nurse asks for this export for a safeguarding
    /// meeting; it is the one place the app writes patient identifiers outside the audit queue.
    pub async fn save_review_csv(
        &self,
        period: ReviewPeriod,
        folder: &std::path::Path,
    ) -> Result<String, IpcError> {
        let review = self.review(period).await?;
        let stamp = cpis_domain::uk_time::uk_local(OffsetDateTime::now_utc())
            .format(time::macros::format_description!(
                "[year]-[month]-[day]-[hour][minute]"
            ))
            .map_err(|_| IpcError::unexpected())?;
        let path = folder.join(format!("cpis-review-{stamp}.csv"));
        let cannot_save = || IpcError::new(IpcErrorCode::ExportFailed);
        std::fs::create_dir_all(folder).map_err(|_| cannot_save())?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(|_| cannot_save())?;
        std::io::Write::write_all(&mut file, review_csv(&review.rows).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|_| cannot_save())?;
        Ok(path.display().to_string())
    }
}

/// The review's rows: each view that found plans, newest first, with the LA contact recorded
/// after it (matched by TraceID).
fn review_rows(records: &[QueuedRecord]) -> Vec<ReviewRow> {
    let contacts: HashMap<Uuid, &QueuedRecord> = records
        .iter()
        .filter(|record| record.action == AuditAction::LocalAuthorityContacted)
        .map(|record| (record.trace_id, record))
        .collect();
    let mut views: Vec<&QueuedRecord> = records
        .iter()
        .filter(|record| record.action == AuditAction::View && record.outcome == "plan_found")
        .collect();
    views.sort_by_key(|view| std::cmp::Reverse(view.occurred_at));
    views
        .into_iter()
        .map(|view| {
            let contact = contacts.get(&view.trace_id);
            ReviewRow {
                viewed_at: display_date_time(view.occurred_at),
                viewed_at_iso: view
                    .occurred_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                viewer_name: view.actor.user_name.clone(),
                viewer_role: cpis_ipc::display_role_name(&view.actor.role.role_name),
                nhs_number: NhsNumber::parse(&view.patient_nhs_number)
                    .map(|nhs| nhs.to_string())
                    .unwrap_or_else(|_| view.patient_nhs_number.clone()),
                unscheduled: view.unscheduled,
                la_contacted: contact.is_some(),
                la_contact: contact.map(|contact| {
                    LaContactDetail::parse(&contact.detail)
                        .map_or_else(|| "Contacted".to_owned(), |detail| detail.describe())
                }),
            }
        })
        .collect()
}

/// The review as CSV (RFC 4180: every field quoted, quotes doubled). Cells that a
/// spreadsheet would run as a formula are prefixed with an apostrophe.
fn review_csv(rows: &[ReviewRow]) -> String {
    fn cell(text: &str) -> String {
        let safe = if text.starts_with(['=', '+', '-', '@']) {
            format!("'{text}")
        } else {
            text.to_string()
        };
        format!("\"{}\"", safe.replace('"', "\"\""))
    }
    let mut out = String::from(
        "\"Viewed at\",\"Viewer\",\"Role\",\"NHS number\",\"Unscheduled\",\"LA contact recorded\",\"LA contact\"\r\n",
    );
    for row in rows {
        let fields = [
            cell(&row.viewed_at_iso),
            cell(&row.viewer_name),
            cell(&row.viewer_role),
            cell(&row.nhs_number),
            cell(if row.unscheduled { "Yes" } else { "No" }),
            cell(if row.la_contacted { "Yes" } else { "No" }),
            cell(row.la_contact.as_deref().unwrap_or("")),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_csv_quotes_and_defuses_formulas() {
        let row = ReviewRow {
            viewed_at: "25 November 2026 at 9am".into(),
            viewed_at_iso: "2026-11-25T09:00:00Z".into(),
            viewer_name: "=HYPERLINK(\"x\")".into(),
            viewer_role: "Nurse".into(),
            nhs_number: "999 000 0026".into(),
            unscheduled: true,
            la_contacted: false,
            la_contact: None,
        };
        let csv = review_csv(&[row]);
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .is_some_and(|header| header.starts_with("\"Viewed at\""))
        );
        assert_eq!(
            lines.next(),
            Some(
                r#""2026-11-25T09:00:00Z","'=HYPERLINK(""x"")","Nurse","999 000 0026","Yes","No","""#
            )
        );
    }
}
