//! Problems a frontend can act on: a machine `code` on every problem and field, distinct
//! `type`s per kind of conflict, and messages in the client's language (`Accept-Language`),
//! through the real endpoints.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{Duration, Utc};
use newsdesk::auth::Role;
use newsdesk::comments::captcha;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::{TestApp, TestResponse};

/// A request in `lang` (an `Accept-Language` value), with a JSON body when given.
async fn call_in(
    app: &TestApp,
    lang: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> TestResponse {
    let mut req = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("Accept-Language", lang));
    if let Some(token) = token {
        req = req.insert_header(("Authorization", format!("Bearer {token}")));
    }
    if let Some(body) = body {
        req = req.set_json(body);
    }
    app.call(req).await
}

backend_test!(
    async fn the_comment_form_answers_in_vietnamese_when_asked(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, slug) = app
            .published_article(&editor, json!({"title": "Góp ý dự thảo"}))
            .await;
        let token = captcha::mint(
            app.state.secrets.captcha_key.as_bytes(),
            "K7M2P",
            Utc::now() + Duration::minutes(10),
        )
        .unwrap();
        let form = json!({
            "name": "   ",
            "phone": "12345",
            "title": "Tiêu đề",
            "content": "x".repeat(5001),
            "captcha_token": token,
            "captcha_answer": "WRONG",
        });
        let path = format!("/api/v1/articles/{slug}/comments");
        let res = call_in(
            &app,
            "vi-VN,vi;q=0.9,en;q=0.8",
            Method::POST,
            &path,
            None,
            Some(&form),
        )
        .await;
        let problem = res.problem(422);
        let errors = res.field_errors();
        assert_eq!(res.header("content-language"), Some("vi"));
        assert!(
            res.header("vary").is_some_and(|v| v.contains("Accept-Language")),
            "{:?}",
            res.headers
        );
        assert_eq!(problem["code"], "validation.failed");
        assert_eq!(problem["title"], "Dữ liệu không hợp lệ");
        let find = |field: &str| {
            errors
                .iter()
                .find(|(f, _, _)| f == field)
                .unwrap_or_else(|| panic!("{field} in {errors:?}"))
                .clone()
        };
        assert_eq!(
            find("name"),
            ("name".into(), "required".into(), "Vui lòng nhập họ tên.".into())
        );
        let (_, code, message) = find("phone");
        assert_eq!(code, "invalid_phone");
        assert!(message.starts_with("Số điện thoại không hợp lệ"), "{message}");
        let (_, code, message) = find("content");
        assert_eq!(code, "too_long");
        assert!(message.contains("5000"), "{message}");
        let content = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "content")
            .unwrap()
            .clone();
        assert_eq!(content["params"]["max"], 5000);
        let (_, code, message) = find("captcha_answer");
        assert_eq!(code, "captcha_wrong");
        assert!(message.starts_with("Mã xác nhận không đúng"), "{message}");

        // The same form without a preference for Vietnamese is answered in English.
        let res = call_in(&app, "en-US,en;q=0.9", Method::POST, &path, None, Some(&form)).await;
        let problem = res.problem(422);
        assert_eq!(res.header("content-language"), Some("en"));
        assert_eq!(problem["title"], "Validation failed");
        let errors = res.field_errors();
        assert!(
            errors
                .iter()
                .any(|(f, c, m)| f == "name" && c == "required" && m == "must not be empty"),
            "{errors:?}"
        );
    }
);

