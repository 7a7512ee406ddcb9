//! The contract's permission matrix, walked over HTTP: every role against every action that
//! exists, allowed and refused. Later resources add their rows here.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::{TestApp, TestUser};

/// One row: what to send, and whether each role (admin, editor, author, contributor,
/// moderator) may.
struct Row {
    name: &'static str,
    method: Method,
    path: fn(&Fixture) -> String,
    body: fn(&Fixture) -> Option<Value>,
    allowed: [bool; 5],
}

/// Resources the rows act on, made fresh for each caller so one row cannot spoil the next.
struct Fixture {
    target: i64,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "list accounts",
            method: Method::GET,
            path: |_| "/api/v1/admin/authors".into(),
            body: |_| None,
            allowed: [true, false, false, false, false],
        },
        Row {
            name: "create an account",
            method: Method::POST,
            path: |_| "/api/v1/admin/authors".into(),
            body: |_| Some(json!({"name": "Phóng viên mới"})),
            allowed: [true, false, false, false, false],
        },
        Row {
            name: "see an account",
            method: Method::GET,
            path: |f| format!("/api/v1/admin/authors/{}", f.target),
            body: |_| None,
            allowed: [true, false, false, false, false],
        },
        Row {
            name: "change an account's role",
            method: Method::PATCH,
            path: |f| format!("/api/v1/admin/authors/{}", f.target),
            body: |_| Some(json!({"role": "editor"})),
            allowed: [true, false, false, false, false],
        },
        Row {
            name: "deactivate an account",
            method: Method::DELETE,
            path: |f| format!("/api/v1/admin/authors/{}", f.target),
            body: |_| None,
            allowed: [true, false, false, false, false],
        },
        Row {
            name: "read one's own account",
            method: Method::GET,
            path: |_| "/api/v1/auth/me".into(),
            body: |_| None,
            allowed: [true, true, true, true, true],
        },
        Row {
            name: "edit one's own profile",
            method: Method::PATCH,
            path: |_| "/api/v1/auth/me".into(),
            body: |_| Some(json!({"bio": "Biên tập viên"})),
            allowed: [true, true, true, true, true],
        },
    ]
}

async fn fixture(app: &TestApp) -> Fixture {
    let target = newsdesk::accounts_cli::create(
        &app.state,
        &format!("target{}@example.vn", rand_suffix()),
        "Tài khoản đích",
        Role::Author,
        "mật khẩu đủ dài".into(),
    )
    .await
    .unwrap();
    Fixture { target: target.id }
}

fn rand_suffix() -> String {
    newsdesk::auth::sessions::random_token(6)
        .unwrap()
        .to_lowercase()
        .replace(['-', '_'], "x")
}

backend_test!(
    async fn every_role_gets_exactly_what_the_matrix_allows(app: TestApp) {
        let mut users: Vec<(Role, TestUser)> = Vec::new();
        for role in Role::ALL {
            users.push((role, app.user(role).await));
        }
        let mut failures = Vec::new();
        for row in rows() {
            for ((role, user), allowed) in users.iter().zip(row.allowed) {
                let fixture = fixture(&app).await;
                let body = (row.body)(&fixture);
                let res = app
                    .as_user(
                        &user.access_token,
                        row.method.clone(),
                        &(row.path)(&fixture),
                        body.as_ref(),
                    )
                    .await;
                let ok = if allowed {
                    res.status.is_success()
                } else {
                    res.status == 403 && res.header("content-type") == Some("application/problem+json")
                };
                if !ok {
                    failures.push(format!("{role} / {}: {} {}", row.name, res.status, res.text()));
                }
            }
        }
        assert!(failures.is_empty(), "matrix violations:\n{}", failures.join("\n"));
    }
);
