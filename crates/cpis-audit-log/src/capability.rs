//! The central log's CapabilityStatement (`GET {base}/metadata`): a PARS endpoint
//! (`AuditEvent` `create` and `search-type`, profile England-AuditEvent-PARS) that also takes
//! `batch` Bundles, advertised as `rest[0].interaction` `batch` (clients batch only when it is
//! there).

use serde::Serialize;

use crate::MAX_BATCH_ENTRIES;

/// The PARS AuditEvent profile every event follows.
pub const PARS_PROFILE: &str =
    "https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS";

/// A CapabilityStatement (the fields this log states).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatement {
    resource_type: &'static str,
    status: &'static str,
    date: &'static str,
    kind: &'static str,
    software: Software,
    implementation: Implementation,
    fhir_version: &'static str,
    format: [&'static str; 1],
    rest: [Rest; 1],
}

#[derive(Debug, Clone, Serialize)]
struct Software {
    name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct Implementation {
    description: &'static str,
    url: String,
}

#[derive(Debug, Clone, Serialize)]
struct Rest {
    mode: &'static str,
    resource: [Resource; 1],
    interaction: [Interaction; 1],
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    #[serde(rename = "type")]
    resource_type: &'static str,
    supported_profile: [&'static str; 1],
    interaction: [Interaction; 2],
    search_param: [SearchParam; 2],
}

#[derive(Debug, Clone, Serialize)]
struct Interaction {
    code: &'static str,
    documentation: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchParam {
    name: &'static str,
    #[serde(rename = "type")]
    param_type: &'static str,
    documentation: &'static str,
}

/// The statement of the log served at `base_url` (`{service}/audit/FHIR/R4`).
pub fn capability_statement(base_url: &str) -> CapabilityStatement {
    CapabilityStatement {
        resource_type: "CapabilityStatement",
        status: "active",
        date: "2026-11-28",
        kind: "instance",
        software: Software {
            name: "CP-IS Viewer reference central audit log",
        },
        implementation: Implementation {
            description: "The central audit log (modelled on the Patient Audit Record Service)",
            url: base_url.to_string(),
        },
        fhir_version: "4.0.1",
        format: ["json"],
        rest: [Rest {
            mode: "server",
            resource: [Resource {
                resource_type: "AuditEvent",
                supported_profile: [PARS_PROFILE],
                interaction: [
                    Interaction {
                        code: "create",
                        documentation: "POST [base]/AuditEvent: one event; idempotent by event id (201 Created when stored now, 200 OK when already held, 403 when the sender may not send it, 422 when invalid)".into(),
                    },
                    Interaction {
                        code: "search-type",
                        documentation: "GET [base]/AuditEvent: the views at the caller's own organisation (safeguarding lead only)".into(),
                    },
                ],
                search_param: [
                    SearchParam {
                        name: "since",
                        param_type: "date",
                        documentation: "From this instant (included)",
                    },
                    SearchParam {
                        name: "until",
                        param_type: "date",
                        documentation: "To this instant (included)",
                    },
                ],
            }],
            interaction: [Interaction {
                code: "batch",
                documentation: format!(
                    "POST [base] with a batch Bundle of at most {MAX_BATCH_ENTRIES} AuditEvent (an extension to PARS); batch-response with one status per entry"
                ),
            }],
        }],
    }
}
