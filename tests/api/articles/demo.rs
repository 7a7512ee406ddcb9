//! Demo content: served as the fixture reads, and never loaded over existing articles.

use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;
use crate::common::slugs;

use super::{PUBLIC_ARTICLES, create, public_detail};

backend_test!(
    async fn the_demo_serves_the_sample_article_exactly_as_the_fixture_reads(app: TestApp) {
        let loaded = app.load_demo().await;
        assert!(loaded);
        let slug = "tich-cuc-cai-cach-hanh-chinh-de-nang-cao-muc-do-hai-long-cua-cong-dan";
        let res = public_detail(&app, slug).await.expect(200);
        let data = res.data();
        assert_eq!(
            data["title"],
            "Tích cực cải cách hành chính để nâng cao mức độ hài lòng của công dân"
        );
        assert_eq!(
            data["published_at"], "2020-01-14T13:59:00Z",
            "20:59 in Hà Nội is 13:59 UTC"
        );
        assert_eq!(data["source"], "HNP");
        assert!(
            data["summary"]
                .as_str()
                .unwrap()
                .starts_with("Năm 2019, công tác cải cách hành chính"),
            "the source prefix is cut from the lead: {}",
            data["summary"]
        );
        let authors: Vec<&str> = data["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(authors, ["Hoàng Anh"]);
        assert_eq!(data["authors"][0]["slug"], "hoang-anh");
        assert_eq!(data["category"]["name"], "Cải cách hành chính");
        assert_eq!(data["category"]["slug"], "cai-cach-hanh-chinh");
        let html = data["body_html"].as_str().unwrap();
        assert_eq!(html.matches("<p>").count(), 7, "{html}");
        assert!(html.starts_with("<p>Các cơ quan, đơn vị đã bám sát"), "{html}");
        assert!(html.contains("“một việc - một đầu mối xuyên suốt”"));
        assert!(!html.contains("Hoàng Anh"), "the byline is not part of the body");
        assert!(!html.contains("Các bài mới đăng"));
        assert!(!data["newer"].as_array().unwrap().is_empty());
        assert!(!data["older"].as_array().unwrap().is_empty());

        let list = app.get(PUBLIC_ARTICLES).await.json();
        let total = list["meta"]["total"].clone();
        assert!(slugs(&list).contains(&slug.to_owned()));
        app.get("/api/v1/authors/hoang-anh").await.expect(200);

        // A second load finds content and changes nothing.
        let again = app.load_demo().await;
        assert!(!again);
        assert_eq!(app.get(PUBLIC_ARTICLES).await.json()["meta"]["total"], total);
    }
);

backend_test!(
    async fn the_demo_loads_nothing_into_a_database_that_has_articles(app: TestApp) {
        let author = app.user(Role::Author).await;
        create(&app, &author, json!({"title": "Bài của toà soạn"})).await;
        let loaded = app.load_demo().await;
        assert!(!loaded);
        assert_eq!(app.get(PUBLIC_ARTICLES).await.json()["meta"]["total"], 0);
    }
);
