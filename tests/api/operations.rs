use crate::backend_test;
use crate::common::{Backend, TestAppBuilder};

backend_test!(
    async fn healthz_says_ok_without_touching_the_database(app: TestApp) {
        let res = app.get("/healthz").await.expect(200);
        assert_eq!(res.json(), serde_json::json!({"data": {"status": "ok"}}));
        assert_eq!(res.header("cache-control"), Some("no-store"));
    }
);

backend_test!(
    async fn readyz_names_the_database_it_reached(app: TestApp) {
        let res = app.get("/readyz").await.expect(200);
        let expected = match app.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert_eq!(res.data()["database"], expected);
        assert_eq!(res.data()["status"], "ready");
    }
);

backend_test!(
    async fn every_response_carries_a_request_id(app: TestApp) {
        let ok = app.get("/healthz").await;
        let missing = app.get("/no/such/thing").await;
        let a = ok.header("x-request-id").expect("id on a 200");
        let b = missing.header("x-request-id").expect("id on a 404");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b, "each request gets its own id");
    }
);

backend_test!(
    async fn a_plain_request_id_from_the_caller_is_kept_and_a_hostile_one_replaced(app: TestApp) {
        let kept = app
            .call(
                actix_web::test::TestRequest::get()
                    .uri("/healthz")
                    .insert_header(("X-Request-Id", "lb-42.a_b")),
            )
            .await;
        assert_eq!(kept.header("x-request-id"), Some("lb-42.a_b"));

        let hostile = "<script>alert(1)</script>";
        let replaced = app
            .call(
                actix_web::test::TestRequest::get()
                    .uri("/healthz")
                    .insert_header(("X-Request-Id", hostile)),
            )
            .await;
        let id = replaced.header("x-request-id").unwrap();
        assert_ne!(id, hostile);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
);

backend_test!(
    async fn metrics_count_requests_by_route_pattern_and_report_the_pool(app: TestApp) {
        app.get("/healthz").await;
        app.get("/healthz").await;
        app.get("/definitely/not/a/route").await;
        let res = app.get("/metrics").await.expect(200);
        assert!(res.header("content-type").unwrap().starts_with("text/plain"));
        let text = res.text();
        let healthz = text
            .lines()
            .find(|l| {
                l.starts_with("newsdesk_http_requests_total{")
                    && l.contains("endpoint=\"/healthz\"")
                    && l.contains("status=\"200\"")
            })
            .unwrap_or_else(|| panic!("no /healthz counter in:\n{text}"));
        assert!(healthz.ends_with(" 2"), "{healthz}");
        assert!(
            text.contains("endpoint=\"UNMATCHED\""),
            "unknown paths share one series"
        );
        assert!(
            !text.contains("/definitely/not/a/route"),
            "raw paths never become labels"
        );
        assert!(text.contains("newsdesk_http_requests_duration_seconds_bucket{"));
        assert!(text.contains("newsdesk_db_pool_max_connections 4"), "{text}");
        assert!(text.contains("newsdesk_db_pool_connections "));
    }
);

backend_test!(
    async fn swagger_ui_is_served_from_the_binary(app: TestApp) {
        let redirect = app.get("/docs").await.expect(308);
        assert_eq!(redirect.header("location"), Some("/docs/"));

        let page = app.get("/docs/").await.expect(200);
        assert!(page.text().contains("swagger-ui"), "{}", page.text());
        let bundle = app.get("/docs/swagger-ui-bundle.js").await.expect(200);
        assert!(bundle.body.len() > 100_000, "the bundle itself, not a CDN link");
        let init = app.get("/docs/swagger-initializer.js").await;
        assert!(init.text().contains("/openapi.json"), "{}", init.text());
    }
);

#[actix_web::test]
async fn browsers_get_cors_headers_only_for_configured_origins() {
    let app = TestAppBuilder::new(Backend::Sqlite)
        .config(|c| c.cors_origins = vec!["https://portal.example.vn".into()])
        .build()
        .await
        .unwrap();
    let preflight = app
        .call(
            actix_web::test::TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/healthz")
                .insert_header(("Origin", "https://portal.example.vn"))
                .insert_header(("Access-Control-Request-Method", "GET")),
        )
        .await
        .expect(200);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://portal.example.vn")
    );

    let allowed = app
        .call(
            actix_web::test::TestRequest::get()
                .uri("/healthz")
                .insert_header(("Origin", "https://portal.example.vn")),
        )
        .await
        .expect(200);
    assert!(
        allowed
            .header("access-control-expose-headers")
            .unwrap()
            .contains("x-request-id")
    );

    let refused = app
        .call(
            actix_web::test::TestRequest::get()
                .uri("/healthz")
                .insert_header(("Origin", "https://evil.example")),
        )
        .await;
    // Answered (servers may send any Origin), but without the header a browser needs to
    // hand the response to the page.
    assert_eq!(refused.status, 200);
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

/// `NEWSDESK_SQLITE_MMAP_MB`: pooled SQLite connections map that much of the file, and pages
/// read through the map are the ones written through the connections.
#[actix_web::test]
async fn sqlite_connections_map_the_file_when_asked() {
    use diesel::RunQueryDsl;
    use newsdesk::auth::Role;
    #[derive(diesel::QueryableByName)]
    struct MmapSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }
    let app = TestAppBuilder::new(Backend::Sqlite)
        .config(|c| c.sqlite_mmap_bytes = 64 << 20)
        .build()
        .await
        .unwrap();
    let editor = app.user(Role::Editor).await;
    let body = "Đoạn văn bản dài để trang vượt qua một trang của tệp. ".repeat(200);
    let (_, slug) = app
        .published_article(
            &editor,
            serde_json::json!({"title": "Bản đồ bộ nhớ", "body": body}),
        )
        .await;
    let page = app
        .get(&format!("/api/v1/articles/{slug}"))
        .await
        .expect(200)
        .data();
    assert_eq!(page["title"], "Bản đồ bộ nhớ");
    assert!(page["body_html"].as_str().unwrap().contains("vượt qua"));
    let sizes = app
        .state
        .db
        .run(|conn| Ok(diesel::sql_query("PRAGMA mmap_size").load::<MmapSize>(conn)?))
        .await
        .unwrap();
    assert_eq!(sizes.iter().map(|s| s.mmap_size).collect::<Vec<_>>(), [64 << 20]);
}
