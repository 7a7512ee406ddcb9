//! The response cache of public GETs: answers are kept, and every write that changes what
//! they show retires them at once, in this process and (on PostgreSQL) in every other one.
//!
//! To tell a kept answer from a fresh one, tests change the database behind the
//! application's back (plain SQL, which tells no cache): a kept answer still shows the old
//! text, a fresh one the new. An answer is kept from its second request (see [`kept`]).

use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::{Backend, TestApp, TestAppBuilder, TestResponse};

async fn title_of(app: &TestApp, slug: &str) -> String {
    let res = app.get(&format!("/api/v1/articles/{slug}")).await.expect(200);
    res.data()["title"].as_str().unwrap().to_owned()
}

/// Reads `path` twice, the second answer being kept: the cache keeps an answer built for a
/// path asked for lately, not one built for a first request.
async fn kept(app: &TestApp, path: &str) -> TestResponse {
    app.get(path).await.expect(200);
    app.get(path).await.expect(200)
}

/// The title on the article page at `slug`, read a second time so that the page is kept.
async fn kept_title_of(app: &TestApp, slug: &str) -> String {
    app.get(&format!("/api/v1/articles/{slug}")).await.expect(200);
    title_of(app, slug).await
}

fn titles(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

backend_test!(
    async fn answers_are_kept_until_an_edit_changes_them(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, slug) = app.published_article(&editor, json!({"title": "Bản gốc"})).await;
        assert_eq!(kept_title_of(&app, &slug).await, "Bản gốc");
        let list = kept(&app, "/api/v1/articles").await;
        let etag = list.header("etag").unwrap().to_owned();

        app.retitle_behind_the_back(id, "Đổi lén").await;
        assert_eq!(
            title_of(&app, &slug).await,
            "Bản gốc",
            "the page is served from the cache"
        );
        assert_eq!(titles(&app.get("/api/v1/articles").await.json()), ["Bản gốc"]);
        let res = app
            .call(
                TestRequest::get()
                    .uri("/api/v1/articles")
                    .insert_header(("If-None-Match", etag.as_str())),
            )
            .await;
        assert_eq!(res.status, 304, "the kept ETag answers revalidation");

        app.as_user(
            &editor.access_token,
            Method::PATCH,
            &format!("/api/v1/admin/articles/{id}"),
            Some(&json!({"version": 1, "summary": "Tóm tắt mới"})),
        )
        .await
        .expect(200);
        assert_eq!(
            title_of(&app, &slug).await,
            "Đổi lén",
            "the edit retired the page at once"
        );
        let list = app.get("/api/v1/articles").await;
        assert_eq!(titles(&list.json()), ["Đổi lén"]);
        assert_ne!(list.header("etag").unwrap(), etag);
    }
);

backend_test!(
    async fn an_answer_is_kept_from_the_second_request_for_it(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, slug) = app.published_article(&editor, json!({"title": "Một lần"})).await;
        assert_eq!(title_of(&app, &slug).await, "Một lần");
        app.retitle_behind_the_back(id, "Hai lần").await;
        assert_eq!(title_of(&app, &slug).await, "Hai lần", "read once: not kept");
        app.retitle_behind_the_back(id, "Ba lần").await;
        assert_eq!(title_of(&app, &slug).await, "Hai lần", "read again: kept");
        let list = "/api/v1/articles?per_page=5";
        assert_eq!(titles(&app.get(list).await.json()), ["Ba lần"]);
        app.retitle_behind_the_back(id, "Bốn lần").await;
        assert_eq!(titles(&app.get(list).await.json()), ["Bốn lần"], "lists alike");
        app.retitle_behind_the_back(id, "Năm lần").await;
        assert_eq!(titles(&app.get(list).await.json()), ["Bốn lần"]);
    }
);

backend_test!(
    async fn editing_a_draft_leaves_readers_answers_alone(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, slug) = app
            .published_article(&editor, json!({"title": "Tin chính"}))
            .await;
        assert_eq!(kept_title_of(&app, &slug).await, "Tin chính");
        app.retitle_behind_the_back(id, "Đổi lén").await;
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&json!({"title": "Nháp"})),
            )
            .await;
        let draft = res.data()["id"].as_i64().unwrap();
        app.as_user(
            &editor.access_token,
            Method::PATCH,
            &format!("/api/v1/admin/articles/{draft}"),
            Some(&json!({"version": 1, "title": "Nháp hai"})),
        )
        .await;
        assert_eq!(
            title_of(&app, &slug).await,
            "Tin chính",
            "a draft is invisible to readers"
        );
        // Publishing it is not.
        app.as_user(
            &editor.access_token,
            Method::POST,
            &format!("/api/v1/admin/articles/{draft}/publish"),
            None,
        )
        .await;
        assert_eq!(title_of(&app, &slug).await, "Đổi lén");
    }
);

