//! Changes in the audit log: accounts, taxonomy and moderation, and refused actions left out.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;

use super::{AUDIT, actions, comment, entries, moderate, send};

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
