//! The audit log over HTTP: what is recorded (sign-ins, accounts, taxonomy, moderation), what
//! is not (refused actions), how administrators filter it, and the webhook events of comments.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::{webhook_deliveries, webhook_events, webhooks};
use serde_json::{Value, json};

use crate::backend_test;
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

// ---------------------------------------------------------------------------------------------
// Sign-ins

backend_test!(
    async fn a_sign_in_is_logged_with_a_hash_of_the_client_address_not_the_address(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let editor = app.user(Role::Editor).await;
        let client = fresh_client();
        for _ in 0..2 {
            app.login_from(client, &editor.email, &editor.password)
                .await
                .expect(200);
        }
        let list = entries(&app, &admin, &format!("action=session.login&actor={}", editor.id)).await;
        // Two from this client, and the one of `app.user` (from no known address).
        assert_eq!(list.len(), 3, "{list:?}");
        let (first, second) = (&list[0], &list[1]);
        assert_eq!(
            first["actor"],
            json!({"id": editor.id, "name": first["actor"]["name"]})
        );
        assert_eq!(first["actor_id"], editor.id);
        assert_eq!(first["resource_type"], "session");
        let hash = first["client_hash"].as_str().unwrap();
        assert_eq!(second["client_hash"], hash, "the same client, the same hash");
        assert_eq!(hash.len(), 32);
        assert!(!hash.contains(&client.to_string()));
        assert_ne!(list[2]["client_hash"], hash);
    }
);

backend_test!(
    async fn a_wrong_password_is_logged_as_a_failure_of_that_account_without_the_secrets(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let author = app.user(Role::Author).await;
        let client = fresh_client();
        let res = app.login_from(client, &author.email, "không phải mật khẩu").await;
        res.problem(401);
        let res = app
            .get_as(
                &admin.access_token,
                &format!("{AUDIT}?action=session.login_failed"),
            )
            .await;
        assert!(!res.text().contains("không phải mật khẩu"));
        assert!(!res.text().contains(&author.email));
        let list = res.data().as_array().unwrap().clone();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["actor_id"], author.id);
        assert_eq!(list[0]["detail"]["reason"], "wrong_password");
        assert_eq!(list[0]["client_hash"].as_str().unwrap().len(), 32);
    }
);

backend_test!(
    async fn a_sign_in_with_an_unknown_email_is_logged_with_no_actor(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let client = fresh_client();
        app.login_from(client, "ai-do@example.vn", "một mật khẩu nào đó")
            .await
            .problem(401);
        app.login_from(client, "nguoi-khac@example.vn", "mật khẩu khác nữa")
            .await
            .problem(401);
        let list = entries(&app, &admin, "action=session.login_failed").await;
        assert_eq!(list.len(), 2);
        for entry in &list {
            assert_eq!(entry["actor"], Value::Null);
            assert_eq!(entry["actor_id"], Value::Null);
            assert_eq!(entry["detail"]["reason"], "unknown_email");
        }
        assert_eq!(list[0]["client_hash"], list[1]["client_hash"]);
    }
);

backend_test!(
    async fn throttled_sign_ins_are_logged_as_failures_too(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let author = app.user(Role::Author).await;
        let client = fresh_client();
        let mut throttled = 0;
        for _ in 0..7 {
            let res = app.login_from(client, &author.email, "sai mật khẩu rồi").await;
            if res.status == 429 {
                throttled += 1;
            }
        }
        assert!(throttled > 0);
        let list = entries(
            &app,
            &admin,
            &format!("action=session.login_failed&actor={}", author.id),
        )
        .await;
        assert_eq!(list.len(), 7);
        let logged = list
            .iter()
            .filter(|e| e["detail"]["reason"] == "throttled")
            .count();
        assert_eq!(logged, throttled);
    }
);

