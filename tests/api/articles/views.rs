//! View counting: exact counts, written by the flush.

use actix_web::http::Method;
use futures_util::future::join_all;
use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;

use super::{PUBLIC_ARTICLES, create, hour, public_detail, published};

backend_test! {
    // Cached answers show counts up to NEWSDESK_CACHE_TTL late (see tests/api/cache.rs); here
    // every answer is read fresh to check the counts themselves.
    config = |c| c.cache_bytes = 0;
    async fn views_are_counted_exactly_and_written_by_the_flush(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        published(&app, &editor, json!({"title": "Tin được xem"}), &hour(1)).await;
        create(&app, &editor, json!({"title": "Tin nháp"})).await;
        let views = format!("{PUBLIC_ARTICLES}/tin-duoc-xem/views");
        let one = app.send(Method::POST, &views).await.expect(204);
        assert!(one.body.is_empty());
        app.send(Method::POST, &format!("{PUBLIC_ARTICLES}/tin-nhap/views"))
            .await
            .problem(404);
        app.send(Method::POST, &format!("{PUBLIC_ARTICLES}/khong-co/views"))
            .await
            .problem(404);
        assert_eq!(newsdesk::workers::flush_views(&app.state).await.unwrap(), 1);
        let detail = public_detail(&app, "tin-duoc-xem").await.json();
        assert_eq!(detail["data"]["view_count"], 1);

        const BURST: usize = 10_000;
        const CHUNK: usize = 500;
        for _ in 0..BURST / CHUNK {
            let answers = join_all((0..CHUNK).map(|_| app.send(Method::POST, &views))).await;
            assert!(answers.iter().all(|r| r.status == 204));
        }
        // Counted in memory; nothing written until the flush.
        assert_eq!(app.state.views.pending(), BURST as i64);
        let detail = public_detail(&app, "tin-duoc-xem").await.json();
        assert_eq!(detail["data"]["view_count"], 1);
        assert_eq!(
            newsdesk::workers::flush_views(&app.state).await.unwrap(),
            BURST as i64
        );
        assert_eq!(app.state.views.pending(), 0);
        assert_eq!(newsdesk::workers::flush_views(&app.state).await.unwrap(), 0);
        let detail = public_detail(&app, "tin-duoc-xem").await.json();
        assert_eq!(detail["data"]["view_count"], BURST as i64 + 1);
        let list = app.get(PUBLIC_ARTICLES).await.json();
        assert_eq!(list["data"][0]["view_count"], BURST as i64 + 1);
    }
}
