//! Reader comments over HTTP: the captcha, the public form and its defences, the public
//! threads, and the moderation desk with exact approved counts.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use base64::Engine;
use chrono::{Duration, Utc};
use futures_util::future::join_all;
use newsdesk::auth::Role;
use newsdesk::comments::captcha;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::problem_fields;
use crate::common::{TestApp, TestResponse, TestUser};

const DESK: &str = "/api/v1/admin/comments";

static NEXT_CLIENT: AtomicU32 = AtomicU32::new(1);

/// A client address of its own, so tests do not trip the per-client rate limit by accident.
fn fresh_client() -> SocketAddr {
    let n = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
    SocketAddr::from(([10, (n >> 16) as u8, (n >> 8) as u8, n as u8], 40000))
}

/// A captcha token signed with the app's key for a known answer: what a reader who read the
/// picture right would send.
fn solved(app: &TestApp) -> (String, String) {
    let answer = "K7M2P";
    let token = captcha::mint(
        app.state.secrets.captcha_key.as_bytes(),
        answer,
        Utc::now() + Duration::minutes(10),
    )
    .unwrap();
    (token, answer.to_lowercase())
}

/// A valid form with a solved captcha; `content` makes it unique.
fn form(app: &TestApp, content: &str) -> Value {
    let (token, answer) = solved(app);
    json!({
        "name": "Nguyễn Văn An",
        "phone": "0912 345 678",
        "email": "an.nguyen@example.vn",
        "title": "Góp ý về thủ tục hành chính",
        "content": content,
        "captcha_token": token,
        "captcha_answer": answer,
        "website": "",
    })
}

async fn post_from(app: &TestApp, client: SocketAddr, slug: &str, body: &Value) -> TestResponse {
    app.call(
        TestRequest::post()
            .uri(&format!("/api/v1/articles/{slug}/comments"))
            .peer_addr(client)
            .insert_header(("User-Agent", "Mozilla/5.0 (thử nghiệm)"))
            .set_json(body),
    )
    .await
}

async fn post(app: &TestApp, slug: &str, body: &Value) -> TestResponse {
    post_from(app, fresh_client(), slug, body).await
}

/// Submits a comment and returns its id.
async fn submit(app: &TestApp, slug: &str, body: &Value) -> i64 {
    let res = post(app, slug, body).await.expect(202);
    res.data()["id"].as_i64().unwrap()
}

/// A published article, its comments open or closed; returns `(id, slug)`.
async fn article(app: &TestApp, editor: &TestUser, title: &str, comments_enabled: bool) -> (i64, String) {
    let fields = json!({"title": title, "body": "Nội dung.", "comments_enabled": comments_enabled});
    app.published_article(editor, fields).await
}

async fn moderate(
    app: &TestApp,
    moderator: &TestUser,
    id: i64,
    status: &str,
    note: Option<&str>,
) -> TestResponse {
    let mut body = json!({ "status": status });
    if let Some(note) = note {
        body["note"] = json!(note);
    }
    app.as_user(
        &moderator.access_token,
        Method::PATCH,
        &format!("{DESK}/{id}"),
        Some(&body),
    )
    .await
}

async fn approve(app: &TestApp, moderator: &TestUser, id: i64) {
    moderate(app, moderator, id, "approved", None).await.expect(200);
}

async fn desk_item(app: &TestApp, moderator: &TestUser, id: i64) -> Value {
    let res = app
        .get_as(&moderator.access_token, &format!("{DESK}/{id}"))
        .await
        .expect(200);
    res.data()
}

async fn comment_count(app: &TestApp, slug: &str) -> i64 {
    let res = app.get(&format!("/api/v1/articles/{slug}")).await.expect(200);
    res.data()["comment_count"].as_i64().unwrap()
}

