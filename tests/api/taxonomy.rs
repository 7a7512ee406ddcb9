//! Categories and tags: the public tree and lists, and their management by editors.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::problem_fields;
use crate::common::{TestApp, TestResponse, TestUser};

const ADMIN_CATEGORIES: &str = "/api/v1/admin/categories";
const ADMIN_TAGS: &str = "/api/v1/admin/tags";

async fn send(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> TestResponse {
    app.as_user(&user.access_token, method, path, body.as_ref()).await
}

/// Asserts that deleting `deleted` again and editing an unknown id of `collection` both
/// answer 404.
async fn assert_gone(app: &TestApp, user: &TestUser, deleted: &str, collection: &str) {
    send(app, user, Method::DELETE, deleted, None).await.problem(404);
    send(
        app,
        user,
        Method::PATCH,
        &format!("{collection}/999999"),
        Some(json!({"name": "x"})),
    )
    .await
    .problem(404);
}

async fn new_category(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = send(app, user, Method::POST, ADMIN_CATEGORIES, Some(body.clone())).await;
    assert_eq!(res.status, 201, "{body}: {}", res.text());
    res.data()
}

async fn new_tag(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = send(app, user, Method::POST, ADMIN_TAGS, Some(body.clone())).await;
    assert_eq!(res.status, 201, "{body}: {}", res.text());
    res.data()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

fn slugs_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// The whole tree as the staff see it, empty categories included.
async fn tree(app: &TestApp, user: &TestUser) -> Value {
    let res = app.get_as(&user.access_token, ADMIN_CATEGORIES).await.expect(200);
    res.data()
}

/// The tree readers see: only categories with published articles.
async fn public_tree(app: &TestApp) -> Value {
    app.get("/api/v1/categories").await.expect(200).data()
}

/// `(slug, article_count)` of each item of a list.
fn counts_of(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["slug"].as_str().unwrap().to_owned(),
                c["article_count"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Publishes a new article with `body` now, as `user`, and answers its id.
async fn publish(app: &TestApp, user: &TestUser, body: Value) -> i64 {
    let (id, _) = app.published_article(user, body).await;
    id
}

/// Moves article `id` through the workflow: `publish`, `unpublish`.
async fn workflow(app: &TestApp, user: &TestUser, id: i64, action: &str) {
    send(
        app,
        user,
        Method::POST,
        &format!("/api/v1/admin/articles/{id}/{action}"),
        None,
    )
    .await
    .expect(200);
}

backend_test!(
    async fn categories_form_a_tree_with_parents_children_and_positions(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let news = new_category(
            &app,
            &editor,
            json!({"name": "Thời sự", "description": "Tin trong ngày", "position": 2}),
        )
        .await;
        assert_eq!(news["slug"], "thoi-su");
        assert_eq!(news["parent"], Value::Null);
        assert_eq!(news["children"], json!([]));
        assert_eq!(news["description"], "Tin trong ngày");
        let economy = new_category(&app, &editor, json!({"name": "Kinh tế", "position": 1})).await;
        let hanoi = new_category(
            &app,
            &editor,
            json!({"name": "Hà Nội", "parent_id": id(&news), "position": 5}),
        )
        .await;
        assert_eq!(
            hanoi["parent"],
            json!({
                "id": id(&news),
                "slug": "thoi-su",
                "name": "Thời sự",
                "path": [{"slug": "thoi-su", "name": "Thời sự"}],
            })
        );
        new_category(
            &app,
            &editor,
            json!({"name": "Quốc tế", "slug": "the-gioi", "parent_id": id(&news), "position": 1}),
        )
        .await;
        let district = new_category(
            &app,
            &editor,
            json!({"name": "Quận Đống Đa", "parent_id": id(&hanoi)}),
        )
        .await;

        let roots = tree(&app, &editor).await;
        assert_eq!(slugs_of(&roots), ["kinh-te", "thoi-su"], "roots by position");
        assert_eq!(roots[0]["id"], id(&economy));
        let news_node = roots[1].clone();
        assert_eq!(
            slugs_of(&news_node["children"]),
            ["the-gioi", "ha-noi"],
            "children by position"
        );
        assert_eq!(news_node["children"][1]["parent"]["slug"], "thoi-su");
        assert_eq!(
            slugs_of(&news_node["children"][1]["children"]),
            ["quan-dong-da"],
            "grandchildren nest too"
        );
        assert_eq!(
            news_node["children"][1]["children"][0]["parent"]["slug"],
            "ha-noi"
        );

        let one = app.get("/api/v1/categories/ha-noi").await.expect(200).data();
        assert_eq!(one["parent"]["slug"], "thoi-su");
        assert_eq!(one["children"], json!([]), "readers see no empty sub-category");
        publish(
            &app,
            &editor,
            json!({"title": "Tin Đống Đa", "category_id": id(&district)}),
        )
        .await;
        let one = app.get("/api/v1/categories/ha-noi").await.expect(200).data();
        assert_eq!(slugs_of(&one["children"]), ["quan-dong-da"]);
        app.get("/api/v1/categories/khong-co").await.problem(404);

        // Reordering and moving show in the tree at once.
        let res = send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_CATEGORIES}/{}", id(&economy)),
            Some(json!({"position": 3, "name": "Kinh tế - Tài chính"})),
        )
        .await
        .expect(200);
        assert_eq!(res.data()["name"], "Kinh tế - Tài chính");
        assert_eq!(res.data()["slug"], "kinh-te", "renaming keeps the slug");
        assert_eq!(slugs_of(&tree(&app, &editor).await), ["thoi-su", "kinh-te"]);
        let res = send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_CATEGORIES}/{}", id(&hanoi)),
            Some(json!({"parent_id": id(&economy)})),
        )
        .await
        .expect(200);
        assert_eq!(res.data()["parent"]["slug"], "kinh-te");
        assert_eq!(
            slugs_of(&res.data()["children"]),
            ["quan-dong-da"],
            "the sub-tree moves along"
        );
        let roots = tree(&app, &editor).await;
        assert_eq!(slugs_of(&roots[0]["children"]), ["the-gioi"]);
        assert_eq!(slugs_of(&roots[1]["children"]), ["ha-noi"]);
        let res = send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_CATEGORIES}/{}", id(&hanoi)),
            Some(json!({"parent_id": null})),
        )
        .await;
        assert_eq!(res.data()["parent"], Value::Null);
        assert_eq!(
            tree(&app, &editor).await.as_array().unwrap().len(),
            3,
            "a root again"
        );
    }
);

