//! The workflow: review, publishing now or on schedule, unpublishing, and deleting by archiving.

use actix_web::http::Method;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::articles;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::slugs;

use super::{
    ADMIN_ARTICLES, PUBLIC_ARTICLES, action, admin_article, authed, create, hour, parse_time, public_detail,
    publish_now, published,
};

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
