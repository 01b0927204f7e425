//! Reading a request: the [`Caller`] (an axum extractor: the opaque access token's grant, the
//! API's scope, and the role from the role directory), the checks on the caller's role, the
//! CP-IS headers (`TraceID`, `IsUnscheduledAccessEvent`), PDS's `X-Request-ID`, the
//! `patient:identifier` search, and request bodies with their media type.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequestParts, Query};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use cpis_domain::{ACTIVITY_LOCAL_AUTHORITY, Actor, NhsNumber, RoleRef};
use cpis_fhir::{NHS_NUMBER_SYSTEM, SpineErrorCode};

use crate::auth::opaque::{looks_like_jwt, token_hash};
use crate::auth::{Api, AuthError, CALLER_CACHE_SECONDS, CallerCache, Principal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoredGrant;

/// The header naming the role a request acts in (the role's `person_roleid`).
pub const SESSION_URID_HEADER: &str = "NHSD-Session-URID";

/// The caller of a request, as the platform passes it to the API: the user of the access
/// token's grant (`sub` and `name` of the exchanged ID token), acting in the role named by
/// `NHSD-Session-URID` (or else the ID token's `selected_roleid`), which must be one of that
/// user's roles in the role directory; its organisation and activity codes come from there.
/// The token's grant must hold a scope the API (by path) accepts. Resolved callers are kept
/// for a few seconds ([`CallerCache`]).
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<Principal>);

fn bearer_token(parts: &Parts) -> Result<&str, AuthError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
    let value = header.to_str().map_err(|_| AuthError::Malformed)?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(AuthError::Missing)
}

/// The `NHSD-Session-URID` header: `None` when absent, an error when empty or not text.
fn session_urid(parts: &Parts) -> Result<Option<String>, ApiError> {
    match parts.headers.get(SESSION_URID_HEADER) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| Some(text.to_owned()))
            .ok_or_else(|| ApiError::invalid_value("NHSD-Session-URID header is not valid")),
    }
}

/// The role the request acts in, from the directory: it must be the grant user's.
async fn principal_of(
    state: &AppState,
    grant: StoredGrant,
    urid: Option<String>,
) -> Result<Principal, ApiError> {
    let (role, activity_codes) = match urid.or(grant.selected_roleid) {
        None => (RoleRef::default(), Vec::new()),
        Some(urid) => match state.store.directory_role(&urid).await? {
            Some(role) if role.user_id == grant.user_id => (
                RoleRef {
                    role_profile_id: role.person_roleid,
                    role_code: role.role_code,
                    role_name: role.role_name,
                    organisation_ods: role.org_code,
                    organisation_name: role.org_name,
                },
                role.activity_codes,
            ),
            _ => {
                state.metrics.auth_failure("role");
                return Err(ApiError::forbidden(
                    "The role in NHSD-Session-URID is not one of the user's roles",
                ));
            }
        },
    };
    Ok(Principal {
        actor: Actor {
            user_id: grant.user_id,
            user_name: grant.user_name,
            role,
        },
        activity_codes,
    })
}

async fn caller(parts: &Parts, state: &AppState) -> Result<Arc<Principal>, ApiError> {
    let refused = |error: AuthError| {
        state.metrics.auth_failure(error.code());
        ApiError::unauthorised(error)
    };
    let token = bearer_token(parts).map_err(refused)?;
    if looks_like_jwt(token) {
        // Provider JWTs are never accepted by the APIs: exchange them at /oauth2/token.
        return Err(refused(AuthError::UnknownToken));
    }
    let urid = session_urid(parts)?;
    let api = Api::for_path(parts.uri.path());
    let now = state.platform_now();
    let now_seconds = now.unix_timestamp();
    let key = CallerCache::key(token, urid.as_deref());
    // Fail closed: a path that belongs to no API is permitted by no scope.
    if let Some((principal, scope)) = state.callers.get(&key, now_seconds) {
        if !api.is_some_and(|api| api.permitted_by(&scope)) {
            return Err(refused(AuthError::MissingScope));
        }
        return Ok(principal);
    }
    let (grant, expires_at) = state
        .store
        .access_grant(&token_hash(token), now)
        .await?
        .ok_or_else(|| refused(AuthError::UnknownToken))?;
    if !api.is_some_and(|api| api.permitted_by(&grant.scope)) {
        return Err(refused(AuthError::MissingScope));
    }
    let scope = grant.scope.clone();
    let grant_id = grant.id.clone();
    let principal = Arc::new(principal_of(state, grant, urid).await?);
    let until = (now_seconds + CALLER_CACHE_SECONDS).min(expires_at.unix_timestamp());
    state.callers.put(
        key,
        principal.clone(),
        &scope,
        &grant_id,
        until,
        now_seconds,
    );
    Ok(principal)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        caller(parts, state)
            .await
            .map(Caller)
            .map_err(|error| error.for_path(parts.uri.path()))
    }
}

/// PDS's `X-Request-ID`: required, a UUID; refused as PDS refuses it (400 `MISSING_VALUE` or
/// `INVALID_VALUE`; the value itself is not echoed).
pub fn request_id(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get("X-Request-ID") else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            SpineErrorCode::Other("MISSING_VALUE".into()),
            "Invalid request with error - X-Request-ID header must be supplied to access this resource",
        ));
    };
    value
        .to_str()
        .ok()
        .and_then(|text| uuid::Uuid::parse_str(text.trim()).ok())
        .map(|uuid| uuid.to_string())
        .ok_or_else(|| ApiError::invalid_value("Invalid value in header 'X-Request-ID'"))
}

