//! Local authority uploads (FHIR Bundle and CSV): per-record accept and reject codes, nothing
//! half-stored, on SQLite and PostgreSQL.

use axum::http::{Method, StatusCode};
use cpis_domain::{Gender, PlanRecord, PlanType};
use cpis_fhir::upload::{UploadRejectCode, parse_upload_response};
use cpis_fhir::{CareTeamSearch, parse_care_team_search};
use serde_json::json;
use time::Duration;

use super::support::*;
use crate::on_both_backends;

on_both_backends!(
    fhir_upload_validates_each_record,
    csv_upload_validates_each_row,
    upload_errors_refuse_the_whole_request
);

async fn upload(
    app: &TestApp,
    path: &str,
    content_type: &str,
    token: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let (status, _, body) = app
        .request(
            Method::POST,
            path,
            Some(token),
            &[("Content-Type", content_type)],
            body,
        )
        .await;
    (status, body)
}

async fn fhir_upload_validates_each_record(app: TestApp) {
    let today = app.today();
    let [known, unknown, other] = <[_; 3]>::try_from(numbers(3)).expect("3");
    app.person(&known, years_ago(today, 9), Gender::Female)
        .await;
    app.person(&other, years_ago(today, 9), Gender::Female)
        .await;
    let good = plan(
        PlanType::ChildProtectionPlan,
        today - Duration::days(20),
        None,
        "ZL007",
    );
    let mut bundle = serde_json::to_value(cpis_fhir::upload_bundle(
        &[
            (known.clone(), good.clone()),
            (unknown.clone(), good.clone()),
            (
                known.clone(),
                plan(PlanType::LookedAfterChild, today, None, "ZL099"),
            ),
            (other.clone(), good.clone()),
            (other.clone(), good.clone()),
            (other.clone(), good.clone()),
        ],
        today,
    ))
    .expect("bundle");
    bundle["entry"][3]["resource"]["period"]["end"] = json!("2000-01-01");
    bundle["entry"][4]["resource"]["category"][0]["coding"][0]["code"] = json!("999999");
    bundle["entry"][5]["resource"]["subject"]["identifier"]["value"] = json!("9990000019");
    let token = app.la_user("ZL007").await;
    let (status, body) = upload(
        &app,
        "/la/FHIR/R4",
        "application/fhir+json",
        &token,
        serde_json::to_vec(&bundle).expect("json"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        parse_upload_response(&body).expect("response"),
        vec![
            Ok(201),
            Err(UploadRejectCode::UnknownPerson),
            Err(UploadRejectCode::WrongLocalAuthority),
            Err(UploadRejectCode::DateOrder),
            Err(UploadRejectCode::UnknownPlanType),
            Err(UploadRejectCode::InvalidNhsNumber),
        ]
    );
    // Only the accepted record is stored; the refused one for `other` left nothing behind.
    let (_, answer) = app
        .care_team(&known, &app.scheduled_user().await, &[])
        .await;
    match parse_care_team_search(&answer, &known).expect("answer") {
        CareTeamSearch::Plans(plans) => {
            assert_eq!(plans, vec![PlanRecord::from_plan_on(good.clone(), today)])
        }
        CareTeamSearch::NoPlans => panic!("the accepted plan was not stored"),
    }
    let (_, answer) = app
        .care_team(&other, &app.scheduled_user().await, &[])
        .await;
    assert_eq!(
        parse_care_team_search(&answer, &other),
        Ok(CareTeamSearch::NoPlans)
    );

    // Uploading the same plan again, now ended, updates it.
    let mut ended = good.clone();
    ended.end = Some(today - Duration::days(1));
    ended.social_worker = None;
    let body = serde_json::to_vec(&cpis_fhir::upload_bundle(
        &[(known.clone(), ended.clone())],
        today,
    ))
    .expect("json");
    let (status, body) = upload(&app, "/la/FHIR/R4", "application/json", &token, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        parse_upload_response(&body).expect("response"),
        vec![Ok(200)]
    );
    let (_, answer) = app
        .care_team(&known, &app.scheduled_user().await, &[])
        .await;
    assert_eq!(
        parse_care_team_search(&answer, &known),
        Ok(CareTeamSearch::Plans(vec![PlanRecord::from_plan_on(
            ended, today
        )]))
    );
}

async fn csv_upload_validates_each_row(app: TestApp) {
    let today = app.today();
    let [known, unknown] = <[_; 2]>::try_from(numbers(2)).expect("2");
    app.person(&known, years_ago(today, 3), Gender::Male).await;
    let start = cpis_service::store::date_text(today - Duration::days(10));
    let csv = format!(
        "nhs_number,plan_type,start_date,end_date,la_ods_code,la_name,office_hours_phone,emergency_duty_phone,social_worker_name,social_worker_phone\n\
         {k},LAC,{start},,ZL007,Testshire Council (synthetic),01632 960007,07700 900007,Sam Worker-Test,07700 900123\n\
         {u},CPP,{start},,ZL007,Testshire Council (synthetic),01632 960007,07700 900007,,\n\
         9990000019,CPP,{start},,ZL007,Testshire Council (synthetic),01632 960007,07700 900007,,\n\
         {k},XYZ,{start},,ZL007,Testshire Council (synthetic),01632 960007,07700 900007,,\n\
         {k},CPP,{start},2001-01-01,ZL007,Testshire Council (synthetic),01632 960007,07700 900007,,\n\
         {k},CPP,{start},,ZL008,Other Council (synthetic),01632 960008,07700 900008,,\n\
         {k},CPP,{start},,ZL007,,01632 960007,07700 900007,,\n",
        k = known.as_str(),
        u = unknown.as_str(),
    );
    let (status, body) = upload(
        &app,
        "/la/csv",
        "text/csv; charset=utf-8",
        &app.la_user("ZL007").await,
        csv.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        parse_upload_response(&body).expect("response"),
        vec![
            Ok(201),
            Err(UploadRejectCode::UnknownPerson),
            Err(UploadRejectCode::InvalidNhsNumber),
            Err(UploadRejectCode::UnknownPlanType),
            Err(UploadRejectCode::DateOrder),
            Err(UploadRejectCode::WrongLocalAuthority),
            Err(UploadRejectCode::InvalidRecord),
        ]
    );
    let (_, answer) = app
        .care_team(&known, &app.scheduled_user().await, &[])
        .await;
    match parse_care_team_search(&answer, &known).expect("answer") {
        CareTeamSearch::Plans(plans) => {
            assert_eq!(plans.len(), 1);
            assert_eq!(plans[0].plan_type, Some(PlanType::LookedAfterChild));
            assert_eq!(
                plans[0].local_authority.office_hours_phone.as_deref(),
                Some("01632 960007")
            );
        }
        CareTeamSearch::NoPlans => panic!("the accepted row was not stored"),
    }
}

async fn upload_errors_refuse_the_whole_request(app: TestApp) {
    let token = app.la_user("ZL007").await;
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "/la/FHIR/R4",
            "application/fhir+json",
            b"not json".to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_VALUE",
        ),
        (
            "/la/FHIR/R4",
            "application/fhir+json",
            br#"{"resourceType":"Bundle","type":"searchset"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_VALUE",
        ),
        (
            "/la/FHIR/R4",
            "text/plain",
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "INVALID_VALUE",
        ),
        (
            "/la/csv",
            "text/csv",
            b"wrong,header\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_VALUE",
        ),
        (
            "/la/csv",
            "application/json",
            b"".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "INVALID_VALUE",
        ),
    ];
    for (path, content_type, body, expected_status, expected_code) in cases {
        let (status, body) = upload(&app, path, content_type, &token, body).await;
        assert_eq!(status, expected_status, "{path} {content_type}");
        assert_eq!(spine_code(&body), expected_code);
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("limit.db").display());
    let limits = cpis_service::state::Limits {
        max_body_bytes: 2048,
        ..Default::default()
    };
    let app = TestApp::with_url(url, Some(dir), limits).await;
    let body = vec![b' '; 4096];
    let (status, body) = upload(
        &app,
        "/la/FHIR/R4",
        "application/fhir+json",
        &app.la_user("ZL007").await,
        body,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(spine_code(&body), "MESSAGE_TOO_LARGE");
}
