//! The contract's permission matrix, walked over HTTP: every role against every action that
//! exists, allowed and refused. Later resources add their rows here.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::{TestApp, TestUser};

/// What one role gets for one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Allowed: a 2xx answer.
    Yes,
    /// Refused: 403.
    No,
    /// Refused without revealing that the resource exists: 404 (an article the role may not
    /// even see).
    Hidden,
}

const Y: Access = Access::Yes;
const N: Access = Access::No;
const H: Access = Access::Hidden;

/// One row: what to send, and what each role (admin, editor, author, contributor,
/// moderator) gets.
struct Row {
    name: &'static str,
    method: Method,
    path: fn(&Fixture) -> String,
    body: fn(&Fixture) -> Option<Value>,
    allowed: [Access; 5],
}

/// Resources the rows act on, made fresh for each caller so one row cannot spoil the next.
/// "Own" articles have the caller as their author; "other" ones someone else.
struct Fixture {
    target: i64,
    suffix: String,
    own_draft: i64,
    own_published: i64,
    other_draft: i64,
    category: i64,
    tag: i64,
    /// A pending reader comment on `own_published`.
    comment: i64,
}

fn article(id: i64) -> String {
    format!("/api/v1/admin/articles/{id}")
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "list accounts",
            method: Method::GET,
            path: |_| "/api/v1/admin/authors".into(),
            body: |_| None,
            allowed: [Y, N, N, N, N],
        },
        Row {
            name: "create an account",
            method: Method::POST,
            path: |_| "/api/v1/admin/authors".into(),
            body: |_| Some(json!({"name": "Phóng viên mới"})),
            allowed: [Y, N, N, N, N],
        },
        Row {
            name: "see an account",
            method: Method::GET,
            path: |f| format!("/api/v1/admin/authors/{}", f.target),
            body: |_| None,
            allowed: [Y, N, N, N, N],
        },
        Row {
            name: "change an account's role",
            method: Method::PATCH,
            path: |f| format!("/api/v1/admin/authors/{}", f.target),
            body: |_| Some(json!({"role": "editor"})),
            allowed: [Y, N, N, N, N],
        },
        Row {
            name: "deactivate an account",
            method: Method::DELETE,
            path: |f| format!("/api/v1/admin/authors/{}", f.target),
            body: |_| None,
            allowed: [Y, N, N, N, N],
        },
        Row {
            name: "read one's own account",
            method: Method::GET,
            path: |_| "/api/v1/auth/me".into(),
            body: |_| None,
            allowed: [Y, Y, Y, Y, Y],
        },
        Row {
            name: "edit one's own profile",
            method: Method::PATCH,
            path: |_| "/api/v1/auth/me".into(),
            body: |_| Some(json!({"bio": "Biên tập viên"})),
            allowed: [Y, Y, Y, Y, Y],
        },
        // Articles.
        Row {
            name: "create an article",
            method: Method::POST,
            path: |_| "/api/v1/admin/articles".into(),
            body: |_| Some(json!({"title": "Tin mới"})),
            allowed: [Y, Y, Y, Y, N],
        },
        Row {
            name: "list editorial articles",
            method: Method::GET,
            path: |_| "/api/v1/admin/articles".into(),
            body: |_| None,
            allowed: [Y, Y, Y, Y, N],
        },
        Row {
            name: "read one's own draft",
            method: Method::GET,
            path: |f| article(f.own_draft),
            body: |_| None,
            allowed: [Y, Y, Y, Y, H],
        },
        Row {
            name: "read someone else's draft",
            method: Method::GET,
            path: |f| article(f.other_draft),
            body: |_| None,
            allowed: [Y, Y, H, H, H],
        },
        Row {
            name: "edit one's own draft",
            method: Method::PATCH,
            path: |f| article(f.own_draft),
            body: |_| Some(json!({"version": 1, "title": "Sửa"})),
            allowed: [Y, Y, Y, Y, H],
        },
        Row {
            name: "edit one's own published article",
            method: Method::PATCH,
            path: |f| article(f.own_published),
            body: |_| Some(json!({"version": 1, "title": "Sửa"})),
            allowed: [Y, Y, Y, N, H],
        },
        Row {
            name: "edit someone else's draft",
            method: Method::PATCH,
            path: |f| article(f.other_draft),
            body: |_| Some(json!({"version": 1, "title": "Sửa"})),
            allowed: [Y, Y, H, H, H],
        },
        Row {
            name: "submit one's own draft for review",
            method: Method::POST,
            path: |f| format!("{}/submit", article(f.own_draft)),
            body: |_| None,
            allowed: [Y, Y, Y, Y, H],
        },
        Row {
            name: "publish one's own draft",
            method: Method::POST,
            path: |f| format!("{}/publish", article(f.own_draft)),
            body: |_| None,
            allowed: [Y, Y, Y, N, H],
        },
        Row {
            name: "schedule one's own draft",
            method: Method::POST,
            path: |f| format!("{}/publish", article(f.own_draft)),
            body: |_| {
                Some(json!({"publish_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()}))
            },
            allowed: [Y, Y, Y, N, H],
        },
        Row {
            name: "unpublish one's own article",
            method: Method::POST,
            path: |f| format!("{}/unpublish", article(f.own_published)),
            body: |_| None,
            allowed: [Y, Y, Y, N, H],
        },
        Row {
            name: "publish someone else's draft",
            method: Method::POST,
            path: |f| format!("{}/publish", article(f.other_draft)),
            body: |_| None,
            allowed: [Y, Y, H, H, H],
        },
        Row {
            name: "delete one's own draft",
            method: Method::DELETE,
            path: |f| article(f.own_draft),
            body: |_| None,
            allowed: [Y, Y, Y, Y, H],
        },
        Row {
            name: "delete one's own published article",
            method: Method::DELETE,
            path: |f| article(f.own_published),
            body: |_| None,
            allowed: [Y, Y, N, N, H],
        },
        Row {
            name: "delete someone else's draft",
            method: Method::DELETE,
            path: |f| article(f.other_draft),
            body: |_| None,
            allowed: [Y, Y, H, H, H],
        },
        Row {
            name: "see one's own revisions",
            method: Method::GET,
            path: |f| format!("{}/revisions", article(f.own_draft)),
            body: |_| None,
            allowed: [Y, Y, Y, Y, H],
        },
        Row {
            name: "see someone else's revisions",
            method: Method::GET,
            path: |f| format!("{}/revisions/1", article(f.other_draft)),
            body: |_| None,
            allowed: [Y, Y, H, H, H],
        },
        Row {
            name: "restore one's own revision",
            method: Method::POST,
            path: |f| format!("{}/revisions/1/restore", article(f.own_draft)),
            body: |_| None,
            allowed: [Y, Y, Y, Y, H],
        },
        // Taxonomy.
        Row {
            name: "create a category",
            method: Method::POST,
            path: |_| "/api/v1/admin/categories".into(),
            body: |f| Some(json!({"name": format!("Mục {}", f.suffix)})),
            allowed: [Y, Y, N, N, N],
        },
        Row {
            name: "edit a category",
            method: Method::PATCH,
            path: |f| format!("/api/v1/admin/categories/{}", f.category),
            body: |_| Some(json!({"position": 3})),
            allowed: [Y, Y, N, N, N],
        },
        Row {
            name: "delete a category",
            method: Method::DELETE,
            path: |f| format!("/api/v1/admin/categories/{}", f.category),
            body: |_| None,
            allowed: [Y, Y, N, N, N],
        },
        Row {
            name: "create a tag",
            method: Method::POST,
            path: |_| "/api/v1/admin/tags".into(),
            body: |f| Some(json!({"name": format!("Thẻ mới {}", f.suffix)})),
            allowed: [Y, Y, N, N, N],
        },
        Row {
            name: "rename a tag",
            method: Method::PATCH,
            path: |f| format!("/api/v1/admin/tags/{}", f.tag),
            body: |f| Some(json!({"name": format!("Thẻ đổi {}", f.suffix)})),
            allowed: [Y, Y, N, N, N],
        },
        Row {
            name: "delete a tag",
            method: Method::DELETE,
            path: |f| format!("/api/v1/admin/tags/{}", f.tag),
            body: |_| None,
            allowed: [Y, Y, N, N, N],
        },
        Row {
            name: "open the moderation desk",
            method: Method::GET,
            path: |_| "/api/v1/admin/comments".into(),
            body: |_| None,
            allowed: [Y, Y, N, N, Y],
        },
        Row {
            name: "see a comment with phone and email",
            method: Method::GET,
            path: |f| format!("/api/v1/admin/comments/{}", f.comment),
            body: |_| None,
            allowed: [Y, Y, N, N, Y],
        },
        Row {
            name: "approve a comment",
            method: Method::PATCH,
            path: |f| format!("/api/v1/admin/comments/{}", f.comment),
            body: |_| Some(json!({"status": "approved"})),
            allowed: [Y, Y, N, N, Y],
        },
        Row {
            name: "moderate comments in bulk",
            method: Method::POST,
            path: |_| "/api/v1/admin/comments/moderate".into(),
            body: |f| Some(json!({"ids": [f.comment], "status": "spam"})),
            allowed: [Y, Y, N, N, Y],
        },
        Row {
            name: "delete a comment",
            method: Method::DELETE,
            path: |f| format!("/api/v1/admin/comments/{}", f.comment),
            body: |_| None,
            allowed: [Y, Y, N, N, Y],
        },
        Row {
            name: "reply as staff",
            method: Method::POST,
            path: |f| format!("{}/comments", article(f.own_published)),
            body: |_| Some(json!({"title": "Ban biên tập trả lời", "content": "Cảm ơn bạn đọc."})),
            allowed: [Y, Y, N, N, Y],
        },
        Row {
            name: "read the audit log",
            method: Method::GET,
            path: |_| "/api/v1/admin/audit".into(),
            body: |_| None,
            allowed: [Y, N, N, N, N],
        },
        Row {
            name: "list webhooks",
            method: Method::GET,
            path: |_| "/api/v1/admin/webhooks".into(),
            body: |_| None,
            allowed: [Y, N, N, N, N],
        },
        Row {
            name: "create a webhook",
            method: Method::POST,
            path: |_| "/api/v1/admin/webhooks".into(),
            body: |_| Some(json!({"url": "https://203.113.0.9/hooks", "events": ["article.published"]})),
            allowed: [Y, N, N, N, N],
        },
    ]
}

static COMMENTERS: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);