/// The caller's role may look up CP-IS (`B0107` or `B0170`).
pub fn require_lookup(principal: &Principal) -> Result<(), ApiError> {
    if principal.may_look_up() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "The selected role has no CP-IS activity (B0107 or B0170)",
        ))
    }
}

/// The caller's role is a local authority's (`B1235`): its ODS code.
pub fn require_local_authority(principal: &Principal) -> Result<String, ApiError> {
    if principal.has_activity(ACTIVITY_LOCAL_AUTHORITY) {
        Ok(principal.actor.role.organisation_ods.clone())
    } else {
        Err(ApiError::forbidden(
            "The selected role has no local authority activity (B1235)",
        ))
    }
}

/// `TraceID` must be a UUID.
pub fn trace_id(headers: &HeaderMap) -> Result<String, ApiError> {
    let precondition = |message| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            SpineErrorCode::PreconditionFailed,
            message,
        )
    };
    let value = headers
        .get("TraceID")
        .ok_or_else(|| precondition("TraceID header is missing"))?;
    let text = value
        .to_str()
        .map_err(|_| precondition("TraceID header is not a UUID"))?;
    uuid::Uuid::parse_str(text.trim())
        .map(|uuid| uuid.to_string())
        .map_err(|_| precondition("TraceID header is not a UUID"))
}

/// `IsUnscheduledAccessEvent`: `true` (the default when absent) or `false`.
pub fn unscheduled_header(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get("IsUnscheduledAccessEvent") {
        None => Ok(true),
        Some(value) => match value.to_str().map(|text| text.trim().to_ascii_lowercase()) {
            Ok(text) if text == "true" => Ok(true),
            Ok(text) if text == "false" => Ok(false),
            _ => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                SpineErrorCode::PreconditionFailed,
                "IsUnscheduledAccessEvent header must be true or false",
            )),
        },
    }
}

/// A CP-IS search: the patient asked about and, on the AuditEvent search, the `_include`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientSearch {
    /// From `patient:identifier`.
    pub nhs_number: NhsNumber,
    /// The `_include` asked for (one of [`cpis_fhir::build::ACCESS_HISTORY_INCLUDES`]), if any.
    pub include: Option<&'static str>,
}

/// The one `patient:identifier` search parameter: `{NHS system}|{10 digits}`.
pub fn patient_identifier(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<NhsNumber, ApiError> {
    patient_search(query, &[]).map(|search| search.nhs_number)
}

/// The one `patient:identifier` search parameter (`{NHS system}|{10 digits}`) and any number of
/// `_include` parameters, each one of `includes` (the AuditEvent search accepts the consumer
/// guide's `AuditEvent:entity-type=...|ASSIGNED`, `AuditEvent:agent` and
/// `AuditEvent:agent:PractitionerRole`). Any other parameter or `_include` is 400
/// `INVALID_SEARCH_DATA`.
pub fn patient_search(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    includes: &[&'static str],
) -> Result<PatientSearch, ApiError> {
    let Query(parameters) =
        query.map_err(|_| ApiError::invalid_search("The query string is not valid"))?;
    let mut found: Option<&str> = None;
    let mut include: Option<&'static str> = None;
    for (name, value) in &parameters {
        if name == "_include" && !includes.is_empty() {
            let known = includes
                .iter()
                .find(|known| **known == value.as_str())
                .ok_or_else(|| {
                    ApiError::invalid_search(
                        "_include must be AuditEvent:entity-type=http://terminology.hl7.org/CodeSystem/v3-RoleClass|ASSIGNED",
                    )
                })?;
            include.get_or_insert(known);
            continue;
        }
        if name != "patient:identifier" {
            return Err(ApiError::invalid_search(
                "Only the patient:identifier search parameter is supported",
            ));
        }
        if found.is_some() {
            return Err(ApiError::invalid_search(
                "patient:identifier is given more than once",
            ));
        }
        found = Some(value);
    }
    let value = found.ok_or_else(|| ApiError::invalid_search("patient:identifier is missing"))?;
    let digits = value
        .strip_prefix(NHS_NUMBER_SYSTEM)
        .and_then(|rest| rest.strip_prefix('|'))
        .ok_or_else(|| {
            ApiError::invalid_search(
                "patient:identifier must be https://fhir.nhs.uk/Id/nhs-number|{NHS number}",
            )
        })?;
    if digits.len() != 10 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(ApiError::invalid_search("The NHS number must be 10 digits"));
    }
    let nhs_number = NhsNumber::parse(digits)
        .map_err(|_| ApiError::invalid_search("The NHS number is not valid"))?;
    Ok(PatientSearch {
        nhs_number,
        include,
    })
}

/// The body, or 413 when it is over the limit and 400 when it could not be read.
pub fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                SpineErrorCode::MessageTooLarge,
                "The request body is too large",
            )
        } else {
            ApiError::invalid_value("The request body could not be read")
        }
    })
}

/// The `Content-Type` (without parameters) is one of `accepted`, else 415.
pub fn require_content_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    match media_type {
        Some(media_type) if accepted.contains(&media_type.as_str()) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            SpineErrorCode::InvalidValue,
            "Unsupported Content-Type for this endpoint",
        )),
    }
}
