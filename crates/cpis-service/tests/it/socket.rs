//! The same service over a real TCP socket, and graceful shutdown.

use cpis_domain::{Gender, PlanType};
use cpis_fhir::{CareTeamSearch, parse_care_team_search};
use time::Duration;
use tokio::net::TcpListener;

use super::support::*;

async fn exercise(app: TestApp) {
    let today = app.today();
    let [child, nobody] = <[_; 2]>::try_from(numbers(2)).expect("2");
    app.person(&child, years_ago(today, 6), Gender::Female)
        .await;
    app.add_plan(
        &child,
        &plan(
            PlanType::LookedAfterChild,
            today - Duration::days(3),
            None,
            "ZL004",
        ),
    )
    .await;

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cpis_service::server::serve_on(
        listener,
        app.state.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let lookup = |nhs: &str, token: &str| {
        client
            .get(format!("{base}{}", care_team_uri(nhs)))
            .bearer_auth(token)
            .header("TraceID", uuid::Uuid::new_v4().to_string())
            .send()
    };
    let response = lookup(child.as_str(), &app.ed_nurse().await)
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/fhir+json");
    let body = response.bytes().await.expect("body");
    assert!(
        matches!(parse_care_team_search(&body, &child), Ok(CareTeamSearch::Plans(plans)) if plans.len() == 1)
    );
    let body = lookup(nobody.as_str(), &app.ed_nurse().await)
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    assert_eq!(
        parse_care_team_search(&body, &nobody),
        Ok(CareTeamSearch::NoPlans)
    );
    let response = lookup("9990000019", &app.ed_nurse().await)
        .await
        .expect("send");
    assert_eq!(response.status(), 400);
    assert_eq!(
        spine_code(&response.bytes().await.expect("body")),
        "INVALID_SEARCH_DATA"
    );
    let response = lookup(child.as_str(), "garbage").await.expect("send");
    assert_eq!(response.status(), 401);
    let response = lookup(child.as_str(), &app.la_user("ZL004").await)
        .await
        .expect("send");
    assert_eq!(response.status(), 403);
    let response = client
        .get(format!("{base}/cpis/FHIR/R4/AuditEvent?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C{}", child.as_str()))
        .bearer_auth(app.ed_nurse().await)
        .header("TraceID", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let history = cpis_fhir::parse_access_history(&response.bytes().await.expect("body"), &child)
        .expect("history");
    assert_eq!(history.len(), 1);
    let response = client
        .get(format!(
            "{base}/personal-demographics/FHIR/R4/Patient/{}",
            child.as_str()
        ))
        .bearer_auth(app.ed_nurse().await)
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let response = client
        .get(format!(
            "{base}/la/FHIR/R4/AuditEvent?since=2000-01-01T00:00:00Z"
        ))
        .bearer_auth(app.la_user("ZL004").await)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let notifications =
        cpis_fhir::parse::parse_access_notifications(&response.bytes().await.expect("body"))
            .expect("parse");
    assert_eq!(notifications.len(), 1);
    let csv = "nhs_number,plan_type,start_date,end_date,la_ods_code,la_name,office_hours_phone,emergency_duty_phone,social_worker_name,social_worker_phone\n";
    let response = client
        .post(format!("{base}/la/csv"))
        .bearer_auth(app.la_user("ZL004").await)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let response = client
        .post(format!("{base}/la/FHIR/R4"))
        .bearer_auth(app.la_user("ZL004").await)
        .header("Content-Type", "application/fhir+json")
        .body(r#"{"resourceType":"Bundle","type":"batch","entry":[]}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let response = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200, "{path}");
    }
    // Graceful shutdown: the server stops accepting and the task ends cleanly.
    stop.send(()).expect("stop");
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("stops in time");
    result.expect("task").expect("serve ended without error");
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_over_a_real_socket_sqlite() {
    exercise(TestApp::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_over_a_real_socket_postgres() {
    exercise(TestApp::postgres().await).await;
}
