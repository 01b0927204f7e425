//! Bearer token validation and roles.
//!
//! Every API request carries a JWT access token. It is verified for signature against a JWKS
//! (from the issuer's OpenID discovery document, or a file for offline sites), with an algorithm
//! allow-list (RS*, PS*, ES256, ES384, EdDSA; never `none` or HS*), and for `iss`, `aud`, `exp`
//! and `nbf` (when present), with 30 seconds of leeway. Crypto is `jsonwebtoken` on its
//! `aws_lc_rs` backend, installed explicitly at start.
//!
//! Claims read (document these when configuring a real identity provider):
//! - `iss`, `aud`, `exp` (required), `nbf` (optional);
//! - `sub` (required): the user id;
//! - `name` (required): the user's name, shown in access histories and notifications;
//! - `selected_roleid` (optional): the `person_roleid` of the selected role;
//! - `nhsid_nrbac_roles` (optional list): `{person_roleid, org_code, role_code, role_name,
//!   activity_codes}`; the selected role is the entry whose `person_roleid` equals
//!   `selected_roleid`;
//! - `nhsid_user_orgs` (optional list): `{org_code, org_name}`, for the organisation's name
//!   (the ODS code is used when it is absent).
//!
//! Verified tokens are cached by the SHA-256 of the token until their `exp` (bounded in size),
//! so a repeat request skips the signature check.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// View CP-IS and notify the local authority (unscheduled care settings). National code.
pub const ACTIVITY_VIEW_AND_NOTIFY: &str = "B0107";
/// View CP-IS without notifying (scheduled care settings). National code.
pub const ACTIVITY_VIEW_SILENTLY: &str = "B0170";
/// Review the views at one's own organisation (safeguarding named nurse). Placeholder chosen by
/// this project, the same as `dev-idp/users.js`.
pub const ACTIVITY_SAFEGUARDING_REVIEW: &str = "B1234";
/// Upload plans and read Access to Service Notifications (local authority users). Placeholder
/// chosen by this project, the same as `dev-idp/users.js`.
pub const ACTIVITY_LOCAL_AUTHORITY: &str = "B1235";

/// The signature algorithms accepted. Symmetric (HS*) and `none` never are.
pub const ALLOWED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

const LEEWAY_SECONDS: u64 = 30;
const CACHE_CAPACITY: usize = 100_000;
const JWKS_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(60);

/// The selected role of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedRole {
    /// `person_roleid`.
    pub role_profile_id: String,
    /// `org_code`: the organisation's ODS code.
    pub organisation_ods: String,
    /// The organisation's name (from `nhsid_user_orgs`, else the ODS code).
    pub organisation_name: String,
    /// `role_code`.
    pub role_code: String,
    /// `role_name`.
    pub role_name: String,
    /// `activity_codes`.
    pub activity_codes: Vec<String>,
}

/// Who is calling, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `sub`.
    pub user_id: String,
    /// `name`.
    pub name: String,
    /// The selected role, if the user has one.
    pub role: Option<SelectedRole>,
}

impl Principal {
    /// Whether the selected role has this activity code.
    pub fn has_activity(&self, code: &str) -> bool {
        self.role
            .as_ref()
            .is_some_and(|role| role.activity_codes.iter().any(|have| have == code))
    }

    /// Whether the user may look up CP-IS at all (`B0107` or `B0170`).
    pub fn may_look_up(&self) -> bool {
        self.has_activity(ACTIVITY_VIEW_AND_NOTIFY) || self.has_activity(ACTIVITY_VIEW_SILENTLY)
    }
}

/// Why a token was refused. The text is safe to return: it never includes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Not a well-formed JWT.
    #[error("malformed token")]
    Malformed,
    /// The algorithm is not allowed.
    #[error("token algorithm not allowed")]
    AlgorithmNotAllowed,
    /// No key with the token's `kid`.
    #[error("token signing key not known")]
    UnknownKey,
    /// The signature does not verify.
    #[error("token signature not valid")]
    BadSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// Wrong `aud`.
    #[error("token audience not accepted")]
    WrongAudience,
    /// Wrong `iss`.
    #[error("token issuer not accepted")]
    WrongIssuer,
    /// A required claim is missing or of the wrong type.
    #[error("token claims not valid")]
    BadClaims,
    /// The keys could not be fetched.
    #[error("signing keys unavailable")]
    KeysUnavailable,
}

