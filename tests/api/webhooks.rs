//! Webhooks: management, signed deliveries, retries, and delivery across process ends.

use std::time::Duration;

use actix_web::http::Method;
use hmac::{Hmac, KeyInit, Mac};
use newsdesk::auth::Role;
use newsdesk::webhooks::worker::{deliver_due, deliver_due_at};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::backend_test;
use crate::common::receiver::Receiver;
use crate::common::{TestApp, TestUser};

const SECRET: &str = "bí mật của cổng thông tin";
const ALL: [&str; 5] = [
    "article.published",
    "article.updated",
    "article.unpublished",
    "comment.created",
    "comment.approved",
];

async fn subscribe(app: &TestApp, admin: &TestUser, url: &str, events: &[&str]) -> i64 {
    let res = app
        .as_user(
            &admin.access_token,
            Method::POST,
            "/api/v1/admin/webhooks",
            Some(&json!({"url": url, "events": events, "secret": SECRET})),
        )
        .await
        .expect(201);
    res.data()["id"].as_i64().unwrap()
}

fn expected_signature(body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn deliveries(app: &TestApp, admin: &TestUser, webhook: i64) -> Vec<Value> {
    let res = app
        .get_as(
            &admin.access_token,
            &format!("/api/v1/admin/webhooks/{webhook}/deliveries?per_page=100"),
        )
        .await
        .expect(200);
    res.data().as_array().unwrap().clone()
}

/// A receiver, an admin, and a webhook of theirs sending `events` to the receiver.
async fn hooked(app: &TestApp, events: &[&str]) -> (Receiver, TestUser, i64) {
    let receiver = Receiver::start();
    let admin = app.user(Role::Admin).await;
    let webhook = subscribe(app, &admin, &receiver.url, events).await;
    (receiver, admin, webhook)
}

/// When the next attempt is due, as shown: to the second, so up to a second before it is due.
fn next_attempt(delivery: &Value) -> chrono::DateTime<chrono::Utc> {
    serde_json::from_value(delivery["next_attempt_at"].clone()).unwrap()
}

/// Sends what is due now; returns the attempts made.
async fn deliver(app: &TestApp) -> usize {
    deliver_due(&app.state).await.unwrap()
}

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn webhooks_are_managed_by_admins_and_their_secret_is_shown_once(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let res = app
            .as_user(
                &admin.access_token,
                Method::POST,
                "/api/v1/admin/webhooks",
                Some(&json!({"url": "http://127.0.0.1:9/hook", "events": ["article.published"],
                    "description": "Dựng lại trang chủ"})),
            )
            .await
            .expect(201);
        let created = res.data();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(res.header("Location"), Some(format!("/api/v1/admin/webhooks/{id}").as_str()));
        let secret = created["secret"].as_str().unwrap();
        assert_eq!(secret.len(), 64, "a generated secret is 32 random bytes");
        assert_eq!(created["events"], json!(["article.published"]));
        assert_eq!(created["active"], true);

        let listed = app.get_as(&admin.access_token, "/api/v1/admin/webhooks").await.expect(200);
        assert_eq!(listed.json()["meta"]["total"], 1);
        assert!(!listed.text().contains(secret), "listing never shows the secret");
        let one = app
            .get_as(&admin.access_token, &format!("/api/v1/admin/webhooks/{id}"))
            .await;
        assert!(one.data().get("secret").is_none());

        let path = format!("/api/v1/admin/webhooks/{id}");
        let res = app
            .as_user(
                &admin.access_token,
                Method::PATCH,
                &path,
                Some(&json!({"events": ["comment.created", "article.updated", "comment.created"], "active": false})),
            )
            .await
            .expect(200);
        assert_eq!(res.data()["events"], json!(["article.updated", "comment.created"]));
        assert_eq!(res.data()["active"], false);
        assert!(res.data().get("secret").is_none());
        let res = app
            .as_user(
                &admin.access_token,
                Method::PATCH,
                &path,
                Some(&json!({"secret": "một bí mật mới đủ dài"})),
            )
            .await;
        assert_eq!(res.data()["secret"], "một bí mật mới đủ dài");

        for role in [Role::Editor, Role::Author, Role::Contributor, Role::Moderator] {
            let user = app.user(role).await;
            app.get_as(&user.access_token, "/api/v1/admin/webhooks").await.expect(403);
            let res = app
                .as_user(&user.access_token, Method::DELETE, &path, None)
                .await;
            res.problem(403);
        }
        app.get("/api/v1/admin/webhooks").await.expect(401);

        app.as_user(&admin.access_token, Method::DELETE, &path, None).await.expect(204);
        app.get_as(&admin.access_token, &path).await.problem(404);
        app.as_user(&admin.access_token, Method::DELETE, &path, None)
            .await
            .problem(404);
    }
);

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn invalid_webhooks_are_refused_field_by_field(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        for (body, field) in [
            (json!({"url": "ftp://example.vn/x", "events": ["article.published"]}), "url"),
            (json!({"url": "https://u:p@example.vn/x", "events": ["article.published"]}), "url"),
            (json!({"url": "https://example.vn/x", "events": []}), "events"),
            (json!({"url": "https://example.vn/x", "events": ["article.published"], "secret": "ngắn"}), "secret"),
        ] {
            let res = app
                .as_user(&admin.access_token, Method::POST, "/api/v1/admin/webhooks", Some(&body))
                .await;
            let problem = res.problem(422);
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
        }
        let res = app
            .as_user(
                &admin.access_token,
                Method::POST,
                "/api/v1/admin/webhooks",
                Some(&json!({"url": "https://example.vn/x", "events": ["article.deleted"]})),
            )
            .await;
        assert!(res.status == 400 || res.status == 422, "{}", res.status);
        res.problem(res.status.as_u16());
        let listed = app.get_as(&admin.access_token, "/api/v1/admin/webhooks").await;
        assert_eq!(listed.json()["meta"]["total"], 0, "nothing was stored");
    }
);

