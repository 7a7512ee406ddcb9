use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;
use crate::common::problem_fields;

const ADMIN_AUTHORS: &str = "/api/v1/admin/authors";

backend_test!(
    async fn an_admin_creates_a_profile_with_a_slug_from_the_vietnamese_name(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let res = app
            .as_user(
                &admin.access_token,
                Method::POST,
                ADMIN_AUTHORS,
                Some(&json!({"name": "Hoàng Anh", "bio": "Phóng viên"})),
            )
            .await
            .expect(201);
        let data = res.data();
        assert_eq!(data["slug"], "hoang-anh");
        assert_eq!(data["role"], "author");
        assert_eq!(
            res.header("location").unwrap(),
            format!("/api/v1/admin/authors/{}", data["id"])
        );

        // The same name again gets the next free slug; an explicit taken slug is a 409.
        let again = app
            .as_user(
                &admin.access_token,
                Method::POST,
                ADMIN_AUTHORS,
                Some(&json!({"name": "Hoàng  Anh"})),
            )
            .await;
        assert_eq!(again.data()["slug"], "hoang-anh-2");
        app.as_user(
            &admin.access_token,
            Method::POST,
            ADMIN_AUTHORS,
            Some(&json!({"name": "X", "slug": "hoang-anh"})),
        )
        .await
        .problem(409);
    }
);

backend_test!(
    async fn emails_are_unique_regardless_of_case(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let body = json!({"name": "Biên tập", "email": "Editor@Example.vn", "password": "một mật khẩu dài", "role": "editor"});
        app.as_user(&admin.access_token, Method::POST, ADMIN_AUTHORS, Some(&body))
            .await
            .expect(201);
        let dup = json!({"name": "Khác", "email": "editor@example.VN"});
        let res = app
            .as_user(&admin.access_token, Method::POST, ADMIN_AUTHORS, Some(&dup))
            .await;
        assert!(res.problem(409)["detail"].as_str().unwrap().contains("email"));
        let login = app
            .login_as("editor@example.vn", "một mật khẩu dài")
            .await
            .expect(200);
        assert_eq!(login.data()["author"]["role"], "editor");
    }
);

backend_test!(
    async fn invalid_profiles_get_422_naming_every_field(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let body = json!({
            "name": "   ",
            "slug": "Not A Slug",
            "avatar_url": "javascript:alert(1)",
            "email": "not-an-email",
            "password": "short",
        });
        let res = app
            .as_user(&admin.access_token, Method::POST, ADMIN_AUTHORS, Some(&body))
            .await;
        assert_eq!(
            problem_fields(&res.problem(422)),
            ["avatar_url", "email", "name", "password", "slug"]
        );
        let res = app
            .as_user(
                &admin.access_token,
                Method::POST,
                ADMIN_AUTHORS,
                Some(&json!({"name": "A", "role": "superuser"})),
            )
            .await;
        res.problem(422);
        let res = app
            .as_user(
                &admin.access_token,
                Method::POST,
                ADMIN_AUTHORS,
                Some(&json!({"name": "A", "password": "long enough password"})),
            )
            .await;
        assert_eq!(res.problem(422)["errors"][0]["field"], "email");
    }
);

backend_test!(
    async fn public_profiles_never_show_private_fields(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let list = app.get("/api/v1/authors").await.expect(200);
        let text = list.text();
        assert!(!text.contains(&editor.email));
        assert!(!text.contains("argon2"));
        for private in ["\"email\"", "\"role\"", "\"active\"", "password"] {
            assert!(!text.contains(private), "{private} in {text}");
        }
        let item = list.data()[0].clone();
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["article_count", "avatar_url", "bio", "id", "name", "slug"]);
        assert_eq!(list.json()["meta"]["total"], 1);

        let slug = item["slug"].as_str().unwrap();
        let one = app.get(&format!("/api/v1/authors/{slug}")).await.expect(200);
        assert!(!one.text().contains(&editor.email));
        app.get("/api/v1/authors/no-such-author").await.problem(404);
    }
);

backend_test!(
    async fn public_author_reads_send_etags_and_answer_304(app: TestApp) {
        app.user(Role::Author).await;
        let first = app.get("/api/v1/authors").await;
        let etag = first.header("etag").unwrap().to_owned();
        assert!(
            first
                .header("cache-control")
                .unwrap()
                .starts_with("public, max-age=")
        );
        let again = app
            .call(
                actix_web::test::TestRequest::get()
                    .uri("/api/v1/authors")
                    .insert_header(("If-None-Match", etag.as_str())),
            )
            .await
            .expect(304);
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));

        app.user(Role::Author).await;
        let changed = app
            .call(
                actix_web::test::TestRequest::get()
                    .uri("/api/v1/authors")
                    .insert_header(("If-None-Match", etag.as_str())),
            )
            .await
            .expect(200);
        assert_ne!(changed.header("etag"), Some(etag.as_str()));
    }
);