async fn public(app: &TestApp, slug: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/articles/{slug}/comments{query}"))
        .await
        .expect(200);
    res.json()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

backend_test! {
    async fn the_captcha_is_a_png_with_a_token_that_verifies_once(app: TestApp) {
        let res = app.get("/api/v1/captcha").await.expect(200);
        assert_eq!(res.header("cache-control"), Some("no-store"));
        let data = res.data();
        assert_eq!(data["expires_in"], 600);
        let image = data["image"].as_str().unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(image.strip_prefix("data:image/png;base64,").expect("a PNG data URL"))
            .unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let again = app.get("/api/v1/captcha").await.data();
        assert_ne!(again["captcha_token"], data["captcha_token"], "each call is a new code");

        let editor = app.user(Role::Editor).await;
        let (_, slug) = article(&app, &editor, "Bài có bình luận", true).await;
        // A wrong answer to a real token is refused and spends the token.
        let mut body = form(&app, "Ý kiến thứ nhất");
        body["captcha_token"] = data["captcha_token"].clone();
        body["captcha_answer"] = json!("00000");
        let problem = post(&app, &slug, &body).await.problem(422);
        assert_eq!(problem_fields(&problem), ["captcha_answer"]);
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("does not match"));

        // A solved token admits one comment, and only one.
        let body = form(&app, "Ý kiến thứ hai");
        submit(&app, &slug, &body).await;
        let mut reuse = body.clone();
        reuse["content"] = json!("Một ý kiến khác với cùng mã");
        let problem = post(&app, &slug, &reuse).await.problem(422);
        assert_eq!(problem_fields(&problem), ["captcha_answer"]);
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("already been used"));
    }
}

backend_test! {
    async fn missing_expired_forged_and_wrong_captchas_are_refused_and_nothing_is_stored(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (id, slug) = article(&app, &editor, "Bài kiểm tra mã", true).await;
        let key = app.state.secrets.captcha_key.clone();
        let expired = captcha::mint(key.as_bytes(), "K7M2P", Utc::now() - Duration::seconds(1)).unwrap();
        let foreign = captcha::mint(b"not the server's key, 32 bytes..", "K7M2P", Utc::now() + Duration::minutes(5)).unwrap();
        let (good, _) = solved(&app);
        let cases: Vec<(&str, Value, Value, &str)> = vec![
            ("no token", Value::Null, json!("k7m2p"), "send"),
            ("no answer", json!(good), Value::Null, "send"),
            ("expired", json!(expired), json!("k7m2p"), "expired"),
            ("another key", json!(foreign), json!("k7m2p"), "not valid"),
            ("garbage", json!("abc.def"), json!("k7m2p"), "not valid"),
            ("wrong answer", json!(good), json!("K7M2Q"), "does not match"),
        ];
        for (case, token, answer, message) in cases {
            let mut body = form(&app, &format!("Ý kiến: {case}"));
            body["captcha_token"] = token;
            body["captcha_answer"] = answer;
            let problem = post(&app, &slug, &body).await.problem(422);
            assert_eq!(problem_fields(&problem), ["captcha_answer"], "{case}");
            assert!(problem["errors"][0]["message"].as_str().unwrap().contains(message), "{case}: {problem}");
        }
        let desk = app.get_as(&moderator.access_token, &format!("{DESK}?article_id={id}")).await.json();
        assert_eq!(desk["meta"]["total"], 0, "{desk}");
    }
}

backend_test! {
    async fn one_captcha_token_admits_exactly_one_of_many_concurrent_comments(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = article(&app, &editor, "Bài tranh mã", true).await;
        let (token, answer) = solved(&app);
        let bodies: Vec<Value> = (0..8)
            .map(|i| {
                let mut b = form(&app, &format!("Ý kiến đồng thời {i}"));
                b["captcha_token"] = json!(token);
                b["captcha_answer"] = json!(answer);
                b
            })
            .collect();
        let answers = join_all(bodies.iter().map(|b| post(&app, &slug, b))).await;
        let accepted = answers.iter().filter(|r| r.status == 202).count();
        assert_eq!(accepted, 1, "{:?}", answers.iter().map(|r| r.text()).collect::<Vec<_>>());
        for res in answers.iter().filter(|r| r.status != 202) {
            assert_eq!(problem_fields(&res.problem(422)), ["captcha_answer"]);
        }
    }
}

backend_test! {
    config = |c| c.captcha = false;
    async fn with_the_captcha_off_the_form_needs_no_token(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = article(&app, &editor, "Bài không mã", true).await;
        post(&app, &slug, &json!({"name": "An", "title": "Hỏi", "content": "Không cần mã."})).await.expect(202);
    }
}