backend_test!(
    async fn private_and_loopback_targets_are_refused_by_default(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.0.0.5/hook",
            "http://192.168.1.10/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
        ] {
            let res = app
                .as_user(
                    &admin.access_token,
                    Method::POST,
                    "/api/v1/admin/webhooks",
                    Some(&json!({"url": url, "events": ["article.published"]})),
                )
                .await;
            let problem = res.problem(422);
            assert_eq!(problem["errors"][0]["field"], "url", "{url}");
        }
        // A public address is accepted (nothing is sent until an event happens).
        let id = subscribe(&app, &admin, "https://203.113.0.9/hook", &["article.published"]).await;
        let path = format!("/api/v1/admin/webhooks/{id}");
        let res = app
            .as_user(
                &admin.access_token,
                Method::PATCH,
                &path,
                Some(&json!({"url": "http://127.0.0.1/x"})),
            )
            .await;
        res.problem(422);
    }
);

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn a_delivery_is_signed_and_describes_its_event(app: TestApp) {
        let (receiver, admin, webhook) = hooked(&app, &ALL).await;
        let editor = app.user(Role::Editor).await;
        let (id, slug) = app
            .published_article(&editor, json!({"title": "Tích cực cải cách hành chính", "body": "Nội dung."}))
            .await;

        assert_eq!(deliver(&app).await, 1);
        let got = receiver.wait_for(1, Duration::from_secs(5));
        let request = &got[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hooks/newsdesk");
        assert_eq!(request.header("Content-Type"), "application/json");
        assert_eq!(request.event(), "article.published");
        assert_eq!(request.header("X-Newsdesk-Signature"), expected_signature(&request.body));
        let sent_at: i64 = request.header("X-Newsdesk-Timestamp").parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 60);
        let body = request.json();
        assert_eq!(body["event"], "article.published");
        assert!(chrono::DateTime::parse_from_rfc3339(body["occurred_at"].as_str().unwrap()).is_ok());
        assert_eq!(body["data"]["id"], id);
        assert_eq!(body["data"]["slug"], slug);
        assert_eq!(body["data"]["title"], "Tích cực cải cách hành chính");
        assert_eq!(body["data"]["status"], "published");

        let list = deliveries(&app, &admin, webhook).await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["id"], request.delivery());
        assert_eq!(list[0]["status"], "delivered");
        assert_eq!(list[0]["attempts"], 1);
        assert_eq!(list[0]["last_status_code"], 200);
        assert_eq!(list[0]["attempt_log"][0]["status_code"], 200);
        assert_eq!(list[0]["payload"], body);

        // A forged signature is told apart: the receiver's check depends on the secret.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"another secret").unwrap();
        mac.update(request.body.as_bytes());
        assert_ne!(
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
            request.header("X-Newsdesk-Signature")
        );
    }
);

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn each_article_change_fires_its_event_exactly_once(app: TestApp) {
        let (receiver, _, _) = hooked(&app, &ALL).await;
        let editor = app.user(Role::Editor).await;
        let token = editor.access_token.clone();
        let res = app
            .as_user(&token, Method::POST, "/api/v1/admin/articles", Some(&json!({"title": "Bản nháp", "body": "A"})))
            .await;
        let id = res.data()["id"].as_i64().unwrap();
        let article = format!("/api/v1/admin/articles/{id}");
        let patch = |version: i64, body: &str| json!({"version": version, "body": body});
        // A draft changes: readers see nothing, so nobody hears of it.
        app.as_user(&token, Method::PATCH, &article, Some(&patch(1, "B"))).await;
        let publish = format!("{article}/publish");
        app.as_user(&token, Method::POST, &publish, None).await.expect(200);
        // Publishing twice is a 409 and fires nothing.
        app.as_user(&token, Method::POST, &publish, None).await.problem(409);
        app.as_user(&token, Method::PATCH, &article, Some(&patch(2, "C"))).await.expect(200);
        // A stale edit is refused and fires nothing.
        app.as_user(&token, Method::PATCH, &article, Some(&patch(2, "D"))).await.problem(409);
        let unpublish = format!("{article}/unpublish");
        app.as_user(&token, Method::POST, &unpublish, None).await.expect(200);
        app.as_user(&token, Method::POST, &publish, None).await.expect(200);
        app.as_user(&token, Method::DELETE, &article, None).await.expect(204);
        // Scheduled, then published by the scheduler: once, however often it runs.
        let res = app
            .as_user(&token, Method::POST, "/api/v1/admin/articles", Some(&json!({"title": "Hẹn giờ", "body": "E"})))
            .await;
        let scheduled = res.data()["id"].as_i64().unwrap();
        let soon = chrono::Utc::now() + chrono::Duration::milliseconds(300);
        let res = app
            .as_user(
                &token,
                Method::POST,
                &format!("/api/v1/admin/articles/{scheduled}/publish"),
                Some(&json!({"publish_at": soon})),
            )
            .await;
        assert_eq!(res.data()["status"], "scheduled");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while newsdesk::workers::run_scheduler(&app.state).await.unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "the scheduler never published");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(newsdesk::workers::run_scheduler(&app.state).await.unwrap().is_empty());

        assert_eq!(deliver(&app).await, 6);
        assert_eq!(deliver(&app).await, 0, "delivered events are not sent again");
        let mut got = receiver.wait_for(6, Duration::from_secs(5));
        got.sort_by_key(|r| r.delivery());
        let events: Vec<(String, i64)> = got
            .iter()
            .map(|r| (r.event(), r.data()["id"].as_i64().unwrap()))
            .collect();
        let expected = [
            ("article.published", id),
            ("article.updated", id),
            ("article.unpublished", id),
            ("article.published", id),
            ("article.unpublished", id),
            ("article.published", scheduled),
        ];
        assert_eq!(
            events,
            expected.map(|(e, i)| (e.to_owned(), i)).to_vec(),
            "exactly these, in the order of the changes"
        );
        assert_eq!(got[1].data()["version"], 3, "the event shows the change");
        assert_eq!(got[4].data()["status"], "archived");
    }
);

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn only_subscribed_active_webhooks_receive_an_event(app: TestApp) {
        let (a, b, c) = (Receiver::start(), Receiver::start(), Receiver::start());
        let admin = app.user(Role::Admin).await;
        subscribe(&app, &admin, &a.url, &["article.published"]).await;
        subscribe(&app, &admin, &b.url, &["comment.created"]).await;
        let off = subscribe(&app, &admin, &c.url, &["article.published"]).await;
        app
            .as_user(
                &admin.access_token,
                Method::PATCH,
                &format!("/api/v1/admin/webhooks/{off}"),
                Some(&json!({"active": false})),
            )
            .await
            .expect(200);
        let editor = app.user(Role::Editor).await;
        app.published_article(&editor, json!({"title": "Một sự kiện", "body": "X"}))
            .await;
        assert_eq!(deliver(&app).await, 1);
        assert_eq!(a.wait_for(1, Duration::from_secs(5)).len(), 1);
        assert!(b.received().is_empty());
        assert!(c.received().is_empty());

        // Paused after an event was queued: it waits, and goes out when resumed.
        let on = subscribe(&app, &admin, &c.url, &["article.published"]).await;
        app.published_article(&editor, json!({"title": "Tạm dừng", "body": "Y"}))
            .await;
        let pause = |active: bool| json!({ "active": active });
        let path = format!("/api/v1/admin/webhooks/{on}");
        let res = app
            .as_user(&admin.access_token, Method::PATCH, &path, Some(&pause(false)))
            .await;
        assert_eq!(res.data()["pending"], 1);
        assert_eq!(deliver(&app).await, 1, "only the first webhook's");
        assert!(c.received().is_empty());
        app.as_user(&admin.access_token, Method::PATCH, &path, Some(&pause(true)))
            .await;
        assert_eq!(deliver(&app).await, 1);
        assert_eq!(c.wait_for(1, Duration::from_secs(5))[0].data()["title"], "Tạm dừng");
    }
);

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn a_failing_receiver_is_retried_with_back_off_until_it_answers(app: TestApp) {
        let (receiver, admin, webhook) = hooked(&app, &["article.published"]).await;
        receiver.answer(500);
        let editor = app.user(Role::Editor).await;
        app.published_article(&editor, json!({"title": "Thử lại", "body": "X"}))
            .await;

        assert_eq!(deliver(&app).await, 1);
        let list = deliveries(&app, &admin, webhook).await;
        assert_eq!(list[0]["status"], "pending");
        assert_eq!(list[0]["attempts"], 1);
        assert_eq!(list[0]["last_status_code"], 500);
        assert!(list[0]["last_error"].as_str().unwrap().contains("500"));
        let next = next_attempt(&list[0]);
        let wait = next - chrono::Utc::now();
        assert!(
            wait > chrono::Duration::seconds(15) && wait < chrono::Duration::seconds(25),
            "the first retry waits about 20 s, not {wait}"
        );
        assert_eq!(deliver(&app).await, 0, "not due yet");

        // The second failure waits twice as long.
        let later = newsdesk::db::now() + chrono::Duration::seconds(30);
        assert_eq!(deliver_due_at(&app.state, later).await.unwrap(), 1);
        let list = deliveries(&app, &admin, webhook).await;
        let next = next_attempt(&list[0]);
        let wait = next.naive_utc() - chrono::SubsecRound::trunc_subsecs(later, 0);
        assert!(wait >= chrono::Duration::seconds(40) && wait < chrono::Duration::seconds(45), "{wait}");

        receiver.answer(200);
        let later = later + chrono::Duration::minutes(5);
        assert_eq!(deliver_due_at(&app.state, later).await.unwrap(), 1);
        let got = receiver.wait_for(3, Duration::from_secs(5));
        assert!(got.iter().all(|r| r.delivery() == got[0].delivery()), "one delivery id");
        assert!(got.iter().all(|r| r.body == got[0].body), "the same body every time");
        assert!(got.iter().all(|r| r.header("X-Newsdesk-Signature") == expected_signature(&r.body)));
        let list = deliveries(&app, &admin, webhook).await;
        assert_eq!(list[0]["status"], "delivered");
        assert_eq!(list[0]["attempts"], 3);
        let codes: Vec<Value> = list[0]["attempt_log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status_code"].clone())
            .collect();
        assert_eq!(codes, [json!(500), json!(500), json!(200)]);
        assert!(list[0]["next_attempt_at"].is_null());
        let metrics = app.get("/metrics").await.text();
        assert!(metrics.contains(r#"newsdesk_webhook_attempts_total{outcome="retry"} 2"#), "{metrics}");
        assert!(metrics.contains(r#"newsdesk_webhook_attempts_total{outcome="delivered"} 1"#));
    }
);

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn a_delivery_is_given_up_after_about_a_day_and_can_be_sent_again(app: TestApp) {
        let (receiver, admin, webhook) = hooked(&app, &["article.published"]).await;
        receiver.answer(503);
        let editor = app.user(Role::Editor).await;
        app.published_article(&editor, json!({"title": "Bỏ cuộc", "body": "X"}))
            .await;
        let start = newsdesk::db::now();
        let mut at = start;
        let mut attempts = 0;
        loop {
            let made = deliver_due_at(&app.state, at).await.unwrap();
            attempts += made;
            let list = deliveries(&app, &admin, webhook).await;
            if list[0]["status"] == "failed" {
                break;
            }
            assert!(attempts < 30, "never gave up");
            at = next_attempt(&list[0]).naive_utc() + chrono::Duration::seconds(1);
        }
        let span = at - start;
        assert!(
            span > chrono::Duration::hours(20) && span < chrono::Duration::hours(28),
            "retried for about a day, not {span}"
        );
        assert_eq!(attempts, 13);
        assert_eq!(deliver_due_at(&app.state, at + chrono::Duration::days(7)).await.unwrap(), 0);
        let hooks = app.get_as(&admin.access_token, "/api/v1/admin/webhooks").await;
        assert_eq!(hooks.data()[0]["failed"], 1);

        // Fixed receiver: an administrator sends it again.
        receiver.answer(204);
        let list = deliveries(&app, &admin, webhook).await;
        let delivery = list[0]["id"].as_i64().unwrap();
        let redeliver = format!("/api/v1/admin/webhooks/{webhook}/deliveries/{delivery}/redeliver");
        app.as_user(&admin.access_token, Method::POST, &redeliver, None).await.expect(202);
        app.as_user(&admin.access_token, Method::POST, &redeliver, None)
            .await
            .problem(409);
        assert_eq!(deliver(&app).await, 1);
        let list = deliveries(&app, &admin, webhook).await;
        assert_eq!(list[0]["status"], "delivered");
        assert_eq!(list[0]["attempt_log"].as_array().unwrap().len(), 14);
        let failed = app
            .get_as(
                &admin.access_token,
                &format!("/api/v1/admin/webhooks/{webhook}/deliveries?status=failed"),
            )
            .await;
        assert_eq!(failed.json()["meta"]["total"], 0);
    }
);

async fn second_process(app: &TestApp) -> TestApp {
    app.another_process()
        .config(|c| c.webhook_allow_private = true)
        .build()
        .await
        .expect("a second process on the same database")
}

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn an_event_committed_by_a_process_that_stopped_is_sent_by_another(app: TestApp) {
        let (receiver, _, _) = hooked(&app, &["article.published"]).await;
        let editor = app.user(Role::Editor).await;
        // This process commits the change and stops before its worker runs.
        let (id, _) = app
            .published_article(&editor, json!({"title": "Không mất", "body": "X"}))
            .await;
        let other = second_process(&app).await;
        assert_eq!(deliver(&other).await, 1);
        let got = receiver.wait_for(1, Duration::from_secs(5));
        assert_eq!(got[0].data()["id"], id);
        assert_eq!(deliver(&app).await, 0);
    }
);

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn two_processes_sending_together_send_each_delivery_once(app: TestApp) {
        let receiver = Receiver::start();
        let admin = app.user(Role::Admin).await;
        subscribe(&app, &admin, &receiver.url, &["article.published"]).await;
        subscribe(&app, &admin, &receiver.url, &["article.published"]).await;
        let editor = app.user(Role::Editor).await;
        for i in 0..20 {
            app.published_article(&editor, json!({"title": format!("Bài {i}"), "body": "X"}))
                .await;
        }
        let other = second_process(&app).await;
        let (a, b) = futures_util::join!(deliver(&app), deliver(&other));
        assert_eq!(a + b, 40);
        let got = receiver.wait_for(40, Duration::from_secs(5));
        let mut ids: Vec<i64> = got.iter().map(|r| r.delivery()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 40, "no delivery sent twice");
        assert_eq!(deliver(&app).await + deliver(&other).await, 0);
    }
);

