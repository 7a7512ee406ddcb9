//! The reference reader page: routed only when enabled, the page and its two files with their
//! content types and caching headers. The page never touches the database, so these run on
//! SQLite only.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use clap::Parser;

use crate::common::{Backend, TestApp, TestAppBuilder};

async fn reader_app() -> TestApp {
    TestAppBuilder::new(Backend::Sqlite)
        .config(|c| c.reader = true)
        .build()
        .await
        .expect("SQLite is always available")
}

#[test]
fn the_reader_is_off_unless_asked_for() {
    let parse = |args: &[&str]| {
        newsdesk::cli::Cli::parse_from(args)
            .settings
            .validate()
            .unwrap()
            .reader
    };
    assert!(!parse(&["newsdesk"]));
    assert!(parse(&["newsdesk", "--reader", "on", "serve"]));
    assert!(!parse(&["newsdesk", "--reader", "off"]));
}

#[actix_web::test]
async fn without_the_reader_the_root_is_an_unrouted_404() {
    let app = TestApp::sqlite().await;
    for path in [
        "/",
        "/articles/tich-cuc-cai-cach",
        "/reader/reader.js",
        "/reader/style.css",
    ] {
        let problem = app.get(path).await.problem(404);
        assert_eq!(problem["type"], "urn:newsdesk:problem:not-found", "{path}");
    }
}

#[actix_web::test]
async fn the_page_is_served_at_the_root_and_at_every_article_path() {
    let app = reader_app().await;
    for path in ["/", "/articles/tich-cuc-cai-cach", "/articles/khong-co-bai-nay"] {
        let res = app.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(res.header("cache-control"), Some("no-cache"));
        assert!(res.header("etag").is_some());
        let html = res.text();
        assert!(html.contains(r#"<html lang="vi">"#));
        assert!(html.contains(r#"src="/reader/reader.js""#));
        assert!(html.contains(r#"href="/reader/style.css""#));
        assert!(html.contains("Lấy lại mã bảo mật"));
    }
}

#[actix_web::test]
async fn the_policy_of_the_page_lets_the_captcha_picture_show() {
    let app = reader_app().await;
    let res = app.get("/").await;
    let csp = res.header("content-security-policy").unwrap();
    let img_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("img-src "))
        .unwrap_or_else(|| panic!("no img-src in {csp}"));
    assert!(img_src.split(' ').any(|s| s == "data:"), "{img_src}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
}

#[actix_web::test]
async fn the_script_and_the_style_have_their_content_types() {
    let app = reader_app().await;
    for (path, content_type, marker) in [
        (
            "/reader/reader.js",
            "text/javascript; charset=utf-8",
            "// @ts-check",
        ),
        ("/reader/style.css", "text/css; charset=utf-8", ".comment-form"),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(res.header("content-type"), Some(content_type), "{path}");
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(res.header("cache-control"), Some("no-cache"), "{path}");
        assert!(res.text().contains(marker), "{path}");
    }
}

#[actix_web::test]
async fn a_browser_revalidating_its_copy_gets_304() {
    let app = reader_app().await;
    for path in ["/", "/reader/reader.js", "/reader/style.css"] {
        let first = app.get(path).await;
        let etag = first.header("etag").unwrap().to_owned();
        let again = app
            .call(
                TestRequest::get()
                    .uri(path)
                    .insert_header(("If-None-Match", etag.clone())),
            )
            .await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
    }
}

#[actix_web::test]
async fn head_answers_like_get() {
    let app = reader_app().await;
    for path in [
        "/",
        "/articles/tich-cuc-cai-cach",
        "/reader/reader.js",
        "/reader/style.css",
    ] {
        let get = app.get(path).await;
        let head = app.send(Method::HEAD, path).await;
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(head.header("content-type"), get.header("content-type"), "{path}");
        assert_eq!(head.header("etag"), get.header("etag"), "{path}");
    }
}

#[actix_web::test]
async fn api_routes_and_unknown_paths_keep_their_answers_with_the_reader_on() {
    let app = reader_app().await;
    app.get("/api/v1/articles").await.expect(200);
    app.get("/api/v1/articles/khong-co-bai-nay").await.problem(404);
    app.get("/khong-co-trang-nay").await.problem(404);
    app.get("/articles/").await.problem(404);
    app.send(Method::POST, "/").await.problem(405);
}

/// `serve --demo` turns the reader on, over real HTTP: HEAD gets the headers without the page.
#[test]
fn serve_demo_serves_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = crate::common::binary::serve(dir.path(), &["--demo"], &[]);
    let http = |method, path| crate::common::receiver::http(port, method, path, None, None);
    let page = http("GET", "/");
    let head = http("HEAD", "/articles/tich-cuc-cai-cach");
    server.kill().unwrap();
    server.wait().unwrap();

    let (status, body) = page.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains(r#"<html lang="vi">"#));
    let (status, body) = head.unwrap();
    assert_eq!(status, 200);
    assert!(body.is_empty(), "HEAD sent a body: {body}");
}
