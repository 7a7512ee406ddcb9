//! Every failure path answers problem+json. Most tests here add probe routes to the real app,
//! whose inputs and failures they control exactly (a handler that fails, a query on a missing
//! table); the probes go through the app's own extractor settings, error conversion and
//! middleware, which every route shares.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use actix_web::{HttpResponse, web};
use newsdesk::AppState;
use newsdesk::error::ApiError;
use serde::Deserialize;

use crate::backend_test;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Probe {
    title: String,
    count: u32,
}

async fn echo(body: newsdesk::http::Json<Probe>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"title": body.title}))
}

async fn query(q: newsdesk::http::Query<Probe>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"count": q.count}))
}

async fn by_id(id: web::Path<i64>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"id": *id}))
}

async fn fail() -> Result<HttpResponse, ApiError> {
    Err(ApiError::internal("secret cause: password=hunter2"))
}

async fn bad_sql(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    use diesel::connection::SimpleConnection;
    state
        .db
        .run(|conn| {
            conn.batch_execute("SELECT * FROM no_such_table_xyz")
                .map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().finish())
}

fn probes(cfg: &mut web::ServiceConfig) {
    cfg.route("/probe/echo", web::post().to(echo))
        .route("/probe/query", web::get().to(query))
        .route("/probe/items/{id}", web::get().to(by_id))
        .route("/probe/fail", web::get().to(fail))
        .route("/probe/sql", web::get().to(bad_sql));
}

fn post_json(path: &str, body: impl Into<Vec<u8>>) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.into())
}

backend_test!(
    routes = probes;
    async fn a_well_formed_body_reaches_the_handler(app: TestApp) {
        let res = app.call(post_json("/probe/echo", r#"{"title":"Tích cực","count":1}"#)).await.expect(200);
        assert_eq!(res.json()["title"], "Tích cực");
    }
);

backend_test!(
    routes = probes;
    async fn malformed_json_is_a_400(app: TestApp) {
        let res = app.call(post_json("/probe/echo", r#"{"title": "x", "count": "#)).await;
        let problem = res.problem(400);
        assert!(problem["detail"].as_str().unwrap().contains("not valid JSON"));
        assert_eq!(problem["code"], "body.malformed_json");
    }
);

backend_test!(
    routes = probes;
    async fn invalid_utf8_in_the_body_is_a_400(app: TestApp) {
        let res = app.call(post_json("/probe/echo", b"{\"title\":\"\xff\xfe\",\"count\":1}".to_vec())).await;
        res.problem(400);
    }
);

backend_test!(
    routes = probes;
    async fn a_body_of_the_wrong_shape_is_a_422_naming_the_problem(app: TestApp) {
        let res = app.call(post_json("/probe/echo", r#"{"title":"x","count":"many"}"#)).await;
        assert_eq!(res.field_codes(), [("count".to_owned(), "wrong_type".to_owned())]);
        let res = app.call(post_json("/probe/echo", r#"{"title":"x"}"#)).await;
        assert_eq!(res.field_codes(), [("count".to_owned(), "required".to_owned())]);
        let res = app.call(post_json("/probe/echo", r#""just text""#)).await;
        assert_eq!(res.field_codes(), [("body".to_owned(), "wrong_type".to_owned())]);
        let res = app.call(post_json("/probe/echo", r#"{"title":"x","count":-1}"#)).await;
        assert_eq!(res.field_codes(), [("count".to_owned(), "invalid_value".to_owned())]);
    }
);

backend_test!(
    routes = probes;
    async fn a_body_that_is_not_json_is_a_415(app: TestApp) {
        let res = app
            .call(
                TestRequest::post()
                    .uri("/probe/echo")
                    .insert_header(("Content-Type", "text/plain"))
                    .set_payload("title=x"),
            )
            .await;
        res.problem(415);
        let res = app.call(TestRequest::post().uri("/probe/echo").set_payload(r#"{"title":"x","count":1}"#)).await;
        res.problem(415);
    }
);

backend_test!(
    routes = probes;
    async fn a_body_over_one_mebibyte_is_a_413(app: TestApp) {
        let title = "a".repeat(1024 * 1024);
        let res = app.call(post_json("/probe/echo", format!(r#"{{"title":"{title}","count":1}}"#))).await;
        res.problem(413);
        // Just under the limit is accepted.
        let title = "a".repeat(1024 * 1024 - 64);
        app.call(post_json("/probe/echo", format!(r#"{{"title":"{title}","count":1}}"#))).await.expect(200);
    }
);

backend_test!(
    routes = probes;
    async fn a_bad_query_string_is_a_400(app: TestApp) {
        for bad in ["count=abc", "count=%FF", "count=-2", ""] {
            let problem = app.get(&format!("/probe/query?title=x&{bad}")).await.problem(400);
            assert_eq!(problem["code"], "query.invalid_param", "{bad}");
            assert!(problem["detail"].as_str().unwrap().contains("`count`"), "{bad}: {problem}");
        }
        assert_eq!(app.get("/probe/query?title=x&count=3").await.json()["count"], 3);
    }
);

backend_test!(
    routes = probes;
    async fn a_path_parameter_that_cannot_name_a_resource_is_a_404(app: TestApp) {
        app.get("/probe/items/abc").await.problem(404);
        app.get("/probe/items/99999999999999999999999").await.problem(404);
        assert_eq!(app.get("/probe/items/7").await.json()["id"], 7);
    }
);

backend_test!(
    routes = probes;
    async fn an_internal_error_hides_its_cause_and_quotes_the_request_id(app: TestApp) {
        let res = app.get("/probe/fail").await;
        let problem = res.problem(500);
        assert!(!res.text().contains("hunter2"), "{}", res.text());
        assert!(!res.text().contains("secret cause"));
        assert_eq!(problem["request_id"].as_str(), res.header("x-request-id"));
    }
);

backend_test!(
    routes = probes;
    async fn a_database_error_is_a_generic_500(app: TestApp) {
        let res = app.get("/probe/sql").await;
        res.problem(500);
        assert!(!res.text().contains("no_such_table"), "{}", res.text());
    }
);

backend_test!(
    async fn an_unknown_route_is_a_404_problem(app: TestApp) {
        let res = app.get("/api/v1/nothing-here").await;
        let problem = res.problem(404);
        assert_eq!(problem["type"], "urn:newsdesk:problem:not-found");
    }
);

backend_test!(
    async fn a_wrong_method_is_a_405_problem_with_allow(app: TestApp) {
        let res = app.send(Method::DELETE, "/healthz").await;
        res.problem(405);
        assert_eq!(res.header("allow"), Some("GET, HEAD"));
    }
);
