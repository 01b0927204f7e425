// Generated from crates/cpis-ipc by `cargo xtask codegen`. Do not edit by hand.

export type NhsNumberErrorCode = "empty" | "invalid_characters" | "wrong_length" | "check_digit" | "too_long";

export type IpcErrorCode = "unexpected" | "not_set_up" | "identity_provider_unreachable" | "sign_in_cancelled" | "browser_unavailable" | "sign_in_not_finished" | "sign_in_refused" | "keyring_unavailable" | "sign_in_required" | "locked" | "role_not_permitted" | "unknown_lookup" | "invalid_time" | "audit_failed" | "audit_log_unavailable" | "audit_log_unreadable" | "export_failed" | "audit_queue_unavailable" | "audit_queue_write_failed" | "audit_queue_unreadable" | "invalid_response";

export type IpcError = { 
/**
 * Stable machine-readable code.
 */
code: IpcErrorCode, 
/**
 * The code's fixed message, for the user.
 */
message: string, };

export type CouldNotCheckCode = "timeout" | "service_unreachable" | "service_error" | "access_denied" | "invalid_response" | "response_for_another_patient" | "demographics_unavailable" | "sign_in_required" | "role_not_permitted";

export type UserView = { 
/**
 * Display name.
 */
name: string, 
/**
 * The selected role's name, or "No role selected".
 */
role_name: string, 
/**
 * The organisation's ODS code, or empty.
 */
organisation_ods: string, 
/**
 * The organisation's name, or empty when the claims do not give it.
 */
organisation_name: string, 
/**
 * Whether this role may look up records.
 */
can_look_up: boolean, 
/**
 * Why not, in plain words, when it may not.
 */
cannot_look_up_reason: string | null, 
/**
 * Whether lookups are unscheduled accesses (the local authority is told).
 */
unscheduled: boolean, 
/**
 * Whether this role may use the named nurse review.
 */
can_review: boolean, };

export type SessionView = { "state": "signed_out" } | { "state": "locked" } | { "state": "signed_in", 
/**
 * Who.
 */
user: UserView, };

export type PatientView = { 
/**
 * `943 476 5919`.
 */
nhs_number: string, 
/**
 * `FAMILY, Given`, or `Name not recorded`.
 */
name: string, 
/**
 * `6 August 2018`; a partial date as given (`October 2010`, `2010`); or
 * `Date of birth not recorded`.
 */
date_of_birth: string, 
/**
 * For a partial date of birth, a sentence saying which part is known.
 */
date_of_birth_note: string | null, 
/**
 * `Female`, `Male`, `Other`, `Not known`, or `Gender not recorded`.
 */
gender: string, 
/**
 * When the name or date of birth was not recorded: one sentence naming what is missing and
 * asking the clinician to confirm who the patient is another way.
 */
not_recorded_warning: string | null, 
/**
 * For a restricted (sensitive) record: a sentence saying so.
 */
restricted_notice: string | null, 
/**
 * The date of death (`22 October 2010`), when the demographics service records one.
 */
date_of_death: string | null, };

export type PhoneView = { 
/**
 * As shown and copied: `020 7946 0000`, or the number as given when it could not be read.
 */
display: string, 
/**
 * `tel:+442079460000`, for a link; none when the number could not be read as a valid one.
 */
tel: string | null, 
/**
 * The extension's digits (`201`), shown as text beside the number, if any.
 */
extension: string | null, };

export type LocalAuthorityView = { 
/**
 * Name.
 */
name: string, 
/**
 * ODS code, where the answer carried one.
 */
ods_code: string | null, 
/**
 * Office hours phone, if given.
 */
office_hours_phone: PhoneView | null, 
/**
 * Emergency duty team (out of hours) phone, if given.
 */
emergency_duty_phone: PhoneView | null, };

export type SocialWorkerView = { 
/**
 * Name.
 */
name: string, 
/**
 * Phone, if given.
 */
phone: PhoneView | null, };

export type PlanTypeCode = "child_protection_plan" | "looked_after_child" | "unborn_child_protection_plan";

export type PlanStatusCode = "active" | "starts" | "due_today" | "due_passed" | "ended" | "inactive" | "suspended" | "proposed";

export type PlanStatusView = { 
/**
 * Which status.
 */
code: PlanStatusCode, 
/**
 * The words for the tag.
 */
text: string, };

