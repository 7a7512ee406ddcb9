//! Several server processes on one database, as behind a load balancer: each test runs a
//! second application on the first one's database.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;
use crate::common::TestApp;

async fn second_process(app: &TestApp) -> TestApp {
    app.another_process()
        .build()
        .await
        .expect("a second process on the same database")
}

async fn published_article(app: &TestApp, title: &str) -> (i64, String) {
    let editor = app.user(Role::Editor).await;
    app.published_article(&editor, json!({"title": title, "body": "Nội dung."}))
        .await
}

backend_test!(
    async fn views_counted_by_two_processes_add_up_exactly(app: TestApp) {
        let other = second_process(&app).await;
        let (_, slug) = published_article(&app, "Lượt xem từ hai máy chủ").await;
        let path = format!("/api/v1/articles/{slug}/views");
        for _ in 0..10 {
            let burst = (0..250).map(|i| {
                let target = if i % 2 == 0 { &app } else { &other };
                target.send(Method::POST, &path)
            });
            for res in futures_util::future::join_all(burst).await {
                assert_eq!(res.status, 204);
            }
        }
        // Both flush, one after the other and then once more each: increments, never overwrites.
        let a = newsdesk::workers::flush_views(&app.state).await.unwrap();
        let b = newsdesk::workers::flush_views(&other.state).await.unwrap();
        assert_eq!(a + b, 2500);
        assert_eq!(newsdesk::workers::flush_views(&app.state).await.unwrap(), 0);
        let detail = other.get(&format!("/api/v1/articles/{slug}")).await;
        assert_eq!(detail.data()["view_count"], 2500);
    }
);

backend_test!(
    async fn a_due_article_is_published_once_when_two_schedulers_run_together(app: TestApp) {
        use diesel::prelude::*;
        use newsdesk::db::schema::articles;

        let other = second_process(&app).await;
        let editor = app.user(Role::Editor).await;
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&json!({"title": "Hẹn giờ đăng"})),
            )
            .await;
        let id = res.data()["id"].as_i64().unwrap();
        let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                &format!("/api/v1/admin/articles/{id}/publish"),
                Some(&json!({"publish_at": later})),
            )
            .await;
        assert_eq!(res.data()["status"], "scheduled");
        // Make it due without waiting an hour.
        app.state
            .db
            .run(move |conn| {
                diesel::update(articles::table.find(id))
                    .set(articles::publish_at.eq(newsdesk::db::now() - chrono::Duration::seconds(1)))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        let (a, b) = futures_util::future::join(
            newsdesk::workers::run_scheduler(&app.state),
            newsdesk::workers::run_scheduler(&other.state),
        )
        .await;
        let mut published = a.unwrap();
        published.extend(b.unwrap());
        assert_eq!(published, vec![id], "published exactly once");
        let res = other
            .get_as(&editor.access_token, &format!("/api/v1/admin/articles/{id}"))
            .await;
        assert_eq!(res.data()["status"], "published");
    }
);
