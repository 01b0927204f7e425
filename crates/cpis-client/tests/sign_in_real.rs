//! Sign-in as the national platform requires it, with the real pieces (`support/sign_in_stack.rs`):
//! the client's loopback, PKCE and `state` towards the real broker, which signs the user in at
//! dev-idp (the CIS2 stand-in) and exchanges the ID token at the reference platform; then a
//! lookup with the platform's opaque token, refresh, the user of a bare token, and sign-out
//! ending the session (revoked at the platform).

use std::sync::Arc;
use std::time::Duration;

use cpis_client::config::{SignInConfig, TlsConfig};
use cpis_client::{
    AlertClient, AuditRecord, AuditSink, AuditSinkError, Broker, Config, LookupOutcome,
    LookupPermission, LoopbackRedirect, Session, SignInError,
};
use cpis_domain::NhsNumber;

use crate::support::sign_in_stack::{SignInStack, browse};

/// An audit sink that keeps nothing.
struct NoAudit;

impl AuditSink for NoAudit {
    fn record_lookup(&self, _record: &AuditRecord) -> Result<(), AuditSinkError> {
        Ok(())
    }
}

fn broker(stack: &SignInStack) -> Broker {
    Broker::new(
        &SignInConfig {
            broker_url: stack.broker_url.parse().expect("url"),
        },
        &TlsConfig::local_demo(),
    )
    .expect("broker")
}

async fn sign_in_as(stack: &SignInStack, login_hint: &str) -> Result<Session, SignInError> {
    let broker = broker(stack);
    let loopback = LoopbackRedirect::bind().await.expect("loopback");
    let pending = broker.begin(loopback.redirect_uri(), Some(login_hint));
    let waiter = tokio::spawn(
        loopback.wait_for_callback(pending.state().to_owned(), Duration::from_secs(30)),
    );
    let landed = browse(pending.authorize_url.as_str()).await;
    assert_eq!(landed, 200, "the browser ends at the loopback page");
    let callback = waiter.await.expect("task")?;
    broker.complete(pending, callback).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_look_up_refresh_and_sign_out_through_the_broker() {
    let stack = SignInStack::start_seeded(cpis_service::seed::SeedOptions {
        children: 200,
        seed: 11,
        today: cpis_domain::uk_time::uk_today(),
        examples_per_scenario: 1,
    })
    .await;
    let session = sign_in_as(&stack, "ed-nurse").await.expect("signed in");
    assert_eq!(session.user.subject, "900000000001");
    assert_eq!(session.user.name, "Tess Triage-Test");
    assert_eq!(
        session.user.selected_roleid.as_deref(),
        Some("555000000101")
    );
    assert_eq!(
        session.user.lookup_permission(),
        LookupPermission::Unscheduled
    );
    assert_eq!(session.assurance_level.as_deref(), Some("3"));
    assert!(
        !session.tokens.access_token.expose().starts_with("eyJ"),
        "the platform's token is opaque, not a JWT"
    );
    assert!(session.tokens.access_token_expires_at.is_some());

    // A lookup with the platform's token: PDS with X-Request-ID, CP-IS with TraceID, both
    // with NHSD-Session-URID.
    let manifest = stack.manifest.as_ref().expect("seeded");
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = Config::defaults_with_data_dir(data.path().to_path_buf());
    for (slot, path) in [
        (&mut config.services.cpis_url, "cpis/FHIR/R4"),
        (
            &mut config.services.demographics_url,
            "personal-demographics/FHIR/R4",
        ),
        (&mut config.services.audit_url, "audit/FHIR/R4"),
    ] {
        *slot = format!("{}/{path}", stack.platform_url)
            .parse()
            .expect("url");
    }
    config.lookup_deadline = Duration::from_secs(10);
    let sink = Arc::new(NoAudit);
    let client = AlertClient::new(&config, sink, "test").expect("client");
    let no_plan = NhsNumber::parse(&manifest.scenarios["no_plan"][0]).expect("nhs number");
    let report = client
        .lookup(&session.tokens.access_token, &session.user, &no_plan, false)
        .await;
    assert!(
        matches!(report.outcome, LookupOutcome::NoPlan { .. }),
        "{:?}",
        report.outcome
    );

    // Refresh at the broker: a new token for the same user, the 12 hours unchanged.
    let broker = broker(&stack);
    let refreshed = broker.refresh(&session).await.expect("refresh");
    assert_ne!(refreshed.tokens.access_token, session.tokens.access_token);
    assert_eq!(refreshed.user.subject, session.user.subject);
    assert_eq!(refreshed.signed_in_at, session.signed_in_at);
    let report = client
        .lookup(
            &refreshed.tokens.access_token,
            &refreshed.user,
            &no_plan,
            false,
        )
        .await;
    assert!(matches!(report.outcome, LookupOutcome::NoPlan { .. }));

    // The user of a bare token, as `cpis` asks for CPIS_ACCESS_TOKEN.
    let (user, _) = broker
        .userinfo(&refreshed.tokens.access_token)
        .await
        .expect("userinfo");
    assert_eq!(user.subject, "900000000001");

    // Sign-out ends the session at the broker, which revokes at the platform: the token, the
    // handle and userinfo are refused from then on.
    broker
        .end(&refreshed.tokens.session_handle)
        .await
        .expect("end");
    assert_eq!(
        broker.refresh(&refreshed).await,
        Err(SignInError::SignInRequired)
    );
    assert_eq!(
        broker
            .userinfo(&refreshed.tokens.access_token)
            .await
            .map(|_| ()),
        Err(SignInError::SignInRequired)
    );
    let report = client
        .lookup(
            &refreshed.tokens.access_token,
            &refreshed.user,
            &no_plan,
            false,
        )
        .await;
    assert!(
        matches!(report.outcome, LookupOutcome::CouldNotCheck { .. }),
        "a revoked token checks nothing: {:?}",
        report.outcome
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_who_may_look_up_and_an_aal2_user_is_refused() {
    let stack = SignInStack::start().await;
    let cases = [
        ("midwife", LookupPermission::Unscheduled),
        ("scheduled-care", LookupPermission::Scheduled),
        ("la-user", LookupPermission::NotPermitted),
        ("no-role", LookupPermission::NotPermitted),
    ];
    for (login, expected) in cases {
        let session = sign_in_as(&stack, login).await.expect(login);
        assert_eq!(session.user.lookup_permission(), expected, "{login}");
    }
    // The broker asks CIS2 for AAL3; a user who can only reach AAL2 is refused.
    assert!(matches!(
        sign_in_as(&stack, "aal2-nurse").await,
        Err(SignInError::Refused(error)) if error == "access_denied"
    ));
}