backend_test!(
    async fn a_category_cannot_be_moved_inside_itself(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let a = new_category(&app, &editor, json!({"name": "A"})).await;
        let b = new_category(&app, &editor, json!({"name": "B", "parent_id": id(&a)})).await;
        let c = new_category(&app, &editor, json!({"name": "C", "parent_id": id(&b)})).await;
        let before = tree(&app, &editor).await;
        for parent in [id(&c), id(&b), id(&a)] {
            let res = send(
                &app,
                &editor,
                Method::PATCH,
                &format!("{ADMIN_CATEGORIES}/{}", id(&a)),
                Some(json!({"parent_id": parent})),
            )
            .await;
            assert_eq!(
                problem_fields(&res.problem(422)),
                ["parent_id"],
                "parent {parent}"
            );
        }
        let res = send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_CATEGORIES}/{}", id(&b)),
            Some(json!({"parent_id": 999_999})),
        )
        .await;
        assert_eq!(problem_fields(&res.problem(422)), ["parent_id"]);
        let res = send(
            &app,
            &editor,
            Method::POST,
            ADMIN_CATEGORIES,
            Some(json!({"name": "D", "parent_id": 999_999})),
        )
        .await;
        assert_eq!(problem_fields(&res.problem(422)), ["parent_id"]);
        assert_eq!(tree(&app, &editor).await, before, "nothing moved");
        // Moving a leaf elsewhere in its own branch is fine.
        send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_CATEGORIES}/{}", id(&c)),
            Some(json!({"parent_id": id(&a)})),
        )
        .await
        .expect(200);
    }
);