backend_test!(
    async fn unpublishing_and_scheduled_publishing_show_at_once(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, slug) = app.published_article(&editor, json!({"title": "Sẽ rút"})).await;
        assert_eq!(kept_title_of(&app, &slug).await, "Sẽ rút");
        kept(&app, "/feed.xml").await;
        app.as_user(
            &editor.access_token,
            Method::POST,
            &format!("/api/v1/admin/articles/{id}/unpublish"),
            None,
        )
        .await;
        app.get(&format!("/api/v1/articles/{slug}")).await.expect(404);
        assert!(!app.get("/feed.xml").await.text().contains("Sẽ rút"));

        // Scheduled a moment ahead, then published by the scheduler's run.
        let at = (chrono::Utc::now() + chrono::Duration::milliseconds(300)).to_rfc3339();
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                &format!("/api/v1/admin/articles/{id}/publish"),
                Some(&json!({"publish_at": at})),
            )
            .await;
        assert_eq!(res.data()["status"], "scheduled");
        assert_eq!(kept(&app, "/api/v1/articles").await.json()["meta"]["total"], 0);
        let deadline = Instant::now() + Duration::from_secs(10);
        while newsdesk::workers::run_scheduler(&app.state)
            .await
            .unwrap()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "never became due");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(app.get("/api/v1/articles").await.json()["meta"]["total"], 1);
        assert!(app.get("/feed.xml").await.text().contains("Sẽ rút"));
    }
);

backend_test!(
    config = |c| c.captcha = false;
    async fn approving_a_comment_shows_it_and_its_count_at_once(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, slug) = app.published_article(&editor, json!({"title": "Lấy ý kiến"})).await;
        let (_, other) = app.published_article(&editor, json!({"title": "Bài khác"})).await;
        let thread = format!("/api/v1/articles/{slug}/comments");
        let other_thread = format!("/api/v1/articles/{other}/comments");
        assert_eq!(kept(&app, &thread).await.json()["meta"]["total"], 0);
        assert_eq!(kept(&app, &other_thread).await.json()["meta"]["total"], 0);
        kept(&app, &format!("/api/v1/articles/{slug}")).await;
        let res = app
            .post_json(&thread, &json!({"name": "Trần Thị Bình", "title": "Góp ý", "content": "Rất hay."}))
            .await
            .expect(202);
        let comment = res.data()["id"].as_i64().unwrap();
        assert_eq!(app.get(&thread).await.json()["meta"]["total"], 0, "pending is not shown");

        app.retitle_behind_the_back(id, "Đổi lén").await;
        app
            .as_user(&editor.access_token, Method::PATCH, &format!("/api/v1/admin/comments/{comment}"),
                Some(&json!({"status": "approved"})))
            .await
            .expect(200);
        let shown = app.get(&thread).await.json();
        assert_eq!(shown["data"][0]["content"], "Rất hay.");
        let page = app.get(&format!("/api/v1/articles/{slug}")).await.json();
        assert_eq!(page["data"]["comment_count"], 1);
        assert_eq!(page["data"]["title"], "Đổi lén", "the article's page was retired with its count");
    }
);

backend_test!(
    async fn renaming_a_category_or_an_author_shows_on_article_pages(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let admin = app.user(Role::Admin).await;
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/categories",
                Some(&json!({"name": "Tin tức"})),
            )
            .await;
        let category = res.data()["id"].as_i64().unwrap();
        let (_, slug) = app
            .published_article(&editor, json!({"title": "Bài", "category_id": category}))
            .await;
        assert_eq!(
            kept(&app, &format!("/api/v1/articles/{slug}")).await.data()["category"]["name"],
            "Tin tức"
        );
        app.as_user(
            &editor.access_token,
            Method::PATCH,
            &format!("/api/v1/admin/categories/{category}"),
            Some(&json!({"name": "Tin tức - Sự kiện"})),
        )
        .await;
        assert_eq!(
            kept(&app, &format!("/api/v1/articles/{slug}")).await.data()["category"]["name"],
            "Tin tức - Sự kiện"
        );
        app.as_user(
            &admin.access_token,
            Method::PATCH,
            &format!("/api/v1/admin/authors/{}", editor.id),
            Some(&json!({"name": "Phóng viên Hà"})),
        )
        .await
        .expect(200);
        assert_eq!(
            app.get(&format!("/api/v1/articles/{slug}")).await.data()["authors"][0]["name"],
            "Phóng viên Hà"
        );
    }
);

