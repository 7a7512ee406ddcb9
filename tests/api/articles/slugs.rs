//! Slug history: the slugs a published article had keep leading readers to it, and no other
//! article may take them.

use actix_web::http::Method;
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::{article_slugs, articles};
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::{TestApp, TestResponse, TestUser};

use super::{ADMIN_ARTICLES, PUBLIC_ARTICLES, action, admin_article, create, public_detail, publish_now};

async fn rename(app: &TestApp, user: &TestUser, id: i64, slug: &str) -> TestResponse {
    let version = app
        .get_as(&user.access_token, &admin_article(id))
        .await
        .expect(200)
        .data()["version"]
        .clone();
    app.as_user(
        &user.access_token,
        Method::PATCH,
        &admin_article(id),
        Some(&json!({"version": version, "slug": slug})),
    )
    .await
}

/// Asserts that `old` answers 308 to the article page at `current`.
async fn redirects(app: &TestApp, old: &str, current: &str) {
    let res = public_detail(app, old).await;
    assert_eq!(res.status, 308, "{old}: {}", res.text());
    assert_eq!(
        res.header("location"),
        Some(format!("{PUBLIC_ARTICLES}/{current}").as_str()),
        "{old}"
    );
    assert!(res.body.is_empty());
}

async fn former_slugs(app: &TestApp, id: i64) -> Vec<String> {
    app.state
        .db
        .run(move |conn| {
            Ok(article_slugs::table
                .filter(article_slugs::article_id.eq(id))
                .order(article_slugs::slug)
                .select(article_slugs::slug)
                .load::<String>(conn)?)
        })
        .await
        .unwrap()
}

async fn was_public(app: &TestApp, id: i64) -> bool {
    app.state
        .db
        .run(move |conn| {
            Ok(articles::table
                .find(id)
                .select(articles::was_public)
                .first::<bool>(conn)?)
        })
        .await
        .unwrap()
}

fn id_of(article: &Value) -> i64 {
    article["id"].as_i64().unwrap()
}

backend_test!(
    async fn a_former_slug_of_a_published_article_redirects_to_the_current_one(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let id = id_of(&create(&app, &editor, json!({"title": "Tên cũ", "slug": "ten-cu"})).await);
        publish_now(&app, &editor, id).await;
        // Cached under the old slug before the rename.
        public_detail(&app, "ten-cu").await.expect(200);
        public_detail(&app, "ten-cu").await.expect(200);

        rename(&app, &editor, id, "ten-moi").await.expect(200);
        redirects(&app, "ten-cu", "ten-moi").await;
        let res = public_detail(&app, "ten-cu").await;
        assert_eq!(res.header("cache-control"), Some("public, max-age=30"));
        assert_eq!(public_detail(&app, "ten-moi").await.expect(200).data()["id"], id);

        // A chain of renames leads straight to the end.
        rename(&app, &editor, id, "ten-cuoi").await.expect(200);
        redirects(&app, "ten-cu", "ten-cuoi").await;
        redirects(&app, "ten-moi", "ten-cuoi").await;
        assert_eq!(former_slugs(&app, id).await, ["ten-cu", "ten-moi"]);

        // Feeds and sitemaps name the current slug only.
        let feed = app.get("/feed.xml").await.expect(200).text();
        let sitemap = app.get("/sitemap.xml").await.expect(200).text();
        for xml in [&feed, &sitemap] {
            assert!(xml.contains("/articles/ten-cuoi<"), "{xml}");
            assert!(
                !xml.contains("/articles/ten-cu<") && !xml.contains("ten-moi"),
                "{xml}"
            );
        }
        let list = app.get(PUBLIC_ARTICLES).await.expect(200).json();
        assert_eq!(crate::common::slugs(&list), ["ten-cuoi"]);

        // Taking an old slug back makes it current again and redirects the others to it.
        rename(&app, &editor, id, "ten-cu").await.expect(200);
        assert_eq!(public_detail(&app, "ten-cu").await.expect(200).data()["id"], id);
        redirects(&app, "ten-moi", "ten-cu").await;
        redirects(&app, "ten-cuoi", "ten-cu").await;
        assert_eq!(former_slugs(&app, id).await, ["ten-cuoi", "ten-moi"]);

        // Views and comments are counted and read at the current slug only.
        app.send(Method::POST, &format!("{PUBLIC_ARTICLES}/ten-moi/views"))
            .await
            .problem(404);
        app.send(Method::POST, &format!("{PUBLIC_ARTICLES}/ten-cu/views"))
            .await
            .expect(204);

        // Once readers cannot see the article, its old slugs lead nowhere.
        action(&app, &editor, id, "unpublish", None).await.expect(200);
        public_detail(&app, "ten-cu").await.problem(404);
        let problem = public_detail(&app, "ten-moi").await.problem(404);
        assert_eq!(problem["code"], "article.not_found");
        public_detail(&app, "khong-co-bai-nay").await.problem(404);
        public_detail(&app, "KHONG_HOP_LE").await.problem(404);
    }
);

