//! The editorial list: authors see only their own articles.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;
use crate::common::slugs;

use super::{ADMIN_ARTICLES, admin_article, category, create, publish_now};

backend_test!(
    async fn editorial_lists_show_authors_only_their_own_articles(app: TestApp) {
        let first = app.user(Role::Author).await;
        let second = app.user(Role::Contributor).await;
        let editor = app.user(Role::Editor).await;
        let a = create(&app, &first, json!({"title": "Bài A"})).await;
        create(&app, &first, json!({"title": "Bài B"})).await;
        create(&app, &second, json!({"title": "Bài C"})).await;
        publish_now(&app, &first, a["id"].as_i64().unwrap()).await;

        let all = app.get_as(&editor.access_token, ADMIN_ARTICLES).await.json();
        assert_eq!(all["meta"]["total"], 3);
        let mut mine = slugs(&app.get_as(&first.access_token, ADMIN_ARTICLES).await.json());
        mine.sort();
        assert_eq!(mine, ["bai-a", "bai-b"]);
        assert_eq!(
            slugs(&app.get_as(&second.access_token, ADMIN_ARTICLES).await.json()),
            ["bai-c"]
        );
        // Filters narrow what the caller may see, never widen it.
        let drafts = app
            .get_as(&first.access_token, &format!("{ADMIN_ARTICLES}?status=draft"))
            .await
            .json();
        assert_eq!(slugs(&drafts), ["bai-b"]);
        let first_slug = a["authors"][0]["slug"].as_str().unwrap().to_owned();
        assert_eq!(
            app.get_as(
                &second.access_token,
                &format!("{ADMIN_ARTICLES}?author={first_slug}")
            )
            .await
            .json()["meta"]["total"],
            0
        );
        let by_first = app
            .get_as(
                &editor.access_token,
                &format!("{ADMIN_ARTICLES}?author={first_slug}&per_page=1"),
            )
            .await
            .json();
        assert_eq!(by_first["meta"]["total"], 2);
        assert_eq!(by_first["meta"]["total_pages"], 2);
        assert_eq!(by_first["data"].as_array().unwrap().len(), 1);
        app.get_as(&editor.access_token, &format!("{ADMIN_ARTICLES}?status=gone"))
            .await
            .problem(400);
        let section = category(&app, &editor, json!({"name": "Chuyên mục"})).await;
        let sub = category(
            &app,
            &editor,
            json!({"name": "Mục con", "parent_id": section["id"]}),
        )
        .await;
        app.as_user(
            &editor.access_token,
            Method::PATCH,
            &admin_article(a["id"].as_i64().unwrap()),
            Some(&json!({"version": 1, "category_id": sub["id"]})),
        )
        .await
        .expect(200);
        for who in [&editor, &first] {
            let in_section = app
                .get_as(
                    &who.access_token,
                    &format!("{ADMIN_ARTICLES}?category=chuyen-muc"),
                )
                .await
                .json();
            assert_eq!(slugs(&in_section), ["bai-a"]);
        }
        let in_section = app
            .get_as(
                &second.access_token,
                &format!("{ADMIN_ARTICLES}?category=chuyen-muc"),
            )
            .await
            .json();
        assert_eq!(in_section["meta"]["total"], 0);
        // Someone else's article is not even acknowledged.
        let c_id = app.get_as(&second.access_token, ADMIN_ARTICLES).await.data()[0]["id"]
            .as_i64()
            .unwrap();
        app.get_as(&first.access_token, &admin_article(c_id))
            .await
            .problem(404);
    }
);
