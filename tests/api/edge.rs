//! The HTTP edge: `HEAD` on every `GET` route, metric labels that clients cannot multiply,
//! the metrics token, and what a real server answers over TCP to requests that are slow,
//! too large or malformed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;
use crate::common::binary::{newsdesk, serve, stop};
use crate::common::{Backend, TestAppBuilder};

backend_test!(
    async fn head_answers_every_get_route_with_its_headers_and_no_body(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = app
            .published_article(&editor, json!({"title": "Đầu trang", "body": "Nội dung."}))
            .await;
        let article = format!("/api/v1/articles/{slug}");
        for path in [
            "/healthz",
            "/api/v1/articles",
            &article,
            "/feed.xml",
            "/sitemap.xml",
        ] {
            let get = app.get(path).await;
            let head = app.send(Method::HEAD, path).await;
            assert_eq!(get.status, 200, "GET {path}: {}", get.text());
            assert_eq!(head.status, get.status, "HEAD {path}");
            assert!(!get.body.is_empty(), "GET {path} has a body");
            assert!(head.body.is_empty(), "HEAD {path} has none: {}", head.text());
            let headers = |res: &crate::common::TestResponse| {
                let mut all: Vec<(String, String)> = res
                    .headers
                    .iter()
                    .filter(|(name, _)| name.as_str() != "x-request-id")
                    .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                    .collect();
                all.sort();
                all
            };
            assert_eq!(headers(&head), headers(&get), "HEAD {path} headers");
            if path != "/healthz" {
                assert!(head.header("etag").is_some(), "HEAD {path} has the ETag");
            }
        }
        let missing = app
            .send(Method::HEAD, "/api/v1/articles/khong-co-bai-nay")
            .await
            .expect(404);
        assert!(missing.body.is_empty());
    }
);

backend_test!(
    async fn a_405_lists_head_wherever_it_lists_get(app: TestApp) {
        let res = app.send(Method::DELETE, "/api/v1/articles").await;
        res.problem(405);
        let allow = res.header("allow").unwrap();
        let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
        assert!(methods.contains(&"GET") && methods.contains(&"HEAD"), "{allow}");

        let login_only = app.send(Method::GET, "/api/v1/auth/login").await;
        login_only.problem(405);
        assert_eq!(login_only.header("allow"), Some("POST"), "no HEAD without GET");
    }
);

/// Lines of the request counter, one per series.
fn request_series(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("newsdesk_http_requests_total{"))
        .collect()
}