backend_test! {
    async fn comments_wait_for_a_moderator_and_never_show_phone_email_or_address(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (_, slug) = article(&app, &editor, "Tích cực cải cách hành chính", true).await;
        let res = post(&app, &slug, &form(&app, "Thủ tục ở phường đã nhanh hơn nhiều.")).await.expect(202);
        let data = res.data();
        assert_eq!(data["status"], "pending");
        assert_eq!(data.as_object().unwrap().len(), 2, "only id and status: {data}");
        let id = data["id"].as_i64().unwrap();

        assert_eq!(public(&app, &slug, "").await["data"], json!([]));
        assert_eq!(comment_count(&app, &slug).await, 0);

        let item = desk_item(&app, &moderator, id).await;
        assert_eq!(item["status"], "pending");
        assert_eq!(item["phone"], "0912345678", "stored without separators");
        assert_eq!(item["email"], "an.nguyen@example.vn");
        assert_eq!(item["user_agent"], "Mozilla/5.0 (thử nghiệm)");
        let client_hash = item["client_hash"].as_str().unwrap().to_owned();
        assert_eq!(client_hash.len(), 32);
        assert!(!client_hash.contains("10."), "a hash, not the address");

        approve(&app, &moderator, id).await;
        assert_eq!(comment_count(&app, &slug).await, 1);
        let res = app.get(&format!("/api/v1/articles/{slug}/comments")).await;
        let list = res.json();
        let shown = &list["data"][0];
        let mut keys: Vec<&str> = shown.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["content", "created_at", "id", "is_staff", "name", "replies", "title"]);
        assert_eq!(shown["name"], "Nguyễn Văn An");
        assert_eq!(shown["is_staff"], false);
        let text = res.text();
        for secret in ["0912345678", "an.nguyen@example.vn", client_hash.as_str(), "Mozilla"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}

backend_test! {
    async fn the_form_is_checked_in_characters_after_trimming(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = article(&app, &editor, "Bài kiểm tra giới hạn", true).await;
        // Limits count characters: 100 Vietnamese letters are more than 100 bytes.
        let mut body = form(&app, &"ệ".repeat(5000));
        body["name"] = json!(format!("  {}  ", "Đ".repeat(100)));
        body["title"] = json!("ữ".repeat(200));
        body["phone"] = json!("+84 912.345-678");
        submit(&app, &slug, &body).await;

        let mut body = form(&app, &"ệ".repeat(5001));
        body["name"] = json!("Đ".repeat(101));
        body["title"] = json!("   ");
        body["phone"] = json!("12345");
        body["email"] = json!("không phải email");
        let problem = post(&app, &slug, &body).await.problem(422);
        assert_eq!(problem_fields(&problem), ["content", "email", "name", "phone", "title"]);

        for phone in ["0912345678", "02439421234", "+84912345678", "+33612345678", ""] {
            let mut body = form(&app, &format!("Số {phone}"));
            body["phone"] = json!(phone);
            assert_eq!(post(&app, &slug, &body).await.status, 202, "{phone}");
        }
        for phone in ["0012345678", "091234567", "+840912345678", "+8491234", "09123456789012", "0912abc678"] {
            let mut body = form(&app, &format!("Số {phone}"));
            body["phone"] = json!(phone);
            assert_eq!(problem_fields(&post(&app, &slug, &body).await.problem(422)), ["phone"], "{phone}");
        }
        let mut body = form(&app, "Có ký tự \u{0} ở giữa");
        body["title"] = json!("Tiêu đề");
        assert_eq!(problem_fields(&post(&app, &slug, &body).await.problem(422)), ["content"]);
        let mut body = form(&app, "Thừa trường");
        body["role"] = json!("admin");
        post(&app, &slug, &body).await.problem(422);
    }
}

backend_test! {
    async fn missing_unpublished_and_closed_articles_refuse_comments(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        post(&app, "khong-co-bai-nay", &form(&app, "Ở đâu?")).await.problem(404);
        post(&app, "Kh%C3%B4ng%20h%E1%BB%A3p", &form(&app, "Ở đâu?")).await.problem(404);
        let res = app
            .as_user(&editor.access_token, Method::POST, "/api/v1/admin/articles",
                Some(&json!({"title": "Bản nháp chưa đăng"})))
            .await;
        let draft = res.data()["slug"].as_str().unwrap().to_owned();
        post(&app, &draft, &form(&app, "Nháp")).await.problem(404);
        app.get(&format!("/api/v1/articles/{draft}/comments")).await.problem(404);
        let (_, closed) = article(&app, &editor, "Bài đã khóa bình luận", false).await;
        let problem = post(&app, &closed, &form(&app, "Khóa rồi")).await.problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("closed"));
    }
}