impl AuthError {
    /// A stable code for metrics.
    pub fn code(self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed => "malformed",
            AuthError::AlgorithmNotAllowed => "algorithm",
            AuthError::UnknownKey => "unknown_key",
            AuthError::BadSignature => "signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::WrongAudience => "audience",
            AuthError::WrongIssuer => "issuer",
            AuthError::BadClaims => "claims",
            AuthError::KeysUnavailable => "keys_unavailable",
        }
    }
}

/// Where the verification keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A JWKS file (offline sites).
    JwksFile(PathBuf),
    /// The issuer's `/.well-known/openid-configuration` `jwks_uri`.
    Discovery,
    /// Keys given directly (tests).
    Static(JwkSet),
}

#[derive(Debug, Deserialize)]
struct RawRole {
    person_roleid: String,
    org_code: String,
    #[serde(default)]
    role_code: Option<String>,
    #[serde(default)]
    role_name: Option<String>,
    #[serde(default)]
    activity_codes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawOrg {
    org_code: String,
    #[serde(default)]
    org_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    name: String,
    exp: u64,
    #[serde(default)]
    selected_roleid: Option<String>,
    #[serde(default)]
    nhsid_nrbac_roles: Vec<RawRole>,
    #[serde(default)]
    nhsid_user_orgs: Vec<RawOrg>,
}

impl Claims {
    fn principal(self) -> Principal {
        let orgs = self.nhsid_user_orgs;
        let role = self.selected_roleid.and_then(|selected| {
            self.nhsid_nrbac_roles
                .into_iter()
                .find(|role| role.person_roleid == selected)
                .map(|role| {
                    let organisation_name = orgs
                        .iter()
                        .find(|org| org.org_code == role.org_code)
                        .and_then(|org| org.org_name.clone())
                        .unwrap_or_else(|| role.org_code.clone());
                    SelectedRole {
                        role_profile_id: role.person_roleid,
                        organisation_ods: role.org_code,
                        organisation_name,
                        role_code: role.role_code.unwrap_or_default(),
                        role_name: role.role_name.unwrap_or_default(),
                        activity_codes: role.activity_codes,
                    }
                })
        });
        Principal {
            user_id: self.sub,
            name: self.name,
            role,
        }
    }
}

#[derive(Debug)]
struct VerificationKey {
    key: DecodingKey,
    /// The algorithm the JWK pins, if it does.
    algorithm: Option<Algorithm>,
}

#[derive(Debug, Default)]
struct KeyRing {
    by_kid: HashMap<String, Arc<VerificationKey>>,
    without_kid: Vec<Arc<VerificationKey>>,
    fetched_at: Option<Instant>,
}

struct CachedPrincipal {
    principal: Arc<Principal>,
    expires_at: u64,
}

/// Verifies tokens. Shared by all requests.
pub struct Verifier {
    issuer: String,
    audience: String,
    source: KeySource,
    http: reqwest::Client,
    keys: RwLock<KeyRing>,
    refresh: tokio::sync::Mutex<()>,
    refresh_interval: Duration,
    cache: Mutex<HashMap<[u8; 32], CachedPrincipal>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Errors loading keys at start, with enough detail to fix the configuration.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    /// The JWKS file could not be read.
    #[error("could not read the JWKS file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The JWKS is not valid JSON of the right shape.
    #[error("the JWKS from {origin} is not valid: {detail}")]
    Invalid {
        /// Where it came from.
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// Discovery or JWKS fetch failed.
    #[error("could not fetch {url}: {detail}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The discovery document names another issuer.
    #[error("the discovery document's issuer {found} is not the configured issuer {expected}")]
    IssuerMismatch {
        /// Configured.
        expected: String,
        /// Found.
        found: String,
    },
    /// No usable signing key.
    #[error("the JWKS from {0} has no usable signing key (RSA, EC or OKP, not symmetric)")]
    NoUsableKey(String),
}

/// Install the aws-lc-rs crypto provider for `jsonwebtoken` (idempotent).
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

fn jwk_algorithm(algorithm: KeyAlgorithm) -> Option<Algorithm> {
    match algorithm {
        KeyAlgorithm::RS256 => Some(Algorithm::RS256),
        KeyAlgorithm::RS384 => Some(Algorithm::RS384),
        KeyAlgorithm::RS512 => Some(Algorithm::RS512),
        KeyAlgorithm::PS256 => Some(Algorithm::PS256),
        KeyAlgorithm::PS384 => Some(Algorithm::PS384),
        KeyAlgorithm::PS512 => Some(Algorithm::PS512),
        KeyAlgorithm::ES256 => Some(Algorithm::ES256),
        KeyAlgorithm::ES384 => Some(Algorithm::ES384),
        KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
        _ => None,
    }
}

fn key_ring(set: &JwkSet, origin: &str) -> Result<KeyRing, KeyLoadError> {
    let mut ring = KeyRing::default();
    for jwk in &set.keys {
        if matches!(
            jwk.algorithm,
            jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_)
        ) {
            continue; // symmetric keys are never accepted
        }
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|key_use| *key_use != jsonwebtoken::jwk::PublicKeyUse::Signature)
        {
            continue;
        }
        let algorithm = match jwk.common.key_algorithm {
            None => None,
            Some(algorithm) => match jwk_algorithm(algorithm) {
                Some(algorithm) => Some(algorithm),
                None => continue,
            },
        };
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        let key = Arc::new(VerificationKey { key, algorithm });
        match &jwk.common.key_id {
            Some(kid) => {
                ring.by_kid.insert(kid.clone(), key);
            }
            None => ring.without_kid.push(key),
        }
    }
    if ring.by_kid.is_empty() && ring.without_kid.is_empty() {
        return Err(KeyLoadError::NoUsableKey(origin.to_owned()));
    }
    ring.fetched_at = Some(Instant::now());
    Ok(ring)
}

