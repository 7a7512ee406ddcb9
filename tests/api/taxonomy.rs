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

async fn tree(app: &TestApp) -> Value {
    let res = app.get("/api/v1/categories").await.expect(200);
    res.data()
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
        new_category(
            &app,
            &editor,
            json!({"name": "Quận Đống Đa", "parent_id": id(&hanoi)}),
        )
        .await;

        let roots = tree(&app).await;
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
        assert_eq!(slugs_of(&tree(&app).await), ["thoi-su", "kinh-te"]);
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
        let roots = tree(&app).await;
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
        assert_eq!(tree(&app).await.as_array().unwrap().len(), 3, "a root again");
    }
);

backend_test!(
    async fn a_category_cannot_be_moved_inside_itself(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let a = new_category(&app, &editor, json!({"name": "A"})).await;
        let b = new_category(&app, &editor, json!({"name": "B", "parent_id": id(&a)})).await;
        let c = new_category(&app, &editor, json!({"name": "C", "parent_id": id(&b)})).await;
        let before = tree(&app).await;
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
        assert_eq!(tree(&app).await, before, "nothing moved");
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
        assert_eq!(tree(&app).await.as_array().unwrap().len(), 1);

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
        assert_eq!(tree(&app).await, json!([]));
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
            slugs_of(&tree(&app).await),
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
        let list = app.get("/api/v1/tags").await.data();
        assert_eq!(slugs_of(&list), ["cai-cach-hanh-chinh", "thu-do"]);

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
        // Writing needs a token.
        app.post_json(ADMIN_CATEGORIES, &json!({"name": "Lậu"}))
            .await
            .problem(401);
        app.post_json(ADMIN_TAGS, &json!({"name": "Lậu"}))
            .await
            .problem(401);
        assert_eq!(tree(&app).await.as_array().unwrap().len(), 1);
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