/// Made by `setup`, an admin, over HTTP.
async fn fixture(app: &TestApp, setup: &TestUser, caller: &TestUser) -> Fixture {
    let suffix = rand_suffix();
    let post = |path: &'static str, body: Value| async move {
        let res = app
            .as_user(&setup.access_token, Method::POST, path, Some(&body))
            .await;
        assert!(res.status.is_success(), "fixture {path}: {}", res.text());
        res.data()["id"].as_i64().unwrap()
    };
    let target = post(
        "/api/v1/admin/authors",
        json!({"name": format!("Tài khoản đích {suffix}"), "email": format!("target{suffix}@example.vn")}),
    )
    .await;
    let articles = "/api/v1/admin/articles";
    let own_draft = post(
        articles,
        json!({"title": format!("Nháp {suffix}"), "author_ids": [caller.id]}),
    )
    .await;
    let own_published = post(
        articles,
        json!({"title": format!("Đã đăng {suffix}"), "author_ids": [caller.id]}),
    )
    .await;
    app.as_user(
        &setup.access_token,
        Method::POST,
        &format!("{}/publish", article(own_published)),
        None,
    )
    .await
    .expect(200);
    let other_draft = post(
        articles,
        json!({"title": format!("Nháp khác {suffix}"), "author_ids": [target]}),
    )
    .await;
    let category = post(
        "/api/v1/admin/categories",
        json!({"name": format!("Chuyên mục {suffix}")}),
    )
    .await;
    let tag = post("/api/v1/admin/tags", json!({"name": format!("Thẻ {suffix}")})).await;
    let slug = app
        .get_as(&setup.access_token, &article(own_published))
        .await
        .data()["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = newsdesk::comments::captcha::mint(
        app.state.secrets.captcha_key.as_bytes(),
        "K7M2P",
        chrono::Utc::now() + chrono::Duration::minutes(5),
    )
    .unwrap();
    let res = app
        .call(
            actix_web::test::TestRequest::post()
                .uri(&format!("/api/v1/articles/{slug}/comments"))
                // A reader of their own each time, clear of the per-client rate limit.
                .peer_addr({
                    let n = COMMENTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    std::net::SocketAddr::from(([10, 99, (n >> 8) as u8, n as u8], 4000))
                })
                .set_json(json!({
                    "name": "Bạn đọc", "title": "Hỏi", "content": format!("Câu hỏi {suffix}"),
                    "captcha_token": token, "captcha_answer": "k7m2p",
                })),
        )
        .await;
    assert_eq!(res.status, 202, "fixture comment: {}", res.text());
    let comment = res.data()["id"].as_i64().unwrap();
    Fixture {
        target,
        suffix,
        own_draft,
        own_published,
        other_draft,
        category,
        tag,
        comment,
    }
}