backend_test!(
    async fn another_article_cannot_take_a_former_slug(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let first = id_of(&create(&app, &editor, json!({"title": "Gốc"})).await);
        publish_now(&app, &editor, first).await;
        rename(&app, &editor, first, "goc-moi").await.expect(200);
        // Unpublished since: the old slug stays its, ready for when it is published again.
        action(&app, &editor, first, "unpublish", None).await.expect(200);

        let problem = app
            .as_user(
                &editor.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({"title": "Khác", "slug": "goc"})),
            )
            .await
            .problem(409);
        assert_eq!(problem["code"], "article.slug_taken");
        // A slug made from the title passes it by.
        let second = create(&app, &editor, json!({"title": "Gốc"})).await;
        assert_eq!(second["slug"], "goc-2");
        let problem = rename(&app, &editor, id_of(&second), "goc").await.problem(409);
        assert_eq!(problem["code"], "article.slug_taken");

        // Nor can it take a former slug of a published article.
        let third = id_of(&create(&app, &editor, json!({"title": "Thứ ba", "slug": "thu-ba"})).await);
        publish_now(&app, &editor, third).await;
        rename(&app, &editor, third, "thu-ba-moi").await.expect(200);
        let problem = rename(&app, &editor, id_of(&second), "thu-ba").await.problem(409);
        assert_eq!(problem["code"], "article.slug_taken");
        redirects(&app, "thu-ba", "thu-ba-moi").await;

        publish_now(&app, &editor, first).await;
        redirects(&app, "goc", "goc-moi").await;
    }
);

backend_test!(
    async fn restoring_a_version_moves_the_slug_and_keeps_the_one_left(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let id = id_of(
            &create(
                &app,
                &editor,
                json!({"title": "Phiên bản", "slug": "phien-ban-mot"}),
            )
            .await,
        );
        publish_now(&app, &editor, id).await;
        rename(&app, &editor, id, "phien-ban-hai").await.expect(200);
        let restored = action(&app, &editor, id, "revisions/1/restore", None)
            .await
            .expect(200)
            .data();
        assert_eq!(restored["slug"], "phien-ban-mot");
        public_detail(&app, "phien-ban-mot").await.expect(200);
        redirects(&app, "phien-ban-hai", "phien-ban-mot").await;
        assert_eq!(former_slugs(&app, id).await, ["phien-ban-hai"]);

        // A version whose slug is now another article's former slug is restored with the
        // slug the article has.
        let other = id_of(&create(&app, &editor, json!({"title": "Khác", "slug": "bai-khac"})).await);
        rename(&app, &editor, other, "bai-khac-2").await.expect(200);
        rename(&app, &editor, id, "bai-khac").await.expect(200);
        rename(&app, &editor, id, "phien-ban-ba").await.expect(200);
        let restored = action(&app, &editor, other, "revisions/1/restore", None)
            .await
            .expect(200)
            .data();
        assert_eq!(restored["slug"], "bai-khac-2");
        redirects(&app, "bai-khac", "phien-ban-ba").await;
    }
);

backend_test!(
    async fn a_slug_never_shown_to_readers_leaves_no_trace(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let draft = id_of(&create(&app, &editor, json!({"title": "Nháp", "slug": "nhap"})).await);
        rename(&app, &editor, draft, "nhap-moi").await.expect(200);
        assert!(!was_public(&app, draft).await);
        assert!(former_slugs(&app, draft).await.is_empty());
        let other = create(&app, &editor, json!({"title": "Khác", "slug": "nhap"})).await;
        assert_eq!(other["slug"], "nhap");

        // Scheduled and not yet due: readers have not seen it either.
        let when = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        action(
            &app,
            &editor,
            draft,
            "publish",
            Some(&json!({"publish_at": when})),
        )
        .await
        .expect(200);
        rename(&app, &editor, draft, "nhap-hen-gio").await.expect(200);
        assert!(former_slugs(&app, draft).await.is_empty());

        // The scheduler publishing it counts as public, as does a publish by hand.
        app.state
            .db
            .run(move |conn| {
                diesel::update(articles::table.find(draft))
                    .set(articles::publish_at.eq(Some(
                        chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1),
                    )))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            newsdesk::workers::run_scheduler(&app.state).await.unwrap(),
            [draft]
        );
        assert!(was_public(&app, draft).await);
        let manual = id_of(&other);
        assert!(!was_public(&app, manual).await);
        publish_now(&app, &editor, manual).await;
        action(&app, &editor, manual, "unpublish", None).await.expect(200);
        assert!(was_public(&app, manual).await, "stays once readers have seen it");
        rename(&app, &editor, manual, "nhap-da-dang").await.expect(200);
        assert_eq!(former_slugs(&app, manual).await, ["nhap"]);
    }
);