backend_test!(
    async fn a_body_of_the_wrong_shape_names_the_field(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        for (body, field, code) in [
            (json!({"name": 5}), "name", "wrong_type"),
            (
                json!({"name": "Tin tức", "colour": "red"}),
                "colour",
                "unknown_field",
            ),
            (json!({"slug": "tin-tuc"}), "name", "required"),
            (
                json!({"name": "Tin tức", "parent_id": "one"}),
                "parent_id",
                "wrong_type",
            ),
        ] {
            let res = call_in(
                &app,
                "vi",
                Method::POST,
                "/api/v1/admin/categories",
                Some(&editor.access_token),
                Some(&body),
            )
            .await;
            let errors = res.field_errors();
            assert_eq!(errors.len(), 1, "{body}: {errors:?}");
            assert_eq!(
                (errors[0].0.as_str(), errors[0].1.as_str()),
                (field, code),
                "{body}"
            );
            assert!(
                !errors[0].2.contains("line"),
                "a parser message leaked: {}",
                errors[0].2
            );
        }
        // Nested: the path reaches into arrays.
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&json!({"title": "Tin", "tag_ids": [1, "x"]})),
            )
            .await;
        assert_eq!(
            res.field_codes(),
            [("tag_ids[1]".to_owned(), "wrong_type".to_owned())]
        );
    }
);

backend_test!(
    async fn conflicts_of_different_kinds_have_different_types(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let create = |title: &str, slug: &str| json!({"title": title, "slug": slug});
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&create("Một", "mot")),
            )
            .await
            .expect(201);
        let id = res.data()["id"].as_i64().unwrap();

        let taken = app
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&create("Hai", "mot")),
            )
            .await
            .problem(409);
        assert_eq!(taken["type"], "urn:newsdesk:problem:already-exists");
        assert_eq!(taken["code"], "article.slug_taken");

        let patch = format!("/api/v1/admin/articles/{id}");
        let stale = app
            .as_user(
                &editor.access_token,
                Method::PATCH,
                &patch,
                Some(&json!({"title": "Một!", "version": 99})),
            )
            .await
            .problem(409);
        assert_eq!(stale["type"], "urn:newsdesk:problem:version-conflict");
        assert_eq!(stale["code"], "article.version_conflict");

        let unpublish = format!("/api/v1/admin/articles/{id}/unpublish");
        let illegal = call_in(
            &app,
            "vi",
            Method::POST,
            &unpublish,
            Some(&editor.access_token),
            None,
        )
        .await
        .problem(409);
        assert_eq!(illegal["type"], "urn:newsdesk:problem:illegal-transition");
        assert_eq!(illegal["code"], "article.illegal_transition");
        assert!(
            illegal["detail"].as_str().unwrap().contains("bản nháp"),
            "{illegal}"
        );

        let kinds = [&taken["type"], &stale["type"], &illegal["type"]];
        assert!(kinds[0] != kinds[1] && kinds[1] != kinds[2] && kinds[0] != kinds[2]);
    }
);

backend_test!(
    async fn every_kind_of_refusal_carries_a_code_in_both_languages(app: TestApp) {
        let author = app.user(Role::Author).await;
        let cases: Vec<(Method, &str, Option<&str>, u16, &str)> = vec![
            (Method::GET, "/api/v1/nowhere", None, 404, "route.not_found"),
            (
                Method::GET,
                "/api/v1/articles/khong-co",
                None,
                404,
                "article.not_found",
            ),
            (Method::GET, "/api/v1/auth/me", None, 401, "auth.token_missing"),
            (
                Method::GET,
                "/api/v1/admin/audit",
                Some(author.access_token.as_str()),
                403,
                "auth.forbidden",
            ),
            (
                Method::GET,
                "/api/v1/articles?page=0",
                None,
                400,
                "query.page_range",
            ),
            (
                Method::GET,
                "/api/v1/articles?per_page=abc",
                None,
                400,
                "query.invalid_param",
            ),
            (
                Method::GET,
                "/api/v1/articles?sort=relevance",
                None,
                400,
                "sort.relevance_needs_query",
            ),
            (
                Method::DELETE,
                "/healthz",
                None,
                405,
                "request.method_not_allowed",
            ),
        ];
        for (method, path, token, status, code) in cases {
            let mut details = Vec::new();
            for lang in ["vi", "en"] {
                let res = call_in(&app, lang, method.clone(), path, token, None).await;
                let problem = res.problem(status);
                assert_eq!(problem["code"], code, "{method} {path}");
                assert_eq!(res.header("content-language"), Some(lang), "{path}");
                details.push(problem["detail"].as_str().unwrap().to_owned());
            }
            assert_ne!(details[0], details[1], "{path} is not translated");
        }
    }
);
