//! The audit log over HTTP: what is recorded (sign-ins, accounts, taxonomy, moderation), what
//! is not (refused actions), how administrators filter it, and the webhook events of comments.

mod changes;
mod comment_events;
mod reading;
mod sign_ins;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common::{TestApp, TestResponse, TestUser};

const AUDIT: &str = "/api/v1/admin/audit";

static NEXT_CLIENT: AtomicU32 = AtomicU32::new(1);

/// A client address of its own, so tests do not share throttles or hashes by accident.
fn fresh_client() -> IpAddr {
    let n = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
    IpAddr::from([10, 77, (n >> 8) as u8, n as u8])
}

/// The entries a query returns, as the admin sees them.
async fn entries(app: &TestApp, admin: &TestUser, query: &str) -> Vec<Value> {
    let res = app
        .get_as(&admin.access_token, &format!("{AUDIT}?{query}"))
        .await
        .expect(200);
    res.data().as_array().unwrap().clone()
}

fn actions(list: &[Value]) -> Vec<&str> {
    list.iter().map(|e| e["action"].as_str().unwrap()).collect()
}

async fn send(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Value) -> Value {
    let res = app.as_user(&user.access_token, method, path, Some(&body)).await;
    assert!(res.status.is_success(), "{path}: {}", res.text());
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    }
}

/// A public comment on `slug` (the captcha is off in these tests); returns its id.
async fn comment(app: &TestApp, slug: &str, extra: Value) -> i64 {
    let mut body = json!({
        "name": "Trần Thị Bình",
        "phone": "0912345678",
        "email": "binh.tran@example.vn",
        "title": "Góp ý",
        "content": format!("Nội dung góp ý số {}", NEXT_CLIENT.fetch_add(1, Ordering::Relaxed)),
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app
        .call(
            TestRequest::post()
                .uri(&format!("/api/v1/articles/{slug}/comments"))
                .peer_addr(SocketAddr::new(fresh_client(), 40000))
                .set_json(&body),
        )
        .await
        .expect(202);
    res.data()["id"].as_i64().unwrap()
}

async fn moderate(app: &TestApp, moderator: &TestUser, id: i64, status: &str) -> TestResponse {
    app.as_user(
        &moderator.access_token,
        Method::PATCH,
        &format!("/api/v1/admin/comments/{id}"),
        Some(&json!({"status": status, "note": "đã xem"})),
    )
    .await
}