export type PlanView = { 
/**
 * Kind; `None` when CP-IS holds a record whose type could not be read.
 */
plan_type: PlanTypeCode | null, 
/**
 * Plain-English name of the kind.
 */
plan_name: string, 
/**
 * `6 August 2018`, if given.
 */
start: string | null, 
/**
 * End (for an unborn plan, the due date), if any.
 */
end: string | null, 
/**
 * Its status on the UK date it was checked, in words that fit its type.
 */
status: PlanStatusView, 
/**
 * Who is responsible.
 */
local_authority: LocalAuthorityView, 
/**
 * Social worker, where shared.
 */
social_worker: SocialWorkerView | null, };

export type AccessView = { 
/**
 * `25 November 2026 at 5.30pm`.
 */
accessed_at: string, 
/**
 * RFC 3339, for the timeline picture.
 */
accessed_at_iso: string, 
/**
 * Viewer's name.
 */
viewer_name: string, 
/**
 * Viewer's role.
 */
viewer_role: string, 
/**
 * Organisation's name.
 */
organisation_name: string, 
/**
 * Organisation's ODS code, where the answer carried one.
 */
organisation_ods: string | null, };

export type LookupView = { "outcome": "plan_found", 
/**
 * The patient banner.
 */
patient: PatientView, 
/**
 * The plans.
 */
plans: Array<PlanView>, 
/**
 * The last 25 unscheduled accesses, newest first.
 */
access_history: Array<AccessView>, 
/**
 * Why the access history is missing, when it could not be fetched.
 */
access_history_unavailable: string | null, 
/**
 * `25 November 2026 at 5.30pm`.
 */
checked_at: string, } | { "outcome": "no_plan", 
/**
 * The patient banner.
 */
patient: PatientView, 
/**
 * When.
 */
checked_at: string, } | { "outcome": "could_not_check", 
/**
 * Stable code.
 */
reason_code: CouldNotCheckCode, 
/**
 * Plain words.
 */
reason: string, 
/**
 * When the attempt ended.
 */
attempted_at: string, 
/**
 * What support staff need to find the attempt: the `TraceID` and the stable detail
 * code (see [`support_reference`]). No patient data. `None` when nothing was sent.
 */
support_reference: string | null, } | { "outcome": "patient_not_found", 
/**
 * `943 476 5919`.
 */
nhs_number: string, 
/**
 * When.
 */
checked_at: string, } | { "outcome": "invalid_nhs_number", 
/**
 * Why.
 */
code: NhsNumberErrorCode, 
/**
 * The NHS error message.
 */
message: string, } | { "outcome": "superseded" };

export type LookupResponse = { 
/**
 * Identifies this lookup for a follow-up (recording LA contact). 0 when nothing was looked up.
 */
lookup_id: number, 
/**
 * What to show.
 */
view: LookupView, 
/**
 * When the audit record could not be written: a visible incident message. The result is
 * still shown.
 */
audit_warning: string | null, };

export type ContactMethod = "phone_office_hours" | "phone_emergency_duty_team" | "phone_social_worker" | "secure_email";

export type LaContactRequest = { 
/**
 * The lookup this follows.
 */
lookup_id: number, 
/**
 * How.
 */
method: ContactMethod, 
/**
 * When, as `HH:MM` today (24-hour, local time); the time of recording when absent.
 */
contacted_at: string | null, };

export type AuditStatusView = { 
/**
 * Records waiting to be sent.
 */
waiting: number, 
/**
 * How old the oldest waiting record is, in minutes.
 */
oldest_waiting_minutes: number | null, 
/**
 * When the central log last confirmed a batch.
 */
last_success: string | null, 
/**
 * Records the central log rejected.
 */
quarantined: number, 
/**
 * Whether the backlog is large or old enough to warn about.
 */
warning: boolean, 
/**
 * Queue files set aside because the key in the OS keyring could not read them: their
 * records have not been sent (an incident for IT; docs/deployment.md). Usually 0.
 */
unreadable_files: number, 
/**
 * Set when the local audit queue itself failed: an incident to report, as a code and its
 * fixed message (never the underlying error's text).
 */
queue_error: IpcError | null, };

export type StatusView = { 
/**
 * The app's version.
 */
version: string, 
/**
 * Whether the services answered their last health check; `None` before the first.
 */
services_reachable: boolean | null, 
/**
 * The audit queue.
 */
audit: AuditStatusView, 
/**
 * The configuration files in use, in the words the status area shows (for example
 * "/etc/cpis-viewer/config.toml (machine-wide)"); empty when only built-in development
 * settings are in use.
 */
config_files: Array<string>, };

