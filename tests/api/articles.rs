//! Articles over HTTP: writing, optimistic locking, the workflow, revisions, the public
//! reading API, view counting, demo content and import.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use futures_util::future::join_all;
use newsdesk::auth::Role;
use newsdesk::db::schema::articles;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::problem_fields;
use crate::common::slugs;
use crate::common::{TestApp, TestResponse, TestUser};

const ADMIN_ARTICLES: &str = "/api/v1/admin/articles";
const PUBLIC_ARTICLES: &str = "/api/v1/articles";

fn admin_article(id: i64) -> String {
    format!("{ADMIN_ARTICLES}/{id}")
}

/// A request with the user's bearer token.
fn authed(user: &TestUser, method: Method, path: &str) -> TestRequest {
    TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {}", user.access_token)))
}

/// Creates an article and returns its editorial form.
async fn create(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app
        .as_user(&user.access_token, Method::POST, ADMIN_ARTICLES, Some(&body))
        .await;
    assert_eq!(res.status, 201, "create {body}: {}", res.text());
    res.data()
}

async fn action(app: &TestApp, user: &TestUser, id: i64, what: &str, body: Option<&Value>) -> TestResponse {
    app.as_user(
        &user.access_token,
        Method::POST,
        &format!("{ADMIN_ARTICLES}/{id}/{what}"),
        body,
    )
    .await
}

async fn publish_now(app: &TestApp, user: &TestUser, id: i64) -> Value {
    let res = action(app, user, id, "publish", None).await;
    assert_eq!(res.status, 200, "publish {id}: {}", res.text());
    res.data()
}

fn parse_time(rfc3339: &str) -> NaiveDateTime {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().naive_utc()
}

