//! The editorial desk's moves: backdating, embargo end, un-archiving, featured news and bulk
//! moves, each with the roles that may and may not make them.

use actix_web::http::Method;
use chrono::{Duration, SubsecRound, Utc};
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::articles;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::{TestApp, TestUser, slugs};

use super::{
    ADMIN_ARTICLES, PUBLIC_ARTICLES, action, admin_article, create, hour, public_detail, publish_now,
    published,
};

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.trunc_subsecs(0)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn patch(app: &TestApp, user: &TestUser, id: i64, body: Value) -> crate::common::TestResponse {
    let version = app.get_as(&user.access_token, &admin_article(id)).await.data()["version"].clone();
    let mut body = body;
    body["version"] = version;
    app.as_user(&user.access_token, Method::PATCH, &admin_article(id), Some(&body))
        .await
}

/// The events of the deliveries queued for an admin's webhook, oldest first.
async fn events(app: &TestApp, admin: &TestUser, webhook: i64) -> Vec<String> {
    let res = app
        .get_as(
            &admin.access_token,
            &format!("/api/v1/admin/webhooks/{webhook}/deliveries?per_page=100"),
        )
        .await
        .expect(200);
    let mut events: Vec<(i64, String)> = res
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_i64().unwrap(), d["event"].as_str().unwrap().to_owned()))
        .collect();
    events.sort();
    events.into_iter().map(|(_, e)| e).collect()
}

async fn webhook(app: &TestApp, admin: &TestUser) -> i64 {
    app.as_user(
        &admin.access_token,
        Method::POST,
        "/api/v1/admin/webhooks",
        Some(&json!({"url": "http://127.0.0.1:9/hook", "events": ["article.published", "article.unpublished"]})),
    )
    .await
    .expect(201)
    .data()["id"]
        .as_i64()
        .unwrap()
}

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn a_past_publish_at_publishes_now_dated_then_in_its_place(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let admin = app.user(Role::Admin).await;
        let hook = webhook(&app, &admin).await;
        published(&app, &editor, json!({"title": "Cũ nhất"}), &hour(0)).await;
        published(&app, &editor, json!({"title": "Mới nhất"}), &hour(24 * 30)).await;
        let id = create(&app, &editor, json!({"title": "Bài chuyển từ cổng cũ"})).await["id"]
            .as_i64()
            .unwrap();
        // The seed article's "20:59 14/01/2020" in Hà Nội.
        let res = action(
            &app,
            &editor,
            id,
            "publish",
            Some(&json!({"publish_at": "2020-01-14T20:59:00+07:00"})),
        )
        .await
        .expect(200);
        assert_eq!(res.data()["status"], "published");
        assert_eq!(res.data()["published_at"], "2020-01-14T13:59:00Z");
        assert_eq!(res.data()["publish_at"], Value::Null);
        let public = public_detail(&app, "bai-chuyen-tu-cong-cu").await.expect(200);
        assert_eq!(public.data()["published_at"], "2020-01-14T13:59:00Z");
        // Between the two others, by its date.
        let list = app.get(&format!("{PUBLIC_ARTICLES}?sort=published_at")).await.json();
        assert_eq!(
            slugs(&list),
            ["cu-nhat", "bai-chuyen-tu-cong-cu", "moi-nhat"],
            "2020-01-14 falls between 2020-01-01 and 2020-01-31"
        );
        assert_eq!(events(&app, &admin, hook).await.last().unwrap(), "article.published");
        let n = events(&app, &admin, hook).await.len();
        assert_eq!(n, 3, "one publication event per article");
    }
);

