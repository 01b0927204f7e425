//! The one place the app and `cpis` start building an HTTP client: no redirects, our
//! User-Agent, the system's certificate authorities plus the trust's extra ones
//! (`[tls] extra_ca_file`), and https only unless plain http to this computer is allowed.
//! Every client that talks to a configured service or the identity provider starts here.

use crate::config::TlsConfig;

/// A reqwest client builder with the settings every client of the app shares; callers add
/// their own timeouts.
pub fn client_builder(tls: &TlsConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(crate::PRODUCT)
        // The configuration refuses plain http to anywhere but this computer; without
        // `allow_http_loopback` no http URL (say, one a discovery document names) is followed.
        .https_only(!tls.allow_http_loopback)
        // Added to the platform verifier's roots (rustls-platform-verifier), not instead.
        .tls_certs_merge(tls.extra_root_certificates())
}
