//! The trust's extra certificate authorities (`[tls] extra_ca_file`) against a real TLS server
//! whose certificate a CA made in the test issued: without the bundle every client refuses the
//! server (it is not in the system's roots); with it, the shared client builder, the alert
//! client, the identity provider discovery and the audit sync transport all reach it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cpis_audit::sync::{AuditTransport, HttpAuditTransport, TransportError};
use cpis_client::config::TlsConfig;
use cpis_client::{
    AlertClient, AuditRecord, AuditSink, AuditSinkError, Broker, Config, ConfigLocations, Defaults,
    Secret,
};

use crate::support::tls_server::{TestPki, TlsServer};

/// An audit sink that keeps nothing (the probe writes no audit record).
struct NoAudit;

impl AuditSink for NoAudit {
    fn record_lookup(&self, _record: &AuditRecord) -> Result<(), AuditSinkError> {
        Ok(())
    }
}

/// A machine-wide file pointing every service and the issuer at `base`, with `extra_ca_file`
/// when given; loaded as a release build would.
fn config_for(directory: &Path, base: &str, extra_ca_file: Option<&Path>) -> Config {
    let mut text = format!(
        "data_dir = {data:?}\n[services]\ncpis_url = \"{base}/cpis/FHIR/R4\"\ndemographics_url = \"{base}/pds/FHIR/R4\"\naudit_url = \"{base}/audit/FHIR/R4\"\n[sign_in]\nbroker_url = \"{base}/broker\"\n",
        data = directory.join("data").display().to_string()
    );
    if let Some(path) = extra_ca_file {
        text.push_str(&format!(
            "[tls]\nextra_ca_file = {:?}\n",
            path.display().to_string()
        ));
    }
    let machine_file = directory.join("machine.toml");
    std::fs::write(&machine_file, text).expect("write");
    Config::load_from(
        &ConfigLocations {
            machine_file,
            user_file: None,
            user_file_named: false,
        },
        Defaults::None,
    )
    .expect("valid configuration")
}

async fn get(tls: &TlsConfig, url: &str) -> Result<u16, String> {
    let client = cpis_client::http::client_builder(tls)
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|error| error.to_string())?;
    client
        .get(url)
        .send()
        .await
        .map(|response| response.status().as_u16())
        .map_err(|error| format!("{error:?}"))
}

