//! The named nurse review: views with plans found at the user's organisation, from the central
//! audit log (through [`cpis_client::AuditLogClient`]), each with the plans it found and their
//! local authorities (recorded with the view) and whether LA contact was recorded after it;
//! whether the log sent every record for the period; and the review's CSV export.

use std::collections::HashMap;
use std::path::Path;

use cpis_audit::{AuditAction, QueuedRecord, RecordedPlan};
use cpis_client::{AuditLogError, Completeness};
use cpis_domain::{ACTIVITY_SAFEGUARDING_REVIEW, NhsNumber};
use cpis_ipc::{
    IpcError, IpcErrorCode, ReviewPeriod, ReviewPlanView, ReviewRow, ReviewView, display_date_time,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppCore;
use crate::la_contact::LaContactDetail;

impl AppCore {
    /// The named nurse review: views with plans found at the user's organisation in
    /// `period`, from the central audit log, with the plans found, whether LA contact was
    /// recorded, and whether the list is complete.
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
        let search = self
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
                AuditLogError::UnreadableEntry => IpcError::new(IpcErrorCode::AuditLogUnreadable),
            })?;
        let organisation_name = user
            .selected_organisation_name()
            .filter(|name| !name.is_empty())
            .or_else(|| organisation_name_in(&search.records, &role.org_code))
            .unwrap_or_default()
            .to_owned();
        Ok(ReviewView {
            period,
            organisation_ods: role.org_code.clone(),
            organisation_name,
            rows: review_rows(&search.records),
            generated_at: display_date_time(now),
            incomplete: incomplete_message(search.completeness),
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
        write_private_file(&path, review_csv(&review).as_bytes()).map_err(|_| cannot_save())?;
        Ok(path.display().to_string())
    }
}

/// Write `contents` to `path`, owner-only (0600 on Unix) whether or not a file is already
/// there: into a new file beside it (created exclusively, so never through a link), synced,
/// then renamed over `path`. An earlier export's looser permissions, or a link planted at
/// `path`, never decide who can read this one.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = folder.join(format!(".{name}.{}.tmp", Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        std::io::Write::write_all(&mut file, contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The organisation's name as the records at `ods` give it, when the sign-in did not.
fn organisation_name_in<'a>(records: &'a [QueuedRecord], ods: &str) -> Option<&'a str> {
    records
        .iter()
        .map(|record| &record.actor.role)
        .find(|role| role.organisation_ods == ods && !role.organisation_name.is_empty())
        .map(|role| role.organisation_name.as_str())
}

/// Why the review's list may not hold every view, in plain words; `None` when it does.
fn incomplete_message(completeness: Completeness) -> Option<String> {
    let records = |count: u64| {
        if count == 1 {
            "1 audit record".to_owned()
        } else {
            format!("{count} audit records")
        }
    };
    match completeness {
        Completeness::Complete => None,
        Completeness::Missing { read, total } => Some(format!(
            "This list may be incomplete. The central audit log holds {} for this period but sent {read}. Load the review again. If this keeps happening, tell your IT service desk.",
            records(total)
        )),
        Completeness::Cut { read, total } => Some(format!(
            "This list is cut short. It is built from the newest {} {}. Choose a shorter period, or ask your IT service desk for the full list.",
            records(read),
            match total {
                Some(total) => format!("of the {total} for this period"),
                None => "for this period; there are more".to_owned(),
            }
        )),
        Completeness::Unconfirmed { read } => Some(format!(
            "This list may be incomplete. The central audit log sent {} but did not say how many it holds for this period. Load the review again. If this keeps happening, tell your IT service desk.",
            records(read)
        )),
    }
}

/// A plan recorded with a view, as the review shows it.
fn plan_view(plan: &RecordedPlan) -> ReviewPlanView {
    ReviewPlanView {
        plan_type: plan
            .plan_type
            .map_or("Plan type not given", |plan_type| plan_type.display_name())
            .to_owned(),
        local_authority: plan.local_authority.clone(),
        local_authority_ods: plan.local_authority_ods.clone(),
    }
}

/// The review's rows: each view that found plans, newest first, with the plans recorded with
/// it and the LA contact recorded after it (matched by TraceID).
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
                plans: view
                    .plans
                    .as_ref()
                    .map(|plans| plans.iter().map(plan_view).collect()),
            }
        })
        .collect()
}

/// Whether a spreadsheet could read `text` as a formula or split it: it starts with `=`, `+`,
/// `-` or `@` (also after spaces, or in their full-width forms), or with a tab, carriage
/// return or line feed (OWASP, CSV injection).
fn needs_defusing(text: &str) -> bool {
    const FORMULA: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];
    text.starts_with(['\t', '\r', '\n']) || text.trim_start().starts_with(FORMULA)
}