/// Starts the binary on `database`; returns it and its port once it is ready.
fn serve(database: &str, dir: &std::path::Path) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_newsdesk"))
        .current_dir(dir)
        .env("NEWSDESK_LOG", "warn")
        .env("NEWSDESK_DATABASE_URL", database)
        .env("NEWSDESK_BIND", format!("127.0.0.1:{port}"))
        .env("NEWSDESK_ADMIN_EMAIL", "admin@example.vn")
        .env("NEWSDESK_ADMIN_PASSWORD", "mật khẩu quản trị đủ dài")
        .env("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("NEWSDESK_WEBHOOK_TIMEOUT", "2")
        .env("NEWSDESK_SCHEDULER_INTERVAL", "1")
        .arg("serve")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while http(port, "GET", "/readyz", None, None).is_none_or(|(s, _)| s != 200) {
        assert!(std::time::Instant::now() < deadline, "server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

use crate::common::receiver::http;

fn call(port: u16, method: &str, path: &str, token: &str, body: Value) -> Value {
    let (status, text) = http(port, method, path, Some(token), Some(&body.to_string())).unwrap();
    assert!((200..300).contains(&status), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// Signs the administrator `serve` created in to the server on `port`; returns the access token.
fn admin_token(port: u16) -> String {
    let login = json!({"email": "admin@example.vn", "password": "mật khẩu quản trị đủ dài"}).to_string();
    let (_, text) = http(port, "POST", "/api/v1/auth/login", None, Some(&login)).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `kill -9` while the receiver holds the first attempt open: the delivery was claimed and
/// never finished. The restarted server sends it again once the claim lapses.
fn survives_kill_during_delivery(database: &str) {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    receiver.hang(true);
    let (mut server, port) = serve(database, dir.path());
    let token = admin_token(port);
    let hook = json!({"url": receiver.url, "events": ["article.published"], "secret": SECRET});
    let webhook = call(port, "POST", "/api/v1/admin/webhooks", &token, hook)["data"]["id"].clone();
    let article = json!({"title": "Sống sót sau sự cố", "body": "X"});
    let id = call(port, "POST", "/api/v1/admin/articles", &token, article)["data"]["id"].clone();
    call(
        port,
        "POST",
        &format!("/api/v1/admin/articles/{id}/publish"),
        &token,
        json!({}),
    );

    let first = receiver.wait_for(1, Duration::from_secs(10));
    server.kill().unwrap();
    server.wait().unwrap();
    receiver.hang(false);

    let (mut server, port) = serve(database, dir.path());
    let got = receiver.wait_for(2, Duration::from_secs(30));
    assert_eq!(
        got[1].delivery(),
        first[0].delivery(),
        "the same delivery, sent again"
    );
    assert_eq!(got[1].body, first[0].body);
    assert_eq!(
        got[1].header("X-Newsdesk-Signature"),
        expected_signature(&got[1].body)
    );
    let token = admin_token(port);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = call(
            port,
            "GET",
            &format!("/api/v1/admin/webhooks/{webhook}/deliveries"),
            &token,
            json!({}),
        );
        if list["data"][0]["status"] == "delivered" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never recorded as delivered: {list}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_delivery_cut_off_by_kill_9_is_sent_after_restart_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("newsdesk.db").display());
    survives_kill_during_delivery(&database);
}

#[test]
fn a_delivery_cut_off_by_kill_9_is_sent_after_restart_on_postgres() {
    let Some(server) = crate::common::pg::server() else {
        return;
    };
    let database = server.create_database().unwrap();
    survives_kill_during_delivery(&database.url);
}

backend_test!(
    config = |c| {
        c.webhook_allow_private = true;
        c.captcha = false;
        c.comment_rate_per_min = 0;
    };
    async fn comment_events_reach_the_receiver_once_without_contact_details(app: TestApp) {
        let (receiver, _, _) = hooked(&app, &["comment.created", "comment.approved"]).await;
        let editor = app.user(Role::Editor).await;
        let (_, slug) = app
            .published_article(&editor, json!({"title": "Lấy ý kiến nhân dân", "body": "X"}))
            .await;
        let mut ids = Vec::new();
        for content in ["Ý kiến thứ nhất", "Ý kiến thứ hai"] {
            let res = app
                .post_json(
                    &format!("/api/v1/articles/{slug}/comments"),
                    &json!({"name": "Trần Thị Bình", "phone": "0912345678", "email": "binh@example.vn",
                        "title": "Góp ý", "content": content}),
                )
                .await
                .expect(202);
            ids.push(res.data()["id"].as_i64().unwrap());
        }
        app
            .as_user(
                &editor.access_token,
                Method::PATCH,
                &format!("/api/v1/admin/comments/{}", ids[0]),
                Some(&json!({"status": "approved"})),
            )
            .await
            .expect(200);

        assert_eq!(deliver(&app).await, 3);
        assert_eq!(deliver(&app).await, 0);
        let mut got = receiver.wait_for(3, Duration::from_secs(5));
        got.sort_by_key(|r| r.delivery());
        let events: Vec<(String, i64)> = got
            .iter()
            .map(|r| (r.event(), r.data()["id"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            events,
            [
                ("comment.created".to_owned(), ids[0]),
                ("comment.created".to_owned(), ids[1]),
                ("comment.approved".to_owned(), ids[0]),
            ]
        );
        for r in &got {
            assert_eq!(r.header("X-Newsdesk-Signature"), expected_signature(&r.body));
            assert!(!r.body.contains("0912345678") && !r.body.contains("binh@example.vn"), "{}", r.body);
            assert_eq!(r.data()["article_slug"], slug);
        }
    }
);
