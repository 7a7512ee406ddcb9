//! Every time the API writes has one shape: RFC 3339, UTC, to the second, `Z`
//! (`2020-01-14T13:59:00Z`), on both backends, whatever fraction the database holds.

use std::collections::BTreeSet;

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::receiver::Receiver;
use crate::common::{TestApp, TestUser};

/// `2020-01-14T13:59:00Z` and nothing else: no fraction, no offset.
fn is_api_time(s: &str) -> bool {
    let shape = s.len() == 20
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    shape && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Checks every time in `value` (fields named `at` or ending in `_at`, at any depth) and adds
/// their names to `seen`.
fn check_times(origin: &str, value: &Value, seen: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                if name == "at" || name.ends_with("_at") {
                    match field {
                        Value::Null => {}
                        Value::String(s) => {
                            assert!(is_api_time(s), "{origin}: {name} = {s:?}");
                            seen.insert(name.clone());
                        }
                        other => panic!("{origin}: {name} is neither a time nor null: {other}"),
                    }
                } else {
                    check_times(origin, field, seen);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| check_times(origin, item, seen)),
        _ => {}
    }
}

async fn send(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> Value {
    let res = app.as_user(&user.access_token, method, path, body.as_ref()).await;
    assert!(res.status.is_success(), "{path}: {} {}", res.status, res.text());
    res.json()
}

backend_test!(
    config = |c| {
        c.captcha = false;
        c.webhook_allow_private = true;
    };
    async fn every_time_is_rfc3339_utc_to_the_second(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let editor = app.user(Role::Editor).await;
        let receiver = Receiver::start();
        let webhook = send(
            &app,
            &admin,
            Method::POST,
            "/api/v1/admin/webhooks",
            Some(json!({"url": receiver.url, "events": ["article.published", "comment.approved"]})),
        )
        .await["data"]["id"]
            .as_i64()
            .unwrap();

        let (older, _) = app
            .published_article(&editor, json!({"title": "Tin cũ hơn"}))
            .await;
        let (id, slug) = app
            .published_article(&editor, json!({"title": "Giờ giấc của API"}))
            .await;
        send(
            &app,
            &editor,
            Method::PATCH,
            &format!("/api/v1/admin/articles/{id}"),
            Some(json!({"version": 1, "summary": "Tóm tắt"})),
        )
        .await;

        // A fraction sent is kept in the database and left out of every answer.
        let draft = send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/articles",
            Some(json!({"title": "Tin hẹn giờ"})),
        )
        .await["data"]["id"]
            .as_i64()
            .unwrap();
        let scheduled = send(
            &app,
            &editor,
            Method::POST,
            &format!("/api/v1/admin/articles/{draft}/publish"),
            Some(json!({"publish_at": "2030-01-01T15:00:00.123456+07:00"})),
        )
        .await;
        assert_eq!(scheduled["data"]["publish_at"], "2030-01-01T08:00:00Z");

        let res = app
            .post_json(
                &format!("/api/v1/articles/{slug}/comments"),
                &json!({"name": "Nguyễn Văn An", "title": "Hỏi giờ", "content": "Mấy giờ rồi?"}),
            )
            .await
            .expect(202);
        let comment = res.data()["id"].as_i64().unwrap();
        send(
            &app,
            &admin,
            Method::PATCH,
            &format!("/api/v1/admin/comments/{comment}"),
            Some(json!({"status": "approved"})),
        )
        .await;
        send(
            &app,
            &admin,
            Method::POST,
            &format!("/api/v1/admin/articles/{id}/comments"),
            Some(json!({"title": "Trả lời", "content": "Bây giờ.", "parent_id": comment})),
        )
        .await;
        assert!(newsdesk::webhooks::worker::deliver_due(&app.state).await.unwrap() > 0);
        for received in receiver.wait_for(1, std::time::Duration::from_secs(10)) {
            check_times("a webhook body", &received.json(), &mut BTreeSet::new());
        }

        let mut seen = BTreeSet::new();
        for path in [
            "/api/v1/articles".to_owned(),
            format!("/api/v1/articles/{slug}"),
            format!("/api/v1/articles/{slug}/comments"),
            "/api/v1/auth/me".to_owned(),
            "/api/v1/admin/authors".to_owned(),
            "/api/v1/admin/articles".to_owned(),
            format!("/api/v1/admin/articles/{older}"),
            format!("/api/v1/admin/articles/{draft}"),
            format!("/api/v1/admin/articles/{id}/revisions"),
            format!("/api/v1/admin/articles/{id}/revisions/1"),
            "/api/v1/admin/comments".to_owned(),
            "/api/v1/admin/webhooks".to_owned(),
            format!("/api/v1/admin/webhooks/{webhook}/deliveries"),
            "/api/v1/admin/audit?per_page=100".to_owned(),
        ] {
            let res = app.get_as(&admin.access_token, &path).await;
            assert_eq!(res.status, 200, "{path}: {}", res.text());
            check_times(&path, &res.json(), &mut seen);
        }
        for name in [
            "at",
            "attempted_at",
            "created_at",
            "delivered_at",
            "occurred_at",
            "publish_at",
            "published_at",
            "updated_at",
        ] {
            assert!(seen.contains(name), "no {name} was checked; saw {seen:?}");
        }
    }
);
