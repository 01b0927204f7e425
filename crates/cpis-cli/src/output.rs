//! What `cpis` prints: the stable JSON objects (documented in README.md) and the plain-text
//! forms for people. Serialisation lives here, at the edge, not in the domain.

use cpis_client::config::{IgnoredBecause, PhoneNumber};
use cpis_client::{
    Config, ConfigError, ConfigLocations, LookupPermission, LookupReport, Role, SignedInUser,
};
use cpis_domain::{
    AccessRecord, LookupOutcome, NhsNumberError, PatientDemographics, ProtectionPlan,
};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `--json` object of `cpis lookup`. Every key is always present (`null` or `[]` when it
/// does not apply), so scripts can rely on the shape.
#[derive(Debug, Serialize)]
pub struct LookupJson {
    /// `plan_found`, `no_plan`, `could_not_check`, `invalid_nhs_number`, `patient_not_found`.
    pub outcome: &'static str,
    /// Why, for `could_not_check` and `invalid_nhs_number`.
    pub reason: Option<ReasonJson>,
    /// The NHS number asked about (10 digits), when it was valid.
    pub nhs_number: Option<String>,
    /// Demographics from the demographics service.
    pub patient: Option<PatientJson>,
    /// The plans, for `plan_found`.
    pub plans: Vec<PlanJson>,
    /// The access history (newest first), for `plan_found`.
    pub access_history: Vec<AccessJson>,
    /// `false` when plans were found but the access history could not be fetched.
    pub access_history_available: bool,
    /// When the service answered (RFC 3339, UTC), for a definitive answer or not found.
    pub checked_at: Option<String>,
    /// When a failed attempt ended (RFC 3339, UTC), for `could_not_check`.
    pub attempted_at: Option<String>,
    /// Whether the lookup was sent as an unscheduled access (the local authority is notified).
    pub unscheduled_access: bool,
    /// The `TraceID` of the CP-IS (or demographics) request, if one was sent.
    pub trace_id: Option<String>,
}

/// A reason code and its plain message.
#[derive(Debug, Serialize)]
pub struct ReasonJson {
    /// Stable code, such as `timeout`.
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
}

/// Who the NHS number belongs to.
#[derive(Debug, Serialize)]
pub struct PatientJson {
    nhs_number: String,
    family_name: String,
    given_names: Vec<String>,
    banner_name: String,
    date_of_birth: String,
    gender: &'static str,
}

/// One plan with its local authority contacts.
#[derive(Debug, Serialize)]
pub struct PlanJson {
    plan_type: &'static str,
    plan_type_name: &'static str,
    snomed_code: &'static str,
    start: String,
    end: Option<String>,
    local_authority: LocalAuthorityJson,
    social_worker: Option<SocialWorkerJson>,
}

/// The responsible local authority.
#[derive(Debug, Serialize)]
pub struct LocalAuthorityJson {
    name: String,
    ods_code: String,
    office_hours_phone: String,
    emergency_duty_phone: String,
}

/// The social worker the local authority shares, if any.
#[derive(Debug, Serialize)]
pub struct SocialWorkerJson {
    name: String,
    phone: String,
}

/// One access.
#[derive(Debug, Serialize)]
pub struct AccessJson {
    accessed_at: String,
    viewer_name: String,
    viewer_role: String,
    organisation_name: String,
    organisation_ods: String,
}

fn rfc3339(moment: OffsetDateTime) -> String {
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn iso_date(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn patient_json(patient: &PatientDemographics) -> PatientJson {
    PatientJson {
        nhs_number: patient.nhs_number.as_str().to_owned(),
        family_name: patient.family_name.clone(),
        given_names: patient.given_names.clone(),
        banner_name: patient.banner_name(),
        date_of_birth: iso_date(patient.date_of_birth),
        gender: patient.gender.fhir_code(),
    }
}

fn plan_json(plan: &ProtectionPlan) -> PlanJson {
    PlanJson {
        plan_type: plan.plan_type.short_code(),
        plan_type_name: plan.plan_type.display_name(),
        snomed_code: plan.plan_type.snomed_code(),
        start: iso_date(plan.start),
        end: plan.end.map(iso_date),
        local_authority: LocalAuthorityJson {
            name: plan.local_authority.name.clone(),
            ods_code: plan.local_authority.ods_code.clone(),
            office_hours_phone: plan.local_authority.office_hours_phone.clone(),
            emergency_duty_phone: plan.local_authority.emergency_duty_phone.clone(),
        },
        social_worker: plan.social_worker.as_ref().map(|worker| SocialWorkerJson {
            name: worker.name.clone(),
            phone: worker.phone.clone(),
        }),
    }
}

fn access_json(access: &AccessRecord) -> AccessJson {
    AccessJson {
        accessed_at: rfc3339(access.accessed_at),
        viewer_name: access.viewer_name.clone(),
        viewer_role: access.viewer_role.clone(),
        organisation_name: access.organisation_name.clone(),
        organisation_ods: access.organisation_ods.clone(),
    }
}

impl LookupJson {
    /// The object for an NHS number that was not valid; nothing was sent.
    pub fn invalid(error: NhsNumberError) -> LookupJson {
        LookupJson {
            outcome: "invalid_nhs_number",
            reason: Some(ReasonJson {
                code: error.code(),
                message: error.to_string(),
            }),
            nhs_number: None,
            patient: None,
            plans: Vec::new(),
            access_history: Vec::new(),
            access_history_available: false,
            checked_at: None,
            attempted_at: None,
            unscheduled_access: false,
            trace_id: None,
        }
    }

    /// The object when no lookup was attempted because sign-in is needed (exit status 4).
    pub fn sign_in_required(nhs_number: &cpis_domain::NhsNumber) -> LookupJson {
        let reason = cpis_domain::CouldNotCheckReason::SignInRequired;
        LookupJson {
            reason: Some(ReasonJson {
                code: reason.code(),
                message: reason.plain_message().to_owned(),
            }),
            nhs_number: Some(nhs_number.as_str().to_owned()),
            attempted_at: Some(rfc3339(OffsetDateTime::now_utc())),
            outcome: "could_not_check",
            ..LookupJson::invalid(NhsNumberError::Empty)
        }
    }

    /// The object for a lookup's report.
    pub fn from_report(nhs_number: &cpis_domain::NhsNumber, report: &LookupReport) -> LookupJson {
        let mut json = LookupJson {
            outcome: report.outcome.code(),
            reason: None,
            nhs_number: Some(nhs_number.as_str().to_owned()),
            patient: None,
            plans: Vec::new(),
            access_history: Vec::new(),
            access_history_available: false,
            checked_at: None,
            attempted_at: None,
            unscheduled_access: report.unscheduled,
            trace_id: report.trace_id.map(|id| id.to_string()),
        };
        match &report.outcome {
            LookupOutcome::PlansFound {
                patient,
                plans,
                access_history,
                checked_at,
            } => {
                json.patient = Some(patient_json(patient));
                json.plans = plans.iter().map(plan_json).collect();
                json.access_history = access_history.iter().map(access_json).collect();
                json.access_history_available = report.access_history_unavailable.is_none();
                json.checked_at = Some(rfc3339(*checked_at));
            }
            LookupOutcome::NoPlan {
                patient,
                checked_at,
            } => {
                json.patient = Some(patient_json(patient));
                json.checked_at = Some(rfc3339(*checked_at));
            }
            LookupOutcome::CouldNotCheck {
                reason,
                attempted_at,
            } => {
                json.reason = Some(ReasonJson {
                    code: reason.code(),
                    message: reason.plain_message().to_owned(),
                });
                json.attempted_at = Some(rfc3339(*attempted_at));
            }
            LookupOutcome::PatientNotFound { checked_at } => {
                json.checked_at = Some(rfc3339(*checked_at));
            }
            LookupOutcome::InvalidInput(error) => {
                json.reason = Some(ReasonJson {
                    code: error.code(),
                    message: error.to_string(),
                });
            }
        }
        json
    }
}

/// "6 August 2018".
pub fn nhs_date(date: time::Date) -> String {
    cpis_domain::display_date(date)
}

/// "6 August 2018 at 5.30pm UTC".
pub fn nhs_date_time(moment: OffsetDateTime) -> String {
    format!(
        "{} UTC",
        cpis_domain::display_date_time(moment, time::UtcOffset::UTC)
    )
}

/// The plain-text form of a lookup.
pub fn lookup_text(report: &LookupReport) -> String {
    let mut out = String::new();
    let banner = |patient: &PatientDemographics| {
        format!(
            "Patient: {}\nNHS number: {}\nDate of birth: {}\nGender: {}\n",
            patient.banner_name(),
            patient.nhs_number,
            nhs_date(patient.date_of_birth),
            patient.gender.display()
        )
    };
    match &report.outcome {
        LookupOutcome::PlansFound {
            patient,
            plans,
            access_history,
            checked_at,
        } => {
            out.push_str("WARNING: CHILD PROTECTION INFORMATION FOUND\n\n");
            out.push_str(&banner(patient));
            out.push('\n');
            for plan in plans {
                let ended = match plan.end {
                    Some(end) if plan.plan_type.is_unborn() => format!("due {}", nhs_date(end)),
                    Some(end) => format!("ended {}", nhs_date(end)),
                    None => "open".to_owned(),
                };
                out.push_str(&format!(
                    "{}: started {}, {ended}\n",
                    plan.plan_type.display_name(),
                    nhs_date(plan.start)
                ));
                let authority = &plan.local_authority;
                out.push_str(&format!(
                    "  Local authority: {} ({})\n  Office hours: {}\n  Out of hours (emergency duty team): {}\n",
                    authority.name,
                    authority.ods_code,
                    authority.office_hours_phone,
                    authority.emergency_duty_phone
                ));
                if let Some(worker) = &plan.social_worker {
                    out.push_str(&format!(
                        "  Social worker (shared by the local authority): {}, {}\n",
                        worker.name, worker.phone
                    ));
                }
            }
            out.push_str("\nPrevious unscheduled care accesses (most recent first):\n");
            if let Some(reason) = report.access_history_unavailable {
                out.push_str(&format!(
                    "  Could not be loaded. {}\n",
                    reason.plain_message()
                ));
            } else if access_history.is_empty() {
                out.push_str("  None recorded\n");
            }
            for access in access_history {
                out.push_str(&format!(
                    "  {}: {}, {}, {} ({})\n",
                    nhs_date_time(access.accessed_at),
                    access.viewer_name,
                    access.viewer_role,
                    access.organisation_name,
                    access.organisation_ods
                ));
            }
            out.push_str(&format!("\nChecked {}\n", nhs_date_time(*checked_at)));
        }
        LookupOutcome::NoPlan {
            patient,
            checked_at,
        } => {
            out.push_str("No child protection plan found\n\n");
            out.push_str(&banner(patient));
            out.push_str(
                "\nCP-IS holds no child protection plan, looked after child record or unborn child \
protection plan for this NHS number. This does not mean there are no concerns: follow your \
local safeguarding procedures if you are worried.\n",
            );
            out.push_str(&format!("\nChecked {}\n", nhs_date_time(*checked_at)));
        }
        LookupOutcome::CouldNotCheck { reason, .. } => {
            out.push_str("COULD NOT CHECK: the child protection status has NOT been checked\n\n");
            out.push_str(reason.plain_message());
            out.push_str(
                "\n\nDo not assume there is no plan. Follow your local procedure: if you have \
concerns, phone the local authority's emergency duty team. Then try the lookup again.\n",
            );
        }
        LookupOutcome::PatientNotFound { .. } => {
            out.push_str(
                "Person not found: the demographics service has no record of this NHS number. \
Check the number with the patient. The child protection status has not been checked.\n",
            );
        }
        LookupOutcome::InvalidInput(error) => {
            out.push_str(&format!("{error}\n"));
        }
    }
    out
}

/// The `--json` object of `cpis whoami`.
#[derive(Debug, Serialize)]
pub struct WhoamiJson {
    /// Always `true` in this object (not signed in is exit status 4 with `false`).
    pub signed_in: bool,
    /// `keyring` (a signed-in session) or `environment` (`CPIS_ACCESS_TOKEN`).
    pub source: &'static str,
    /// The user id (`sub`).
    pub user_id: Option<String>,
    /// The user's name.
    pub name: Option<String>,
    /// The selected role, if any.
    pub selected_role: Option<Role>,
    /// `unscheduled` (B0107), `scheduled` (B0170) or `not_permitted`.
    pub lookup_permission: Option<&'static str>,
    /// Why the user cannot look up, if they cannot.
    pub cannot_look_up_because: Option<&'static str>,
    /// When the session ends and sign-in is needed again (RFC 3339), for a keyring session.
    pub session_ends_at: Option<String>,
}

pub fn permission_code(permission: LookupPermission) -> &'static str {
    match permission {
        LookupPermission::Unscheduled => "unscheduled",
        LookupPermission::Scheduled => "scheduled",
        LookupPermission::NotPermitted => "not_permitted",
    }
}

impl WhoamiJson {
    pub fn signed_out() -> WhoamiJson {
        WhoamiJson {
            signed_in: false,
            source: "none",
            user_id: None,
            name: None,
            selected_role: None,
            lookup_permission: None,
            cannot_look_up_because: None,
            session_ends_at: None,
        }
    }

    pub fn for_user(
        user: &SignedInUser,
        source: &'static str,
        session_ends_at: Option<OffsetDateTime>,
    ) -> WhoamiJson {
        WhoamiJson {
            signed_in: true,
            source,
            user_id: Some(user.subject.clone()),
            name: Some(user.name.clone()),
            selected_role: user.selected_role().cloned(),
            lookup_permission: Some(permission_code(user.lookup_permission())),
            cannot_look_up_because: user.cannot_look_up_because(),
            session_ends_at: session_ends_at.map(rfc3339),
        }
    }
}

/// The plain-text form of `whoami`.
pub fn whoami_text(user: &SignedInUser, session_ends_at: Option<OffsetDateTime>) -> String {
    let mut out = format!("Signed in as {} (user {})\n", user.name, user.subject);
    match user.selected_role() {
        Some(role) => out.push_str(&format!(
            "Role: {} at {} (activity codes: {})\n",
            role.display_name(),
            user.selected_organisation_name().unwrap_or(&role.org_code),
            if role.activity_codes.is_empty() {
                "none".to_owned()
            } else {
                role.activity_codes.join(", ")
            }
        )),
        None => out.push_str("Role: none selected\n"),
    }
    out.push_str(match user.lookup_permission() {
        LookupPermission::Unscheduled => {
            "Lookups: allowed; the local authority is told of each lookup (unscheduled care)\n"
        }
        LookupPermission::Scheduled => {
            "Lookups: allowed, without notifying the local authority (scheduled care)\n"
        }
        LookupPermission::NotPermitted => "Lookups: not allowed\n",
    });
    if let Some(reason) = user.cannot_look_up_because() {
        out.push_str(reason);
        out.push('\n');
    }
    if let Some(ends) = session_ends_at {
        out.push_str(&format!("Sign in again by {}\n", nhs_date_time(ends)));
    }
    out
}

/// The `--json` object of `cpis config`. Every key is always present.
#[derive(Debug, Serialize)]
pub struct ConfigJson {
    /// `true` when the configuration is complete and valid (exit status 0).
    pub configured: bool,
    /// What is missing or wrong, one entry each (empty when `configured`).
    pub problems: Vec<String>,
    /// Where the machine-wide file goes on this computer (used when it exists).
    pub machine_file: String,
    /// Where the user's own file is looked for, if anywhere.
    pub user_file: Option<String>,
    /// The files read: `{path, kind}` with `kind` `machine_wide` or `user`.
    pub files_used: Vec<ConfigFileJson>,
    /// Settings in the user's file that were not used.
    pub ignored: Vec<IgnoredJson>,
    /// The settings in effect, when `configured`.
    pub settings: Option<SettingsJson>,
}

/// A configuration file that was read.
#[derive(Debug, Serialize)]
pub struct ConfigFileJson {
    path: String,
    kind: &'static str,
}

/// A user's setting that was not used.
#[derive(Debug, Serialize)]
pub struct IgnoredJson {
    field: String,
    /// `machine_wide_only` or `longer_than_machine_wide`.
    reason: &'static str,
    notice: String,
}

/// The settings in effect.
#[derive(Debug, Serialize)]
pub struct SettingsJson {
    services: ServicesJson,
    oidc: OidcJson,
    tls: TlsJson,
    lookup_deadline_ms: u128,
    lock_minutes: u64,
    data_dir: String,
    trust: TrustJson,
}

#[derive(Debug, Serialize)]
struct ServicesJson {
    cpis_url: String,
    demographics_url: String,
    audit_url: String,
}

#[derive(Debug, Serialize)]
struct OidcJson {
    issuer: String,
    client_id: String,
}

#[derive(Debug, Serialize)]
struct TlsJson {
    allow_http_loopback: bool,
    extra_ca_file: Option<String>,
    extra_ca_certificates: usize,
}

#[derive(Debug, Serialize)]
struct PhoneJson {
    display: String,
    tel: String,
}

#[derive(Debug, Serialize)]
struct TrustJson {
    organisation_name: Option<String>,
    downtime_procedure: Vec<String>,
    safeguarding_in_hours_phone: Option<PhoneJson>,
    safeguarding_in_hours_times: Option<String>,
    safeguarding_out_of_hours_phone: Option<PhoneJson>,
}

fn phone_json(phone: Option<&PhoneNumber>) -> Option<PhoneJson> {
    phone.map(|phone| PhoneJson {
        display: phone.display().to_owned(),
        tel: phone.tel().to_owned(),
    })
}

impl ConfigJson {
    fn empty(locations: &ConfigLocations) -> ConfigJson {
        ConfigJson {
            configured: false,
            problems: Vec::new(),
            machine_file: locations.machine_file.display().to_string(),
            user_file: locations
                .user_file
                .as_ref()
                .map(|path| path.display().to_string()),
            files_used: Vec::new(),
            ignored: Vec::new(),
            settings: None,
        }
    }

    /// The object for a configuration that loaded.
    pub fn loaded(locations: &ConfigLocations, config: &Config) -> ConfigJson {
        let origin = &config.origin;
        let files_used = origin
            .machine_file
            .iter()
            .map(|path| (path, "machine_wide"))
            .chain(origin.user_file.iter().map(|path| (path, "user")))
            .map(|(path, kind)| ConfigFileJson {
                path: path.display().to_string(),
                kind,
            })
            .collect();
        let ignored = origin
            .ignored
            .iter()
            .zip(origin.notices())
            .map(|(ignored, notice)| IgnoredJson {
                field: ignored.field.clone(),
                reason: match ignored.because {
                    IgnoredBecause::MachineWideOnly => "machine_wide_only",
                    IgnoredBecause::LongerThanMachineWide => "longer_than_machine_wide",
                },
                notice,
            })
            .collect();
        let trust = &config.trust;
        ConfigJson {
            configured: true,
            files_used,
            ignored,
            settings: Some(SettingsJson {
                services: ServicesJson {
                    cpis_url: config.services.cpis_url.to_string(),
                    demographics_url: config.services.demographics_url.to_string(),
                    audit_url: config.services.audit_url.to_string(),
                },
                oidc: OidcJson {
                    issuer: config.oidc.issuer.clone(),
                    client_id: config.oidc.client_id.clone(),
                },
                tls: TlsJson {
                    allow_http_loopback: config.tls.allow_http_loopback,
                    extra_ca_file: config
                        .tls
                        .extra_ca
                        .as_ref()
                        .map(|bundle| bundle.path().display().to_string()),
                    extra_ca_certificates: config.tls.extra_ca.as_ref().map_or(0, |b| b.len()),
                },
                lookup_deadline_ms: config.lookup_deadline.as_millis(),
                lock_minutes: config.lock_after.as_secs() / 60,
                data_dir: config.data_dir.display().to_string(),
                trust: TrustJson {
                    organisation_name: trust.organisation_name.clone(),
                    downtime_procedure: trust.downtime_procedure.clone(),
                    safeguarding_in_hours_phone: phone_json(
                        trust.safeguarding_in_hours_phone.as_ref(),
                    ),
                    safeguarding_in_hours_times: trust.safeguarding_in_hours_times.clone(),
                    safeguarding_out_of_hours_phone: phone_json(
                        trust.safeguarding_out_of_hours_phone.as_ref(),
                    ),
                },
            }),
            ..ConfigJson::empty(locations)
        }
    }

    /// The object for a configuration that is missing or invalid (exit status 2).
    pub fn problem(locations: &ConfigLocations, error: &ConfigError) -> ConfigJson {
        ConfigJson {
            problems: error.problems(),
            ..ConfigJson::empty(locations)
        }
    }
}

/// The plain-text form of `cpis config`.
pub fn config_text(config: &Config) -> String {
    let mut out = String::from("Configuration files in use:\n");
    let files = config.origin.describe_files();
    if files.is_empty() {
        out.push_str("  none: the built-in settings of a development build (the local demo)\n");
    }
    for file in files {
        out.push_str(&format!("  {file}\n"));
    }
    let notices = config.origin.notices();
    if !notices.is_empty() {
        out.push_str("\nIgnored settings:\n");
        for notice in notices {
            out.push_str(&format!("  {notice}\n"));
        }
    }
    let not_set = || "not set".to_owned();
    let phone = |phone: Option<&PhoneNumber>| {
        phone.map_or_else(not_set, |phone| {
            format!("{} (dials {})", phone.display(), phone.tel())
        })
    };
    let trust = &config.trust;
    let settings = [
        ("services.cpis_url", config.services.cpis_url.to_string()),
        (
            "services.demographics_url",
            config.services.demographics_url.to_string(),
        ),
        ("services.audit_url", config.services.audit_url.to_string()),
        ("oidc.issuer", config.oidc.issuer.clone()),
        ("oidc.client_id", config.oidc.client_id.clone()),
        (
            "tls.allow_http_loopback",
            config.tls.allow_http_loopback.to_string(),
        ),
        (
            "tls.extra_ca_file",
            config.tls.extra_ca.as_ref().map_or_else(not_set, |bundle| {
                format!(
                    "{} ({} certificate{})",
                    bundle.path().display(),
                    bundle.len(),
                    if bundle.len() == 1 { "" } else { "s" }
                )
            }),
        ),
        (
            "lookup_deadline_ms",
            config.lookup_deadline.as_millis().to_string(),
        ),
        (
            "lock_minutes",
            (config.lock_after.as_secs() / 60).to_string(),
        ),
        ("data_dir", config.data_dir.display().to_string()),
        (
            "trust.organisation_name",
            trust.organisation_name.clone().unwrap_or_else(not_set),
        ),
        (
            "trust.safeguarding_in_hours_phone",
            phone(trust.safeguarding_in_hours_phone.as_ref()),
        ),
        (
            "trust.safeguarding_in_hours_times",
            trust
                .safeguarding_in_hours_times
                .clone()
                .unwrap_or_else(not_set),
        ),
        (
            "trust.safeguarding_out_of_hours_phone",
            phone(trust.safeguarding_out_of_hours_phone.as_ref()),
        ),
    ];
    out.push_str("\nSettings in effect:\n");
    for (name, value) in settings {
        out.push_str(&format!("  {name} = {value}\n"));
    }
    if trust.downtime_procedure.is_empty() {
        out.push_str("  trust.downtime_procedure = not set\n");
    } else {
        out.push_str("  trust.downtime_procedure =\n");
        for paragraph in &trust.downtime_procedure {
            out.push_str(&format!("    {paragraph}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates_and_times_follow_the_nhs_style() {
        assert_eq!(nhs_date(date!(2018 - 08 - 06)), "6 August 2018");
        assert_eq!(
            nhs_date_time(datetime!(2018-08-06 17:30 UTC)),
            "6 August 2018 at 5.30pm UTC"
        );
        assert_eq!(
            nhs_date_time(datetime!(2018-08-06 00:00 UTC)),
            "6 August 2018 at 12am UTC"
        );
        assert_eq!(
            nhs_date_time(datetime!(2018-08-06 12:05 UTC)),
            "6 August 2018 at 12.05pm UTC"
        );
    }

    #[test]
    fn config_text_lists_ignored_settings_without_their_values() {
        let mut config = Config::from_toml(
            "data_dir = \"/tmp/cpis\"",
            std::path::Path::new("/home/x/c.toml"),
        )
        .expect("valid");
        config.origin.machine_file = Some("/etc/cpis-viewer/config.toml".into());
        config.origin.ignored = vec![cpis_client::config::IgnoredSetting {
            field: "services.cpis_url".into(),
            because: IgnoredBecause::MachineWideOnly,
        }];
        let text = config_text(&config);
        assert!(text.starts_with(
            "Configuration files in use:\n  /etc/cpis-viewer/config.toml (machine-wide)\n  /home/x/c.toml (your own)\n"
        ), "{text}");
        assert!(text.contains(
            "Ignored settings:\n  the setting `services.cpis_url` in /home/x/c.toml is ignored: on this computer only /etc/cpis-viewer/config.toml may set it\n"
        ), "{text}");
        assert!(
            text.contains("  trust.downtime_procedure = not set\n"),
            "{text}"
        );
    }

    #[test]
    fn invalid_json_has_every_key() {
        let json =
            serde_json::to_value(LookupJson::invalid(NhsNumberError::CheckDigit)).expect("json");
        for key in [
            "outcome",
            "reason",
            "nhs_number",
            "patient",
            "plans",
            "access_history",
            "access_history_available",
            "checked_at",
            "attempted_at",
            "unscheduled_access",
            "trace_id",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert_eq!(json["outcome"], "invalid_nhs_number");
        assert_eq!(json["reason"]["code"], "check_digit");
    }
}