fn parse_jwks(bytes: &[u8], origin: &str) -> Result<JwkSet, KeyLoadError> {
    serde_json::from_slice(bytes).map_err(|error| KeyLoadError::Invalid {
        origin: origin.to_owned(),
        detail: error.to_string(),
    })
}

/// The `alg` of a token's header, read without trusting anything else in it.
fn raw_header_algorithm(token: &str) -> Option<String> {
    use base64::Engine;
    let segment = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    header.get("alg")?.as_str().map(str::to_owned)
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

impl Verifier {
    /// Make a verifier and load its keys now, so bad configuration fails at start.
    pub async fn new(
        issuer: &str,
        audience: &str,
        source: KeySource,
    ) -> Result<Verifier, KeyLoadError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| KeyLoadError::Fetch {
                url: issuer.to_owned(),
                detail: error.to_string(),
            })?;
        let verifier = Verifier {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            source,
            http,
            keys: RwLock::new(KeyRing::default()),
            refresh: tokio::sync::Mutex::new(()),
            refresh_interval: JWKS_REFRESH_MIN_INTERVAL,
            cache: Mutex::new(HashMap::new()),
        };
        let ring = verifier.load_keys().await?;
        if let Ok(mut keys) = verifier.keys.write() {
            *keys = ring;
        }
        Ok(verifier)
    }

    /// Change how soon an unknown `kid` may refetch the JWKS (default one minute).
    pub fn with_refresh_interval(mut self, interval: Duration) -> Verifier {
        self.refresh_interval = interval;
        self
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn load_keys(&self) -> Result<KeyRing, KeyLoadError> {
        match &self.source {
            KeySource::Static(set) => key_ring(set, "configuration"),
            KeySource::JwksFile(path) => {
                let bytes = std::fs::read(path).map_err(|source| KeyLoadError::File {
                    path: path.clone(),
                    source,
                })?;
                let origin = path.display().to_string();
                key_ring(&parse_jwks(&bytes, &origin)?, &origin)
            }
            KeySource::Discovery => {
                let discovery_url = format!(
                    "{}/.well-known/openid-configuration",
                    self.issuer.trim_end_matches('/')
                );
                let document: serde_json::Value = self.fetch_json(&discovery_url).await?;
                let found = document["issuer"].as_str().unwrap_or_default();
                if found != self.issuer {
                    return Err(KeyLoadError::IssuerMismatch {
                        expected: self.issuer.clone(),
                        found: found.to_owned(),
                    });
                }
                let jwks_uri = document["jwks_uri"]
                    .as_str()
                    .ok_or_else(|| KeyLoadError::Invalid {
                        origin: discovery_url.clone(),
                        detail: "no jwks_uri".into(),
                    })?
                    .to_owned();
                let set: JwkSet = self.fetch_json(&jwks_uri).await?;
                key_ring(&set, &jwks_uri)
            }
        }
    }

    async fn fetch_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, KeyLoadError> {
        let fetch_error = |detail: String| KeyLoadError::Fetch {
            url: url.to_owned(),
            detail,
        };
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|error| fetch_error(error.to_string()))?;
        if !response.status().is_success() {
            return Err(fetch_error(format!("HTTP {}", response.status())));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|error| fetch_error(error.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|error| KeyLoadError::Invalid {
            origin: url.to_owned(),
            detail: error.to_string(),
        })
    }

    fn find_key(&self, kid: Option<&str>) -> Option<Arc<VerificationKey>> {
        let keys = self.keys.read().ok()?;
        match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None => {
                let mut all = keys.by_kid.values().chain(keys.without_kid.iter());
                match (all.next(), all.next()) {
                    (Some(only), None) => Some(only.clone()),
                    _ => None,
                }
            }
        }
    }

    /// Refetch the JWKS (discovery only, at most once a minute) after an unknown `kid`.
    async fn refresh_keys(&self) -> bool {
        if self.source != KeySource::Discovery {
            return false;
        }
        let _guard = self.refresh.lock().await;
        let recent = self
            .keys
            .read()
            .ok()
            .and_then(|keys| keys.fetched_at)
            .is_some_and(|at| at.elapsed() < self.refresh_interval);
        if recent {
            return false;
        }
        match self.load_keys().await {
            Ok(ring) => {
                if let Ok(mut keys) = self.keys.write() {
                    *keys = ring;
                }
                true
            }
            Err(error) => {
                tracing::warn!(%error, "could not refresh signing keys");
                if let Ok(mut keys) = self.keys.write() {
                    keys.fetched_at = Some(Instant::now());
                }
                false
            }
        }
    }

    fn cache_get(&self, hash: &[u8; 32], now: u64) -> Option<Arc<Principal>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(hash)
            .filter(|entry| entry.expires_at > now)
            .map(|entry| entry.principal.clone())
    }

    fn cache_put(&self, hash: [u8; 32], principal: Arc<Principal>, expires_at: u64, now: u64) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, entry| entry.expires_at > now);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(
            hash,
            CachedPrincipal {
                principal,
                expires_at,
            },
        );
    }

    /// How many verified tokens are cached (for tests and metrics).
    pub fn cached_tokens(&self) -> usize {
        self.cache.lock().map(|cache| cache.len()).unwrap_or(0)
    }

    /// Verify a token and return who it is for. The result is cached until `exp`.
    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        let now = now_seconds();
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(principal) = self.cache_get(&hash, now) {
            return Ok(principal);
        }
        let claims = self.verify_uncached(token).await?;
        let expires_at = claims.exp;
        let principal = Arc::new(claims.principal());
        self.cache_put(hash, principal.clone(), expires_at, now);
        Ok(principal)
    }

    async fn verify_uncached(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            // `alg: none` and unknown algorithms fail to parse: say so rather than "malformed".
            if raw_header_algorithm(token).is_some_and(|alg| {
                !ALLOWED_ALGORITHMS
                    .iter()
                    .any(|allowed| format!("{allowed:?}") == alg)
            }) {
                AuthError::AlgorithmNotAllowed
            } else {
                AuthError::Malformed
            }
        })?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let key = match self.find_key(header.kid.as_deref()) {
            Some(key) => key,
            None => {
                if self.refresh_keys().await {
                    self.find_key(header.kid.as_deref())
                        .ok_or(AuthError::UnknownKey)?
                } else {
                    return Err(AuthError::UnknownKey);
                }
            }
        };
        if key.algorithm.is_some_and(|pinned| pinned != header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[self.audience.as_str()]);
        let data =
            jsonwebtoken::decode::<Claims>(token, &key.key, &validation).map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                match error.kind() {
                    ErrorKind::InvalidSignature => AuthError::BadSignature,
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                    ErrorKind::InvalidAudience => AuthError::WrongAudience,
                    ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        AuthError::AlgorithmNotAllowed
                    }
                    ErrorKind::MissingRequiredClaim(_)
                    | ErrorKind::InvalidSubject
                    | ErrorKind::Json(_) => AuthError::BadClaims,
                    ErrorKind::InvalidKeyFormat
                    | ErrorKind::InvalidRsaKey(_)
                    | ErrorKind::InvalidEcdsaKey => AuthError::UnknownKey,
                    _ => AuthError::Malformed,
                }
            })?;
        Ok(data.claims)
    }
}
