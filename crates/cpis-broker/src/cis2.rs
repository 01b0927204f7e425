//! The confidential CIS2 client with the `openidconnect` crate: discovery (cached an hour), the
//! authorization URL (the broker's own `state`, `nonce`, PKCE S256, `prompt=login`,
//! `acr_values`), the code exchange authenticated with `private_key_jwt` (an RS512 client
//! assertion as extra parameters, no client secret), the ID token validated (signature from
//! CIS2's JWKS with an algorithm allow-list, `iss`, `aud`, `azp`, `exp`, `nonce`, and the
//! assurance level asked for), and userinfo for the roles.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClientId, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::http::Http;
use crate::keys::CLIENT_ASSERTION_TYPE;
use crate::secret::{Secret, constant_time_equal, random_token};

/// The scopes asked of CIS2 (`openid` is added by the crate).
pub const SCOPES: [&str; 4] = [
    "profile",
    "nationalrbacaccess",
    "associatedorgs",
    "selectedrole",
];

/// ID token algorithms accepted. `none` and the HMAC family never are.
pub const ALLOWED_ID_TOKEN_ALGS: [CoreJwsSigningAlgorithm; 6] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
];

/// How long discovery (endpoints and keys) is reused.
const DISCOVERY_TTL: Duration = Duration::from_secs(60 * 60);

/// The CIS2 claims beyond the standard ones, in the ID token and userinfo.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cis2Claims {
    /// The role the user selected.
    #[serde(default)]
    pub selected_roleid: Option<String>,
    /// `"3"` or `"2"` (a string or a number).
    #[serde(default)]
    pub authentication_assurance_level: Option<serde_json::Value>,
    /// Every role (userinfo).
    #[serde(default)]
    pub nhsid_nrbac_roles: Option<Vec<serde_json::Value>>,
    /// The organisations (userinfo).
    #[serde(default)]
    pub nhsid_user_orgs: Option<Vec<serde_json::Value>>,
}

impl AdditionalClaims for Cis2Claims {}

type Cis2IdTokenFields = IdTokenFields<
    Cis2Claims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Cis2TokenResponse = StandardTokenResponse<Cis2IdTokenFields, CoreTokenType>;
type Cis2Client = openidconnect::Client<
    Cis2Claims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Cis2TokenResponse,
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

/// Why a CIS2 step failed, in fixed words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Cis2Error {
    /// CIS2 could not be reached or answered with a server error.
    #[error("CIS2 is unavailable: {0}")]
    Unavailable(&'static str),
    /// CIS2 refused, or what it answered is not acceptable (an ID token that fails validation).
    #[error("CIS2 sign-in refused: {0}")]
    Refused(&'static str),
    /// The broker is misconfigured for this CIS2.
    #[error("CIS2 configuration: {0}")]
    Configuration(&'static str),
}

/// A sign-in begun: the URL to send the browser to and what must come back.
pub struct Authorization {
    /// Where the browser goes.
    pub url: String,
    /// The broker's `state`.
    pub state: Secret,
    /// The `nonce`.
    pub nonce: Secret,
    /// The PKCE verifier.
    pub pkce_verifier: Secret,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Authorization(redacted)")
    }
}

/// The user CIS2 signed in, with the ID token for the platform.
#[derive(Clone)]
pub struct Cis2User {
    /// The ID token as received (for the platform's exchange).
    pub id_token: Secret,
    /// `sub`.
    pub sub: String,
    /// The user's name.
    pub name: String,
    /// `selected_roleid` (userinfo's, else the ID token's).
    pub selected_roleid: Option<String>,
    /// `nhsid_nrbac_roles`.
    pub roles: Vec<serde_json::Value>,
    /// `nhsid_user_orgs`.
    pub orgs: Vec<serde_json::Value>,
    /// `authentication_assurance_level`.
    pub aal: String,
}

impl fmt::Debug for Cis2User {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Cis2User")
            .field("aal", &self.aal)
            .finish_non_exhaustive()
    }
}

/// A discovered CIS2.
#[derive(Debug, Clone)]
pub struct Cis2Provider {
    client: Cis2Client,
    token_url: String,
}