backend_test! {
    async fn honeypot_spam_words_and_links_are_judged_at_submission(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (_, slug) = article(&app, &editor, "Bài thu hút spam", true).await;

        let mut bot = form(&app, "Nội dung bình thường");
        bot["website"] = json!("http://spam.example");
        let res = post(&app, &slug, &bot).await.expect(202);
        assert_eq!(res.data()["status"], "pending", "the robot is not told");
        let item = desk_item(&app, &moderator, res.data()["id"].as_i64().unwrap()).await;
        assert_eq!(item["status"], "spam");
        assert_eq!(item["flags"], json!(["honeypot"]));
        assert_eq!(item["history"][0]["to"], "spam");
        assert_eq!(item["history"][0]["from"], Value::Null);
        assert_eq!(item["history"][0]["moderator"], Value::Null);
        assert_eq!(item["history"][0]["note"], "automatic: honeypot");

        // The default word list has `ca do`; the comment writes it with diacritics.
        let id = submit(&app, &slug, &form(&app, "Trang CÁ ĐỘ bóng đá uy tín nhất")).await;
        let item = desk_item(&app, &moderator, id).await;
        assert_eq!(item["status"], "spam");
        assert_eq!(item["flags"], json!(["word:ca do"]));

        let id = submit(&app, &slug, &form(&app, "Xem thêm tại https://dichvucong.gov.vn")).await;
        let item = desk_item(&app, &moderator, id).await;
        assert_eq!(item["status"], "pending", "one link is flagged, not spam");
        assert_eq!(item["flags"], json!(["links:1"]));
        assert_eq!(item["history"], json!([]));

        let id = submit(&app, &slug, &form(&app, "http://a.vn http://b.vn www.c.vn")).await;
        assert_eq!(desk_item(&app, &moderator, id).await["status"], "spam");

        // A false alarm goes back to pending.
        moderate(&app, &moderator, id, "pending", Some("không phải spam")).await.expect(200);
    }
}

backend_test! {
    config = |c| c.comment_rate_per_min = 3;
    async fn a_client_over_the_rate_limit_gets_429_even_in_a_burst(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = article(&app, &editor, "Bài đông người", true).await;
        let client = fresh_client();
        let bodies: Vec<Value> = (0..10).map(|i| form(&app, &format!("Ý kiến dồn dập {i}"))).collect();
        let answers = join_all(bodies.iter().map(|b| post_from(&app, client, &slug, b))).await;
        let accepted = answers.iter().filter(|r| r.status == 202).count();
        assert_eq!(accepted, 3, "exactly the limit gets through");
        for res in answers.iter().filter(|r| r.status != 202) {
            res.problem(429);
            let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
        // Another client is not affected.
        assert_eq!(post(&app, &slug, &form(&app, "Người khác")).await.status, 202);
    }
}

backend_test! {
    async fn the_same_text_from_the_same_client_within_ten_minutes_is_a_409(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = article(&app, &editor, "Bài gửi trùng", true).await;
        let client = fresh_client();
        post_from(&app, client, &slug, &form(&app, "Đề nghị công khai tiến độ.")).await.expect(202);
        // Case, diacritics and punctuation aside, it is the same text.
        let res = post_from(&app, client, &slug, &form(&app, "de nghi cong khai tien do")).await;
        let problem = res.problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("already"));
        assert_eq!(post(&app, &slug, &form(&app, "Đề nghị công khai tiến độ.")).await.status, 202);

        // Sent many times at once (one batch on PostgreSQL), it is still stored once.
        let client = fresh_client();
        let bodies: Vec<Value> = (0..6).map(|_| form(&app, "Gửi sáu lần cùng lúc")).collect();
        let answers = join_all(bodies.iter().map(|b| post_from(&app, client, &slug, b))).await;
        assert_eq!(answers.iter().filter(|r| r.status == 202).count(), 1);
        for res in answers.iter().filter(|r| r.status != 202) {
            res.problem(409);
        }
    }
}