backend_test!(
    config = |c| c.webhook_allow_private = true;
    async fn unpublish_at_takes_the_article_down_once_across_two_processes(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let admin = app.user(Role::Admin).await;
        let hook = webhook(&app, &admin).await;
        let id = create(&app, &editor, json!({"title": "Thông báo tuyển dụng"})).await["id"]
            .as_i64()
            .unwrap();
        // Not after the publication: refused, nothing changes.
        let past = rfc3339(Utc::now() - Duration::hours(1));
        let res = action(&app, &editor, id, "publish", Some(&json!({"unpublish_at": past}))).await;
        assert_eq!(res.field_codes(), [("unpublish_at".to_owned(), "after_publication".to_owned())]);
        let soon = Utc::now() + Duration::hours(2);
        let res = action(
            &app,
            &editor,
            id,
            "publish",
            Some(&json!({"publish_at": rfc3339(soon + Duration::hours(1)), "unpublish_at": rfc3339(soon)})),
        )
        .await;
        assert_eq!(res.field_codes(), [("unpublish_at".to_owned(), "after_publication".to_owned())]);
        let editorial = app.get_as(&editor.access_token, &admin_article(id)).await.data();
        assert_eq!(editorial["status"], "draft");

        let res = action(&app, &editor, id, "publish", Some(&json!({"unpublish_at": rfc3339(soon)})))
            .await
            .expect(200);
        assert_eq!(res.data()["unpublish_at"], rfc3339(soon));
        // Cached while public.
        public_detail(&app, "thong-bao-tuyen-dung").await.expect(200);
        assert_eq!(slugs(&app.get(PUBLIC_ARTICLES).await.json()), ["thong-bao-tuyen-dung"]);

        // PATCH moves it, and refuses a time already past.
        let later = soon + Duration::hours(1);
        let res = patch(&app, &editor, id, json!({"unpublish_at": rfc3339(later)})).await.expect(200);
        assert_eq!(res.data()["unpublish_at"], rfc3339(later));
        let res = patch(&app, &editor, id, json!({"unpublish_at": past})).await;
        assert_eq!(res.field_codes(), [("unpublish_at".to_owned(), "after_publication".to_owned())]);

        // Due now: two processes run the scheduler at once; one takes it down.
        app.state
            .db
            .run(move |conn| {
                diesel::update(articles::table.find(id))
                    .set(articles::unpublish_at.eq(newsdesk::db::now() - Duration::seconds(1)))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        let other = app.another_process().build().await.expect("a second process");
        let unpublish = newsdesk::articles::workflow::unpublish_due;
        let (a, b) = futures_util::future::join(app.state.db.run(unpublish), other.state.db.run(unpublish)).await;
        let mut done = a.unwrap();
        done.extend(b.unwrap());
        assert_eq!(done, [id], "unpublished exactly once");
        assert!(newsdesk::workers::run_scheduler(&app.state).await.unwrap().is_empty());

        let editorial = app.get_as(&editor.access_token, &admin_article(id)).await.data();
        assert_eq!(editorial["status"], "draft");
        assert_eq!(editorial["unpublish_at"], Value::Null);
        public_detail(&app, "thong-bao-tuyen-dung").await.problem(404);
        assert_eq!(app.get(PUBLIC_ARTICLES).await.json()["meta"]["total"], 0);
        assert_eq!(
            events(&app, &admin, hook).await,
            ["article.published", "article.unpublished"]
        );
    }
);

backend_test!(
    async fn clearing_unpublish_at_cancels_it(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let id = create(&app, &editor, json!({"title": "Lịch tiếp dân"})).await["id"]
            .as_i64()
            .unwrap();
        let soon = rfc3339(Utc::now() + Duration::hours(1));
        action(&app, &editor, id, "publish", Some(&json!({"unpublish_at": soon})))
            .await
            .expect(200);
        let res = patch(&app, &editor, id, json!({"unpublish_at": null}))
            .await
            .expect(200);
        assert_eq!(res.data()["unpublish_at"], Value::Null);
        let due = newsdesk::db::now() + Duration::hours(2);
        let still: Vec<i64> = app
            .state
            .db
            .run(move |conn| {
                Ok(articles::table
                    .filter(articles::unpublish_at.le(due))
                    .select(articles::id)
                    .load(conn)?)
            })
            .await
            .unwrap();
        assert!(still.is_empty(), "{still:?}");
        assert_eq!(
            newsdesk::workers::run_scheduler(&app.state).await.unwrap(),
            Vec::<i64>::new()
        );
        public_detail(&app, "lich-tiep-dan").await.expect(200);
    }
);

backend_test!(
    async fn an_archived_article_comes_back_as_a_draft_for_editors_only(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let author = app.user(Role::Author).await;
        let id = create(&app, &author, json!({"title": "Bài lưu trữ"})).await["id"]
            .as_i64()
            .unwrap();
        publish_now(&app, &author, id).await;
        app.as_user(&editor.access_token, Method::DELETE, &admin_article(id), None)
            .await
            .expect(204);
        // The author may see their archived article but not bring it back.
        action(&app, &author, id, "unarchive", None).await.problem(403);
        let res = action(&app, &editor, id, "unarchive", None).await.expect(200);
        assert_eq!(res.data()["status"], "draft");
        assert_eq!(res.data()["published_at"], Value::Null);
        public_detail(&app, "bai-luu-tru").await.problem(404);
        let problem = action(&app, &editor, id, "unarchive", None).await.problem(409);
        assert!(problem["detail"].as_str().unwrap().contains("draft"), "{problem}");
        action(&app, &editor, 999_999, "unarchive", None)
            .await
            .problem(404);
        // A draft again: published again as any draft.
        publish_now(&app, &editor, id).await;
        public_detail(&app, "bai-luu-tru").await.expect(200);
    }
);

backend_test!(
    async fn featured_news_are_listed_by_rank_then_newest_and_set_by_editors(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let author = app.user(Role::Author).await;
        let res = app
            .as_user(
                &author.access_token,
                Method::POST,
                ADMIN_ARTICLES,
                Some(&json!({"title": "Tự nêu bật", "featured": true})),
            )
            .await;
        res.problem(403);
        let own = create(&app, &author, json!({"title": "Bài của tác giả"})).await["id"]
            .as_i64()
            .unwrap();
        patch(&app, &author, own, json!({"featured_rank": 1}))
            .await
            .problem(403);
        // Anything else of their own they may still edit; the same rank is no change.
        patch(
            &app,
            &author,
            own,
            json!({"summary": "Tóm tắt", "featured": false}),
        )
        .await
        .expect(200);

        let a = published(
            &app,
            &editor,
            json!({"title": "Nổi bật hạng hai cũ", "featured": true, "featured_rank": 2}),
            &hour(1),
        )
        .await;
        published(
            &app,
            &editor,
            json!({"title": "Nổi bật hạng hai mới", "featured": true, "featured_rank": 2}),
            &hour(2),
        )
        .await;
        published(
            &app,
            &editor,
            json!({"title": "Nổi bật hạng một", "featured": true, "featured_rank": 1}),
            &hour(0),
        )
        .await;
        published(&app, &editor, json!({"title": "Tin thường"}), &hour(3)).await;
        // Published with a date still to come: in no list, featured or not, whatever the order.
        let later = "2099-01-01T00:00:00Z";
        published(
            &app,
            &editor,
            json!({"title": "Nổi bật sắp đăng", "featured": true, "featured_rank": 0}),
            later,
        )
        .await;
        published(&app, &editor, json!({"title": "Tin sắp đăng"}), later).await;
        assert_eq!(a["featured"], true);
        assert_eq!(a["featured_rank"], 2);

        let list = app
            .get(&format!("{PUBLIC_ARTICLES}?featured=true"))
            .await
            .expect(200)
            .json();
        assert_eq!(
            slugs(&list),
            ["noi-bat-hang-mot", "noi-bat-hang-hai-moi", "noi-bat-hang-hai-cu"]
        );
        assert_eq!(list["meta"]["total"], 3);
        assert_eq!(list["meta"]["next_cursor"], Value::Null);
        let list = app
            .get(&format!("{PUBLIC_ARTICLES}?featured=true&per_page=2&page=2"))
            .await
            .json();
        assert_eq!(slugs(&list), ["noi-bat-hang-hai-cu"]);
        for order in ["", "&sort=published_at", "&sort=-views"] {
            let list = app
                .get(&format!("{PUBLIC_ARTICLES}?featured=false{order}"))
                .await
                .json();
            assert_eq!(slugs(&list), ["tin-thuong"], "{order}");
            assert_eq!(list["meta"]["total"], 1, "{order}");
        }
        let list = app
            .get(&format!("{PUBLIC_ARTICLES}?featured=true&sort=-views"))
            .await
            .json();
        assert_eq!(list["meta"]["total"], 3);
        assert_eq!(slugs(&list).len(), 3);
        let list = app
            .get(&format!("{PUBLIC_ARTICLES}?featured=true&sort=published_at"))
            .await
            .json();
        assert_eq!(
            slugs(&list),
            ["noi-bat-hang-mot", "noi-bat-hang-hai-cu", "noi-bat-hang-hai-moi"]
        );
        let list = app
            .get(&format!("{PUBLIC_ARTICLES}?featured=true&q=hang"))
            .await
            .json();
        assert_eq!(list["meta"]["total"], 3);
        // Searched, rows and totals are the matches among them, published by now, in any order.
        for (query, expected) in [
            ("featured=true&q=mot", vec!["noi-bat-hang-mot"]),
            ("featured=true&q=mot&sort=-views", vec!["noi-bat-hang-mot"]),
            ("featured=true&q=dang&sort=published_at", vec![]),
            ("featured=false&q=thuong&sort=-views", vec!["tin-thuong"]),
            ("featured=false&q=hang", vec![]),
        ] {
            let list = app.get(&format!("{PUBLIC_ARTICLES}?{query}")).await.json();
            let expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
            let total = expected.len() as u64;
            assert_eq!(
                (slugs(&list), list["meta"]["total"].as_u64()),
                (expected, Some(total)),
                "{query}"
            );
        }
        let problem = app
            .get(&format!("{PUBLIC_ARTICLES}?featured=true&cursor=abc"))
            .await
            .problem(400);
        assert_eq!(problem["code"], "sort.featured_no_cursor");
        app.get(&format!("{PUBLIC_ARTICLES}?featured=maybe"))
            .await
            .problem(400);

        // Un-featuring drops the cached list at once.
        let id = a["id"].as_i64().unwrap();
        patch(&app, &editor, id, json!({"featured": false}))
            .await
            .expect(200);
        let list = app.get(&format!("{PUBLIC_ARTICLES}?featured=true")).await.json();
        assert_eq!(slugs(&list), ["noi-bat-hang-mot", "noi-bat-hang-hai-moi"]);
        patch(&app, &editor, id, json!({"featured_rank": -1}))
            .await
            .problem(422);

        // A restored version keeps the article where the desk put it.
        let revisions = app
            .get_as(&editor.access_token, &format!("{}/revisions", admin_article(id)))
            .await
            .data();
        let first = revisions.as_array().unwrap().last().unwrap()["version"]
            .as_i64()
            .unwrap();
        let restored = action(&app, &editor, id, &format!("revisions/{first}/restore"), None)
            .await
            .expect(200);
        assert_eq!(restored.data()["featured"], false);
    }
);

/// Ids of the editorial list at `query`.
async fn desk(app: &TestApp, user: &TestUser, query: &str) -> Vec<String> {
    let res = app
        .get_as(&user.access_token, &format!("{ADMIN_ARTICLES}?{query}"))
        .await
        .expect(200);
    slugs(&res.json())
}

backend_test!(
    async fn the_desk_filters_by_states_tag_and_time_and_sorts_four_ways(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let draft = create(
            &app,
            &editor,
            json!({"title": "Bản nháp", "tags": ["Giao thông"]}),
        )
        .await;
        let review = create(&app, &editor, json!({"title": "Chờ duyệt"})).await;
        action(&app, &editor, review["id"].as_i64().unwrap(), "submit", None)
            .await
            .expect(200);
        published(
            &app,
            &editor,
            json!({"title": "Đã đăng", "tags": ["Giao thông"]}),
            &hour(0),
        )
        .await;
        let archived = create(&app, &editor, json!({"title": "Anh lưu trữ"})).await;
        app.as_user(
            &editor.access_token,
            Method::DELETE,
            &admin_article(archived["id"].as_i64().unwrap()),
            None,
        )
        .await
        .expect(204);

        assert_eq!(
            desk(&app, &editor, "status=draft,in_review&sort=title").await,
            ["ban-nhap", "cho-duyet"]
        );
        assert_eq!(desk(&app, &editor, "status=archived").await, ["anh-luu-tru"]);
        let problem = app
            .get_as(
                &editor.access_token,
                &format!("{ADMIN_ARTICLES}?status=draft,deleted"),
            )
            .await
            .problem(400);
        assert_eq!(problem["code"], "query.invalid_param");
        assert_eq!(
            desk(&app, &editor, "tag=giao-thong&sort=title").await,
            ["ban-nhap", "da-dang"]
        );
        for missing in [
            "tag=khong-co",
            "author=khong-co",
            "category=khong-co",
            "tag=KH%C3%94NG",
        ] {
            app.get_as(&editor.access_token, &format!("{ADMIN_ARTICLES}?{missing}"))
                .await
                .problem(404);
        }

        // Sorts: most recently changed first by default; the draft edited last comes first.
        patch(
            &app,
            &editor,
            draft["id"].as_i64().unwrap(),
            json!({"summary": "sửa"}),
        )
        .await
        .expect(200);
        assert_eq!(desk(&app, &editor, "").await[0], "ban-nhap");
        assert_eq!(
            desk(&app, &editor, "sort=-created_at").await,
            ["anh-luu-tru", "da-dang", "cho-duyet", "ban-nhap"]
        );
        assert_eq!(
            desk(&app, &editor, "sort=title").await,
            ["anh-luu-tru", "ban-nhap", "cho-duyet", "da-dang"]
        );
        let by_publication = desk(&app, &editor, "sort=-published_at").await;
        assert_eq!(
            by_publication[0], "da-dang",
            "never-published articles come last: {by_publication:?}"
        );

        // Time ranges on the time asked for.
        assert_eq!(
            desk(
                &app,
                &editor,
                "date_field=published_at&from=2020-01-01&to=2020-01-01"
            )
            .await,
            ["da-dang"]
        );
        assert!(
            desk(&app, &editor, "date_field=published_at&from=2020-01-02")
                .await
                .is_empty()
        );
        let today = Utc::now().date_naive().to_string();
        assert_eq!(
            desk(&app, &editor, &format!("date_field=created_at&from={today}"))
                .await
                .len(),
            4
        );
        assert!(
            desk(&app, &editor, "to=2020-01-01").await.is_empty(),
            "updated today, not in 2020"
        );
        app.get_as(
            &editor.access_token,
            &format!("{ADMIN_ARTICLES}?date_field=deleted_at"),
        )
        .await
        .problem(400);
        app.get_as(
            &editor.access_token,
            &format!("{ADMIN_ARTICLES}?from=2021-01-02&to=2021-01-01"),
        )
        .await
        .problem(400);
        app.get_as(&editor.access_token, &format!("{ADMIN_ARTICLES}?sort=views"))
            .await
            .problem(400);
    }
);

/// `(id, result, status)` of each outcome of a bulk move.
fn outcomes(res: &crate::common::TestResponse) -> Vec<(i64, String, Value)> {
    res.data()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_i64().unwrap(),
                o["result"].as_str().unwrap().to_owned(),
                o["status"].clone(),
            )
        })
        .collect()
}