/// CIS2, discovered on first use and again every hour.
#[derive(Debug)]
pub struct Cis2 {
    issuer: String,
    client_id: String,
    redirect_uri: String,
    http: Http,
    cached: RwLock<Option<(Instant, Arc<Cis2Provider>)>>,
}

impl Cis2 {
    /// CIS2 at `issuer`, the broker as `client_id`, called back at `redirect_uri`.
    pub fn new(issuer: &str, client_id: &str, redirect_uri: &str, http: Http) -> Cis2 {
        Cis2 {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            http,
            cached: RwLock::new(None),
        }
    }

    /// The discovered provider (from the cache when fresh).
    pub async fn provider(&self) -> Result<Arc<Cis2Provider>, Cis2Error> {
        if let Some((fetched, provider)) = self.cached.read().await.as_ref()
            && fetched.elapsed() < DISCOVERY_TTL
        {
            return Ok(provider.clone());
        }
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|_| Cis2Error::Configuration("the issuer is not a URL"))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|error| match error {
                openidconnect::DiscoveryError::Request(_)
                | openidconnect::DiscoveryError::Response(..) => {
                    Cis2Error::Unavailable("discovery failed")
                }
                _ => Cis2Error::Configuration("the discovery document is not valid"),
            })?;
        let token_url = metadata
            .token_endpoint()
            .map(|url| url.as_str().to_owned())
            .ok_or(Cis2Error::Configuration("no token endpoint"))?;
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|_| Cis2Error::Configuration("the callback is not a URL"))?;
        // private_key_jwt: no secret; the client id goes in the body beside the assertion.
        let client = Cis2Client::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            None,
        )
        .set_auth_type(AuthType::RequestBody)
        .set_redirect_uri(redirect);
        let provider = Arc::new(Cis2Provider { client, token_url });
        *self.cached.write().await = Some((Instant::now(), provider.clone()));
        Ok(provider)
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The client id at CIS2.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