backend_test!(
    async fn a_category_with_children_cannot_be_deleted_and_its_articles_lose_it(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let parent = new_category(&app, &editor, json!({"name": "Thời sự"})).await;
        let child = new_category(&app, &editor, json!({"name": "Hà Nội", "parent_id": id(&parent)})).await;
        let article = send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/articles",
            Some(json!({"title": "Tin Hà Nội", "category_id": id(&child)})),
        )
        .await
        .data();
        send(
            &app,
            &editor,
            Method::POST,
            &format!("/api/v1/admin/articles/{}/publish", id(&article)),
            None,
        )
        .await
        .expect(200);

        let res = send(
            &app,
            &editor,
            Method::DELETE,
            &format!("{ADMIN_CATEGORIES}/{}", id(&parent)),
            None,
        )
        .await;
        assert!(
            res.problem(409)["detail"]
                .as_str()
                .unwrap()
                .contains("sub-categories")
        );
        assert_eq!(tree(&app, &editor).await.as_array().unwrap().len(), 1);

        send(
            &app,
            &editor,
            Method::DELETE,
            &format!("{ADMIN_CATEGORIES}/{}", id(&child)),
            None,
        )
        .await
        .expect(204);
        app.get("/api/v1/categories/ha-noi").await.problem(404);
        let detail = app.get("/api/v1/articles/tin-ha-noi").await;
        assert_eq!(detail.status, 200, "the article stays published");
        assert_eq!(detail.data()["category"], Value::Null);
        send(
            &app,
            &editor,
            Method::DELETE,
            &format!("{ADMIN_CATEGORIES}/{}", id(&parent)),
            None,
        )
        .await
        .expect(204);
        assert_eq!(tree(&app, &editor).await, json!([]));
        assert_gone(
            &app,
            &editor,
            &format!("{ADMIN_CATEGORIES}/{}", id(&parent)),
            ADMIN_CATEGORIES,
        )
        .await;
    }
);

backend_test!(
    async fn category_slugs_are_unique_and_canonical(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let first = new_category(&app, &editor, json!({"name": "Thời sự"})).await;
        let res = send(
            &app,
            &editor,
            Method::POST,
            ADMIN_CATEGORIES,
            Some(json!({"name": "Thời  sự"})),
        )
        .await;
        res.problem(409);
        let res = send(
            &app,
            &editor,
            Method::POST,
            ADMIN_CATEGORIES,
            Some(json!({"name": "Khác", "slug": "thoi-su"})),
        )
        .await;
        res.problem(409);
        let other = new_category(&app, &editor, json!({"name": "Khác"})).await;
        let res = send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_CATEGORIES}/{}", id(&other)),
            Some(json!({"slug": "thoi-su"})),
        )
        .await;
        res.problem(409);
        let res = send(
            &app,
            &editor,
            Method::POST,
            ADMIN_CATEGORIES,
            Some(json!({"name": "  ", "slug": "Không Hợp Lệ"})),
        )
        .await;
        assert_eq!(problem_fields(&res.problem(422)), ["name", "slug"]);
        let res = send(
            &app,
            &editor,
            Method::POST,
            ADMIN_CATEGORIES,
            Some(json!({"name": "!!!"})),
        )
        .await;
        assert_eq!(problem_fields(&res.problem(422)), ["name"]);
        send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_CATEGORIES}/{}", id(&first)),
            Some(json!({"slug": "thoi-su-moi"})),
        )
        .await
        .expect(200);
        app.get("/api/v1/categories/thoi-su-moi").await.expect(200);
        app.get("/api/v1/categories/thoi-su").await.problem(404);
        assert_eq!(
            slugs_of(&tree(&app, &editor).await),
            ["khac", "thoi-su-moi"],
            "same position: by name"
        );
    }
);

