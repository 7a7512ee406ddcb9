//! CORS for browser frontends: what a preflight may ask for, what answers expose, and
//! refusals that say what was refused.

use actix_web::http::header::HeaderName;
use actix_web::test::TestRequest;
use clap::Parser;
use newsdesk::cli::Cli;
use newsdesk::config::Config;
use newsdesk::db::DbUrl;

use crate::backend_test;
use crate::common::{TestApp, TestResponse};

const FRONTEND: &str = "https://news.example.vn";

/// The request headers browsers may send without `NEWSDESK_CORS_HEADERS`.
const DEFAULT_HEADERS: [&str; 6] = [
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "accept-language",
    "x-request-id",
];

fn frontend_only(c: &mut Config) {
    c.cors_origins = vec![FRONTEND.to_owned()];
}

async fn preflight(app: &TestApp, origin: &str, method: &str, headers: Option<&str>) -> TestResponse {
    let mut req = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/api/v1/admin/articles/1")
        .insert_header(("Origin", origin))
        .insert_header(("Access-Control-Request-Method", method));
    if let Some(headers) = headers {
        req = req.insert_header(("Access-Control-Request-Headers", headers));
    }
    app.call(req).await
}

/// The lower-cased names of a comma-separated header value.
fn names(res: &TestResponse, header: &str) -> Vec<String> {
    res.header(header)
        .unwrap_or_else(|| panic!("no {header}"))
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect()
}

backend_test!(
    config = frontend_only;
    async fn a_frontend_may_send_the_headers_it_needs(app: TestApp) {
        let res = preflight(
            &app,
            FRONTEND,
            "PATCH",
            Some("Authorization, Content-Type, If-Match, If-None-Match, Accept-Language, X-Request-Id"),
        )
        .await
        .expect(200);
        assert_eq!(res.header("access-control-allow-origin"), Some(FRONTEND));
        let allowed = names(&res, "access-control-allow-headers");
        for header in DEFAULT_HEADERS {
            assert!(allowed.iter().any(|h| h == header), "{header} in {allowed:?}");
        }
        assert!(names(&res, "access-control-allow-methods").iter().any(|m| m == "patch"));

        // The two a frontend trips over first, alone and in lower case.
        preflight(&app, FRONTEND, "GET", Some("x-request-id,accept-language")).await.expect(200);
    }
);

backend_test!(
    config = frontend_only;
    async fn answers_expose_what_a_frontend_reads(app: TestApp) {
        let res = app
            .call(TestRequest::get().uri("/api/v1/articles").insert_header(("Origin", FRONTEND)))
            .await
            .expect(200);
        assert_eq!(res.header("access-control-allow-origin"), Some(FRONTEND));
        let exposed = names(&res, "access-control-expose-headers");
        for header in ["etag", "x-request-id", "retry-after", "location", "content-language"] {
            assert!(exposed.iter().any(|h| h == header), "{header} in {exposed:?}");
        }

        // Errors too: a frontend reads the request id of a failure.
        let res = app
            .call(TestRequest::get().uri("/api/v1/articles/khong-co").insert_header(("Origin", FRONTEND)))
            .await;
        res.problem(404);
        assert_eq!(res.header("access-control-allow-origin"), Some(FRONTEND));
        assert!(names(&res, "access-control-expose-headers").iter().any(|h| h == "x-request-id"));

        // Another origin's page gets its answer, but no permission for a browser to read it.
        let res = app
            .call(TestRequest::get().uri("/api/v1/articles").insert_header(("Origin", "https://evil.example")))
            .await
            .expect(200);
        assert_eq!(res.header("access-control-allow-origin"), None);
    }
);

backend_test!(
    config = frontend_only;
    async fn a_refused_preflight_says_what_was_refused(app: TestApp) {
        let detail = |res: &TestResponse, status: u16| res.problem(status)["detail"].as_str().unwrap().to_owned();

        let res = preflight(&app, "https://evil.example", "GET", None).await;
        let said = detail(&res, 403);
        assert!(said.contains("origin https://evil.example"), "{said}");

        let res = preflight(&app, FRONTEND, "PUT", None).await;
        let said = detail(&res, 403);
        assert!(said.contains("method PUT"), "{said}");

        let res = preflight(&app, FRONTEND, "POST", Some("Content-Type, X-Api-Key")).await;
        let said = detail(&res, 403);
        assert!(said.contains("header x-api-key is not allowed"), "{said}");
        assert!(!said.contains("content-type is not"), "{said}");

        let res = preflight(&app, FRONTEND, "POST", Some("X-Api-Key, X-Tenant")).await;
        let said = detail(&res, 403);
        assert!(said.contains("headers x-api-key, x-tenant are not allowed"), "{said}");

        // Not a refusal but a malformed preflight: a 400, still a problem.
        let res = preflight(&app, FRONTEND, "POST", Some("not a header")).await;
        let said = detail(&res, 400);
        assert!(said.contains("Access-Control-Request-Headers"), "{said}");
    }
);

backend_test!(
    config = |c| {
        frontend_only(c);
        c.cors_headers = vec![
            HeaderName::from_static("authorization"),
            HeaderName::from_static("x-tenant"),
        ];
    };
    async fn the_allowed_request_headers_are_a_setting(app: TestApp) {
        preflight(&app, FRONTEND, "GET", Some("X-Tenant, Authorization")).await.expect(200);
        let res = preflight(&app, FRONTEND, "GET", Some("x-request-id")).await;
        let problem = res.problem(403);
        assert_eq!(
            problem["detail"],
            "CORS: the request header x-request-id is not allowed; allowed: authorization, x-tenant."
        );
    }
);

#[test]
fn newsdesk_cors_headers_is_read_and_checked() {
    let defaults = Config::for_database(DbUrl::parse("sqlite://unused.db").unwrap()).cors_headers;
    assert_eq!(
        defaults.iter().map(HeaderName::as_str).collect::<Vec<_>>(),
        DEFAULT_HEADERS
    );

    let parse = |value: &str| {
        Cli::parse_from(["newsdesk", "--cors-headers", value])
            .settings
            .validate()
    };
    let config = parse(" X-Tenant ,Authorization,,x-tenant").unwrap();
    assert_eq!(
        config
            .cors_headers
            .iter()
            .map(HeaderName::as_str)
            .collect::<Vec<_>>(),
        ["x-tenant", "authorization"]
    );
    let error = parse("Authorization,Bad Header").unwrap_err();
    assert_eq!(error.variable, "NEWSDESK_CORS_HEADERS");
    assert!(error.message.contains("Bad Header"), "{error}");
}