backend_test! {
    config = |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.comment_rate_per_min = 1;
    };
    async fn forwarded_addresses_count_only_behind_a_trusted_proxy(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = article(&app, &editor, "Bài sau proxy", true).await;
        let send = |peer: &str, forwarded: &str, content: &str| {
            let body = form(&app, content);
            let req = TestRequest::post()
                .uri(&format!("/api/v1/articles/{slug}/comments"))
                .peer_addr(peer.parse().unwrap())
                .insert_header(("X-Forwarded-For", forwarded.to_owned()))
                .set_json(&body);
            app.call(req)
        };
        // Through the proxy: each reader is their own client, whatever they claim left of it.
        assert_eq!(send("127.0.0.1:5000", "203.0.113.1", "Một").await.status, 202);
        assert_eq!(send("127.0.0.1:5000", "203.0.113.2", "Hai").await.status, 202);
        send("127.0.0.1:5000", "1.1.1.1, 203.0.113.1", "Ba").await.problem(429);
        // Straight from the internet the header is ignored: a changing claim does not help.
        assert_eq!(send("198.51.100.7:5000", "203.0.113.50", "Bốn").await.status, 202);
        send("198.51.100.7:5000", "203.0.113.51", "Năm").await.problem(429);
    }
}

backend_test! {
    async fn replies_thread_under_approved_comments_and_pages_count_threads(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (_, slug) = article(&app, &editor, "Bài nhiều luồng", true).await;
        let (_, other) = article(&app, &editor, "Bài khác", true).await;
        let mut top = Vec::new();
        for i in 0..3 {
            let id = submit(&app, &slug, &form(&app, &format!("Gốc {i}"))).await;
            approve(&app, &moderator, id).await;
            top.push(id);
        }
        let reply_to = |parent: i64, content: &str| {
            let mut body = form(&app, content);
            body["parent_id"] = json!(parent);
            body
        };
        let r1 = submit(&app, &slug, &reply_to(top[0], "Trả lời gốc 0")).await;
        approve(&app, &moderator, r1).await;
        let r2 = submit(&app, &slug, &reply_to(r1, "Trả lời của trả lời")).await;
        approve(&app, &moderator, r2).await;
        let pending = submit(&app, &slug, &reply_to(top[1], "Chưa duyệt")).await;

        // Only approved comments of the same article can be answered.
        for (target, parent) in [(&slug, pending), (&other, top[0]), (&slug, 999_999)] {
            let problem = post(&app, target, &reply_to(parent, "Không được")).await.problem(422);
            assert_eq!(problem_fields(&problem), ["parent_id"]);
        }

        let page = public(&app, &slug, "?per_page=2").await;
        assert_eq!(page["meta"]["total"], 3, "threads, not comments");
        assert_eq!(page["meta"]["total_pages"], 2);
        assert_eq!(ids(&page["data"]), [top[0], top[1]]);
        assert_eq!(ids(&page["data"][0]["replies"]), [r1]);
        assert_eq!(ids(&page["data"][0]["replies"][0]["replies"]), [r2]);
        assert_eq!(page["data"][1]["replies"], json!([]), "the pending reply is not shown");
        assert_eq!(ids(&public(&app, &slug, "?per_page=2&page=2").await["data"]), [top[2]]);
        assert_eq!(ids(&public(&app, &slug, "?per_page=1&page=3").await["data"]), [top[2]]);
        let past = public(&app, &slug, "?per_page=1&page=4").await;
        assert_eq!(past["data"], json!([]));
        assert_eq!(past["meta"]["total"], 3);
        assert_eq!(comment_count(&app, &slug).await, 5);

        // Taking a reply down hides what hangs below it.
        assert_eq!(moderate(&app, &moderator, r1, "rejected", None).await.status, 200);
        let page = public(&app, &slug, "").await;
        assert_eq!(page["data"][0]["replies"], json!([]));
        assert_eq!(comment_count(&app, &slug).await, 4);
    }
}

backend_test! {
    async fn public_threads_send_etags_and_answer_304(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (_, slug) = article(&app, &editor, "Bài có ETag", true).await;
        let path = format!("/api/v1/articles/{slug}/comments");
        let first = app.get(&path).await;
        let etag = first.header("etag").unwrap().to_owned();
        assert!(first.header("cache-control").unwrap().contains("max-age"));
        app.call(TestRequest::get().uri(&path).insert_header(("If-None-Match", etag.clone()))).await.expect(304);
        let id = submit(&app, &slug, &form(&app, "Mới")).await;
        approve(&app, &moderator, id).await;
        let res = app.call(TestRequest::get().uri(&path).insert_header(("If-None-Match", etag.clone()))).await;
        assert_eq!(res.status, 200, "a new comment changes the ETag");
    }
}