backend_test!(
    async fn tags_are_created_renamed_and_deleted(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let tag = new_tag(&app, &editor, json!({"name": "Cải cách hành chính"})).await;
        assert_eq!(tag["slug"], "cai-cach-hanh-chinh");
        let other = new_tag(&app, &editor, json!({"name": "Hà Nội", "slug": "thu-do"})).await;
        assert_eq!(other["slug"], "thu-do");
        let list = app.get_as(&editor.access_token, ADMIN_TAGS).await.data();
        assert_eq!(slugs_of(&list), ["cai-cach-hanh-chinh", "thu-do"]);
        assert_eq!(
            app.get("/api/v1/tags").await.data(),
            json!([]),
            "no article uses them yet"
        );

        // Slugs are unique, whether made from a name or given.
        send(
            &app,
            &editor,
            Method::POST,
            ADMIN_TAGS,
            Some(json!({"name": "cải cách HÀNH CHÍNH"})),
        )
        .await
        .problem(409);
        send(
            &app,
            &editor,
            Method::POST,
            ADMIN_TAGS,
            Some(json!({"name": "X", "slug": "thu-do"})),
        )
        .await
        .problem(409);
        let res = send(&app, &editor, Method::POST, ADMIN_TAGS, Some(json!({"name": ""}))).await;
        assert_eq!(problem_fields(&res.problem(422)), ["name"]);

        // An article tagged by name reuses the tag.
        let article = send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/articles",
            Some(json!({"title": "Tin gắn thẻ", "tags": ["Cải cách hành chính"], "tag_ids": [id(&other)]})),
        )
        .await
        .data();
        let tag_ids: Vec<i64> = article["tags"].as_array().unwrap().iter().map(id).collect();
        assert_eq!(tag_ids.len(), 2);
        assert!(tag_ids.contains(&id(&tag)) && tag_ids.contains(&id(&other)));
        send(
            &app,
            &editor,
            Method::POST,
            &format!("/api/v1/admin/articles/{}/publish", id(&article)),
            None,
        )
        .await;

        let res = send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_TAGS}/{}", id(&tag)),
            Some(json!({"name": "CCHC", "slug": "cchc"})),
        )
        .await
        .expect(200);
        assert_eq!(
            res.data(),
            json!({"id": id(&tag), "slug": "cchc", "name": "CCHC"})
        );
        send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_TAGS}/{}", id(&tag)),
            Some(json!({"name": "Thủ đô", "slug": "thu-do"})),
        )
        .await
        .problem(409);
        let detail = app.get("/api/v1/articles/tin-gan-the").await.data();
        assert_eq!(
            slugs_of(&detail["tags"]),
            ["cchc", "thu-do"],
            "articles show the new name"
        );
        assert_eq!(
            app.get("/api/v1/articles?tag=cchc").await.json()["meta"]["total"],
            1
        );

        send(
            &app,
            &editor,
            Method::DELETE,
            &format!("{ADMIN_TAGS}/{}", id(&tag)),
            None,
        )
        .await
        .expect(204);
        assert_eq!(slugs_of(&app.get("/api/v1/tags").await.data()), ["thu-do"]);
        let detail = app.get("/api/v1/articles/tin-gan-the").await.data();
        assert_eq!(slugs_of(&detail["tags"]), ["thu-do"], "removed from its articles");
        assert_gone(&app, &editor, &format!("{ADMIN_TAGS}/{}", id(&tag)), ADMIN_TAGS).await;
        // Unknown tag ids on an article are a validation error, not a silent drop.
        let res = send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/articles",
            Some(json!({"title": "Tin thẻ lạ", "tag_ids": [id(&tag)]})),
        )
        .await;
        assert_eq!(problem_fields(&res.problem(422)), ["tag_ids"]);
    }
);