/// One CSV cell: quoted, quotes doubled, and prefixed with an apostrophe when a spreadsheet
/// could run it ([`needs_defusing`]).
fn csv_cell(text: &str) -> String {
    let safe = if needs_defusing(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", safe.replace('"', "\"\""))
}

/// The review as CSV (RFC 4180: every field quoted, quotes doubled), every cell defused
/// ([`csv_cell`]). The plans found and their local authorities are two columns, one line of
/// each per plan joined by "; ", or "Not recorded".
fn review_csv(review: &ReviewView) -> String {
    let mut out = String::from(
        "\"Viewed at\",\"Viewer\",\"Role\",\"NHS number\",\"Plans found\",\"Local authority\",\"Unscheduled\",\"LA contact recorded\",\"LA contact\"\r\n",
    );
    for row in &review.rows {
        let (plans, authorities) = match &row.plans {
            None => ("Not recorded".to_owned(), "Not recorded".to_owned()),
            Some(plans) => (
                plans
                    .iter()
                    .map(|plan| plan.plan_type.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                plans
                    .iter()
                    .map(|plan| plan.local_authority.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        let fields = [
            csv_cell(&row.viewed_at_iso),
            csv_cell(&row.viewer_name),
            csv_cell(&row.viewer_role),
            csv_cell(&row.nhs_number),
            csv_cell(&plans),
            csv_cell(&authorities),
            csv_cell(if row.unscheduled { "Yes" } else { "No" }),
            csv_cell(if row.la_contacted { "Yes" } else { "No" }),
            csv_cell(row.la_contact.as_deref().unwrap_or("")),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    // A list that may not hold every view says so in the file too, in a last line of its own.
    if let Some(incomplete) = &review.incomplete {
        let mut last = vec![csv_cell(incomplete)];
        last.resize(9, csv_cell(""));
        out.push_str(&last.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(viewer_name: &str) -> ReviewRow {
        ReviewRow {
            viewed_at: "25 November 2026 at 9am".into(),
            viewed_at_iso: "2026-11-25T09:00:00Z".into(),
            viewer_name: viewer_name.into(),
            viewer_role: "Nurse".into(),
            nhs_number: "999 000 0026".into(),
            unscheduled: true,
            la_contacted: false,
            la_contact: None,
            plans: None,
        }
    }

    fn review(rows: Vec<ReviewRow>, incomplete: Option<String>) -> ReviewView {
        ReviewView {
            period: ReviewPeriod::Last24Hours,
            organisation_ods: "ZZ1ED".into(),
            organisation_name: "Northshire General Hospital".into(),
            rows,
            generated_at: "25 November 2026 at 10am".into(),
            incomplete,
        }
    }

    #[test]
    fn review_csv_quotes_and_defuses_formulas() {
        let csv = review_csv(&review(vec![row("=HYPERLINK(\"x\")")], None));
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                r#""Viewed at","Viewer","Role","NHS number","Plans found","Local authority","Unscheduled","LA contact recorded","LA contact""#
            )
        );
        assert_eq!(
            lines.next(),
            Some(
                r#""2026-11-25T09:00:00Z","'=HYPERLINK(""x"")","Nurse","999 000 0026","Not recorded","Not recorded","Yes","No","""#
            )
        );
        assert_eq!(lines.next(), None);
    }

    /// Issue 16: a leading tab or carriage return got past the formula defusing (OWASP lists
    /// both beside `=`, `+`, `-` and `@`).
    #[test]
    fn every_cell_a_spreadsheet_could_run_is_defused() {
        for dangerous in [
            "=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "\n=1+1", "\tplain", "  =1+1",
            "＝1+1",
        ] {
            assert_eq!(
                csv_cell(dangerous),
                format!("\"'{dangerous}\""),
                "{dangerous:?}"
            );
        }
        for harmless in [
            "999 000 0026",
            "2026-11-25T09:00:00Z",
            "Nurse Access Role",
            "",
        ] {
            assert_eq!(
                csv_cell(harmless),
                format!("\"{harmless}\""),
                "{harmless:?}"
            );
        }
    }

    #[test]
    fn the_csv_names_the_plans_and_says_when_the_list_may_be_incomplete() {
        let mut with_plans = row("Tess Triage-Test");
        with_plans.plans = Some(vec![
            ReviewPlanView {
                plan_type: "Child protection plan".into(),
                local_authority: "Testshire County Council".into(),
                local_authority_ods: Some("Z9L01".into()),
            },
            ReviewPlanView {
                plan_type: "Looked after child".into(),
                local_authority: "Elsewhere Council".into(),
                local_authority_ods: None,
            },
        ]);
        let csv = review_csv(&review(
            vec![with_plans],
            Some("This list is cut short.".into()),
        ));
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[1].contains(
                r#""Child protection plan; Looked after child","Testshire County Council; Elsewhere Council""#
            ),
            "{}",
            lines[1]
        );
        assert_eq!(
            lines[2],
            r#""This list is cut short.","","","","","","","","""#
        );
    }

    /// Issue 16: the export was owner-only only when newly created; saving over an earlier
    /// export kept that file's permissions.
    #[cfg(unix)]
    #[test]
    fn the_export_is_owner_only_even_over_an_existing_file_or_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().expect("tempdir");
        let path = folder.path().join("cpis-review-2026-11-25-1000.csv");
        std::fs::write(&path, "old").expect("old export");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private_file(&path, b"new").expect("write");
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        // A link planted at the export's name is replaced, not written through.
        let target = folder.path().join("elsewhere.txt");
        std::fs::write(&target, "untouched").expect("target");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::fs::remove_file(&path).expect("remove");
        std::os::unix::fs::symlink(&target, &path).expect("link");
        write_private_file(&path, b"newer").expect("write");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "untouched");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "newer");
        let metadata = std::fs::symlink_metadata(&path).expect("metadata");
        assert!(metadata.is_file());
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
        // Nothing is left beside it.
        assert_eq!(std::fs::read_dir(folder.path()).expect("dir").count(), 2);
    }

    fn record(
        action: AuditAction,
        trace_id: Uuid,
        plans: Option<Vec<RecordedPlan>>,
    ) -> QueuedRecord {
        QueuedRecord {
            event_id: Uuid::new_v4(),
            device_id: Uuid::new_v4(),
            sequence: 1,
            occurred_at: time::macros::datetime!(2026-11-25 10:00 UTC),
            action,
            actor: cpis_domain::Actor {
                user_id: "nurse-1".into(),
                user_name: "Tess Triage-Test".into(),
                role: cpis_domain::RoleRef {
                    role_name: r#""Clinical":"Clinical Provision":"Nurse Access Role""#.into(),
                    organisation_ods: "ZZ1ED".into(),
                    organisation_name: "Northshire General Hospital".into(),
                    ..cpis_domain::RoleRef::default()
                },
            },
            patient_nhs_number: "9990000018".into(),
            outcome: "plan_found".into(),
            trace_id,
            unscheduled: true,
            detail: String::new(),
            plans,
            previous_hash: String::new(),
            record_hash: String::new(),
        }
    }

    #[test]
    fn each_row_shows_the_plans_recorded_with_the_view_or_says_they_were_not() {
        let recorded = vec![RecordedPlan::new(
            Some(cpis_domain::PlanType::UnbornChildProtectionPlan),
            "Testshire County Council",
            Some("Z9L01"),
        )];
        let records = [
            record(AuditAction::View, Uuid::new_v4(), Some(recorded)),
            record(AuditAction::View, Uuid::new_v4(), None),
            record(
                AuditAction::View,
                Uuid::new_v4(),
                Some(vec![RecordedPlan::new(None, "Elsewhere Council", None)]),
            ),
        ];
        let rows = review_rows(&records);
        assert_eq!(
            rows[0].plans,
            Some(vec![ReviewPlanView {
                plan_type: "Unborn child protection plan".into(),
                local_authority: "Testshire County Council".into(),
                local_authority_ods: Some("Z9L01".into()),
            }])
        );
        assert_eq!(rows[1].plans, None);
        assert_eq!(
            rows[2]
                .plans
                .as_ref()
                .map(|plans| plans[0].plan_type.as_str()),
            Some("Plan type not given")
        );
        // A role stored in CIS2's form is shown by its own name.
        assert_eq!(rows[0].viewer_role, "Nurse Access Role");
        assert_eq!(
            organisation_name_in(&records, "ZZ1ED"),
            Some("Northshire General Hospital")
        );
        assert_eq!(organisation_name_in(&records, "ZZ9XX"), None);
    }

    #[test]
    fn only_a_complete_list_has_no_warning() {
        assert_eq!(incomplete_message(Completeness::Complete), None);
        for completeness in [
            Completeness::Missing { read: 3, total: 5 },
            Completeness::Cut {
                read: 50_000,
                total: Some(61_000),
            },
            Completeness::Cut {
                read: 50_000,
                total: None,
            },
            Completeness::Unconfirmed { read: 0 },
        ] {
            let message = incomplete_message(completeness).expect("a warning");
            assert!(
                message.starts_with("This list may be incomplete.")
                    || message.starts_with("This list is cut short."),
                "{message}"
            );
        }
        assert!(
            incomplete_message(Completeness::Cut {
                read: 50_000,
                total: Some(61_000)
            })
            .is_some_and(|message| message.contains("newest 50000 audit records of the 61000"))
        );
    }
}
