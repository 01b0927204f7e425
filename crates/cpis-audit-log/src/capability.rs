//! The central log's CapabilityStatement (`GET {base}/metadata`): a PARS endpoint
//! (`AuditEvent` `create` and `search-type`, profile England-AuditEvent-PARS) that also takes
//! `batch` Bundles, advertised as `rest[0].interaction` `batch` (clients batch only when it is
//! there).

use cpis_fhir::capability::{
    CapabilityImplementation, CapabilityInteraction, CapabilityResource, CapabilityRest,
    CapabilitySearchParam, CapabilitySoftware, CapabilityStatement,
};

use crate::MAX_BATCH_ENTRIES;

/// The PARS AuditEvent profile every event follows.
pub const PARS_PROFILE: &str =
    "https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS";

/// The statement of the log served at `base_url` (`{service}/audit/FHIR/R4`).
pub fn capability_statement(base_url: &str) -> CapabilityStatement {
    let interaction = |code: &str, documentation: String| CapabilityInteraction {
        code: code.to_owned(),
        documentation: Some(documentation),
    };
    let search_param = |name: &str, documentation: &str| CapabilitySearchParam {
        name: name.to_owned(),
        param_type: "date".to_owned(),
        documentation: Some(documentation.to_owned()),
    };
    CapabilityStatement {
        resource_type: "CapabilityStatement".to_owned(),
        status: "active".to_owned(),
        date: "2026-11-28".to_owned(),
        kind: "instance".to_owned(),
        software: Some(CapabilitySoftware {
            name: "CP-IS Viewer reference central audit log".to_owned(),
        }),
        implementation: Some(CapabilityImplementation {
            description: "The central audit log (modelled on the Patient Audit Record Service)"
                .to_owned(),
            url: Some(base_url.to_owned()),
        }),
        fhir_version: "4.0.1".to_owned(),
        format: vec!["json".to_owned()],
        rest: vec![CapabilityRest {
            mode: "server".to_owned(),
            resource: vec![CapabilityResource {
                resource_type: "AuditEvent".to_owned(),
                supported_profile: vec![PARS_PROFILE.to_owned()],
                interaction: vec![
                    interaction(
                        "create",
                        "POST [base]/AuditEvent: one event; idempotent by event id (201 Created when stored now, 200 OK when already held, 403 when the sender may not send it, 422 when invalid)".into(),
                    ),
                    interaction(
                        "search-type",
                        "GET [base]/AuditEvent: the views at the caller's own organisation (safeguarding lead only)".into(),
                    ),
                ],
                search_param: vec![
                    search_param("since", "From this instant (included)"),
                    search_param("until", "To this instant (included)"),
                ],
            }],
            interaction: vec![interaction(
                "batch",
                format!(
                    "POST [base] with a batch Bundle of at most {MAX_BATCH_ENTRIES} AuditEvent (an extension to PARS); batch-response with one status per entry"
                ),
            )],
        }],
    }
}