backend_test!(
    async fn taxonomy_reads_are_public_and_cached(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        new_category(&app, &editor, json!({"name": "Thời sự"})).await;
        new_tag(&app, &editor, json!({"name": "Nóng"})).await;
        for path in ["/api/v1/categories", "/api/v1/categories/thoi-su", "/api/v1/tags"] {
            let first = app.get(path).await;
            assert_eq!(first.status, 200, "{path}");
            let etag = first.header("etag").unwrap().to_owned();
            assert!(first.header("cache-control").unwrap().starts_with("public"));
            let again = app
                .call(
                    TestRequest::get()
                        .uri(path)
                        .insert_header(("If-None-Match", etag.as_str())),
                )
                .await;
            assert_eq!(again.status, 304, "{path}");
        }
        // The staff lists and writing need a token; moderators file no articles.
        app.get(ADMIN_CATEGORIES).await.problem(401);
        app.get(ADMIN_TAGS).await.problem(401);
        let moderator = app.user(Role::Moderator).await;
        app.get_as(&moderator.access_token, ADMIN_CATEGORIES)
            .await
            .problem(403);
        app.get_as(&moderator.access_token, ADMIN_TAGS).await.problem(403);
        let contributor = app.user(Role::Contributor).await;
        let all = app
            .get_as(&contributor.access_token, ADMIN_TAGS)
            .await
            .expect(200);
        assert_eq!(counts_of(&all.data()), [("nong".to_owned(), 0)]);
        app.post_json(ADMIN_CATEGORIES, &json!({"name": "Lậu"}))
            .await
            .problem(401);
        app.post_json(ADMIN_TAGS, &json!({"name": "Lậu"}))
            .await
            .problem(401);
        assert_eq!(tree(&app, &editor).await.as_array().unwrap().len(), 1);
    }
);

backend_test!(
    async fn articles_carry_their_category_breadcrumb_from_the_root(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let root = new_category(&app, &editor, json!({"name": "Tin tức"})).await;
        let middle = new_category(&app, &editor, json!({"name": "Thời sự", "parent_id": id(&root)})).await;
        let leaf = new_category(
            &app,
            &editor,
            json!({"name": "Cải cách hành chính", "parent_id": id(&middle)}),
        )
        .await;
        let (article, slug) = app
            .published_article(
                &editor,
                json!({"title": "Một cửa liên thông", "category_id": id(&leaf)}),
            )
            .await;
        let crumbs = json!([
            {"slug": "tin-tuc", "name": "Tin tức"},
            {"slug": "thoi-su", "name": "Thời sự"},
            {"slug": "cai-cach-hanh-chinh", "name": "Cải cách hành chính"},
        ]);
        let expected = json!({
            "id": id(&leaf),
            "slug": "cai-cach-hanh-chinh",
            "name": "Cải cách hành chính",
            "path": crumbs,
        });
        let list = app.get("/api/v1/articles").await.expect(200).json();
        assert_eq!(list["data"][0]["category"], expected, "list");
        let detail = app.get(&format!("/api/v1/articles/{slug}")).await.data();
        assert_eq!(detail["category"], expected, "detail");
        let editorial = app
            .get_as(&editor.access_token, &format!("/api/v1/admin/articles/{article}"))
            .await
            .expect(200)
            .data();
        assert_eq!(editorial["category"], expected, "editorial article");
        let desk = app
            .get_as(&editor.access_token, "/api/v1/admin/articles")
            .await
            .json();
        assert_eq!(desk["data"][0]["category"], expected, "editorial list");
        // The tree's parents carry theirs too.
        let node = app.get("/api/v1/categories/cai-cach-hanh-chinh").await.data();
        assert_eq!(node["parent"]["path"], json!([crumbs[0], crumbs[1]]));

        // A root category's breadcrumb is itself; a renamed or moved ancestor shows at once.
        let (_, top) = app
            .published_article(
                &editor,
                json!({"title": "Tin đầu trang", "category_id": id(&root)}),
            )
            .await;
        assert_eq!(
            app.get(&format!("/api/v1/articles/{top}")).await.data()["category"]["path"],
            json!([crumbs[0]])
        );
        send(
            &app,
            &editor,
            Method::PATCH,
            &format!("{ADMIN_CATEGORIES}/{}", id(&middle)),
            Some(json!({"name": "Thời sự - Chính trị", "parent_id": null})),
        )
        .await
        .expect(200);
        assert_eq!(
            app.get(&format!("/api/v1/articles/{slug}")).await.data()["category"]["path"],
            json!([
                {"slug": "thoi-su", "name": "Thời sự - Chính trị"},
                {"slug": "cai-cach-hanh-chinh", "name": "Cải cách hành chính"},
            ])
        );
    }
);

