//! Sign-ins in the audit log: successes and failures, with a hash of the client address.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;

use super::{AUDIT, actions, entries, fresh_client, send};

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