backend_test!(
    async fn lists_are_paginated_and_filtered(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        for _ in 0..3 {
            app.user(Role::Moderator).await;
        }
        let page = app
            .get_as(
                &admin.access_token,
                "/api/v1/admin/authors?role=moderator&per_page=2&page=2",
            )
            .await
            .expect(200);
        let body = page.json();
        assert_eq!(
            body["meta"],
            json!({"page": 2, "per_page": 2, "total": 3, "total_pages": 2, "next_cursor": null})
        );
        assert_eq!(body["data"].as_array().unwrap().len(), 1);
        assert_eq!(body["data"][0]["role"], "moderator");
        app.get_as(&admin.access_token, "/api/v1/admin/authors?per_page=101")
            .await
            .problem(400);
        app.get_as(&admin.access_token, "/api/v1/admin/authors?page=0")
            .await
            .problem(400);
        app.get_as(&admin.access_token, "/api/v1/admin/authors?role=boss")
            .await
            .problem(400);
    }
);

backend_test!(
    async fn an_admin_cannot_lock_themselves_out(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let me = format!("{ADMIN_AUTHORS}/{}", admin.id);
        app.as_user(&admin.access_token, Method::DELETE, &me, None)
            .await
            .problem(409);
        app.as_user(
            &admin.access_token,
            Method::PATCH,
            &me,
            Some(&json!({"role": "editor"})),
        )
        .await
        .problem(409);
        app.as_user(
            &admin.access_token,
            Method::PATCH,
            &me,
            Some(&json!({"active": false})),
        )
        .await
        .problem(409);
        assert_eq!(
            app.get_as(&admin.access_token, "/api/v1/auth/me").await.data()["role"],
            "admin"
        );
    }
);

backend_test!(
    async fn unknown_account_ids_are_404(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        app.get_as(&admin.access_token, &format!("{ADMIN_AUTHORS}/999999"))
            .await
            .problem(404);
        app.as_user(
            &admin.access_token,
            Method::PATCH,
            &format!("{ADMIN_AUTHORS}/999999"),
            Some(&json!({"name": "x"})),
        )
        .await
        .problem(404);
        app.as_user(
            &admin.access_token,
            Method::DELETE,
            &format!("{ADMIN_AUTHORS}/999999"),
            None,
        )
        .await
        .problem(404);
    }
);

backend_test!(
    async fn an_author_profile_counts_only_published_articles(app: TestApp) {
        assert!(app.load_demo().await);
        let profile = app.get("/api/v1/authors/hoang-anh").await;
        assert_eq!(
            profile.data()["article_count"],
            5,
            "the sample article and four companions"
        );

        let editor = app.user(Role::Editor).await;
        let author_id = profile.data()["id"].as_i64().unwrap();
        app.as_user(
            &editor.access_token,
            Method::POST,
            "/api/v1/admin/articles",
            Some(&json!({"title": "Bản nháp", "author_ids": [author_id]})),
        )
        .await
        .expect(201);
        assert_eq!(
            app.get("/api/v1/authors/hoang-anh").await.data()["article_count"],
            5
        );
        let list = app.get("/api/v1/authors").await.json();
        let listed = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["slug"] == "hoang-anh")
            .cloned()
            .unwrap();
        assert_eq!(listed["article_count"], 5);
        let editor_profile = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == editor.id)
            .cloned()
            .unwrap();
        assert_eq!(editor_profile["article_count"], 0);
    }
);

backend_test!(
    async fn text_with_a_nul_character_is_refused_on_both_backends_never_a_500(app: TestApp) {
        let admin = app.user(Role::Admin).await;
        let nul = "Tin\u{0}tức";
        for (path, body, field) in [
            ("/api/v1/admin/categories", json!({"name": nul}), "name"),
            (
                "/api/v1/admin/categories",
                json!({"name": "Mục", "description": nul}),
                "description",
            ),
            ("/api/v1/admin/tags", json!({"name": nul}), "name"),
            ("/api/v1/admin/authors", json!({"name": nul}), "name"),
            ("/api/v1/admin/authors", json!({"name": "A", "bio": nul}), "bio"),
            ("/api/v1/admin/articles", json!({"title": nul}), "title"),
            (
                "/api/v1/admin/articles",
                json!({"title": "Bài", "body": nul}),
                "body",
            ),
            (
                "/api/v1/admin/articles",
                json!({"title": "Bài", "summary": nul}),
                "summary",
            ),
            (
                "/api/v1/admin/articles",
                json!({"title": "Bài", "tags": [nul]}),
                "tags[0]",
            ),
        ] {
            let res = app
                .as_user(&admin.access_token, Method::POST, path, Some(&body))
                .await;
            let problem = res.problem(422);
            assert!(
                problem["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["field"] == field),
                "{path} {body}: {problem}"
            );
        }
        let login = app.login_as("a\u{0}@example.vn", "whatever password").await;
        assert!(
            login.status.is_client_error(),
            "{} {}",
            login.status,
            login.text()
        );
        assert_eq!(login.header("content-type"), Some("application/problem+json"));
    }
);