backend_test!(
    async fn public_tags_are_those_of_published_articles_with_their_counts(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let tags = || async { counts_of(&app.get("/api/v1/tags").await.expect(200).data()) };
        let draft = send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/articles",
            Some(json!({"title": "Bản nháp", "tags": ["Cải cách hành chính"]})),
        )
        .await
        .data();
        let later = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        let scheduled = send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/articles",
            Some(json!({"title": "Sắp đăng", "tags": ["Sắp ra mắt"]})),
        )
        .await
        .data();
        send(
            &app,
            &editor,
            Method::POST,
            &format!("/api/v1/admin/articles/{}/publish", id(&scheduled)),
            Some(json!({"publish_at": later})),
        )
        .await
        .expect(200);
        let archived = publish(&app, &editor, json!({"title": "Tin cũ", "tags": ["Lưu trữ"]})).await;
        send(
            &app,
            &editor,
            Method::DELETE,
            &format!("/api/v1/admin/articles/{archived}"),
            None,
        )
        .await
        .expect(204);
        assert_eq!(
            tags().await,
            [],
            "drafts, scheduled and archived articles show no tag"
        );
        let all = app.get_as(&editor.access_token, ADMIN_TAGS).await.data();
        assert_eq!(
            counts_of(&all),
            [
                ("cai-cach-hanh-chinh".to_owned(), 0),
                ("luu-tru".to_owned(), 0),
                ("sap-ra-mat".to_owned(), 0)
            ],
            "the staff see every tag"
        );

        // Publishing and unpublishing show at once, through the response cache.
        workflow(&app, &editor, id(&draft), "publish").await;
        assert_eq!(tags().await, [("cai-cach-hanh-chinh".to_owned(), 1)]);
        let listed = app.get("/api/v1/tags").await.data();
        assert_eq!(
            listed[0],
            json!({"id": listed[0]["id"], "slug": "cai-cach-hanh-chinh", "name": "Cải cách hành chính", "article_count": 1})
        );
        publish(
            &app,
            &editor,
            json!({"title": "Tin thứ hai", "tags": ["cai cach hanh chinh", "Hà Nội"]}),
        )
        .await;
        assert_eq!(
            tags().await,
            [("cai-cach-hanh-chinh".to_owned(), 2), ("ha-noi".to_owned(), 1)]
        );
        workflow(&app, &editor, id(&draft), "unpublish").await;
        assert_eq!(
            tags().await,
            [("cai-cach-hanh-chinh".to_owned(), 1), ("ha-noi".to_owned(), 1)]
        );
        // Its tag still names something: the article list answers it, empty or not.
        let res = app.get("/api/v1/articles?tag=luu-tru").await.expect(200);
        assert_eq!(res.json()["meta"]["total"], 0);
    }
);