backend_test!(
    async fn sign_out_password_change_and_a_replayed_refresh_token_are_logged(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let author = app.user(Role::Author).await;

        // A refresh token spent twice revokes its session: a security event.
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": author.refresh_token}),
        )
        .await
        .expect(200);
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": author.refresh_token}),
        )
        .await
        .problem(401);

        let again = app.user(Role::Author).await;
        send(
            &app,
            &again,
            Method::POST,
            "/api/v1/auth/me/password",
            json!({"current_password": again.password, "new_password": "một mật khẩu mới dài"}),
        )
        .await;
        app.post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": again.refresh_token}),
        )
        .await
        .expect(204);

        let list = entries(&app, &admin, "action=session.refresh_reused").await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["actor_id"], author.id);
        let list = entries(&app, &admin, &format!("actor={}", again.id)).await;
        assert_eq!(
            actions(&list),
            ["session.logout", "account.password", "session.login"]
        );
        assert_eq!(list[1]["resource_id"], again.id);
        assert!(!serde_json::to_string(&list).unwrap().contains("mật khẩu"));
    }
);

// ---------------------------------------------------------------------------------------------
// Accounts, taxonomy, moderation

backend_test!(
    async fn a_role_change_is_logged_with_the_role_before_and_after(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let author = app.user(Role::Author).await;
        send(
            &app,
            &admin,
            Method::PATCH,
            &format!("/api/v1/admin/authors/{}", author.id),
            json!({"role": "editor", "bio": "Biên tập viên"}),
        )
        .await;
        let list = entries(&app, &admin, &format!("resource=account:{}", author.id)).await;
        assert_eq!(actions(&list), ["account.update", "account.create"]);
        let update = &list[0];
        assert_eq!(update["actor"]["id"], admin.id);
        assert_eq!(
            update["detail"]["role"],
            json!({"from": "author", "to": "editor"})
        );
        assert_eq!(update["detail"]["fields"], json!(["bio", "role"]));
        // Accounts made outside HTTP (the command line) have no actor.
        assert_eq!(list[1]["actor"], Value::Null);
        assert_eq!(list[1]["detail"]["role"], "author");
    }
);

backend_test!(
    async fn account_creation_profile_edits_and_deactivation_are_logged(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let created = send(
            &app,
            &admin,
            Method::POST,
            "/api/v1/admin/authors",
            json!({"name": "Lê Văn Cường", "email": "cuong@example.vn", "password": "mật khẩu đủ dài", "role": "editor"}),
        )
        .await;
        let id = created["data"]["id"].as_i64().unwrap();
        app.as_user(
            &admin.access_token,
            Method::DELETE,
            &format!("/api/v1/admin/authors/{id}"),
            None,
        )
        .await
        .expect(204);
        send(
            &app,
            &admin,
            Method::PATCH,
            "/api/v1/auth/me",
            json!({"name": "Quản trị viên"}),
        )
        .await;

        let list = entries(&app, &admin, &format!("resource=account:{id}")).await;
        assert_eq!(actions(&list), ["account.deactivate", "account.create"]);
        assert_eq!(list[0]["detail"]["active"], json!({"from": true, "to": false}));
        assert_eq!(
            list[1]["detail"],
            json!({"slug": "le-van-cuong", "role": "editor", "can_sign_in": true})
        );
        assert!(!serde_json::to_string(&list).unwrap().contains("cuong@example.vn"));

        let mine = entries(
            &app,
            &admin,
            &format!("resource=account:{}&action=account.update", admin.id),
        )
        .await;
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["actor"], json!({"id": admin.id, "name": "Quản trị viên"}));
        assert_eq!(mine[0]["detail"]["fields"], json!(["name"]));
    }
);

