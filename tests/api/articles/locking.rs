//! Optimistic locking: every edit names the version it read, and a stale one is refused.

use actix_web::http::Method;
use futures_util::future::join_all;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::problem_fields;

use super::{admin_article, authed, create};

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