backend_test!(
    async fn public_categories_are_branches_with_published_articles_counted_with_descendants(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let news = new_category(&app, &editor, json!({"name": "Thời sự", "position": 1})).await;
        let hanoi = new_category(&app, &editor, json!({"name": "Hà Nội", "parent_id": id(&news)})).await;
        let district = new_category(&app, &editor, json!({"name": "Đống Đa", "parent_id": id(&hanoi)})).await;
        new_category(&app, &editor, json!({"name": "Quốc tế", "parent_id": id(&news)})).await;
        let economy = new_category(&app, &editor, json!({"name": "Kinh tế", "position": 2})).await;
        new_category(&app, &editor, json!({"name": "Thể thao", "position": 3})).await;
        let deep = publish(
            &app,
            &editor,
            json!({"title": "Tin Đống Đa", "category_id": id(&district)}),
        )
        .await;
        publish(
            &app,
            &editor,
            json!({"title": "Tin Hà Nội", "category_id": id(&hanoi)}),
        )
        .await;
        publish(
            &app,
            &editor,
            json!({"title": "Tin thời sự", "category_id": id(&news)}),
        )
        .await;
        send(
            &app,
            &editor,
            Method::POST,
            "/api/v1/admin/articles",
            Some(json!({"title": "Nháp kinh tế", "category_id": id(&economy)})),
        )
        .await
        .expect(201);
        // Published with a date still to come: not counted until then.
        let report = crate::articles::import::import(
            &app,
            &format!(
                "{}\n",
                json!({"title": "Tin thể thao sắp đăng", "category": "Thể thao",
                       "status": "published", "published_at": "2099-01-01T00:00:00Z"})
            ),
        )
        .await;
        assert_eq!(report.imported, 1, "{report:?}");

        let roots = public_tree(&app).await;
        assert_eq!(
            counts_of(&roots),
            [("thoi-su".to_owned(), 3)],
            "descendants count"
        );
        let children = &roots[0]["children"];
        assert_eq!(
            counts_of(children),
            [("ha-noi".to_owned(), 2)],
            "no empty sub-category"
        );
        assert_eq!(counts_of(&children[0]["children"]), [("dong-da".to_owned(), 1)]);
        // As many as the article list filtered by the category.
        for (slug, count) in [("thoi-su", 3), ("ha-noi", 2), ("dong-da", 1)] {
            let list = app.get(&format!("/api/v1/articles?category={slug}")).await.json();
            assert_eq!(list["meta"]["total"], count, "{slug}");
        }
        let one = app.get("/api/v1/categories/thoi-su").await.data();
        assert_eq!(one["article_count"], 3);
        assert_eq!(slugs_of(&one["children"]), ["ha-noi"]);
        // An empty category is still found, as the article list answers it.
        let empty = app.get("/api/v1/categories/kinh-te").await.expect(200).data();
        assert_eq!(
            (empty["article_count"].clone(), empty["children"].clone()),
            (json!(0), json!([]))
        );
        let list = app
            .get("/api/v1/articles?category=kinh-te")
            .await
            .expect(200)
            .json();
        assert_eq!(list["meta"]["total"], 0);

        // The staff see the whole tree with the same counts.
        let all = tree(&app, &editor).await;
        assert_eq!(
            counts_of(&all),
            [
                ("thoi-su".to_owned(), 3),
                ("kinh-te".to_owned(), 0),
                ("the-thao".to_owned(), 0)
            ]
        );
        assert_eq!(
            counts_of(&all[0]["children"]),
            [("ha-noi".to_owned(), 2), ("quoc-te".to_owned(), 0)]
        );

        // Unpublishing the only article of a branch takes the branch out at once.
        workflow(&app, &editor, deep, "unpublish").await;
        let roots = public_tree(&app).await;
        assert_eq!(counts_of(&roots), [("thoi-su".to_owned(), 2)]);
        assert_eq!(roots[0]["children"][0]["children"], json!([]));
        workflow(&app, &editor, deep, "publish").await;
        assert_eq!(counts_of(&public_tree(&app).await), [("thoi-su".to_owned(), 3)]);
    }
);
