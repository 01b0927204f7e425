//! How every HTTP client treats TLS: plain http to this computer only when allowed, and the
//! trust's extra certificate authorities read from `[tls] extra_ca_file`.

use std::path::{Path, PathBuf};

/// The largest extra CA bundle read.
const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// How every HTTP client of the app and `cpis` treats TLS and plain http.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// Whether plain http (to this computer only) is allowed: `[tls] allow_http_loopback`, or
    /// the local demo's default.
    pub allow_http_loopback: bool,
    /// Extra certificate authorities trusted on top of the system's (`[tls] extra_ca_file`).
    pub extra_ca: Option<ExtraCaBundle>,
}

impl TlsConfig {
    /// No extra roots, plain http to this computer allowed (the local demo and tests).
    pub fn local_demo() -> TlsConfig {
        TlsConfig {
            allow_http_loopback: true,
            extra_ca: None,
        }
    }

    /// The extra roots, ready for a reqwest client builder.
    pub fn extra_root_certificates(&self) -> Vec<reqwest::Certificate> {
        self.extra_ca
            .as_ref()
            .map(ExtraCaBundle::certificates)
            .unwrap_or_default()
    }
}

/// A PEM bundle of certificate authorities read from `[tls] extra_ca_file`.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtraCaBundle {
    path: PathBuf,
    pem: Vec<u8>,
    count: usize,
}

impl std::fmt::Debug for ExtraCaBundle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ExtraCaBundle")
            .field("path", &self.path)
            .field("certificates", &self.count)
            .finish()
    }
}

impl ExtraCaBundle {
    /// Read a PEM file with at least one certificate that works as a trust anchor. `Err` is the
    /// problem in words, for a field error.
    pub fn read(path: &Path) -> Result<ExtraCaBundle, String> {
        let unreadable =
            |error: std::io::Error| format!("names a file that could not be read ({error})");
        let metadata = std::fs::metadata(path).map_err(unreadable)?;
        if !metadata.is_file() {
            return Err("must name a file".to_owned());
        }
        if metadata.len() > MAX_CA_FILE_BYTES {
            return Err("names a file too large for a CA bundle (over 1 MiB)".to_owned());
        }
        let pem = std::fs::read(path).map_err(unreadable)?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| "names a file that is not a valid PEM certificate bundle".to_owned())?;
        if certificates.is_empty() {
            return Err(
                "names a file with no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
            );
        }
        let count = certificates.len();
        // Each must be usable as a root: a client trusting only these must build.
        reqwest::Client::builder()
            .tls_certs_only(certificates)
            .build()
            .map_err(|_| {
                "names a file with a certificate that cannot be used as a CA".to_owned()
            })?;
        Ok(ExtraCaBundle {
            path: path.to_path_buf(),
            pem,
            count,
        })
    }

    /// The file it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many certificates it holds (at least one).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none (never, once read).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The certificates, for a reqwest client builder.
    pub fn certificates(&self) -> Vec<reqwest::Certificate> {
        // Parsed once already when the file was read.
        reqwest::Certificate::from_pem_bundle(&self.pem).unwrap_or_default()
    }
}
