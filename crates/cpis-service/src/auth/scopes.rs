//! The platform's scopes: what a token exchange grants for the ID token's
//! `authentication_assurance_level`, and which scopes each API accepts ([`Api`]).

/// CP-IS (the child protection FHIR API) at AAL3.
pub const SCOPE_CPIS_AAL3: &str =
    "urn:nhsd:apim:user-nhs-cis2:aal3:child-protection-information-sharing";
/// PDS (the demographics stand-in) at AAL3.
pub const SCOPE_PDS_AAL3: &str = "urn:nhsd:apim:user-nhs-cis2:aal3:personal-demographics-service";
/// PDS at AAL2: the only scope an AAL2 sign-in gets.
pub const SCOPE_PDS_AAL2: &str = "urn:nhsd:apim:user-nhs-cis2:aal2:personal-demographics-service";
/// The central audit log at AAL3.
pub const SCOPE_AUDIT_AAL3: &str = "urn:nhsd:apim:user-nhs-cis2:aal3:cpis-central-audit-log";
/// The local authority side at AAL3.
pub const SCOPE_LA_AAL3: &str = "urn:nhsd:apim:user-nhs-cis2:aal3:cpis-local-authority";

/// The scopes granted for an `authentication_assurance_level`: every API's AAL3 scope at
/// `"3"`, only PDS's AAL2 scope at `"2"`, nothing (the exchange is refused) otherwise.
pub fn scopes_for_assurance_level(level: Option<&str>) -> Option<&'static [&'static str]> {
    match level {
        Some("3") => Some(&[
            SCOPE_CPIS_AAL3,
            SCOPE_PDS_AAL3,
            SCOPE_AUDIT_AAL3,
            SCOPE_LA_AAL3,
        ]),
        Some("2") => Some(&[SCOPE_PDS_AAL2]),
        _ => None,
    }
}

/// An API behind the platform, by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/cpis/...`
    Cpis,
    /// `/personal-demographics/...`
    Pds,
    /// `/audit/...`
    Audit,
    /// `/la/...`
    LocalAuthority,
}

impl Api {
    /// The API a request path belongs to.
    pub fn for_path(path: &str) -> Option<Api> {
        let first = path.trim_start_matches('/').split('/').next()?;
        match first {
            "cpis" => Some(Api::Cpis),
            "personal-demographics" => Some(Api::Pds),
            "audit" => Some(Api::Audit),
            "la" => Some(Api::LocalAuthority),
            _ => None,
        }
    }

    /// The scopes this API accepts (any one of them).
    pub fn accepted_scopes(self) -> &'static [&'static str] {
        match self {
            Api::Cpis => &[SCOPE_CPIS_AAL3],
            Api::Pds => &[SCOPE_PDS_AAL3, SCOPE_PDS_AAL2],
            Api::Audit => &[SCOPE_AUDIT_AAL3],
            Api::LocalAuthority => &[SCOPE_LA_AAL3],
        }
    }

    /// Whether a space-separated granted `scope` lets a token call this API.
    pub fn permitted_by(self, scope: &str) -> bool {
        scope
            .split_whitespace()
            .any(|granted| self.accepted_scopes().contains(&granted))
    }

    /// A stable name for metrics.
    pub fn name(self) -> &'static str {
        match self {
            Api::Cpis => "cpis",
            Api::Pds => "pds",
            Api::Audit => "audit",
            Api::LocalAuthority => "la",
        }
    }
}
