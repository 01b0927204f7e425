//! `CapabilityStatement`: what a FHIR server says it does (`GET [base]/metadata`). The central
//! audit log serves one (a PARS endpoint that also takes `batch` Bundles, advertised as
//! `rest.interaction` `batch`); the sync client reads one to choose how to send.

use serde::{Deserialize, Serialize};

/// A CapabilityStatement, with the elements the central log states and its clients read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatement {
    /// Always `CapabilityStatement`.
    pub resource_type: String,
    /// `active`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date: String,
    /// `instance` for a running server.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The software.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<CapabilitySoftware>,
    /// This instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<CapabilityImplementation>,
    /// `4.0.1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fhir_version: String,
    /// The formats served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub format: Vec<String>,
    /// The RESTful endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rest: Vec<CapabilityRest>,
}

impl CapabilityStatement {
    /// Whether some `rest[].interaction` is `batch`: the server takes `batch` Bundles.
    pub fn advertises_batch(&self) -> bool {
        self.rest
            .iter()
            .flat_map(|rest| &rest.interaction)
            .any(|interaction| interaction.code == "batch")
    }
}

/// `software`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilitySoftware {
    /// Its name.
    pub name: String,
}

/// `implementation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityImplementation {
    /// What it is.
    pub description: String,
    /// Its base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `rest`: one RESTful endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityRest {
    /// `server`.
    #[serde(default)]
    pub mode: String,
    /// The resources served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<CapabilityResource>,
    /// System-level interactions (`batch`, `transaction`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interaction: Vec<CapabilityInteraction>,
}

/// `rest.resource`: one resource type served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityResource {
    /// The resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The profiles its instances follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_profile: Vec<String>,
    /// Its interactions (`create`, `search-type`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interaction: Vec<CapabilityInteraction>,
    /// Its search parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search_param: Vec<CapabilitySearchParam>,
}

/// An interaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityInteraction {
    /// Its code.
    #[serde(default)]
    pub code: String,
    /// What it does here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
}

/// A search parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilitySearchParam {
    /// Its name.
    pub name: String,
    /// Its type (`date`, `token`, ...).
    #[serde(rename = "type")]
    pub param_type: String,
    /// What it means here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_is_advertised_only_by_a_rest_interaction_coded_batch() {
        let read = |json: &str| serde_json::from_str::<CapabilityStatement>(json).expect("json");
        assert!(read(r#"{"resourceType":"CapabilityStatement","rest":[{"mode":"server","interaction":[{"code":"batch"}]}]}"#).advertises_batch());
        assert!(!read(r#"{"resourceType":"CapabilityStatement","rest":[{"mode":"server","interaction":[{"code":"transaction"}]}]}"#).advertises_batch());
        assert!(!read(r#"{"resourceType":"CapabilityStatement","rest":[{"mode":"server","resource":[{"type":"AuditEvent","interaction":[{"code":"batch"}]}]}]}"#).advertises_batch());
        assert!(!read(r#"{"resourceType":"CapabilityStatement"}"#).advertises_batch());
    }
}