backend_test!(
    async fn category_and_tag_changes_are_logged(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let editor = app.user(Role::Editor).await;
        let mut ids = Vec::new();
        for (collection, name, renamed) in [
            ("categories", "Thời sự", "Thời sự trong nước"),
            ("tags", "Giáo dục", "Giáo dục phổ thông"),
        ] {
            let created = send(
                &app,
                &editor,
                Method::POST,
                &format!("/api/v1/admin/{collection}"),
                json!({ "name": name }),
            )
            .await;
            let id = created["data"]["id"].as_i64().unwrap();
            let path = format!("/api/v1/admin/{collection}/{id}");
            send(&app, &editor, Method::PATCH, &path, json!({ "name": renamed })).await;
            app.as_user(&editor.access_token, Method::DELETE, &path, None)
                .await
                .expect(204);
            ids.push(id);
        }
        let (cat, tag) = (ids[0], ids[1]);

        let list = entries(&app, &admin, &format!("resource=category:{cat}")).await;
        assert_eq!(
            actions(&list),
            ["category.delete", "category.update", "category.create"]
        );
        assert_eq!(
            list[0]["detail"],
            json!({"slug": "thoi-su", "name": "Thời sự trong nước"})
        );
        assert_eq!(list[1]["detail"]["fields"], json!(["name"]));
        assert!(list.iter().all(|e| e["actor_id"] == editor.id));
        let list = entries(&app, &admin, "resource=tag").await;
        assert_eq!(actions(&list), ["tag.delete", "tag.update", "tag.create"]);
        assert_eq!(
            list[1]["detail"]["from"],
            json!({"slug": "giao-duc", "name": "Giáo dục"})
        );
        assert!(list.iter().all(|e| e["resource_id"] == tag));
    }
);

backend_test!(
    config = |c| c.captcha = false;
    async fn moderation_deletion_and_staff_replies_are_logged(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let moderator = app.user(Role::Moderator).await;
        let editor = app.user(Role::Editor).await;
        let (article_id, slug) = app.published_article(&editor, json!({"title": "Bài kiểm tra"})).await;
        let one = comment(&app, &slug, json!({})).await;
        let two = comment(&app, &slug, json!({})).await;
        let three = comment(&app, &slug, json!({})).await;
        assert_eq!(moderate(&app, &moderator, one, "approved").await.status, 200);
        send(
            &app,
            &moderator,
            Method::POST,
            "/api/v1/admin/comments/moderate",
            json!({"ids": [two, three], "status": "rejected"}),
        )
        .await;
        let reply = send(
            &app,
            &moderator,
            Method::POST,
            &format!("/api/v1/admin/articles/{article_id}/comments"),
            json!({"title": "Trả lời", "content": "Cảm ơn bạn.", "parent_id": one}),
        )
        .await;
        let reply = reply["data"]["id"].as_i64().unwrap();
        app
            .as_user(&moderator.access_token, Method::DELETE, &format!("/api/v1/admin/comments/{one}"), None)
            .await
            .expect(204);

        let list = entries(&app, &admin, &format!("resource=comment&actor={}", moderator.id)).await;
        assert_eq!(
            actions(&list),
            ["comment.delete", "comment.reply", "comment.moderate", "comment.moderate", "comment.moderate"]
        );
        assert_eq!(list[0]["resource_id"], one);
        assert_eq!(list[0]["detail"]["replies_deleted"], 1);
        assert_eq!(list[1]["resource_id"], reply);
        assert_eq!(list[2]["resource_id"], three);
        assert_eq!(list[3]["resource_id"], two);
        assert_eq!(list[3]["detail"], json!({"from": "pending", "to": "rejected", "note": null}));
        assert_eq!(list[4]["detail"], json!({"from": "pending", "to": "approved", "note": "đã xem"}));
        // Readers' submissions are not editorial actions, and their contacts never appear.
        let text = app.get_as(&admin.access_token, AUDIT).await.text();
        assert!(!text.contains("0912345678") && !text.contains("binh.tran@example.vn"));
    }
);

