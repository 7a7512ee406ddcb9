//! The webhook events of comments, and the article workflow in the log.

use actix_web::http::Method;
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::{webhook_deliveries, webhook_events, webhooks};
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::TestApp;

use super::{actions, comment, entries, moderate, send};

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