#[tokio::test]
async fn without_the_extra_ca_a_server_of_the_trusts_pki_is_refused_and_with_it_reached() {
    let pki = TestPki::new("trust");
    let server = TlsServer::start(&pki).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let ca_file = directory.path().join("trust-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).expect("write");

    let without = config_for(directory.path(), &server.base, None);
    let refused = get(&without.tls, &format!("{}/without", server.base)).await;
    assert!(
        refused.is_err(),
        "the test CA must not be trusted by default: {refused:?}"
    );
    assert!(server.requests().is_empty(), "no request may get through");

    let with = config_for(directory.path(), &server.base, Some(&ca_file));
    assert_eq!(
        with.tls.extra_ca.as_ref().map(|bundle| bundle.len()),
        Some(1)
    );
    assert_eq!(
        get(&with.tls, &format!("{}/with", server.base)).await,
        Ok(200)
    );
    assert_eq!(server.requests(), ["/with"]);
}

#[tokio::test]
async fn another_authority_in_the_bundle_does_not_make_the_server_trusted() {
    let pki = TestPki::new("trust");
    let other = TestPki::new("other");
    let server = TlsServer::start(&pki).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let ca_file = directory.path().join("other-ca.pem");
    std::fs::write(&ca_file, &other.ca_pem).expect("write");
    let config = config_for(directory.path(), &server.base, Some(&ca_file));
    assert!(get(&config.tls, &server.base).await.is_err());
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_bundle_of_several_authorities_adds_each() {
    let pki = TestPki::new("trust");
    let other = TestPki::new("other");
    let server = TlsServer::start(&pki).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let ca_file = directory.path().join("bundle.pem");
    std::fs::write(&ca_file, format!("{}{}", other.ca_pem, pki.ca_pem)).expect("write");
    let config = config_for(directory.path(), &server.base, Some(&ca_file));
    assert_eq!(
        config.tls.extra_ca.as_ref().map(|bundle| bundle.len()),
        Some(2)
    );
    assert_eq!(
        get(&config.tls, &format!("{}/bundle", server.base)).await,
        Ok(200)
    );
}

#[tokio::test]
async fn the_alert_client_uses_the_extra_ca() {
    let pki = TestPki::new("trust");
    let server = TlsServer::start(&pki).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let ca_file = directory.path().join("trust-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).expect("write");

    let without = config_for(directory.path(), &server.base, None);
    let client = AlertClient::new(&without, Arc::new(NoAudit), "test").expect("client");
    let reach = client.probe().await;
    assert!(!reach.cpis && !reach.demographics, "{reach:?}");
    assert!(server.requests().is_empty());

    let with = config_for(directory.path(), &server.base, Some(&ca_file));
    let client = AlertClient::new(&with, Arc::new(NoAudit), "test").expect("client");
    let reach = client.probe().await;
    assert!(reach.cpis && reach.demographics, "{reach:?}");
    let mut requests = server.requests();
    requests.sort();
    assert_eq!(
        requests,
        ["/cpis/FHIR/R4/metadata", "/pds/FHIR/R4/metadata"]
    );
}

#[tokio::test]
async fn the_broker_is_reached_through_the_extra_ca() {
    let pki = TestPki::new("trust");
    let server = TlsServer::start(&pki).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let ca_file = directory.path().join("trust-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).expect("write");
    let token = Secret::new("opaque-token");

    let without = config_for(directory.path(), &server.base, None);
    let broker = Broker::new(&without.sign_in, &without.tls).expect("broker");
    assert!(broker.userinfo(&token).await.is_err());
    assert!(
        server.requests().is_empty(),
        "the request must not get through"
    );

    // With the CA the request arrives; the test server's `{}` names no user, so the look-up
    // itself still fails, after TLS.
    let with = config_for(directory.path(), &server.base, Some(&ca_file));
    let broker = Broker::new(&with.sign_in, &with.tls).expect("broker");
    assert!(broker.userinfo(&token).await.is_err());
    assert_eq!(server.requests(), ["/broker/session/userinfo"]);
}

#[tokio::test]
async fn the_audit_sync_transport_uses_the_extra_ca() {
    let pki = TestPki::new("trust");
    let server = TlsServer::start(&pki).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let ca_file = directory.path().join("trust-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).expect("write");
    let transport = |config: &Config| {
        HttpAuditTransport::with_client_builder(
            config.services.audit_url.clone(),
            Arc::new(|| Some("synthetic-token".to_owned())),
            Duration::from_secs(5),
            cpis_client::http::client_builder(&config.tls),
        )
        .expect("transport")
    };

    let without = config_for(directory.path(), &server.base, None);
    assert!(matches!(
        transport(&without).send_batch(b"{}".to_vec()).await,
        Err(TransportError::Unreachable)
    ));
    assert!(server.requests().is_empty());

    let with = config_for(directory.path(), &server.base, Some(&ca_file));
    assert_eq!(
        transport(&with).send_batch(b"{}".to_vec()).await.ok(),
        Some(b"{}".to_vec())
    );
    assert_eq!(server.requests(), ["/audit/FHIR/R4"]);
}

#[tokio::test]
async fn clients_refuse_plain_http_unless_it_is_allowed() {
    // A plain-http URL (say, one a discovery document names) is not followed by a client of a
    // configuration that does not allow plain http, even to this computer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    let https_only = TlsConfig {
        allow_http_loopback: false,
        extra_ca: None,
    };
    assert!(get(&https_only, &url).await.is_err());
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "no connection may be made");
}