async fn bulk(app: &TestApp, user: &TestUser, body: Value) -> crate::common::TestResponse {
    app.as_user(
        &user.access_token,
        Method::POST,
        &format!("{ADMIN_ARTICLES}/bulk"),
        Some(&body),
    )
    .await
}

backend_test!(
    async fn bulk_moves_report_one_outcome_per_article_as_if_made_alone(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let contributor = app.user(Role::Contributor).await;
        let moderator = app.user(Role::Moderator).await;
        let id = |v: &Value| v["id"].as_i64().unwrap();
        let a = id(&create(&app, &editor, json!({"title": "Một"})).await);
        let b = id(&create(&app, &editor, json!({"title": "Hai"})).await);
        let published_one = id(&published(&app, &editor, json!({"title": "Ba"}), &hour(0)).await);
        let theirs = id(&create(&app, &contributor, json!({"title": "Của cộng tác viên"})).await);

        let res = bulk(
            &app,
            &editor,
            json!({"action": "publish", "ids": [a, b, published_one, 999_999, a]}),
        )
        .await
        .expect(200);
        assert_eq!(
            outcomes(&res),
            [
                (a, "updated".to_owned(), json!("published")),
                (b, "updated".to_owned(), json!("published")),
                (published_one, "conflict".to_owned(), json!("published")),
                (999_999, "not_found".to_owned(), Value::Null),
            ]
        );
        let conflict = &res.data()[2];
        assert_eq!(conflict["code"], "article.illegal_transition");
        assert!(
            conflict["detail"].as_str().unwrap().contains("published"),
            "{conflict}"
        );
        assert_eq!(res.data()[0]["code"], Value::Null);
        assert_eq!(
            slugs(&app.get(PUBLIC_ARTICLES).await.json()).len(),
            3,
            "the two published by the bulk move are public"
        );

        // A contributor may submit their own draft but not publish it, nor touch others'.
        let res = bulk(
            &app,
            &contributor,
            json!({"action": "publish", "ids": [theirs, a]}),
        )
        .await
        .expect(200);
        assert_eq!(
            outcomes(&res),
            [
                (theirs, "forbidden".to_owned(), json!("draft")),
                (a, "not_found".to_owned(), Value::Null),
            ]
        );
        let res = bulk(&app, &contributor, json!({"action": "submit", "ids": [theirs]}))
            .await
            .expect(200);
        assert_eq!(
            outcomes(&res),
            [(theirs, "updated".to_owned(), json!("in_review"))]
        );

        // Archive and un-archive in bulk.
        let res = bulk(&app, &editor, json!({"action": "archive", "ids": [a, b]}))
            .await
            .expect(200);
        assert_eq!(outcomes(&res)[1], (b, "updated".to_owned(), json!("archived")));
        let res = bulk(
            &app,
            &editor,
            json!({"action": "unarchive", "ids": [a, published_one]}),
        )
        .await
        .expect(200);
        assert_eq!(
            outcomes(&res),
            [
                (a, "updated".to_owned(), json!("draft")),
                (published_one, "conflict".to_owned(), json!("published")),
            ]
        );
        let res = bulk(
            &app,
            &editor,
            json!({"action": "unpublish", "ids": [published_one]}),
        )
        .await
        .expect(200);
        assert_eq!(
            outcomes(&res),
            [(published_one, "updated".to_owned(), json!("draft"))]
        );

        // Refused whole: no ids, too many, an unknown action, a role that sees no article.
        for body in [
            json!({"action": "publish", "ids": []}),
            json!({"action": "publish", "ids": (1..=101).collect::<Vec<i64>>()}),
        ] {
            assert_eq!(
                bulk(&app, &editor, body).await.field_codes(),
                [("ids".to_owned(), "out_of_range".to_owned())]
            );
        }
        bulk(&app, &editor, json!({"action": "delete", "ids": [a]}))
            .await
            .problem(422);
        bulk(&app, &moderator, json!({"action": "publish", "ids": [a]}))
            .await
            .problem(403);
        app.post_json(
            &format!("{ADMIN_ARTICLES}/bulk"),
            &json!({"action": "publish", "ids": [a]}),
        )
        .await
        .problem(401);
    }
);
