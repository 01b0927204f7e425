//! The provider's types as `openidconnect` sees them: the NHS CIS2 claims beyond the standard
//! ones, the revocation endpoint in discovery, and the client, token and metadata types built
//! from them.

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenFields, RevocationUrl, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::identity::{Organisation, Role};

/// The NHS CIS2 claims beyond the standard ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NhsClaims {
    /// The role the user selected at sign-in.
    #[serde(default)]
    pub selected_roleid: Option<String>,
    /// Every role the user holds.
    #[serde(default)]
    pub nhsid_nrbac_roles: Vec<Role>,
    /// The organisations the user works for.
    #[serde(default)]
    pub nhsid_user_orgs: Vec<Organisation>,
}

impl AdditionalClaims for NhsClaims {}

/// Discovery metadata beyond OpenID Connect Discovery: the RFC 7009 revocation endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevocationMetadata {
    /// Where tokens are revoked, if the provider says.
    #[serde(default)]
    pub revocation_endpoint: Option<RevocationUrl>,
}

impl AdditionalProviderMetadata for RevocationMetadata {}

pub(super) type NhsProviderMetadata = openidconnect::ProviderMetadata<
    RevocationMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type NhsIdTokenFields = IdTokenFields<
    NhsClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
pub(super) type NhsTokenResponse = StandardTokenResponse<NhsIdTokenFields, CoreTokenType>;
pub(super) type NhsClient = openidconnect::Client<
    NhsClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    NhsTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;
