//! Reading the audit log: who may, and how administrators filter it.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;

use super::{AUDIT, actions, entries, send};

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
