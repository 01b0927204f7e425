//! The token signing keys: where they come from ([`KeySource`]: a JWKS file, the issuer's
//! discovery document, a JWKS URL, or given directly), the algorithm allow-list, and the key
//! ring that an unknown `kid` may refresh (discovery or URL only, at most once a minute).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

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

const JWKS_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(60);

/// Where the verification keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A JWKS file (offline sites).
    JwksFile(PathBuf),
    /// The issuer's `/.well-known/openid-configuration` `jwks_uri`.
    Discovery,
    /// A JWKS URL (a platform app's registered keys).
    JwksUrl(String),
    /// Keys given directly (tests).
    Static(JwkSet),
}

#[derive(Debug)]
pub(crate) struct VerificationKey {
    pub(crate) key: DecodingKey,
    /// The algorithm the JWK pins, if it does.
    pub(crate) algorithm: Option<Algorithm>,
}

#[derive(Debug, Default)]
struct KeyRing {
    by_kid: HashMap<String, Arc<VerificationKey>>,
    without_kid: Vec<Arc<VerificationKey>>,
    fetched_at: Option<Instant>,
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

/// The keys a verifier checks signatures with, and how to fetch them again.
pub(crate) struct Keys {
    issuer: String,
    source: KeySource,
    http: reqwest::Client,
    ring: RwLock<KeyRing>,
    refresh: tokio::sync::Mutex<()>,
    refresh_interval: Duration,
}

impl Keys {
    /// Load the keys for `issuer` from `source` now, so bad configuration fails at start.
    pub(crate) async fn load(issuer: &str, source: KeySource) -> Result<Keys, KeyLoadError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| KeyLoadError::Fetch {
                url: issuer.to_owned(),
                detail: error.to_string(),
            })?;
        let keys = Keys {
            issuer: issuer.to_owned(),
            source,
            http,
            ring: RwLock::new(KeyRing::default()),
            refresh: tokio::sync::Mutex::new(()),
            refresh_interval: JWKS_REFRESH_MIN_INTERVAL,
        };
        let ring = keys.load_keys().await?;
        if let Ok(mut current) = keys.ring.write() {
            *current = ring;
        }
        Ok(keys)
    }

    /// Change how soon an unknown `kid` may refetch the JWKS.
    pub(crate) fn set_refresh_interval(&mut self, interval: Duration) {
        self.refresh_interval = interval;
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
            KeySource::JwksUrl(url) => {
                let set: JwkSet = self.fetch_json(url).await?;
                key_ring(&set, url)
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

    pub(crate) fn find_key(&self, kid: Option<&str>) -> Option<Arc<VerificationKey>> {
        let keys = self.ring.read().ok()?;
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

    /// Refetch the JWKS (discovery or a JWKS URL only, at most once a minute) after an
    /// unknown `kid`.
    pub(crate) async fn refresh_keys(&self) -> bool {
        if !matches!(self.source, KeySource::Discovery | KeySource::JwksUrl(_)) {
            return false;
        }
        let _guard = self.refresh.lock().await;
        let recent = self
            .ring
            .read()
            .ok()
            .and_then(|keys| keys.fetched_at)
            .is_some_and(|at| at.elapsed() < self.refresh_interval);
        if recent {
            return false;
        }
        match self.load_keys().await {
            Ok(ring) => {
                if let Ok(mut keys) = self.ring.write() {
                    *keys = ring;
                }
                true
            }
            Err(error) => {
                tracing::warn!(%error, "could not refresh signing keys");
                if let Ok(mut keys) = self.ring.write() {
                    keys.fetched_at = Some(Instant::now());
                }
                false
            }
        }
    }
}