backend_test! {
    async fn moderation_follows_the_allowed_moves_and_keeps_a_history(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (_, slug) = article(&app, &editor, "Bài kiểm duyệt", true).await;
        let id = submit(&app, &slug, &form(&app, "Cần duyệt")).await;

        let res = moderate(&app, &moderator, id, "approved", Some("  Hợp lệ  ")).await.expect(200);
        assert_eq!(res.data()["status"], "approved");
        assert_eq!(comment_count(&app, &slug).await, 1);

        for illegal in ["approved", "pending"] {
            let problem = moderate(&app, &moderator, id, illegal, None).await.problem(409);
            assert!(problem["detail"].as_str().unwrap().contains("approved"), "{problem}");
        }
        assert_eq!(moderate(&app, &moderator, id, "spam", None).await.status, 200);
        assert_eq!(comment_count(&app, &slug).await, 0);
        assert_eq!(moderate(&app, &moderator, id, "pending", None).await.status, 200);
        assert_eq!(moderate(&app, &moderator, id, "rejected", Some("Lạc đề")).await.status, 200);
        moderate(&app, &moderator, id, "approved", None).await.problem(409);
        assert_eq!(comment_count(&app, &slug).await, 0);

        let history = desk_item(&app, &moderator, id).await["history"].clone();
        let moves: Vec<(Value, Value)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["from"].clone(), h["to"].clone()))
            .collect();
        assert_eq!(
            moves,
            [
                (json!("pending"), json!("approved")),
                (json!("approved"), json!("spam")),
                (json!("spam"), json!("pending")),
                (json!("pending"), json!("rejected")),
            ]
        );
        assert_eq!(history[0]["note"], "Hợp lệ");
        assert_eq!(history[0]["moderator"]["id"], moderator.id);
        assert_eq!(history[3]["note"], "Lạc đề");

        moderate(&app, &moderator, 999_999, "approved", None).await.problem(404);
        let res = app
            .as_user(&moderator.access_token, Method::PATCH, &format!("{DESK}/{id}"),
                Some(&json!({"status": "deleted"})))
            .await;
        assert!(res.status == 400 || res.status == 422, "{}", res.status);
        let long = "x".repeat(1001);
        moderate(&app, &moderator, id, "pending", Some(&long)).await.problem(422);
    }
}

backend_test! {
    async fn bulk_moderation_reports_every_comment_and_keeps_the_count_exact(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (_, slug) = article(&app, &editor, "Bài duyệt hàng loạt", true).await;
        let (_, other) = article(&app, &editor, "Bài duyệt hàng loạt khác", true).await;
        let a = submit(&app, &slug, &form(&app, "A")).await;
        let b = submit(&app, &slug, &form(&app, "B")).await;
        let c = submit(&app, &other, &form(&app, "C")).await;
        approve(&app, &moderator, b).await;

        let res = app
            .as_user(&moderator.access_token, Method::POST, &format!("{DESK}/moderate"),
                Some(&json!({"ids": [c, a, b, 999_999, a], "status": "approved", "note": "Loạt 1"})))
            .await
            .expect(200);
        let outcomes = res.data();
        let summary: Vec<(i64, String)> = outcomes
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["id"].as_i64().unwrap(), o["result"].as_str().unwrap().to_owned()))
            .collect();
        let mut expected = vec![
            (a, "updated".to_owned()),
            (b, "conflict".to_owned()),
            (c, "updated".to_owned()),
            (999_999, "not_found".to_owned()),
        ];
        expected.sort();
        assert_eq!(summary, expected);
        assert_eq!(comment_count(&app, &slug).await, 2);
        assert_eq!(comment_count(&app, &other).await, 1);

        for body in [json!({"ids": [], "status": "spam"}), json!({"ids": (1..=101).collect::<Vec<i64>>(), "status": "spam"})] {
            let res = app
                .as_user(&moderator.access_token, Method::POST, &format!("{DESK}/moderate"), Some(&body))
                .await;
            assert_eq!(problem_fields(&res.problem(422)), ["ids"]);
        }
    }
}