backend_test!(
    config = |c| c.captcha = false;
    async fn a_refused_action_logs_nothing(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let editor = app.user(Role::Editor).await;
        let (_, slug) = app.published_article(&editor, json!({"title": "Bài bị từ chối"})).await;
        let id = comment(&app, &slug, json!({})).await;
        assert_eq!(moderate(&app, &editor, id, "approved").await.status, 200);
        moderate(&app, &editor, id, "pending").await.problem(409);
        app.as_user(&editor.access_token, Method::POST, "/api/v1/admin/categories", Some(&json!({"name": "  "})))
            .await
            .problem(422);
        app.as_user(&editor.access_token, Method::PATCH, "/api/v1/auth/me", Some(&json!({"slug": "Không Hợp Lệ"})))
            .await
            .problem(422);
        let list = entries(&app, &admin, &format!("actor={}", editor.id)).await;
        assert_eq!(
            actions(&list),
            ["comment.moderate", "article.publish", "article.create", "session.login"]
        );
    }
);

// ---------------------------------------------------------------------------------------------
// Reading the log

backend_test!(
    async fn the_log_is_newest_first_in_pages(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        for name in ["Một", "Hai", "Ba", "Bốn", "Năm"] {
            send(
                &app,
                &admin,
                Method::POST,
                "/api/v1/admin/tags",
                json!({"name": name}),
            )
            .await;
        }
        let res = app
            .get_as(
                &admin.access_token,
                &format!("{AUDIT}?action=tag.create&per_page=2&page=2"),
            )
            .await
            .expect(200);
        let body = res.json();
        assert_eq!(
            body["meta"],
            json!({"page": 2, "per_page": 2, "total": 5, "total_pages": 3, "next_cursor": null})
        );
        let names: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["detail"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Ba", "Hai"]);
        let all = entries(&app, &admin, "").await;
        let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
        assert!(all.iter().all(|e| e["at"].as_str().unwrap().ends_with('Z')));
    }
);

backend_test!(
    async fn filters_narrow_by_actor_action_family_resource_and_time(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let editor = app.user(Role::Editor).await;
        let tag = send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/tags",
            json!({"name": "Y tế"}),
        )
        .await;
        let tag = tag["data"]["id"].as_i64().unwrap();
        send(
            &app,
            &admin,
            Method::POST,
            "/api/v1/admin/tags",
            json!({"name": "Văn hoá"}),
        )
        .await;

        let by_editor = entries(&app, &admin, &format!("actor={}", editor.id)).await;
        assert_eq!(actions(&by_editor), ["tag.create", "session.login"]);
        let sessions = entries(&app, &admin, "action=session.").await;
        assert_eq!(actions(&sessions), ["session.login", "session.login"]);
        assert!(
            entries(&app, &admin, "action=session").await.is_empty(),
            "a name, not a prefix"
        );
        let one = entries(&app, &admin, &format!("resource=tag:{tag}")).await;
        assert_eq!(one.len(), 1);
        assert_eq!(one[0]["actor"]["id"], editor.id);

        let today = chrono::Utc::now().date_naive();
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(
            entries(&app, &admin, &format!("action=tag.&from={today}&to={today}"))
                .await
                .len(),
            2
        );
        assert!(
            entries(&app, &admin, &format!("from={tomorrow}"))
                .await
                .is_empty()
        );
        let instant = one[0]["at"].as_str().unwrap().replace('+', "%2B");
        let after = entries(&app, &admin, &format!("action=tag.create&from={instant}")).await;
        assert_eq!(after.len(), 2);
        let before = entries(&app, &admin, &format!("action=tag.create&to={instant}")).await;
        assert!(before.is_empty(), "`to` is exclusive for an instant");
    }
);

backend_test!(
    async fn only_administrators_read_the_log(app: TestApp) {
        for role in [Role::Editor, Role::Author, Role::Contributor, Role::Moderator] {
            let user = app.user(role).await;
            app.get_as(&user.access_token, AUDIT).await.problem(403);
        }
        let res = app.get(AUDIT).await;
        res.problem(401);
        assert!(
            res.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer"))
        );
    }
);

