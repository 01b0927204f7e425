//! Operations endpoints, fallbacks, limits, pragmas and the OpenAPI document.

use axum::http::{Method, StatusCode};
use cpis_domain::{Gender, PlanType};
use time::Duration;

use super::support::*;

#[tokio::test]
async fn health_readiness_and_readiness_failure() {
    let app = TestApp::sqlite().await;
    let (status, _, body) = app.get("/healthz", None, &[]).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, br#"{"status":"ok"}"#.as_slice())
    );
    let (status, _, _) = app.get("/readyz", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let token = app.ed_nurse().await;
    app.store.pool().close().await;
    let (status, _, _) = app.get("/readyz", None, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // A lookup with the database gone is a 503 OperationOutcome, never an empty Bundle.
    let (status, body) = app.care_team(&numbers(1)[0], &token, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(spine_code(&body), "SERVICE_UNAVAILABLE");
}

#[tokio::test]
async fn metrics_are_prometheus_text_without_patient_data() {
    let app = TestApp::sqlite().await;
    let child = numbers(1).remove(0);
    let today = app.today();
    app.person(&child, years_ago(today, 3), Gender::Male).await;
    app.add_plan(
        &child,
        &plan(
            PlanType::ChildProtectionPlan,
            today - Duration::days(3),
            None,
            "ZL001",
        ),
    )
    .await;
    app.care_team(&child, &app.ed_nurse().await, &[]).await;
    app.get(
        &format!("/personal-demographics/FHIR/R4/Patient/{}", child.as_str()),
        Some(&app.ed_nurse().await),
        &[],
    )
    .await;
    let (status, headers, body) = app.get("/metrics", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/openmetrics-text")
    );
    let text = String::from_utf8(body).expect("utf8");
    for expected in [
        "# TYPE cpis_http_requests counter",
        "cpis_http_requests_total{method=\"GET\",route=\"/cpis/FHIR/R4/CareTeam\",status=\"200\"} 1",
        "route=\"/personal-demographics/FHIR/R4/Patient/{nhs_number}\"",
        "cpis_http_request_duration_seconds_bucket",
        "cpis_lookups_total{reason=\"plan_found\"} 1",
        "cpis_notifications_recorded_total 1",
        "cpis_verified_token_cache_entries 1",
        "# EOF",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    assert!(!text.contains(child.as_str()), "NHS number in metrics");
}

#[tokio::test]
async fn unknown_paths_and_methods_get_operation_outcomes() {
    let app = TestApp::sqlite().await;
    let (status, headers, body) = app.get("/nothing/here", None, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/fhir+json");
    assert_eq!(spine_code(&body), "UNSUPPORTED_SERVICE");
    let (status, _, body) = app
        .request(
            Method::DELETE,
            &care_team_uri("9990000018"),
            Some(&app.ed_nurse().await),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(spine_code(&body), "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn slow_requests_end_in_a_timeout_outcome() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("slow.db").display());
    let limits = cpis_service::state::Limits {
        request_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let app = TestApp::with_url(url.clone(), Some(dir), limits).await;
    let child = numbers(1).remove(0);
    let today = app.today();
    app.person(&child, years_ago(today, 3), Gender::Male).await;
    app.add_plan(
        &child,
        &plan(PlanType::ChildProtectionPlan, today, None, "ZL001"),
    )
    .await;
    let token = app.ed_nurse().await;
    // Another process holds the database's write lock, so recording the access waits.
    use sqlx::Connection;
    let mut blocker = sqlx::AnyConnection::connect(&url).await.expect("connect");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .expect("lock");
    let started = std::time::Instant::now();
    let (status, body) = app.care_team(&child, &token, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(spine_code(&body), "TIMEOUT");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("unlock");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_synchronous() {
    let app = TestApp::sqlite().await;
    assert_eq!(
        app.store
            .sqlite_pragma("journal_mode")
            .await
            .expect("pragma"),
        "wal"
    );
    // FULL is 2.
    assert_eq!(
        app.store
            .sqlite_pragma("synchronous")
            .await
            .expect("pragma"),
        "2"
    );
    assert_eq!(
        app.store
            .sqlite_pragma("foreign_keys")
            .await
            .expect("pragma"),
        "1"
    );
}

#[tokio::test]
async fn postgres_migrations_are_versioned_and_rerunnable() {
    let url = fresh_postgres_url().await;
    let first = cpis_service::store::Store::connect(&url, 2)
        .await
        .expect("first");
    assert_eq!(first.backend(), cpis_service::store::Backend::Postgres);
    // A second replica on the same database: migrations are already applied.
    let second = cpis_service::store::Store::connect(&url, 2)
        .await
        .expect("second");
    second.ping().await.expect("ping");
    let applied: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(second.pool())
            .await
            .expect("count"),
        0,
    )
    .expect("count");
    assert_eq!(applied, cpis_service::store::MIGRATOR.iter().count() as i64);
}

#[tokio::test]
async fn openapi_document_is_served_and_names_every_route() {
    let app = TestApp::sqlite().await;
    let (status, _, body) = app.get("/openapi.json", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let document: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert!(
        document["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.")
    );
    let paths = document["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/cpis/FHIR/R4/CareTeam", "get"),
        ("/cpis/FHIR/R4/AuditEvent", "get"),
        ("/personal-demographics/FHIR/R4/Patient/{nhs_number}", "get"),
        ("/la/FHIR/R4", "post"),
        ("/la/csv", "post"),
        ("/la/FHIR/R4/AuditEvent", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/audit/FHIR/R4", "post"),
        ("/audit/FHIR/R4/metadata", "get"),
        ("/audit/FHIR/R4/AuditEvent", "get"),
        ("/audit/FHIR/R4/AuditEvent", "post"),
        ("/oauth2/token", "post"),
        ("/oauth2/revoke", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|item| item.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert_eq!(
        paths.len(),
        15,
        "document lists a path this test does not know"
    );
    // Every documented operation is routed (whatever it answers, it is not "no such endpoint").
    for (path, item) in paths {
        for method in item.as_object().expect("operations").keys() {
            let uri = path.replace("{nhs_number}", "9990000018");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let (status, _, _) = app.request(method, &uri, None, &[], Vec::new()).await;
            assert_ne!(
                status,
                StatusCode::NOT_FOUND,
                "{path} is documented but not served"
            );
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_postgres_database() {
    let url = fresh_postgres_url().await;
    let first = TestApp::with_url(url.clone(), None, cpis_service::state::Limits::default()).await;
    let second = TestApp::with_url(url, None, cpis_service::state::Limits::default()).await;
    let today = first.today();
    let child = numbers(1).remove(0);
    first
        .person(&child, years_ago(today, 5), Gender::Female)
        .await;
    let shared_plan = plan(
        PlanType::ChildProtectionPlan,
        today - Duration::days(4),
        None,
        "ZL001",
    );
    // The same plan uploaded through both replicas at once: one plan, no error.
    let (a, b) = tokio::join!(
        first.store.upsert_plan(&child, &shared_plan, first.now()),
        second.store.upsert_plan(&child, &shared_plan, second.now()),
    );
    a.expect("first replica");
    b.expect("second replica");
    // Lookups through both replicas record accesses that both see.
    let mut lookups = Vec::new();
    let child_ref = &child;
    for index in 0..10 {
        let app = if index % 2 == 0 { &first } else { &second };
        let token = app
            .token_for(&claims(
                &format!("viewer-{index}"),
                &format!("Viewer {index}"),
                "ZZ1ED",
                &["B0107"],
            ))
            .await;
        lookups.push(async move { app.care_team(child_ref, &token, &[]).await.0 });
    }
    for status in futures_join_all(lookups).await {
        assert_eq!(status, StatusCode::OK);
    }
    let (_, body) = second
        .care_team(&child, &second.scheduled_user().await, &[])
        .await;
    match cpis_fhir::parse_care_team_search(&body, &child).expect("answer") {
        cpis_fhir::CareTeamSearch::Plans(plans) => assert_eq!(plans.len(), 1),
        cpis_fhir::CareTeamSearch::NoPlans => panic!("plan missing"),
    }
    assert_eq!(
        first.history(&child, &first.ed_nurse().await).await.len(),
        10
    );
    assert_eq!(
        second
            .notifications(
                &second.la_user("ZL001").await,
                first.now() - Duration::hours(1)
            )
            .await
            .len(),
        10
    );
}

async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut outputs = Vec::new();
    let pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    // Poll them concurrently on this task.
    let mut set = pinned.into_iter().map(Some).collect::<Vec<_>>();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for slot in set.iter_mut() {
            if let Some(future) = slot {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(output) => {
                        outputs.push(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(std::mem::take(&mut outputs))
        }
    })
    .await
}
