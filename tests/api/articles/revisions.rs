//! Revisions: every saved edit is kept and can be read back or restored.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::TestUser;

use super::{ADMIN_ARTICLES, admin_article, create};

backend_test!(
    async fn every_saved_edit_keeps_a_revision_that_can_be_restored(app: TestApp) {
        let author = app.user(Role::Author).await;
        let editor = app.user(Role::Editor).await;
        let id = create(
            &app,
            &author,
            json!({"title": "Bản một", "body": "Thân một", "tags": ["Gốc"]}),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let path = admin_article(id);
        let edit = |user: &TestUser, body: Value| {
            let token = user.access_token.clone();
            let path = path.clone();
            let app = &app;
            async move {
                let res = app
                    .as_user(&token, Method::PATCH, &path, Some(&body))
                    .await
                    .expect(200);
                res.data()
            }
        };
        edit(
            &author,
            json!({"version": 1, "title": "Bản hai", "tags": ["Mới"]}),
        )
        .await;
        let v3 = edit(&editor, json!({"version": 2, "body": "Thân ba"})).await;
        assert_eq!(v3["version"], 3);

        let list = app
            .get_as(&author.access_token, &format!("{path}/revisions"))
            .await
            .expect(200)
            .data();
        let versions: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, [3, 2, 1], "newest first");
        assert_eq!(list[0]["title"], "Bản hai");
        assert_eq!(list[2]["title"], "Bản một");
        assert_eq!(list[0]["edited_by"]["id"], editor.id);
        assert_eq!(list[2]["edited_by"]["id"], author.id);

        let first = app
            .get_as(&author.access_token, &format!("{path}/revisions/1"))
            .await
            .expect(200);
        let content = first.data()["content"].clone();
        assert_eq!(content["title"], "Bản một");
        assert_eq!(content["body"], "Thân một");
        assert_eq!(content["slug"], "ban-mot");
        assert_eq!(content["author_ids"], json!([author.id]));

        let res = app
            .as_user(
                &author.access_token,
                Method::POST,
                &format!("{path}/revisions/1/restore"),
                None,
            )
            .await
            .expect(200);
        let restored = res.data();
        assert_eq!(restored["version"], 4, "a restore is a new version");
        assert_eq!(restored["title"], "Bản một");
        assert_eq!(restored["body"], "Thân một");
        assert_eq!(restored["tags"][0]["name"], "Gốc");
        let list = app
            .get_as(&author.access_token, &format!("{path}/revisions"))
            .await
            .json();
        assert_eq!(list["data"].as_array().unwrap().len(), 4);
        assert_eq!(list["data"][0]["version"], 4);
        // The history before the restore is still there.
        let third = app
            .get_as(&author.access_token, &format!("{path}/revisions/3"))
            .await
            .json();
        assert_eq!(third["data"]["content"]["body"], "Thân ba");

        app.get_as(&author.access_token, &format!("{path}/revisions/99"))
            .await
            .problem(404);
        app.as_user(
            &author.access_token,
            Method::POST,
            &format!("{path}/revisions/99/restore"),
            None,
        )
        .await
        .problem(404);
        app.get_as(
            &author.access_token,
            &format!("{ADMIN_ARTICLES}/999999/revisions"),
        )
        .await
        .problem(404);
        // Someone else's history is not shown to an author.
        let stranger = app.user(Role::Author).await;
        app.get_as(&stranger.access_token, &format!("{path}/revisions"))
            .await
            .problem(404);
        app.get_as(&stranger.access_token, &format!("{path}/revisions/1"))
            .await
            .problem(404);
    }
);