backend_test!(
    config = |c| c.cache_ttl = Duration::from_secs(3);
    async fn view_counts_in_kept_answers_are_at_most_the_lifetime_old(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = app.published_article(&editor, json!({"title": "Được xem"})).await;
        let page = format!("/api/v1/articles/{slug}");
        assert_eq!(kept(&app, &page).await.data()["view_count"], 0);
        app.send(Method::POST, &format!("{page}/views")).await;
        assert_eq!(newsdesk::workers::flush_views(&app.state).await.unwrap(), 1);
        // Counting views retires nothing: a busy portal counts them all the time.
        assert_eq!(app.get(&page).await.data()["view_count"], 0);
        let flushed = Instant::now();
        while app.get(&page).await.data()["view_count"] != 1 {
            assert!(flushed.elapsed() < Duration::from_secs(6), "the count never showed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
);

backend_test!(
    async fn the_order_of_query_parameters_does_not_split_the_cache(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, _) = app.published_article(&editor, json!({"title": "Một"})).await;
        app.published_article(&editor, json!({"title": "Hai"})).await;
        assert_eq!(
            titles(&kept(&app, "/api/v1/articles?per_page=1&page=2").await.json()),
            ["Một"]
        );
        app.retitle_behind_the_back(id, "Đổi lén").await;
        assert_eq!(
            titles(&app.get("/api/v1/articles?page=2&per_page=1").await.json()),
            ["Một"]
        );
    }
);

/// `newsdesk_cache_<name>` in `/metrics`, with its labels (`{result="hit"}`) if any.
async fn cache_metric(app: &TestApp, name: &str) -> i64 {
    let text = app.get("/metrics").await.expect(200).text();
    let prefix = format!("newsdesk_cache_{name} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

backend_test!(
    async fn metrics_count_hits_misses_and_what_the_cache_holds(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = app.published_article(&editor, json!({"title": "Đếm"})).await;
        let (hits, misses) = (
            cache_metric(&app, "requests_total{result=\"hit\"}").await,
            cache_metric(&app, "requests_total{result=\"miss\"}").await,
        );
        let page = format!("/api/v1/articles/{slug}");
        let body = app.get(&page).await.expect(200).text();
        app.get(&page).await.expect(200);
        app.get(&page).await.expect(200);
        app.get(&page).await.expect(200);
        assert_eq!(
            cache_metric(&app, "requests_total{result=\"miss\"}").await,
            misses + 2,
            "built for the first request, and for the second, which is kept"
        );
        assert_eq!(
            cache_metric(&app, "requests_total{result=\"hit\"}").await,
            hits + 2
        );
        assert!(cache_metric(&app, "entries").await >= 1);
        let gzipped = app
            .call(
                TestRequest::get()
                    .uri(&page)
                    .insert_header(("Accept-Encoding", "gzip")),
            )
            .await;
        let kept = if gzipped.header("content-encoding") == Some("gzip") {
            gzipped.body.len()
        } else {
            body.len()
        };
        assert!(
            cache_metric(&app, "bytes").await >= kept as i64,
            "the page's body is counted as kept"
        );
    }
);

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

backend_test!(
    async fn kept_answers_go_out_gzipped_to_clients_that_accept_it(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let paragraph = "Sáng nay, Ủy ban nhân dân phường tổ chức hội nghị triển khai nhiệm vụ năm 2026. ";
        let (id, slug) = app
            .published_article(
                &editor,
                json!({"title": "Bản gốc", "body": paragraph.repeat(40), "body_format": "markdown"}),
            )
            .await;
        let page = format!("/api/v1/articles/{slug}");
        let get = |accept: Option<&'static str>, if_none_match: Option<String>| {
            let mut req = TestRequest::get().uri(&page);
            if let Some(accept) = accept {
                req = req.insert_header(("Accept-Encoding", accept));
            }
            if let Some(tag) = if_none_match {
                req = req.insert_header(("If-None-Match", tag));
            }
            app.call(req)
        };

        let first = get(Some("gzip, deflate, br"), None).await.expect(200);
        assert_eq!(
            first.header("content-encoding"),
            None,
            "a first answer is sent as built"
        );
        assert_eq!(first.header("vary"), Some("Accept-Encoding"));
        let gzipped = get(Some("gzip, deflate, br"), None).await.expect(200);
        assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
        assert_eq!(gzipped.header("vary"), Some("Accept-Encoding"));
        let unpacked: Value = serde_json::from_slice(&gunzip(&gzipped.body)).unwrap();
        assert_eq!(unpacked["data"]["title"], "Bản gốc");
        assert!(gzipped.body.len() * 2 < gunzip(&gzipped.body).len());

        // Changed behind the cache's back: both forms below come from the kept answer.
        app.retitle_behind_the_back(id, "Đổi lén").await;
        for accept in [None, Some("identity"), Some("gzip;q=0, br")] {
            let plain = get(accept, None).await.expect(200);
            assert_eq!(plain.header("content-encoding"), None, "{accept:?}");
            assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
            assert_eq!(plain.json(), unpacked, "{accept:?}: the same answer, unpacked");
            assert_ne!(plain.header("etag"), gzipped.header("etag"));
        }
        let plain_tag = get(None, None).await.header("etag").unwrap().to_owned();
        let gzip_tag = gzipped.header("etag").unwrap().to_owned();
        for tag in [&plain_tag, &gzip_tag] {
            for accept in [None, Some("gzip")] {
                let res = get(accept, Some(tag.clone())).await;
                assert_eq!(res.status, 304, "{tag} with {accept:?}");
                assert!(res.body.is_empty());
            }
        }
        assert_eq!(
            get(None, Some("\"other\"".into())).await.status,
            200,
            "an unknown ETag gets the answer"
        );
    }
);

backend_test!(
    config = |c| c.cache_bytes = 0;
    async fn with_the_cache_off_every_answer_is_fresh(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, slug) = app.published_article(&editor, json!({"title": "Bản gốc"})).await;
        assert_eq!(title_of(&app, &slug).await, "Bản gốc");
        app.retitle_behind_the_back(id, "Đổi lén").await;
        assert_eq!(title_of(&app, &slug).await, "Đổi lén");
        assert_eq!(cache_metric(&app, "entries").await, 0);
        assert_eq!(cache_metric(&app, "requests_total{result=\"hit\"}").await, 0);
    }
);

backend_test!(
    config = |c| c.cache_bytes = 0;
    async fn with_the_cache_off_renamed_tags_categories_and_authors_show_at_once(app: TestApp) {
        // Pages keep the names of bylines, tags and categories in memory between requests
        // whether or not answers are cached; a rename must retire them as it retires answers.
        let editor = app.user(Role::Editor).await;
        let admin = app.user(Role::Admin).await;
        let post = |path: &'static str, body: Value| {
            let token = editor.access_token.clone();
            let app = &app;
            async move { app.as_user(&token, Method::POST, path, Some(&body)).await.data()["id"].as_i64().unwrap() }
        };
        let category = post("/api/v1/admin/categories", json!({"name": "Thời sự"})).await;
        let tag = post("/api/v1/admin/tags", json!({"name": "Giao thông"})).await;
        let (_, slug) = app
            .published_article(
                &editor,
                json!({"title": "Bài có thẻ", "category_id": category, "tag_ids": [tag]}),
            )
            .await;
        let names = |page: &Value| {
            (
                page["category"]["name"].as_str().unwrap_or_default().to_owned(),
                page["tags"][0]["name"].as_str().unwrap_or_default().to_owned(),
                page["authors"][0]["name"].as_str().unwrap_or_default().to_owned(),
            )
        };
        let page = app.get(&format!("/api/v1/articles/{slug}")).await.data();
        let before = names(&page);
        assert_eq!((before.0.as_str(), before.1.as_str()), ("Thời sự", "Giao thông"));
        let list = app.get("/api/v1/articles").await.json();
        assert_eq!(names(&list["data"][0]), before);

        for (token, path, body) in [
            (&editor.access_token, format!("/api/v1/admin/categories/{category}"), json!({"name": "Thời sự - Chính trị"})),
            (&editor.access_token, format!("/api/v1/admin/tags/{tag}"), json!({"name": "An toàn giao thông"})),
            (&admin.access_token, format!("/api/v1/admin/authors/{}", editor.id), json!({"name": "Phóng viên Hà"})),
        ] {
            app.as_user(token, Method::PATCH, &path, Some(&body)).await.expect(200);
        }
        let after = (
            "Thời sự - Chính trị".to_owned(),
            "An toàn giao thông".to_owned(),
            "Phóng viên Hà".to_owned(),
        );
        let page = app.get(&format!("/api/v1/articles/{slug}")).await.data();
        assert_eq!(names(&page), after);
        let list = app.get("/api/v1/articles").await.json();
        assert_eq!(names(&list["data"][0]), after);
    }
);

backend_test!(
    config = |c| c.cache_bytes = 0;
    async fn with_the_cache_off_related_articles_are_kept_until_a_change(app: TestApp) {
        // The rows of related articles are kept in memory whether or not answers are: a
        // change behind the application's back does not show in them, an edit does.
        let editor = app.user(Role::Editor).await;
        let res = app
            .as_user(&editor.access_token, Method::POST, "/api/v1/admin/categories", Some(&json!({"name": "Thời sự"})))
            .await;
        let category = res.data()["id"].as_i64().unwrap();
        let (related, _) = app
            .published_article(&editor, json!({"title": "Bài liên quan", "tags": ["Đô thị"]}))
            .await;
        // In a category of its own, so the other is not among its neighbours instead.
        let (_, slug) = app
            .published_article(
                &editor,
                json!({"title": "Bài chính", "tags": ["Đô thị"], "category_id": category}),
            )
            .await;
        let page = format!("/api/v1/articles/{slug}");
        let related_titles = |page: &Value| -> Vec<String> {
            page["related"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["title"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(related_titles(&app.get(&page).await.data()), ["Bài liên quan"]);

        app.retitle_behind_the_back(related, "Đổi lén").await;
        let shown = app.get(&page).await.data();
        assert_eq!(related_titles(&shown), ["Bài liên quan"], "the row is kept");
        assert_eq!(shown["title"], "Bài chính", "the page itself is read afresh");

        app.as_user(
            &editor.access_token,
            Method::PATCH,
            &format!("/api/v1/admin/articles/{related}"),
            Some(&json!({"version": 1, "summary": "Tóm tắt"})),
        )
        .await
        .expect(200);
        assert_eq!(
            related_titles(&app.get(&page).await.data()),
            ["Đổi lén"],
            "an edit retires the kept rows"
        );
    }
);

/// Two servers on one PostgreSQL database, as behind a load balancer: an edit made through
/// one is served by the other within a second, though the other had the old page cached.
#[actix_web::test]
async fn a_change_made_through_one_server_is_served_by_another_within_a_second() {
    let Some(first) = TestAppBuilder::new(Backend::Postgres).build().await else {
        return;
    };
    let second = first.another_process().build().await.unwrap();
    let editor = first.user(Role::Editor).await;
    let before = second.state.cache.changes().stamp();
    let (id, slug) = first
        .published_article(&editor, json!({"title": "Bản gốc"}))
        .await;
    // The publication's own notification reaches the second server first.
    let published = Instant::now();
    while second.state.cache.changes().stamp() == before {
        assert!(
            published.elapsed() < Duration::from_secs(1),
            "the publication was never heard of"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(kept_title_of(&second, &slug).await, "Bản gốc");
    assert_eq!(
        titles(&kept(&second, "/api/v1/articles").await.json()),
        ["Bản gốc"]
    );
    first.retitle_behind_the_back(id, "Đổi lén").await;
    assert_eq!(
        title_of(&second, &slug).await,
        "Bản gốc",
        "the second server keeps its answer"
    );

    first
        .as_user(
            &editor.access_token,
            Method::PATCH,
            &format!("/api/v1/admin/articles/{id}"),
            Some(&json!({"version": 1, "title": "Bản sửa"})),
        )
        .await
        .expect(200);
    let edited = Instant::now();
    loop {
        if title_of(&second, &slug).await == "Bản sửa" {
            break;
        }
        assert!(
            edited.elapsed() < Duration::from_secs(1),
            "the second server still serves the old page"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(titles(&second.get("/api/v1/articles").await.json()), ["Bản sửa"]);
}