/// Moves a published article's publish time, as if it had been published then.
async fn set_published_at(app: &TestApp, id: i64, at: &str) {
    let at = parse_time(at);
    app.state
        .db
        .run(move |conn| {
            diesel::update(articles::table.find(id))
                .set(articles::published_at.eq(Some(at)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// Creates and publishes an article, then dates its publication `at`.
async fn published(app: &TestApp, user: &TestUser, mut body: Value, at: &str) -> Value {
    if body.get("title").is_none() {
        body["title"] = json!(format!("Bài đăng lúc {at}"));
    }
    let article = create(app, user, body).await;
    let id = article["id"].as_i64().unwrap();
    publish_now(app, user, id).await;
    set_published_at(app, id, at).await;
    article
}

/// `2020-01-01T00:00:00Z` plus `n` hours.
fn hour(n: i64) -> String {
    let base = parse_time("2020-01-01T00:00:00Z");
    (base + Duration::hours(n))
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn public_detail(app: &TestApp, slug: &str) -> TestResponse {
    app.get(&format!("{PUBLIC_ARTICLES}/{slug}")).await
}

async fn category(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app
        .as_user(
            &user.access_token,
            Method::POST,
            "/api/v1/admin/categories",
            Some(&body),
        )
        .await
        .expect(201);
    res.data()
}

// ---------------------------------------------------------------------------------------------
// Writing

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
        let public_tags = app.get("/api/v1/tags").await.json();
        assert_eq!(public_tags["data"].as_array().unwrap().len(), 2);
        assert_eq!(public_tags["data"][0]["name"], "Cải cách hành chính");

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
        assert_eq!(app.get("/api/v1/tags").await.data().as_array().unwrap().len(), 9);
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

// ---------------------------------------------------------------------------------------------
// Optimistic locking

backend_test!(
    async fn an_edit_names_its_version_in_the_body_or_in_if_match(app: TestApp) {
        let author = app.user(Role::Author).await;
        let id = create(&app, &author, json!({"title": "Bản đầu"})).await["id"]
            .as_i64()
            .unwrap();

        let res = app
            .as_user(
                &author.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": 1, "title": "Bản hai"})),
            )
            .await
            .expect(200);
        assert_eq!(res.header("etag"), Some("\"2\""));
        let data = res.data();
        assert_eq!(
            (data["version"].clone(), data["title"].clone()),
            (json!(2), json!("Bản hai"))
        );
        assert_eq!(data["slug"], "ban-dau", "the slug stays when the title changes");

        let res = app
            .call(
                authed(&author, Method::PATCH, &admin_article(id))
                    .insert_header(("If-Match", "\"2\""))
                    .set_json(json!({"summary": "Tóm tắt mới"})),
            )
            .await
            .expect(200);
        assert_eq!(res.data()["version"], 3);
        assert_eq!(res.data()["summary"], "Tóm tắt mới");

        // Without a version the edit is refused and names the field.
        let res = app
            .as_user(
                &author.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"title": "Không phiên bản"})),
            )
            .await;
        assert_eq!(problem_fields(&res.problem(422)), ["version"]);
        // Header and body that disagree, or an If-Match that is no version, are malformed.
        let res = app
            .call(
                authed(&author, Method::PATCH, &admin_article(id))
                    .insert_header(("If-Match", "\"3\""))
                    .set_json(json!({"version": 2, "title": "x"})),
            )
            .await;
        res.problem(400);
        let res = app
            .call(
                authed(&author, Method::PATCH, &admin_article(id))
                    .insert_header(("If-Match", "*"))
                    .set_json(json!({"title": "x"})),
            )
            .await;
        res.problem(400);
        let now = app.get_as(&author.access_token, &admin_article(id)).await.json();
        assert_eq!(now["data"]["version"], 3);
        assert_eq!(now["data"]["title"], "Bản hai");

        // A slug another article has is a 409; `null` clears an optional field.
        create(&app, &author, json!({"title": "Bài khác", "slug": "bai-khac"})).await;
        let res = app
            .as_user(
                &author.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": 3, "slug": "bai-khac"})),
            )
            .await;
        res.problem(409);
        let res = app
            .as_user(
                &author.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": 3, "summary": null, "slug": "ban-moi"})),
            )
            .await
            .expect(200);
        let data = res.data();
        assert_eq!(
            (data["summary"].clone(), data["slug"].clone()),
            (Value::Null, json!("ban-moi"))
        );
        app.as_user(
            &author.access_token,
            Method::PATCH,
            &admin_article(999_999),
            Some(&json!({"version": 1, "title": "x"})),
        )
        .await
        .problem(404);
    }
);

backend_test!(
    async fn a_stale_version_is_a_409_and_overwrites_nothing(app: TestApp) {
        let first = app.user(Role::Editor).await;
        let second = app.user(Role::Editor).await;
        let id = create(&app, &first, json!({"title": "Gốc", "body": "Gốc"})).await["id"]
            .as_i64()
            .unwrap();
        // Both read version 1; the first to save wins.
        app.as_user(
            &first.access_token,
            Method::PATCH,
            &admin_article(id),
            Some(&json!({"version": 1, "title": "Của người thứ nhất", "body": "A"})),
        )
        .await
        .expect(200);
        let loser = app
            .as_user(
                &second.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": 1, "title": "Của người thứ hai", "body": "B"})),
            )
            .await;
        let problem = loser.problem(409);
        assert!(
            problem["detail"].as_str().unwrap().contains("version is 2"),
            "{problem}"
        );
        let now = app.get_as(&second.access_token, &admin_article(id)).await.data();
        assert_eq!(now["version"], 2);
        assert_eq!(now["title"], "Của người thứ nhất");
        assert_eq!(now["body"], "A");
        let revisions = app
            .get_as(&first.access_token, &format!("{}/revisions", admin_article(id)))
            .await
            .json();
        assert_eq!(revisions["data"].as_array().unwrap().len(), 2);
    }
);

backend_test!(
    async fn of_many_concurrent_edits_of_one_version_exactly_one_wins(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let id = create(&app, &editor, json!({"title": "Tranh chấp"})).await["id"]
            .as_i64()
            .unwrap();
        let path = admin_article(id);
        let bodies: Vec<Value> = (0..8)
            .map(|i| json!({"version": 1, "title": format!("Sửa lần {i}"), "body": format!("Thân {i}")}))
            .collect();
        let answers = join_all(
            bodies
                .iter()
                .map(|body| app.as_user(&editor.access_token, Method::PATCH, &path, Some(body))),
        )
        .await;
        let mut winners = Vec::new();
        for (i, res) in answers.iter().enumerate() {
            match res.status.as_u16() {
                200 => winners.push(i),
                409 => {
                    res.problem(409);
                }
                other => panic!("edit {i}: unexpected {other}: {}", res.text()),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one edit wins");
        let now = app.get_as(&editor.access_token, &path).await.data();
        assert_eq!(now["version"], 2);
        assert_eq!(now["title"], format!("Sửa lần {}", winners[0]));
        assert_eq!(now["body"], format!("Thân {}", winners[0]), "no mix of two edits");
        let revisions = app
            .get_as(&editor.access_token, &format!("{path}/revisions"))
            .await
            .json();
        assert_eq!(revisions["data"].as_array().unwrap().len(), 2);
    }
);

backend_test!(
    async fn every_successful_edit_answers_with_what_it_wrote(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let id = create(&app, &editor, json!({"title": "Nhiều người sửa"})).await["id"]
            .as_i64()
            .unwrap();
        let path = admin_article(id);
        // 16 editors, each reading the current version and saving its own summary until three
        // of its edits are accepted; 409s are retried with a fresh read.
        let writers = (0..16).map(|w| {
            let (app, editor, path) = (&app, &editor, &path);
            async move {
                let mut accepted = Vec::new();
                let mut attempt = 0;
                while accepted.len() < 3 {
                    attempt += 1;
                    assert!(attempt < 500, "writer {w} never got an edit in");
                    let current = app.get_as(&editor.access_token, path).await.data()["version"]
                        .as_i64()
                        .unwrap();
                    let summary = format!("Tóm tắt của người {w}, lần {attempt}");
                    let title = format!("Tiêu đề {w}.{attempt}");
                    let body = json!({"version": current, "summary": summary, "title": title});
                    let res = app
                        .as_user(&editor.access_token, Method::PATCH, path, Some(&body))
                        .await;
                    match res.status.as_u16() {
                        200 => accepted.push((summary, title, current, res.data())),
                        409 => {
                            res.problem(409);
                        }
                        other => panic!("writer {w}: unexpected {other}: {}", res.text()),
                    }
                }
                accepted
            }
        });
        let accepted: Vec<_> = join_all(writers).await.into_iter().flatten().collect();
        assert_eq!(accepted.len(), 48);
        let mut versions = Vec::new();
        for (summary, title, based_on, answer) in &accepted {
            assert_eq!(
                answer["summary"], *summary,
                "the answer shows this request's summary"
            );
            assert_eq!(answer["title"], *title, "the answer shows this request's title");
            let version = answer["version"].as_i64().unwrap();
            assert_eq!(
                version,
                based_on + 1,
                "the answer names the version this request wrote"
            );
            let revision = app
                .get_as(&editor.access_token, &format!("{path}/revisions/{version}"))
                .await
                .expect(200);
            assert_eq!(revision.data()["content"]["summary"], *summary);
            versions.push(version);
        }
        versions.sort_unstable();
        assert_eq!(
            versions,
            (2..=49).collect::<Vec<i64>>(),
            "every accepted edit is its own version"
        );
    }
);

// ---------------------------------------------------------------------------------------------
// Workflow

backend_test!(
    async fn an_article_goes_from_draft_through_review_to_published_and_back(app: TestApp) {
        let contributor = app.user(Role::Contributor).await;
        let editor = app.user(Role::Editor).await;
        let article = create(&app, &contributor, json!({"title": "Tin mới"})).await;
        let id = article["id"].as_i64().unwrap();
        public_detail(&app, "tin-moi").await.problem(404);

        let res = action(&app, &contributor, id, "submit", None).await.expect(200);
        assert_eq!(res.data()["status"], "in_review");
        let detail = action(&app, &contributor, id, "submit", None).await.problem(409)["detail"].clone();
        assert!(detail.as_str().unwrap().contains("in_review"), "{detail}");

        let before = Utc::now().trunc_subsecs(6) - Duration::seconds(1);
        let data = publish_now(&app, &editor, id).await;
        assert_eq!(data["status"], "published");
        let at: DateTime<Utc> = data["published_at"].as_str().unwrap().parse().unwrap();
        assert!(at >= before && at <= Utc::now() + Duration::seconds(1), "{at}");
        let public = public_detail(&app, "tin-moi").await.expect(200);
        assert_eq!(public.data()["published_at"], data["published_at"]);
        assert_eq!(slugs(&app.get(PUBLIC_ARTICLES).await.json()), ["tin-moi"]);

        // Illegal transitions name the state the article is in.
        let problem = action(&app, &editor, id, "submit", None).await.problem(409);
        assert!(
            problem["detail"].as_str().unwrap().contains("published"),
            "{problem}"
        );
        let problem = action(&app, &editor, id, "publish", None).await.problem(409);
        assert!(
            problem["detail"].as_str().unwrap().contains("published"),
            "{problem}"
        );

        let res = action(&app, &editor, id, "unpublish", None).await.expect(200);
        assert_eq!(res.data()["status"], "draft");
        public_detail(&app, "tin-moi").await.problem(404);
        assert_eq!(app.get(PUBLIC_ARTICLES).await.json()["meta"]["total"], 0);
        let problem = action(&app, &editor, id, "unpublish", None).await.problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("draft"), "{problem}");

        // An author publishes their own draft straight away.
        let author = app.user(Role::Author).await;
        let own = create(&app, &author, json!({"title": "Tin của tác giả"})).await;
        let own_id = own["id"].as_i64().unwrap();
        assert_eq!(publish_now(&app, &author, own_id).await["status"], "published");
        action(&app, &author, 999_999, "publish", None).await.problem(404);
    }
);

backend_test!(
    async fn a_future_publish_at_schedules_and_the_scheduler_publishes_when_due(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let id = create(&app, &editor, json!({"title": "Tin hẹn giờ"})).await["id"]
            .as_i64()
            .unwrap();
        let when = (Utc::now() + Duration::hours(1)).trunc_subsecs(0);
        let when_text = when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let res = action(
            &app,
            &editor,
            id,
            "publish",
            Some(&json!({"publish_at": when_text})),
        )
        .await
        .expect(200);
        let data = res.data();
        assert_eq!(data["status"], "scheduled");
        assert_eq!(data["publish_at"], when_text.as_str());
        assert_eq!(data["published_at"], Value::Null);
        public_detail(&app, "tin-hen-gio").await.problem(404);
        assert_eq!(app.get(PUBLIC_ARTICLES).await.json()["meta"]["total"], 0);
        app.post_json(&format!("{PUBLIC_ARTICLES}/tin-hen-gio/views"), &json!({}))
            .await
            .problem(404);

        // Not due yet: the scheduler leaves it alone.
        assert_eq!(
            newsdesk::workers::run_scheduler(&app.state).await.unwrap(),
            Vec::<i64>::new()
        );
        public_detail(&app, "tin-hen-gio").await.problem(404);

        // Its time comes (moved into the past rather than waited for).
        let due = parse_time("2021-01-02T03:04:05Z");
        app.state
            .db
            .run(move |conn| {
                diesel::update(articles::table.find(id))
                    .set(articles::publish_at.eq(Some(due)))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(newsdesk::workers::run_scheduler(&app.state).await.unwrap(), [id]);
        assert_eq!(
            newsdesk::workers::run_scheduler(&app.state).await.unwrap(),
            Vec::<i64>::new(),
            "published once"
        );
        let public = public_detail(&app, "tin-hen-gio").await.expect(200);
        assert_eq!(public.data()["published_at"], "2021-01-02T03:04:05Z");
        let editorial = app.get_as(&editor.access_token, &admin_article(id)).await.json();
        assert_eq!(editorial["data"]["status"], "published");

        // A publish_at in the past publishes at once.
        let past = create(&app, &editor, json!({"title": "Tin quá hạn"})).await["id"]
            .as_i64()
            .unwrap();
        let res = action(
            &app,
            &editor,
            past,
            "publish",
            Some(&json!({"publish_at": "2020-01-14T13:59:00Z"})),
        )
        .await;
        assert_eq!(res.data()["status"], "published");
        assert_eq!(public_detail(&app, "tin-qua-han").await.status, 200);
    }
);

backend_test!(
    async fn a_scheduled_article_can_be_unpublished_before_it_is_due(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let id = create(&app, &editor, json!({"title": "Tin hoãn"})).await["id"]
            .as_i64()
            .unwrap();
        let when = (Utc::now() + Duration::hours(2)).to_rfc3339();
        let res = action(&app, &editor, id, "publish", Some(&json!({"publish_at": when}))).await;
        assert_eq!(res.data()["status"], "scheduled");
        let res = action(&app, &editor, id, "unpublish", None).await;
        assert_eq!(res.data()["status"], "draft");
        assert_eq!(res.data()["publish_at"], Value::Null);
        // Scheduled again, then published right away after all.
        let res = action(&app, &editor, id, "publish", Some(&json!({"publish_at": when}))).await;
        assert_eq!(res.data()["status"], "scheduled");
        let data = publish_now(&app, &editor, id).await;
        assert_eq!(
            (data["status"].clone(), data["publish_at"].clone()),
            (json!("published"), Value::Null)
        );
        assert_eq!(public_detail(&app, "tin-hoan").await.status, 200);
        let res = action(&app, &editor, id, "unpublish", None).await;
        assert_eq!(res.data()["status"], "draft");
        assert_eq!(res.data()["published_at"], Value::Null);
        app.state
            .db
            .run(move |conn| {
                diesel::update(articles::table.find(id))
                    .set(articles::publish_at.eq(Some(parse_time("2020-01-01T00:00:00Z"))))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        assert!(
            newsdesk::workers::run_scheduler(&app.state)
                .await
                .unwrap()
                .is_empty()
        );
        public_detail(&app, "tin-hoan").await.problem(404);
    }
);

backend_test!(
    async fn a_malformed_publish_body_is_refused_instead_of_publishing_now(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let id = create(&app, &editor, json!({"title": "Tin cẩn thận"})).await["id"]
            .as_i64()
            .unwrap();
        let bad = [
            json!({"publish_at": "ngày mai"}),
            json!({"publish_at": "2030-01-01 08:00"}),
            json!({"publishAt": "2030-01-01T08:00:00Z"}),
        ];
        for body in &bad {
            let res = action(&app, &editor, id, "publish", Some(body)).await;
            assert!(
                matches!(res.status.as_u16(), 400 | 422),
                "{body}: {} {}",
                res.status,
                res.text()
            );
            res.problem(res.status.as_u16());
        }
        let res = app
            .call(
                authed(&editor, Method::POST, &format!("{}/publish", admin_article(id)))
                    .insert_header(("Content-Type", "application/json"))
                    .set_payload("{not json"),
            )
            .await;
        res.problem(400);
        let res = app
            .call(
                authed(&editor, Method::POST, &format!("{}/publish", admin_article(id)))
                    .insert_header(("Content-Type", "text/plain"))
                    .set_payload(r#"{"publish_at": "2030-01-01T08:00:00Z"}"#),
            )
            .await;
        res.problem(415);
        let now = app.get_as(&editor.access_token, &admin_article(id)).await.json();
        assert_eq!(now["data"]["status"], "draft", "nothing was published");
        public_detail(&app, "tin-can-than").await.problem(404);

        // An empty JSON object, or an empty body with a JSON content type, publishes now.
        let res = app
            .call(
                authed(&editor, Method::POST, &format!("{}/publish", admin_article(id)))
                    .insert_header(("Content-Type", "application/json")),
            )
            .await
            .expect(200);
        assert_eq!(res.data()["status"], "published");
        let other = create(&app, &editor, json!({"title": "Tin rỗng"})).await["id"]
            .as_i64()
            .unwrap();
        let res = action(&app, &editor, other, "publish", Some(&json!({}))).await;
        assert_eq!(res.data()["status"], "published");
        let third = create(&app, &editor, json!({"title": "Tin null"})).await["id"]
            .as_i64()
            .unwrap();
        let res = action(&app, &editor, third, "publish", Some(&Value::Null)).await;
        assert_eq!(res.data()["status"], "published", "{}", res.text());
    }
);

backend_test!(
    async fn deleting_archives_the_article_and_takes_it_off_public_lists(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let kept = published(&app, &editor, json!({"title": "Tin giữ"}), &hour(1)).await;
        let gone = published(&app, &editor, json!({"title": "Tin xoá"}), &hour(2)).await;
        assert_eq!(
            slugs(&app.get(PUBLIC_ARTICLES).await.json()),
            ["tin-xoa", "tin-giu"]
        );
        let gone_id = gone["id"].as_i64().unwrap();
        let res = app
            .as_user(
                &editor.access_token,
                Method::DELETE,
                &admin_article(gone_id),
                None,
            )
            .await
            .expect(204);
        assert!(res.body.is_empty());
        assert_eq!(slugs(&app.get(PUBLIC_ARTICLES).await.json()), ["tin-giu"]);
        public_detail(&app, "tin-xoa").await.problem(404);
        app.post_json(&format!("{PUBLIC_ARTICLES}/tin-xoa/views"), &json!({}))
            .await
            .problem(404);
        // Its history stays for editors.
        let editorial = app
            .get_as(&editor.access_token, &admin_article(gone_id))
            .await
            .json();
        assert_eq!(editorial["data"]["status"], "archived");
        let archived = app
            .get_as(&editor.access_token, &format!("{ADMIN_ARTICLES}?status=archived"))
            .await
            .json();
        assert_eq!(slugs(&archived), ["tin-xoa"]);
        // Archived is final for the workflow.
        let problem = app
            .as_user(
                &editor.access_token,
                Method::DELETE,
                &admin_article(gone_id),
                None,
            )
            .await
            .problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("archived"));
        action(&app, &editor, gone_id, "publish", None).await.problem(409);
        action(&app, &editor, gone_id, "submit", None).await.problem(409);
        // The neighbour no longer links to it.
        let kept_detail = public_detail(&app, kept["slug"].as_str().unwrap()).await.json();
        assert_eq!(kept_detail["data"]["newer"], json!([]));
        app.as_user(
            &editor.access_token,
            Method::DELETE,
            &admin_article(999_999),
            None,
        )
        .await
        .problem(404);
    }
);

// ---------------------------------------------------------------------------------------------
// Revisions

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

// ---------------------------------------------------------------------------------------------
// Editorial list

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

// ---------------------------------------------------------------------------------------------
// Public reading

backend_test!(
    async fn public_lists_show_published_articles_only_newest_first_with_page_meta(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        for n in [3, 1, 5, 2, 4] {
            published(&app, &editor, json!({"title": format!("Tin số {n}")}), &hour(n)).await;
        }
        create(&app, &editor, json!({"title": "Bản nháp"})).await;
        let scheduled = create(&app, &editor, json!({"title": "Tin sắp đăng"})).await["id"]
            .as_i64()
            .unwrap();
        let later = (Utc::now() + Duration::days(1)).to_rfc3339();
        action(
            &app,
            &editor,
            scheduled,
            "publish",
            Some(&json!({"publish_at": later})),
        )
        .await;

        let list = app.get(PUBLIC_ARTICLES).await.expect(200);
        let body = list.json();
        assert_eq!(
            slugs(&body),
            ["tin-so-5", "tin-so-4", "tin-so-3", "tin-so-2", "tin-so-1"]
        );
        assert_eq!(
            body["meta"],
            json!({"page": 1, "per_page": 20, "total": 5, "total_pages": 1, "next_cursor": null})
        );
        let item = body["data"][0].clone();
        let mut keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "authors",
                "category",
                "comment_count",
                "cover_image_url",
                "id",
                "published_at",
                "slug",
                "source",
                "summary",
                "tags",
                "title",
                "updated_at",
                "view_count"
            ],
            "summaries carry no body and no editorial fields"
        );
        assert_eq!(item["published_at"], hour(5));

        let page = app
            .get(&format!("{PUBLIC_ARTICLES}?per_page=2&page=3"))
            .await
            .json();
        assert_eq!(slugs(&page), ["tin-so-1"]);
        assert_eq!(page["meta"]["total"], 5);
        assert_eq!(page["meta"]["total_pages"], 3);
        assert_eq!(page["meta"]["page"], 3);
        let beyond = app
            .get(&format!("{PUBLIC_ARTICLES}?per_page=2&page=4"))
            .await
            .json();
        assert_eq!(beyond["data"], json!([]));

        public_detail(&app, "ban-nhap").await.problem(404);
        public_detail(&app, "tin-sap-dang").await.problem(404);
        public_detail(&app, "khong-co").await.problem(404);
        for bad in [
            "per_page=0",
            "per_page=101",
            "page=0",
            "page=abc",
            "sort=views",
            "sort=",
            "from=yesterday",
            "to=2020-13-01",
        ] {
            app.get(&format!("{PUBLIC_ARTICLES}?{bad}")).await.problem(400);
        }
    }
);

backend_test!(
    async fn the_keyset_cursor_walks_every_article_once_in_order(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        // Two share a publish time: the id breaks the tie, so neither is lost or repeated.
        for (n, at) in [(1, 1), (2, 2), (3, 3), (4, 3), (5, 5), (6, 6), (7, 7)] {
            published(&app, &editor, json!({"title": format!("Bài {n}")}), &hour(at)).await;
        }
        let expected = ["bai-7", "bai-6", "bai-5", "bai-4", "bai-3", "bai-2", "bai-1"];
        let full = app.get(PUBLIC_ARTICLES).await.json();
        assert_eq!(slugs(&full), expected, "page mode agrees on the order");

        for (sort, order) in [
            ("-published_at", expected.to_vec()),
            ("published_at", expected.iter().rev().copied().collect::<Vec<_>>()),
        ] {
            let mut seen = Vec::new();
            let mut pages = 0;
            let mut next = format!("{PUBLIC_ARTICLES}?per_page=3&sort={sort}");
            loop {
                let res = app.get(&next).await.expect(200);
                let page = res.json();
                assert_eq!(page["meta"]["total"], 7);
                seen.extend(slugs(&page));
                pages += 1;
                assert!(pages <= 4, "the walk does not end: {seen:?}");
                match page["meta"]["next_cursor"].as_str() {
                    Some(cursor) => {
                        next = format!("{PUBLIC_ARTICLES}?per_page=3&sort={sort}&cursor={cursor}")
                    }
                    None => break,
                }
            }
            assert_eq!(seen, order, "sort {sort}");
            assert_eq!(pages, 3);
        }

        // The cursor keeps its place when an article is published in front of it.
        let first = app.get(&format!("{PUBLIC_ARTICLES}?per_page=3")).await.json();
        let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
        published(&app, &editor, json!({"title": "Bài mới nhất"}), &hour(100)).await;
        let second = app
            .get(&format!("{PUBLIC_ARTICLES}?per_page=3&cursor={cursor}"))
            .await
            .json();
        assert_eq!(slugs(&second), ["bai-4", "bai-3", "bai-2"]);

        for garbage in [
            "abc",
            "%21%21%21",
            "MTIzOng",
            "bm90LWEtY3Vyc29y",
            "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OjE",
            "OTIyMzM3MjAzNjg1NDc3NTgwNzox",
        ] {
            app.get(&format!("{PUBLIC_ARTICLES}?cursor={garbage}"))
                .await
                .problem(400);
        }
    }
);

backend_test!(
    async fn public_lists_filter_by_category_tag_author_and_dates_and_sort_by_views(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let writer = app.user(Role::Author).await;
        let news = category(&app, &editor, json!({"name": "Thời sự"})).await;
        let hanoi = category(&app, &editor, json!({"name": "Hà Nội", "parent_id": news["id"]})).await;
        let sport = category(&app, &editor, json!({"name": "Thể thao"})).await;
        published(
            &app,
            &editor,
            json!({"title": "Tin thời sự", "category_id": news["id"], "tags": ["Nóng"]}),
            "2020-01-10T05:00:00Z",
        )
        .await;
        published(
            &app,
            &writer,
            json!({"title": "Tin Hà Nội", "category_id": hanoi["id"], "tags": ["Nóng", "Thủ đô"]}),
            "2020-01-14T13:59:00Z",
        )
        .await;
        published(
            &app,
            &writer,
            json!({"title": "Tin thể thao", "category_id": sport["id"]}),
            "2020-01-20T23:30:00Z",
        )
        .await;
        create(
            &app,
            &writer,
            json!({"title": "Nháp Hà Nội", "category_id": hanoi["id"], "tags": ["Nóng"]}),
        )
        .await;

        let query = |q: &str| {
            let path = format!("{PUBLIC_ARTICLES}?{q}");
            let app = &app;
            async move {
                let res = app.get(&path).await;
                assert_eq!(res.status, 200, "{path}: {}", res.text());
                slugs(&res.json())
            }
        };
        let filtered = app
            .get(&format!("{PUBLIC_ARTICLES}?category=thoi-su"))
            .await
            .json();
        assert_eq!(filtered["meta"]["total"], 2, "total counts the filtered articles");
        assert_eq!(
            query("category=thoi-su").await,
            ["tin-ha-noi", "tin-thoi-su"],
            "sub-categories included"
        );
        assert_eq!(query("category=ha-noi").await, ["tin-ha-noi"]);
        assert_eq!(query("category=khong-co").await, Vec::<String>::new());
        assert_eq!(query("tag=nong").await, ["tin-ha-noi", "tin-thoi-su"]);
        assert_eq!(query("tag=thu-do").await, ["tin-ha-noi"]);
        assert_eq!(query("tag=khong-co").await, Vec::<String>::new());
        let writer_slug = app.get_as(&writer.access_token, "/api/v1/auth/me").await.data()["slug"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            query(&format!("author={writer_slug}")).await,
            ["tin-the-thao", "tin-ha-noi"]
        );
        assert_eq!(query("author=khong-co").await, Vec::<String>::new());
        assert_eq!(query("category=thoi-su&tag=thu-do").await, ["tin-ha-noi"]);

        // Dates are whole days; `to` includes its day. Instants are exact.
        assert_eq!(query("from=2020-01-14").await, ["tin-the-thao", "tin-ha-noi"]);
        assert_eq!(query("to=2020-01-14").await, ["tin-ha-noi", "tin-thoi-su"]);
        assert_eq!(query("from=2020-01-11&to=2020-01-19").await, ["tin-ha-noi"]);
        assert_eq!(query("from=2020-01-14T14:00:00Z").await, ["tin-the-thao"]);
        assert_eq!(query("to=2020-01-14T13:59:00Z").await, ["tin-thoi-su"]);
        assert_eq!(query("from=2020-01-21").await, Vec::<String>::new());

        assert_eq!(
            query("sort=published_at").await,
            ["tin-thoi-su", "tin-ha-noi", "tin-the-thao"]
        );
        for (slug, views) in [("tin-thoi-su", 3), ("tin-the-thao", 1), ("tin-ha-noi", 5)] {
            for _ in 0..views {
                app.post_json(&format!("{PUBLIC_ARTICLES}/{slug}/views"), &json!({}))
                    .await
                    .expect(204);
            }
        }
        newsdesk::workers::flush_views(&app.state).await.unwrap();
        assert_eq!(
            query("sort=-views").await,
            ["tin-ha-noi", "tin-thoi-su", "tin-the-thao"]
        );
        let first = app
            .get(&format!("{PUBLIC_ARTICLES}?sort=-views&per_page=2"))
            .await
            .json();
        let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
        assert_eq!(
            query(&format!("sort=-views&per_page=2&cursor={cursor}"))
                .await
                .len(),
            1
        );
        app.get(&format!("{PUBLIC_ARTICLES}?sort=views"))
            .await
            .problem(400);
        app.get(&format!("{PUBLIC_ARTICLES}?sort=relevance%20desc"))
            .await
            .problem(400);
    }
);

backend_test!(
    async fn public_reads_send_etags_and_answer_304_until_something_changes(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let article = published(&app, &editor, json!({"title": "Tin có ETag"}), &hour(1)).await;
        let id = article["id"].as_i64().unwrap();
        for path in [
            PUBLIC_ARTICLES.to_owned(),
            format!("{PUBLIC_ARTICLES}/tin-co-etag"),
        ] {
            let first = app.get(&path).await.expect(200);
            let etag = first.header("etag").unwrap().to_owned();
            assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
            assert!(
                first
                    .header("cache-control")
                    .unwrap()
                    .starts_with("public, max-age="),
                "{path}"
            );
            let conditional = |etag: String| {
                let path = path.clone();
                let app = &app;
                async move {
                    app.call(
                        TestRequest::get()
                            .uri(&path)
                            .insert_header(("If-None-Match", etag)),
                    )
                    .await
                }
            };
            let again = conditional(etag.clone()).await;
            assert_eq!(again.status, 304, "{path}");
            assert!(again.body.is_empty());
            assert_eq!(again.header("etag"), Some(etag.as_str()));
            assert_eq!(conditional("\"other\"".into()).await.status, 200);
            assert_eq!(
                conditional(format!("\"x\", {etag}")).await.status,
                304,
                "one of a list"
            );
            // An edit changes the answer and its ETag.
            let version =
                app.get_as(&editor.access_token, &admin_article(id)).await.data()["version"].clone();
            app.as_user(
                &editor.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": version, "summary": format!("Tóm tắt {version}")})),
            )
            .await
            .expect(200);
            let changed = conditional(etag.clone()).await;
            assert_eq!(changed.status, 200, "{path}");
            assert_ne!(changed.header("etag"), Some(etag.as_str()));
        }
    }
);

backend_test!(
    async fn the_detail_has_the_body_and_five_newer_and_five_older_neighbours_in_its_category(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let section = category(&app, &editor, json!({"name": "Cải cách hành chính"})).await;
        let other = category(&app, &editor, json!({"name": "Thể thao"})).await;
        for n in 0..12 {
            published(
                &app,
                &editor,
                json!({
                    "title": format!("Cải cách {n}"),
                    "category_id": section["id"],
                    "body": format!("Đoạn **{n}**."),
                    "source": "HNP",
                    "summary": format!("Tóm tắt {n}"),
                    "meta_title": format!("SEO {n}"),
                    "tags": ["CCHC"],
                }),
                &hour(10 * n),
            )
            .await;
        }
        // Articles elsewhere are never neighbours, even when closer in time.
        for n in [45, 55] {
            published(
                &app,
                &editor,
                json!({"title": format!("Thể thao {n}"), "category_id": other["id"]}),
                &hour(n),
            )
            .await;
        }
        create(
            &app,
            &editor,
            json!({"title": "Nháp cải cách", "category_id": section["id"]}),
        )
        .await;

        let res = public_detail(&app, "cai-cach-5").await.expect(200);
        let data = res.data();
        assert_eq!(data["title"], "Cải cách 5");
        assert_eq!(data["body_html"], "<p>Đoạn <strong>5</strong>.</p>\n");
        assert_eq!(data["body_format"], "markdown");
        assert_eq!(data["source"], "HNP");
        assert_eq!(data["summary"], "Tóm tắt 5");
        assert_eq!(data["meta_title"], "SEO 5");
        assert_eq!(data["meta_description"], Value::Null);
        assert_eq!(data["published_at"], hour(50));
        assert_eq!(
            data["category"],
            json!({"id": section["id"], "slug": "cai-cach-hanh-chinh", "name": "Cải cách hành chính"})
        );
        assert_eq!(data["tags"][0]["slug"], "cchc");
        assert_eq!(data["authors"][0]["id"], editor.id);
        let author_keys: Vec<&String> = data["authors"][0].as_object().unwrap().keys().collect();
        assert_eq!(
            author_keys,
            ["avatar_url", "bio", "id", "name", "slug"],
            "public profile only"
        );
        assert!(data.get("body").is_none() && data.get("version").is_none());

        let titles = |list: &Value| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|n| n["slug"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            titles(&data["newer"]),
            [
                "cai-cach-6",
                "cai-cach-7",
                "cai-cach-8",
                "cai-cach-9",
                "cai-cach-10"
            ],
            "nearest first"
        );
        assert_eq!(
            titles(&data["older"]),
            [
                "cai-cach-4",
                "cai-cach-3",
                "cai-cach-2",
                "cai-cach-1",
                "cai-cach-0"
            ]
        );
        assert_eq!(data["newer"][0]["title"], "Cải cách 6");
        assert_eq!(data["newer"][0]["published_at"], hour(60));
        let keys: Vec<&String> = data["newer"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["published_at", "slug", "title"]);

        let oldest = public_detail(&app, "cai-cach-0").await.data();
        assert_eq!(oldest["older"], json!([]));
        assert_eq!(titles(&oldest["newer"]).len(), 5);
        let newest = public_detail(&app, "cai-cach-11").await.data();
        assert_eq!(newest["newer"], json!([]));
        assert_eq!(
            titles(&newest["older"]),
            [
                "cai-cach-10",
                "cai-cach-9",
                "cai-cach-8",
                "cai-cach-7",
                "cai-cach-6"
            ]
        );
        let near_end = public_detail(&app, "cai-cach-9").await.data();
        assert_eq!(titles(&near_end["newer"]), ["cai-cach-10", "cai-cach-11"]);
        let sport = public_detail(&app, "the-thao-45").await.data();
        assert_eq!(titles(&sport["newer"]), ["the-thao-55"]);
        assert_eq!(sport["older"], json!([]));
    }
);

// ---------------------------------------------------------------------------------------------
// Views

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

// ---------------------------------------------------------------------------------------------
// Demo content

backend_test!(
    async fn the_demo_serves_the_sample_article_exactly_as_the_fixture_reads(app: TestApp) {
        let loaded = app.state.db.run(newsdesk::articles::demo::load).await.unwrap();
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
        let again = app.state.db.run(newsdesk::articles::demo::load).await.unwrap();
        assert!(!again);
        assert_eq!(app.get(PUBLIC_ARTICLES).await.json()["meta"]["total"], total);
    }
);

backend_test!(
    async fn the_demo_loads_nothing_into_a_database_that_has_articles(app: TestApp) {
        let author = app.user(Role::Author).await;
        create(&app, &author, json!({"title": "Bài của toà soạn"})).await;
        let loaded = app.state.db.run(newsdesk::articles::demo::load).await.unwrap();
        assert!(!loaded);
        assert_eq!(app.get(PUBLIC_ARTICLES).await.json()["meta"]["total"], 0);
    }
);

// ---------------------------------------------------------------------------------------------
// Import

const IMPORT_LINES: &str = r#"{"title": "Tin nhập một", "slug": "tin-nhap-mot", "summary": "Tóm tắt", "source": "HNP", "body": "Đoạn **đậm**.", "category": "Cải cách hành chính", "tags": ["CCHC", "Hà Nội"], "authors": ["Hoàng Anh", "Minh Thu"], "status": "published", "published_at": "2020-01-14T13:59:00Z"}
{"title": "Tin nhập hai còn nháp"}
{"title": "Trùng slug", "slug": "tin-nhap-mot", "status": "published"}
{"title": "hỏng
{"title": "   ", "slug": "khong-tieu-de"}

{"title": "Tin nhập ba", "status": "archived"}
{"title": "Tin nhập bốn", "status": "published", "published_at": "2020-01-15T01:00:00Z", "category": "Cải cách hành chính", "authors": ["Hoàng Anh"]}
"#;

backend_test!(
    async fn import_loads_good_lines_skips_existing_slugs_and_reports_bad_lines(app: TestApp) {
        let report = app
            .state
            .db
            .run(|conn| newsdesk::articles::import::import(conn, std::io::Cursor::new(IMPORT_LINES)))
            .await
            .unwrap();
        assert_eq!(report.imported, 3, "{report:?}");
        assert_eq!(report.skipped, 1, "{report:?}");
        let failed: Vec<usize> = report.failed.iter().map(|(line, _)| *line).collect();
        assert_eq!(failed, [4, 5, 7], "{report:?}");
        assert!(report.failed[0].1.starts_with("not an article"), "{report:?}");
        assert!(report.failed[1].1.contains("title"), "{report:?}");
        assert!(report.failed[2].1.contains("status"), "{report:?}");

        let list = app.get(PUBLIC_ARTICLES).await.json();
        assert_eq!(slugs(&list), ["tin-nhap-bon", "tin-nhap-mot"]);
        let one = public_detail(&app, "tin-nhap-mot").await.data();
        assert_eq!(one["published_at"], "2020-01-14T13:59:00Z");
        assert_eq!(one["source"], "HNP");
        assert_eq!(one["body_html"], "<p>Đoạn <strong>đậm</strong>.</p>\n");
        assert_eq!(one["category"]["slug"], "cai-cach-hanh-chinh");
        let names: Vec<&str> = one["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Hoàng Anh", "Minh Thu"]);
        let tags: Vec<&str> = one["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["cchc", "ha-noi"]);
        assert_eq!(one["older"], json!([]));
        assert_eq!(one["newer"][0]["slug"], "tin-nhap-bon", "same category");
        public_detail(&app, "tin-nhap-hai-con-nhap").await.problem(404);
        let bylines = app.get("/api/v1/authors").await.json();
        // Hoàng Anh, Minh Thu and the default byline: found by name, never duplicated.
        assert_eq!(bylines["meta"]["total"], 3, "{bylines}");

        // Importing again is idempotent by slug.
        let again = app
            .state
            .db
            .run(|conn| newsdesk::articles::import::import(conn, std::io::Cursor::new(IMPORT_LINES)))
            .await
            .unwrap();
        assert_eq!((again.imported, again.skipped, again.failed.len()), (0, 4, 3));
        let editor = app.user(Role::Editor).await;
        assert_eq!(
            app.get_as(&editor.access_token, ADMIN_ARTICLES).await.json()["meta"]["total"],
            3
        );
    }
);

#[actix_web::test]
async fn the_import_command_prints_counts_and_failing_lines_and_fails_when_a_line_failed() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bai.jsonl"), IMPORT_LINES).unwrap();
    std::fs::write(
        dir.path().join("tot.jsonl"),
        "{\"title\": \"Tin tốt\", \"status\": \"published\"}\n",
    )
    .unwrap();
    let run = |files: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_newsdesk"))
            .current_dir(dir.path())
            .env("NEWSDESK_LOG", "warn")
            .env_remove("NEWSDESK_DATABASE_URL")
            .stdin(Stdio::null())
            .arg("import")
            .args(files)
            .output()
            .unwrap()
    };
    let out = run(&["bai.jsonl"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed line fails the run: {stdout} {stderr}"
    );
    assert!(
        stdout.contains("bai.jsonl: 3 imported, 1 skipped (slug exists), 3 failed"),
        "{stdout}"
    );
    assert!(stderr.contains("bai.jsonl:4: not an article"), "{stderr}");
    assert!(stderr.contains("bai.jsonl:5: title"), "{stderr}");
    assert!(stderr.contains("bai.jsonl:7: status"), "{stderr}");
    assert!(
        dir.path().join("newsdesk.db").is_file(),
        "the default database is ./newsdesk.db"
    );

    let out = run(&["tot.jsonl", "bai.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("tot.jsonl: 1 imported, 0 skipped"), "{stdout}");
    assert!(stdout.contains("bai.jsonl: 0 imported, 4 skipped"), "{stdout}");

    let out = run(&["tot.jsonl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("tot.jsonl: 0 imported, 1 skipped"));

    let out = run(&["khong-co.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("khong-co.jsonl"));

    // What was imported is what the API serves.
    let app = crate::common::TestAppBuilder::new(crate::common::Backend::Sqlite)
        .database(newsdesk::db::DbUrl::Sqlite(dir.path().join("newsdesk.db")))
        .build()
        .await
        .unwrap();
    let list = app.get(PUBLIC_ARTICLES).await.json();
    assert_eq!(slugs(&list), ["tin-tot", "tin-nhap-bon", "tin-nhap-mot"]);
}