backend_test!(
    async fn invented_methods_and_paths_cannot_add_metric_series(app: TestApp) {
        let bogus = |i: usize| {
            let method = Method::from_bytes(format!("XQWERTY{i}").as_bytes()).unwrap();
            TestRequest::default().method(method).uri("/healthz")
        };
        for i in 0..3 {
            app.call(bogus(i)).await;
            app.get(&format!("/scan/{i}/wp-login.php")).await;
            app.send(Method::POST, &format!("/scan/{i}")).await;
        }
        let before = app.get("/metrics").await.text();
        let series = request_series(&before).len();
        assert!(
            before.contains(r#"method="OTHER""#),
            "unknown methods share one label: {before}"
        );

        for i in 3..500 {
            let res = app.call(bogus(i)).await;
            res.problem(405);
            app.get(&format!("/scan/{i}/wp-login.php")).await.problem(404);
            app.send(Method::POST, &format!("/scan/{i}")).await.problem(404);
        }
        let after = app.get("/metrics").await.text();
        let grown: Vec<&str> = request_series(&after)
            .into_iter()
            .filter(|l| {
                let labels = l.rsplit_once(' ').unwrap().0;
                !before.contains(labels)
            })
            .collect();
        // Scrapes of /metrics are not counted, so nothing at all is new.
        assert!(grown.is_empty(), "new series: {grown:#?}");
        assert_eq!(request_series(&after).len(), series);
        assert!(!after.contains("XQWERTY"));
        assert!(!after.contains("wp-login"));
        let other = request_series(&after)
            .into_iter()
            .find(|l| l.contains(r#"method="OTHER""#) && l.contains(r#"endpoint="/healthz""#))
            .unwrap();
        assert!(other.ends_with(" 500"), "{other}");
    }
);

const METRICS_TOKEN: &str = "prom-scraper-3f9a1c2b7d";

backend_test!(
    config = |c| c.metrics_token = Some(METRICS_TOKEN.into());
    async fn a_metrics_token_keeps_metrics_from_anyone_without_it(app: TestApp) {
        let bare = app.get("/metrics").await;
        let problem = bare.problem(401);
        assert_eq!(problem["code"], "auth.token_missing");
        assert_eq!(bare.header("www-authenticate"), Some("Bearer"));
        assert!(!bare.text().contains("newsdesk_http"));

        let with = |value: String| TestRequest::get().uri("/metrics").insert_header(("Authorization", value));
        let wrong = app.call(with(format!("Bearer {METRICS_TOKEN}x"))).await;
        assert_eq!(wrong.problem(401)["code"], "auth.token_invalid");
        let prefix = app.call(with("Bearer prom-scraper".into())).await;
        assert_eq!(prefix.problem(401)["code"], "auth.token_invalid");
        let basic = app.call(with(format!("Basic {METRICS_TOKEN}"))).await;
        assert_eq!(basic.problem(401)["code"], "auth.bearer_required");

        let right = app.call(with(format!("Bearer {METRICS_TOKEN}"))).await.expect(200);
        assert!(right.text().contains("newsdesk_db_pool_max_connections"));
        app
            .call(
                TestRequest::default()
                    .method(Method::HEAD)
                    .uri("/metrics")
                    .insert_header(("Authorization", format!("Bearer {METRICS_TOKEN}"))),
            )
            .await
            .expect(200);

        // The other probes stay open to load balancers.
        app.get("/healthz").await.expect(200);
    }
);

#[actix_web::test]
async fn without_a_token_metrics_stay_public() {
    let app = TestAppBuilder::new(Backend::Sqlite).build().await.unwrap();
    app.get("/metrics").await.expect(200);
}

#[test]
fn a_short_or_spaced_metrics_token_stops_the_start() {
    use clap::Parser;
    for bad in ["short", "has a space in it ok"] {
        let cli = newsdesk::cli::Cli::parse_from(["newsdesk", "--metrics-token", bad]);
        let err = cli.settings.validate().unwrap_err();
        assert_eq!(err.variable, "NEWSDESK_METRICS_TOKEN");
    }
}

/// Sends `request` as is, then reads until the server closes the connection (or 15 s pass);
/// returns the status, the headers (lower-case names) and the body.
fn exchange(port: u16, request: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    stream.write_all(request).unwrap();
    read_answer(&mut stream)
}

fn read_answer(stream: &mut TcpStream) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A reset after the answer (the server closed with unread bytes) ends it too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !raw.is_empty() => break,
            Err(e) => panic!(
                "reading the answer: {e}; got so far {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn over_tcp_a_slow_body_is_cut_with_a_408_problem_and_head_keeps_content_length() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = serve(dir.path(), &[], &[("NEWSDESK_BODY_TIMEOUT", "1")]);

    // Headers at once, then a body that never completes.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let started = Instant::now();
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\"",
        )
        .unwrap();
    let (status, headers, body) = read_answer(&mut stream);
    let waited = started.elapsed();
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&body));
    assert!(
        waited >= Duration::from_millis(900),
        "cut after the deadline, not before: {waited:?}"
    );
    assert_eq!(header(&headers, "content-type"), Some("application/problem+json"));
    assert_eq!(header(&headers, "connection"), Some("close"));
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "request.timeout");

    // A body that arrives in time is unaffected.
    let login = br#"{"email":"nobody@example.vn","password":"sai mat khau"}"#;
    let mut request = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        login.len()
    )
    .into_bytes();
    request.extend_from_slice(login);
    assert_eq!(exchange(port, &request).0, 401);

    // HEAD over the wire: the GET answer's Content-Length and ETag, no body.
    let (get_status, get_headers, get_body) = exchange(
        port,
        b"GET /feed.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    let (head_status, head_headers, head_body) = exchange(
        port,
        b"HEAD /feed.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((get_status, head_status), (200, 200));
    assert!(head_body.is_empty());
    assert_eq!(
        header(&head_headers, "content-length"),
        Some(get_body.len().to_string().as_str())
    );
    assert_eq!(header(&head_headers, "etag"), header(&get_headers, "etag"));

    // Too large a declared body: refused at once and the connection closed, whatever follows.
    let (status, headers, body) = exchange(
        port,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 100000000\r\n\r\n{",
    );
    assert_eq!(status, 413);
    assert_eq!(header(&headers, "connection"), Some("close"));
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "body.too_large");
    stop(server);
}

/// What the HTTP layer answers before any middleware runs (docs/API.md lists these): no body
/// and the connection closed, so nothing of the request is read further.
#[test]
fn over_tcp_malformed_and_oversized_requests_are_refused_before_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = serve(dir.path(), &[], &[]);

    let (status, headers, body) = exchange(port, b"GARBAGE\r\n\r\n");
    assert_eq!(status, 400);
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert!(body.is_empty());

    let mut many = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n".to_vec();
    for i in 0..200 {
        many.extend_from_slice(format!("X-Filler-{i}: a\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let (status, headers, _) = exchange(port, &many);
    assert_eq!(status, 431);
    assert_eq!(header(&headers, "connection"), Some("close"));

    // The method as sent does not matter to the answer: an invented one is a 405 problem.
    let (status, headers, body) = exchange(
        port,
        b"XQWERTY /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 405);
    assert_eq!(header(&headers, "allow"), Some("GET, HEAD"));
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "request.method_not_allowed");
    stop(server);
}

#[test]
fn over_tcp_a_large_answer_arrives_whole_with_its_length_from_the_database_and_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    // About 80 KB of sitemap, past the size handed to the connection in slices.
    let lines: String = (1..=700)
        .map(|i| {
            let line = json!({"title": format!("Bài số {i} về cải cách hành chính"), "status": "published"});
            format!("{line}\n")
        })
        .collect();
    std::fs::write(dir.path().join("bai.jsonl"), lines).unwrap();
    let out = newsdesk(dir.path())
        .args(["import", "bai.jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (server, port) = serve(dir.path(), &[], &[]);
    for round in ["built", "kept"] {
        let (status, headers, body) = exchange(
            port,
            b"GET /sitemap.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(status, 200, "{round}");
        assert!(body.len() > 64 * 1024, "{round}: {} bytes", body.len());
        assert_eq!(
            header(&headers, "content-length"),
            Some(body.len().to_string().as_str()),
            "{round}"
        );
        let xml = String::from_utf8(body).unwrap();
        assert_eq!(xml.matches("<url>").count(), 700, "{round}");
        assert!(xml.ends_with("</urlset>\n"), "{round}");
    }
    stop(server);
}