backend_test! {
    async fn deleting_a_comment_takes_its_replies_and_their_count_with_it(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (_, slug) = article(&app, &editor, "Bài xóa bình luận", true).await;
        let root = submit(&app, &slug, &form(&app, "Gốc")).await;
        approve(&app, &moderator, root).await;
        let keep = submit(&app, &slug, &form(&app, "Giữ lại")).await;
        approve(&app, &moderator, keep).await;
        let mut body = form(&app, "Con");
        body["parent_id"] = json!(root);
        let child = submit(&app, &slug, &body).await;
        approve(&app, &moderator, child).await;
        let mut body = form(&app, "Cháu, chưa duyệt");
        body["parent_id"] = json!(child);
        let grandchild = submit(&app, &slug, &body).await;
        assert_eq!(comment_count(&app, &slug).await, 3);

        let path = format!("{DESK}/{root}");
        app.as_user(&moderator.access_token, Method::DELETE, &path, None).await.expect(204);
        assert_eq!(comment_count(&app, &slug).await, 1);
        for gone in [root, child, grandchild] {
            app.get_as(&moderator.access_token, &format!("{DESK}/{gone}")).await.problem(404);
        }
        assert_eq!(ids(&public(&app, &slug, "").await["data"]), [keep]);
        app.as_user(&moderator.access_token, Method::DELETE, &path, None).await.problem(404);
    }
}

backend_test! {
    async fn staff_replies_are_approved_at_once_and_marked_as_staff(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (id, slug) = article(&app, &editor, "Bài có trả lời của tòa soạn", false).await;
        let path = format!("/api/v1/admin/articles/{id}/comments");
        let res = app
            .as_user(&moderator.access_token, Method::POST, &path,
                Some(&json!({"title": "Ban biên tập trả lời", "content": "Cảm ơn bạn đọc."})))
            .await
            .expect(201);
        let reply = res.data();
        assert_eq!(reply["status"], "approved");
        assert_eq!(reply["is_staff"], true);
        assert_eq!(reply["author_id"], moderator.id);
        assert_eq!(res.header("location"), Some(format!("{DESK}/{}", reply["id"]).as_str()));
        assert_eq!(reply["history"][0]["to"], "approved");
        let shown = public(&app, &slug, "").await;
        assert_eq!(shown["data"][0]["is_staff"], true);
        assert!(shown["data"][0]["name"].as_str().unwrap().starts_with("Người dùng"));
        assert_eq!(comment_count(&app, &slug).await, 1);

        let res = app
            .as_user(&moderator.access_token, Method::POST, &path,
                Some(&json!({"title": "Trả lời", "content": "Tiếp", "parent_id": reply["id"]})))
            .await
            .expect(201);
        assert_eq!(ids(&public(&app, &slug, "").await["data"][0]["replies"]), [res.data()["id"].as_i64().unwrap()]);

        let res = app
            .as_user(&moderator.access_token, Method::POST, "/api/v1/admin/articles/999999/comments",
                Some(&json!({"title": "Trả lời", "content": "Không có bài"})))
            .await;
        res.problem(404);
        let res = app
            .as_user(&moderator.access_token, Method::POST, &path, Some(&json!({"title": "", "content": ""})))
            .await;
        assert_eq!(problem_fields(&res.problem(422)), ["content", "title"]);
    }
}

