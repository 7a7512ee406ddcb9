//! Writing articles: what a new article is, how its fields are checked, new tags shared by
//! concurrent writers, bylines and Markdown rendering.

use actix_web::http::Method;
use futures_util::future::join_all;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::problem_fields;

use super::{ADMIN_ARTICLES, admin_article, create, public_detail, publish_now};

backend_test!(
    async fn a_new_article_is_a_version_1_draft_by_the_caller_with_a_slug_from_its_title(app: TestApp) {
        let author = app.user(Role::Author).await;
        let res = app
            .as_user(
                &author.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({
                    "title": "Tích cực cải cách hành chính",
                    "summary": "Tóm tắt",
                    "body": "Nội dung **chính**.",
                    "tags": ["Cải cách hành chính", "Hà Nội", "cai cach hanh chinh"],
                })),
            )
            .await
            .expect(201);
        let data = res.data();
        let id = data["id"].as_i64().unwrap();
        assert_eq!(res.header("location").unwrap(), admin_article(id));
        assert_eq!(res.header("etag"), Some("\"1\""));
        assert_eq!(data["slug"], "tich-cuc-cai-cach-hanh-chinh");
        assert_eq!(data["status"], "draft");
        assert_eq!(data["version"], 1);
        assert_eq!(data["body_format"], "markdown");
        assert_eq!(data["comments_enabled"], true);
        assert_eq!(data["published_at"], Value::Null);
        assert_eq!(data["authors"].as_array().unwrap().len(), 1);
        assert_eq!(data["authors"][0]["id"], author.id);
        // Tags named by text are created on the fly; names with one slug are one tag.
        let tag_slugs: Vec<&str> = data["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap())
            .collect();
        assert_eq!(tag_slugs, ["cai-cach-hanh-chinh", "ha-noi"]);
        let all_tags = app
            .get_as(&author.access_token, "/api/v1/admin/tags")
            .await
            .json();
        assert_eq!(all_tags["data"].as_array().unwrap().len(), 2);
        assert_eq!(all_tags["data"][0]["name"], "Cải cách hành chính");

        // The editorial read shows the same article.
        let read = app
            .get_as(&author.access_token, &admin_article(id))
            .await
            .expect(200);
        assert_eq!(read.header("etag"), Some("\"1\""));
        assert_eq!(read.data()["title"], "Tích cực cải cách hành chính");

        // The same title again gets the next free slug; a taken explicit slug is a 409.
        let again = create(&app, &author, json!({"title": "Tích cực  cải cách hành chính"})).await;
        assert_eq!(again["slug"], "tich-cuc-cai-cach-hanh-chinh-2");
        let taken = app
            .as_user(
                &author.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({"title": "Khác", "slug": "tich-cuc-cai-cach-hanh-chinh"})),
            )
            .await;
        assert!(taken.problem(409)["detail"].as_str().unwrap().contains("slug"));
        let mine = app.get_as(&author.access_token, ADMIN_ARTICLES).await.json();
        assert_eq!(mine["meta"]["total"], 2, "the refused article was not stored");
    }
);

backend_test!(
    async fn invalid_articles_get_422_naming_every_field(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({
                    "title": "   ",
                    "slug": "Not A Slug",
                    "cover_image_url": "javascript:alert(1)",
                    "category_id": 999_999,
                    "summary": "x".repeat(2001),
                })),
            )
            .await;
        assert_eq!(
            problem_fields(&res.problem(422)),
            ["category_id", "cover_image_url", "slug", "summary", "title"]
        );
        let empty = app
            .as_user(
                &editor.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({"title": ""})),
            )
            .await;
        assert_eq!(problem_fields(&empty.problem(422)), ["title"]);
        let no_author = app
            .as_user(
                &editor.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({"title": "Tin", "author_ids": [999_999]})),
            )
            .await;
        assert_eq!(problem_fields(&no_author.problem(422)), ["author_ids"]);
        let bad_tag = app
            .as_user(
                &editor.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({"title": "Tin", "tags": ["ổn", "  "]})),
            )
            .await;
        assert_eq!(problem_fields(&bad_tag.problem(422)), ["tags[1]"]);
        assert_eq!(
            app.get("/api/v1/tags").await.data(),
            json!([]),
            "a refused article creates no tags"
        );
        let unknown_field = app
            .as_user(
                &editor.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({"title": "Tin", "colour": "red"})),
            )
            .await;
        unknown_field.problem(422);
        assert_eq!(
            app.get_as(&editor.access_token, ADMIN_ARTICLES).await.json()["meta"]["total"],
            0
        );
    }
);