export type UiSettings = { 
/**
 * Minutes of inactivity before the app locks.
 */
lock_minutes: number, 
/**
 * The organisation's display name from the trust's configuration; when absent the UI
 * uses the name (or ODS code) from the signed-in user's role.
 */
organisation_display_name: string | null, 
/**
 * The trust's own words and numbers for the result screens.
 */
trust: TrustContactsView, };

export type TrustContactsView = { 
/**
 * The trust's downtime procedure, one short paragraph per entry.
 */
downtime_procedure: Array<string>, 
/**
 * The safeguarding team's number in office hours.
 */
safeguarding_in_hours: PhoneView | null, 
/**
 * When the office-hours number is answered, in the trust's words ("Monday to Friday,
 * 9am to 5pm").
 */
safeguarding_in_hours_times: string | null, 
/**
 * The safeguarding team's (or the on-call) number out of hours.
 */
safeguarding_out_of_hours: PhoneView | null, };

export type SetupProblemView = { 
/**
 * What is wrong, naming the setting and the file, such as "the setting `services.cpis_url`
 * is missing".
 */
problems: Array<string>, 
/**
 * Where the trust's machine-wide configuration file goes on this computer.
 */
machine_file: string, 
/**
 * Where a user's own configuration file goes, when the platform has one.
 */
user_file: string | null, };

export type ReviewPeriod = "last24_hours" | "last7_days";

export type ReviewPlanView = { 
/**
 * `Child protection plan`, or `Plan type not given`.
 */
plan_type: string, 
/**
 * The responsible local authority's name.
 */
local_authority: string, 
/**
 * Its ODS code, when recorded.
 */
local_authority_ods: string | null, };

export type ReviewRow = { 
/**
 * `25 November 2026 at 5.30pm`.
 */
viewed_at: string, 
/**
 * RFC 3339, for sorting.
 */
viewed_at_iso: string, 
/**
 * Who looked.
 */
viewer_name: string, 
/**
 * Their role.
 */
viewer_role: string, 
/**
 * `943 476 5919`.
 */
nhs_number: string, 
/**
 * Whether it was an unscheduled access (the local authority was told).
 */
unscheduled: boolean, 
/**
 * Whether anyone recorded contacting the local authority after this view.
 */
la_contacted: boolean, 
/**
 * How and when, in words, when recorded.
 */
la_contact: string | null, 
/**
 * The plans the view found, as recorded with it: whom to chase. `None` when the record
 * was written before plans were recorded with views (the UI says they were not recorded).
 */
plans: Array<ReviewPlanView> | null, };

export type ReviewView = { 
/**
 * The period covered.
 */
period: ReviewPeriod, 
/**
 * The organisation's ODS code.
 */
organisation_ods: string, 
/**
 * The organisation's name; empty when neither the sign-in nor the log gives it.
 */
organisation_name: string, 
/**
 * Newest first.
 */
rows: Array<ReviewRow>, 
/**
 * When the central audit log answered.
 */
generated_at: string, 
/**
 * Why the list may not hold every view, in plain words; `None` when the central audit
 * log confirmed that it sent every record for the period.
 */
incomplete: string | null, };

/** Every command the shell registers; `ui/src/backend` calls only these. */
export const COMMANDS = [
  "setup_problem",
  "session_state",
  "sign_in",
  "cancel_sign_in",
  "sign_out",
  "lock",
  "report_activity",
  "lookup",
  "record_la_contact",
  "status",
  "ui_settings",
  "review",
  "save_review_csv",
] as const;

/** The name of a command. */
export type CommandName = (typeof COMMANDS)[number];

/** Every code a command may reject with; `isIpcError` accepts no other. */
export const IPC_ERROR_CODES: readonly IpcErrorCode[] = [
  "unexpected",
  "not_set_up",
  "identity_provider_unreachable",
  "sign_in_cancelled",
  "browser_unavailable",
  "sign_in_not_finished",
  "sign_in_refused",
  "keyring_unavailable",
  "sign_in_required",
  "locked",
  "role_not_permitted",
  "unknown_lookup",
  "invalid_time",
  "audit_failed",
  "audit_log_unavailable",
  "audit_log_unreadable",
  "export_failed",
  "audit_queue_unavailable",
  "audit_queue_write_failed",
  "audit_queue_unreadable",
  "invalid_response",
];