fn rand_suffix() -> String {
    newsdesk::auth::sessions::random_token(6)
        .unwrap()
        .to_lowercase()
        .replace(['-', '_'], "x")
}

backend_test!(
    async fn every_role_gets_exactly_what_the_matrix_allows(app: TestApp) {
        let setup = app.user(Role::Admin).await;
        let mut users: Vec<(Role, TestUser)> = Vec::new();
        for role in Role::ALL {
            users.push((role, app.user(role).await));
        }
        let mut failures = Vec::new();
        for row in rows() {
            for ((role, user), allowed) in users.iter().zip(row.allowed) {
                let fixture = fixture(&app, &setup, user).await;
                let body = (row.body)(&fixture);
                let res = app
                    .as_user(
                        &user.access_token,
                        row.method.clone(),
                        &(row.path)(&fixture),
                        body.as_ref(),
                    )
                    .await;
                let problem = res.header("content-type") == Some("application/problem+json");
                let ok = match allowed {
                    Access::Yes => res.status.is_success(),
                    Access::No => res.status == 403 && problem,
                    Access::Hidden => res.status == 404 && problem,
                };
                if !ok {
                    failures.push(format!(
                        "{role} / {}: expected {allowed:?}, got {} {}",
                        row.name,
                        res.status,
                        res.text()
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "matrix violations:\n{}", failures.join("\n"));
    }
);