backend_test!(
    async fn malformed_filters_are_bad_requests(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        for query in [
            "actor=abc",
            "action=Session.Login",
            "action=session.%25",
            "resource=articles",
            "resource=article:x",
            "resource=article:0",
            "from=yesterday",
            "to=2026-13-01",
            "from=2026-02-01&to=2026-01-01",
            "per_page=101",
            "page=0",
        ] {
            let res = app.get_as(&admin.access_token, &format!("{AUDIT}?{query}")).await;
            res.problem(400);
        }
    }
);

// ---------------------------------------------------------------------------------------------
// Webhook events of comments

/// A webhook subscribed to both comment events, written straight to the database.
async fn subscribe(app: &TestApp) {
    app.state
        .db
        .run(|conn| {
            let at = chrono::Utc::now().naive_utc();
            diesel::insert_into(webhooks::table)
                .values((
                    webhooks::url.eq("https://hooks.example.vn/newsdesk"),
                    webhooks::events.eq(",comment.created,comment.approved,"),
                    webhooks::secret.eq("bí mật của webhook"),
                    webhooks::active.eq(true),
                    webhooks::created_at.eq(at),
                    webhooks::updated_at.eq(at),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// The payloads of the deliveries of one event, oldest first.
async fn delivered(app: &TestApp, event: &'static str) -> Vec<Value> {
    let payloads: Vec<String> = app
        .state
        .db
        .run(move |conn| {
            Ok(webhook_deliveries::table
                .inner_join(webhook_events::table)
                .filter(webhook_events::event.eq(event))
                .order(webhook_events::id.asc())
                .select(webhook_events::payload)
                .load(conn)?)
        })
        .await
        .unwrap();
    payloads
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}

backend_test!(
    config = |c| c.captcha = false;
    async fn every_pending_submission_is_announced_once_without_contact_details(app: TestApp) {
        subscribe(&app).await;
        let editor = app.user(Role::Editor).await;
        let (article_id, slug) = app.published_article(&editor, json!({"title": "Bài có bình luận"})).await;
        let ids = futures_util::future::join_all((0..3).map(|_| comment(&app, &slug, json!({})))).await;
        let events = delivered(&app, "comment.created").await;
        assert_eq!(events.len(), 3);
        let mut announced: Vec<i64> = events.iter().map(|e| e["data"]["id"].as_i64().unwrap()).collect();
        announced.sort_unstable();
        let mut ids = ids.clone();
        ids.sort_unstable();
        assert_eq!(announced, ids);
        let event = &events[0];
        assert_eq!(event["event"], "comment.created");
        let data = event["data"].as_object().unwrap();
        let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["article_id", "article_slug", "content", "created_at", "id", "is_staff", "name", "parent_id", "status", "title"]
        );
        assert_eq!(data["article_id"], article_id);
        assert_eq!(data["article_slug"], slug.as_str());
        assert_eq!(data["status"], "pending");
        assert!(data["created_at"].as_str().unwrap().ends_with('Z'));
        let text = serde_json::to_string(&events).unwrap();
        assert!(!text.contains("0912345678") && !text.contains("binh.tran@example.vn"));
    }
);

backend_test!(
    config = |c| c.captcha = false;
    async fn approvals_and_staff_replies_are_announced(app: TestApp) {
        subscribe(&app).await;
        let editor = app.user(Role::Editor).await;
        let (article_id, slug) = app.published_article(&editor, json!({"title": "Bài được duyệt"})).await;
        let one = comment(&app, &slug, json!({})).await;
        let two = comment(&app, &slug, json!({})).await;
        assert_eq!(moderate(&app, &editor, one, "approved").await.status, 200);
        send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/comments/moderate",
            json!({"ids": [one, two], "status": "approved"}),
        )
        .await;
        let reply = send(
            &app,
            &editor,
            Method::POST,
            &format!("/api/v1/admin/articles/{article_id}/comments"),
            json!({"title": "Trả lời", "content": "Cảm ơn bạn đọc."}),
        )
        .await;
        let reply = reply["data"]["id"].as_i64().unwrap();

        let approved: Vec<Value> = delivered(&app, "comment.approved").await;
        let ids: Vec<i64> = approved.iter().map(|e| e["data"]["id"].as_i64().unwrap()).collect();
        // `one` was already approved when the bulk call came: announced once.
        assert_eq!(ids, [one, two, reply]);
        assert!(approved.iter().all(|e| e["data"]["status"] == "approved"));
        let created = delivered(&app, "comment.created").await;
        let staff = created.last().unwrap();
        assert_eq!(staff["data"]["id"], reply);
        assert_eq!(staff["data"]["is_staff"], true);
        assert_eq!(created.len(), 3);
    }
);

backend_test!(
    config = |c| c.captcha = false;
    async fn spam_and_rejected_comments_are_not_announced(app: TestApp) {
        subscribe(&app).await;
        let editor = app.user(Role::Editor).await;
        let (_, slug) = app.published_article(&editor, json!({"title": "Bài bị spam"})).await;
        comment(&app, &slug, json!({"website": "http://spam.example"})).await;
        let rejected = comment(&app, &slug, json!({})).await;
        assert_eq!(moderate(&app, &editor, rejected, "rejected").await.status, 200);
        assert_eq!(delivered(&app, "comment.created").await.len(), 1);
        assert!(delivered(&app, "comment.approved").await.is_empty());
    }
);

backend_test!(
    async fn the_article_workflow_is_logged_and_refused_moves_are_not(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let editor = app.user(Role::Editor).await;
        let created = send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/articles",
            json!({"title": "Nhật ký bài viết", "tags": ["Chuyển đổi số"]}),
        )
        .await;
        let id = created["data"]["id"].as_i64().unwrap();
        let path = format!("/api/v1/admin/articles/{id}");
        send(
            &app,
            &editor,
            Method::PATCH,
            &path,
            json!({"version": 1, "summary": "Tóm tắt"}),
        )
        .await;
        send(&app, &editor, Method::POST, &format!("{path}/publish"), json!({})).await;
        // Refused: a stale version, a second publish. Neither leaves a line.
        let stale = app
            .as_user(
                &editor.access_token,
                Method::PATCH,
                &path,
                Some(&json!({"version": 1, "summary": "X"})),
            )
            .await;
        stale.problem(409);
        let again = app
            .as_user(
                &editor.access_token,
                Method::POST,
                &format!("{path}/publish"),
                None,
            )
            .await;
        again.problem(409);
        send(
            &app,
            &editor,
            Method::POST,
            &format!("{path}/unpublish"),
            json!({}),
        )
        .await;
        send(
            &app,
            &editor,
            Method::POST,
            &format!("{path}/revisions/1/restore"),
            json!({}),
        )
        .await;
        app.as_user(&editor.access_token, Method::DELETE, &path, None)
            .await
            .expect(204);

        let list = entries(&app, &admin, &format!("resource=article:{id}")).await;
        assert_eq!(
            actions(&list),
            [
                "article.archive",
                "article.restore",
                "article.unpublish",
                "article.publish",
                "article.update",
                "article.create"
            ]
        );
        assert!(list.iter().all(|e| e["actor_id"] == editor.id));
        assert_eq!(list[2]["detail"], json!({"from": "published", "to": "draft"}));
        assert_eq!(list[0]["detail"], json!({"from": "draft", "to": "archived"}));
        // The tag named on the article was created on the way, and that is logged too.
        let tags = entries(&app, &admin, "action=tag.create").await;
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0]["actor_id"], editor.id);
        assert_eq!(tags[0]["detail"]["name"], "Chuyển đổi số");
    }
);