impl Cis2Provider {
    /// CIS2's token endpoint (the `aud` of the client assertion).
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// Begin a sign-in with fresh `state`, `nonce` and PKCE.
    pub fn authorize(&self, acr_values: &str, login_hint: Option<&str>) -> Authorization {
        let state = random_token();
        let nonce = random_token();
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state_value = state.expose().to_owned();
        let nonce_value = nonce.expose().to_owned();
        let mut request = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state_value),
                move || Nonce::new(nonce_value),
            )
            .set_pkce_challenge(challenge)
            .add_prompt(CoreAuthPrompt::Login);
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        if !acr_values.is_empty() {
            request = request.add_extra_param("acr_values", acr_values.to_owned());
        }
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, _, _) = request.url();
        Authorization {
            url: url.to_string(),
            state,
            nonce,
            pkce_verifier: Secret::new(verifier.secret().clone()),
        }
    }

    /// Exchange `code` (authenticated by `client_assertion`), validate the ID token against
    /// `nonce` and the level `acr_values` asks for, and read userinfo.
    pub async fn sign_in(
        &self,
        http: &Http,
        code: &str,
        pkce_verifier: &Secret,
        nonce: &Secret,
        client_assertion: &str,
        acr_values: &str,
    ) -> Result<Cis2User, Cis2Error> {
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| Cis2Error::Configuration("no token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose().to_owned()))
            .add_extra_param("client_assertion_type", CLIENT_ASSERTION_TYPE)
            .add_extra_param("client_assertion", client_assertion.to_owned())
            .request_async(http)
            .await
            .map_err(|error| match error {
                RequestTokenError::Request(_) => Cis2Error::Unavailable("the token request failed"),
                RequestTokenError::ServerResponse(_) => Cis2Error::Refused("the code was refused"),
                RequestTokenError::Parse(..) | RequestTokenError::Other(_) => {
                    Cis2Error::Refused("the token answer is not valid")
                }
            })?;
        let id_token = response
            .id_token()
            .ok_or(Cis2Error::Refused("no ID token"))?;
        let verifier = self
            .client
            .id_token_verifier()
            .set_allowed_algs(ALLOWED_ID_TOKEN_ALGS);
        let expected_nonce = nonce.expose().to_owned();
        let claims = id_token
            .claims(
                &verifier,
                |claims_nonce: Option<&Nonce>| match claims_nonce {
                    Some(sent)
                        if constant_time_equal(
                            sent.secret().as_bytes(),
                            expected_nonce.as_bytes(),
                        ) =>
                    {
                        Ok(())
                    }
                    _ => Err("nonce mismatch".to_owned()),
                },
            )
            .map_err(|_| Cis2Error::Refused("the ID token is not valid"))?;
        let extra = claims.additional_claims();
        let aal = extra
            .authentication_assurance_level
            .as_ref()
            .and_then(level_text)
            .ok_or(Cis2Error::Refused("the ID token has no assurance level"))?;
        if let Some(required) = required_level(acr_values)
            && aal.parse::<u32>().unwrap_or(0) < required
        {
            return Err(Cis2Error::Refused("the assurance level is too low"));
        }
        let name = claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.as_str().to_owned())
            .or_else(|| {
                let given = claims.given_name().and_then(|name| name.get(None))?;
                let family = claims.family_name().and_then(|name| name.get(None))?;
                Some(format!("{} {}", given.as_str(), family.as_str()))
            })
            .unwrap_or_else(|| "Not known".to_owned());
        let subject = claims.subject().clone();
        let id_selected_role = extra.selected_roleid.clone();
        let userinfo: UserInfoClaims<Cis2Claims, CoreGenderClaim> = self
            .client
            .user_info(response.access_token().clone(), Some(subject.clone()))
            .map_err(|_| Cis2Error::Configuration("no userinfo endpoint"))?
            .request_async(http)
            .await
            .map_err(|error| match error {
                openidconnect::UserInfoError::Request(_) => {
                    Cis2Error::Unavailable("userinfo failed")
                }
                _ => Cis2Error::Refused("userinfo is not valid"),
            })?;
        let info = userinfo.additional_claims();
        Ok(Cis2User {
            id_token: Secret::new(id_token.to_string()),
            sub: subject.as_str().to_owned(),
            name,
            selected_roleid: info.selected_roleid.clone().or(id_selected_role),
            roles: info.nhsid_nrbac_roles.clone().unwrap_or_default(),
            orgs: info.nhsid_user_orgs.clone().unwrap_or_default(),
            aal,
        })
    }
}

/// An assurance level claim as text (`"3"` or `3`).
fn level_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) if !text.is_empty() => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The lowest `authentication_assurance_level` that `acr_values` asks for.
pub fn required_level(acr_values: &str) -> Option<u32> {
    acr_values
        .split_whitespace()
        .filter_map(|value| {
            if value.starts_with("AAL3") {
                Some(3)
            } else if value.starts_with("AAL2") {
                Some(2)
            } else if value.starts_with("AAL1") {
                Some(1)
            } else {
                None
            }
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_has_no_none_or_hmac() {
        for alg in ALLOWED_ID_TOKEN_ALGS {
            assert!(!matches!(
                alg,
                CoreJwsSigningAlgorithm::None
                    | CoreJwsSigningAlgorithm::HmacSha256
                    | CoreJwsSigningAlgorithm::HmacSha384
                    | CoreJwsSigningAlgorithm::HmacSha512
            ));
        }
    }

    #[test]
    fn acr_values_give_the_level() {
        assert_eq!(required_level("AAL3_ANY"), Some(3));
        assert_eq!(required_level("AAL2_OR_ABOVE"), Some(2));
        assert_eq!(required_level("AAL3_ANY AAL2_OR_ABOVE"), Some(2));
        assert_eq!(required_level(""), None);
    }

    #[test]
    fn levels_read_as_strings_or_numbers() {
        assert_eq!(level_text(&serde_json::json!("3")), Some("3".to_owned()));
        assert_eq!(level_text(&serde_json::json!(2)), Some("2".to_owned()));
        assert_eq!(level_text(&serde_json::json!(null)), None);
    }
}