backend_test! {
    async fn the_desk_filters_by_status_article_text_and_dates(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (first_id, first) = article(&app, &editor, "Bài thứ nhất", true).await;
        let (_, second) = article(&app, &editor, "Bài thứ hai", true).await;
        let mut body = form(&app, "Đường Láng ngập nước");
        body["name"] = json!("Trần Thị Bình");
        let a = submit(&app, &first, &body).await;
        let b = submit(&app, &first, &form(&app, "Cây xanh đổ 50% trên phố")).await;
        let c = submit(&app, &second, &form(&app, "Ý kiến ở bài hai")).await;
        approve(&app, &moderator, b).await;

        let list = |query: String| {
            let token = moderator.access_token.clone();
            let app = &app;
            async move {
                let res = app.get_as(&token, &format!("{DESK}{query}")).await;
                assert_eq!(res.status, 200, "{query}: {}", res.text());
                ids(&res.data())
            }
        };
        assert_eq!(list(String::new()).await, [c, b, a], "newest first");
        assert_eq!(list("?status=pending".into()).await, [c, a]);
        assert_eq!(list(format!("?article_id={first_id}")).await, [b, a]);
        assert_eq!(list("?q=tran%20thi%20binh".into()).await, [a], "without diacritics");
        assert_eq!(list("?q=%C4%90%C6%AF%E1%BB%9CNG%20L%C3%81NG".into()).await, [a], "ĐƯỜNG LÁNG");
        assert_eq!(list("?q=50%25".into()).await, [b], "% is punctuation, not a wildcard");
        assert_eq!(list("?q=l_ng".into()).await, Vec::<i64>::new(), "_ is not a wildcard either");
        let later = (Utc::now() + Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let earlier = (Utc::now() - Duration::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert_eq!(list(format!("?from={later}")).await, Vec::<i64>::new());
        assert_eq!(list(format!("?from={earlier}&to={later}")).await, [c, b, a]);
        app.get_as(&moderator.access_token, &format!("{DESK}?from={later}&to={earlier}")).await.problem(400);
        app.get_as(&moderator.access_token, &format!("{DESK}?status=deleted")).await.problem(400);
    }
}

backend_test! {
    async fn concurrent_submissions_and_moderations_leave_an_exact_count(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let moderator = app.user(Role::Moderator).await;
        let (id, slug) = article(&app, &editor, "Bài chịu tải", true).await;
        let mut pending = Vec::new();
        for i in 0..24 {
            pending.push(submit(&app, &slug, &form(&app, &format!("Chờ duyệt {i}"))).await);
        }
        let approvals = pending[..16].iter().map(|&c| moderate(&app, &moderator, c, "approved", None));
        // The same comments again, in bulk, racing the single approvals; plus spam marks and
        // new submissions at the same time.
        let bulk_body = json!({"ids": pending[8..20].to_vec(), "status": "approved"});
        let bulk_path = format!("{DESK}/moderate");
        let bulk = app.as_user(&moderator.access_token, Method::POST, &bulk_path, Some(&bulk_body));
        let spam = pending[18..24].iter().map(|&c| moderate(&app, &moderator, c, "spam", None));
        let bodies: Vec<Value> = (0..10).map(|i| form(&app, &format!("Mới trong lúc duyệt {i}"))).collect();
        let submissions = bodies.iter().map(|b| post(&app, &slug, b));
        let (approved, bulk, spammed, submitted) = futures_util::join!(
            join_all(approvals),
            bulk,
            join_all(spam),
            join_all(submissions)
        );
        for res in approved.iter().chain(spammed.iter()) {
            assert!(res.status == 200 || res.status == 409, "{}: {}", res.status, res.text());
        }
        assert_eq!(bulk.status, 200, "{}", bulk.text());
        assert!(submitted.iter().all(|r| r.status == 202));

        let res = app
            .get_as(&moderator.access_token, &format!("{DESK}?article_id={id}&status=approved&per_page=100"))
            .await;
        let approved_now = res.json()["meta"]["total"].as_i64().unwrap();
        assert!(approved_now >= 16, "{approved_now}");
        assert_eq!(comment_count(&app, &slug).await, approved_now);
        assert_eq!(public(&app, &slug, "?per_page=100").await["meta"]["total"], approved_now);
        let all = app
            .get_as(&moderator.access_token, &format!("{DESK}?article_id={id}&per_page=100"))
            .await
            .json();
        assert_eq!(all["meta"]["total"], 34, "every acknowledged comment is stored");
    }
}

backend_test! {
    async fn moderation_is_for_moderators_editors_and_admins_only(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, slug) = article(&app, &editor, "Bài phân quyền", true).await;
        let comment = submit(&app, &slug, &form(&app, "Phân quyền")).await;
        for role in [Role::Author, Role::Contributor] {
            let user = app.user(role).await;
            app.get_as(&user.access_token, DESK).await.problem(403);
            moderate(&app, &user, comment, "approved", None).await.problem(403);
            app.as_user(&user.access_token, Method::POST, &format!("/api/v1/admin/articles/{id}/comments"),
                Some(&json!({"title": "x", "content": "y"}))).await.problem(403);
        }
        app.get(DESK).await.problem(401);
    }
}