backend_test!(
    async fn concurrent_articles_naming_one_new_tag_share_it(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let bodies: Vec<Value> = (0..8)
            .map(|i| json!({"title": format!("Tin đồng thời {i}"), "tags": ["Tin nóng", format!("Riêng {i}")]}))
            .collect();
        let answers = join_all(
            bodies
                .iter()
                .map(|body| app.as_user(&editor.access_token, Method::POST, ADMIN_ARTICLES, Some(body))),
        )
        .await;
        for res in &answers {
            assert_eq!(res.status, 201, "{}", res.text());
        }
        let shared: Vec<i64> = answers
            .iter()
            .map(|res| {
                let tags = res.data()["tags"].clone();
                let tag = tags
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["slug"] == "tin-nong")
                    .unwrap_or_else(|| panic!("no shared tag in {tags}"))
                    .clone();
                tag["id"].as_i64().unwrap()
            })
            .collect();
        assert!(shared.iter().all(|id| *id == shared[0]), "one tag: {shared:?}");
        let all_tags = app
            .get_as(&editor.access_token, "/api/v1/admin/tags")
            .await
            .data();
        assert_eq!(all_tags.as_array().unwrap().len(), 9);
    }
);

backend_test!(
    async fn contributors_must_stay_in_their_own_byline(app: TestApp) {
        let contributor = app.user(Role::Contributor).await;
        let other = app.user(Role::Author).await;
        let res = app
            .as_user(
                &contributor.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({"title": "Tin", "author_ids": [other.id]})),
            )
            .await;
        assert_eq!(problem_fields(&res.problem(422)), ["author_ids"]);
        let shared = create(
            &app,
            &contributor,
            json!({"title": "Tin chung", "author_ids": [other.id, contributor.id]}),
        )
        .await;
        let byline: Vec<i64> = shared["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect();
        assert_eq!(byline, [other.id, contributor.id], "byline order is kept");
    }
);

backend_test!(
    async fn markdown_bodies_are_rendered_to_sanitised_html(app: TestApp) {
        let author = app.user(Role::Author).await;
        let body = "Đoạn **một**.\n\n[Cổng](https://hanoi.gov.vn) và [mồi](javascript:alert(1))\n\n\
                    <script>alert('x')</script>\n\n<p onclick=\"steal()\">Tin</p>";
        let article = create(&app, &author, json!({"title": "Bài Markdown", "body": body})).await;
        assert_eq!(article["body"], body, "the source is kept as written");
        let html = article["body_html"].as_str().unwrap();
        assert!(html.contains("<strong>một</strong>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://hanoi.gov.vn" rel="noopener noreferrer">Cổng</a>"#),
            "{html}"
        );
        for bad in ["<script", "alert('x')", "onclick", "steal()", "javascript:"] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
        assert!(html.contains("Tin"));

        let html_article = create(
            &app,
            &author,
            json!({
                "title": "Bài HTML",
                "body_format": "html",
                "body": "<h2>Mục</h2><img src=\"https://a.vn/i.jpg\" onerror=\"x()\"><iframe src=\"https://evil\"></iframe>",
            }),
        )
        .await;
        let html = html_article["body_html"].as_str().unwrap();
        assert!(html.contains("<h2>Mục</h2>"), "{html}");
        assert!(html.contains(r#"<img src="https://a.vn/i.jpg">"#), "{html}");
        assert!(!html.contains("onerror") && !html.contains("iframe"), "{html}");

        // An edit re-renders, and the public page serves the sanitised HTML.
        let id = article["id"].as_i64().unwrap();
        app
            .as_user(
                &author.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": 1, "body": "# Tiêu đề\n\n<a href=\"https://x.vn\" onmouseover=\"y()\">x</a>"})),
            )
            .await
            .expect(200);
        publish_now(&app, &author, id).await;
        let public = public_detail(&app, "bai-markdown").await.json();
        let html = public["data"]["body_html"].as_str().unwrap();
        // The title is the page's only h1: a body h1 keeps its text, not its tag.
        assert!(html.contains("Tiêu đề") && !html.contains("<h1"), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer""#), "{html}");
        assert!(!html.contains("onmouseover"), "{html}");
    }
);
