//! The row of ids kept beside each article (`article_links`): lists and pages read an
//! article's byline, tags and covers from it, so it must follow every change to the link
//! tables it is written from.

use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::Db;
use newsdesk::db::schema::{article_authors, article_links, article_media, article_tags, articles};
use serde_json::json;

use crate::backend_test;
use crate::common::texts;

use super::{admin_article, create, public_detail, publish_now};

/// Articles whose row of ids does not say what their link tables say: `(id, kept, expected)`.
fn disagreeing(conn: &mut Db) -> QueryResult<Vec<(i64, Option<String>, String)>> {
    let join = |ids: Vec<i64>| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let ids: Vec<i64> = articles::table
        .select(articles::id)
        .order(articles::id)
        .load(conn)?;
    let mut wrong = Vec::new();
    for id in ids {
        let authors: Vec<i64> = article_authors::table
            .filter(article_authors::article_id.eq(id))
            .order(article_authors::position)
            .select(article_authors::author_id)
            .load(conn)?;
        let tags: Vec<i64> = article_tags::table
            .filter(article_tags::article_id.eq(id))
            .order(article_tags::tag_id)
            .select(article_tags::tag_id)
            .load(conn)?;
        let covers: Vec<i64> = article_media::table
            .filter(article_media::article_id.eq(id))
            .filter(article_media::role.eq("cover"))
            .order(article_media::position)
            .select(article_media::media_id)
            .load(conn)?;
        let expected = format!("{};{};{}", join(authors), join(tags), join(covers));
        let kept: Option<String> = article_links::table
            .find(id)
            .select(article_links::ids)
            .first(conn)
            .optional()?;
        if kept.as_deref() != Some(expected.as_str()) {
            wrong.push((id, kept, expected));
        }
    }
    Ok(wrong)
}

async fn assert_agree(app: &crate::common::TestApp, when: &str) {
    let wrong = app.state.db.run(|conn| Ok(disagreeing(conn)?)).await.unwrap();
    assert!(wrong.is_empty(), "{when}: (id, kept, expected) {wrong:?}");
}

backend_test!(
    async fn each_article_s_row_of_ids_follows_its_byline_and_tags(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let other = app.user(Role::Author).await;
        let one = create(
            &app,
            &editor,
            json!({"title": "Tin có thẻ", "tags": ["Hà Nội", "Cải cách hành chính"], "author_ids": [other.id, editor.id]}),
        )
        .await;
        let id = one["id"].as_i64().unwrap();
        create(&app, &editor, json!({"title": "Tin không thẻ"})).await;
        assert_agree(&app, "after creating").await;
        publish_now(&app, &editor, id).await;
        let page = public_detail(&app, "tin-co-the").await.data();
        assert_eq!(texts(&page["tags"], "name"), ["Cải cách hành chính", "Hà Nội"]);
        assert_eq!(page["authors"].as_array().unwrap().len(), 2);
        assert_eq!(page["authors"][0]["id"], other.id, "the byline keeps its order");

        // An edit that drops a tag and reverses the byline.
        let res = app
            .as_user(
                &editor.access_token,
                actix_web::http::Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": one["version"], "tags": ["Hà Nội"], "author_ids": [editor.id, other.id]})),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_agree(&app, "after an edit").await;
        let list = app.get("/api/v1/articles").await.data();
        assert_eq!(texts(&list[0]["tags"], "name"), ["Hà Nội"]);
        assert_eq!(list[0]["authors"][0]["id"], editor.id);

        // Deleting a tag takes it out of the rows of the articles it was on.
        let tag = list[0]["tags"][0]["id"].as_i64().unwrap();
        let res = app
            .as_user(
                &editor.access_token,
                actix_web::http::Method::DELETE,
                &format!("/api/v1/admin/tags/{tag}"),
                None,
            )
            .await;
        assert_eq!(res.status, 204, "{}", res.text());
        assert_agree(&app, "after deleting a tag").await;
        assert_eq!(public_detail(&app, "tin-co-the").await.data()["tags"], json!([]));

        // Imported articles get theirs in the import's multi-row statements.
        let lines = r#"{"title": "Tin nhập có thẻ", "status": "published", "tags": ["Thủ đô", "Giao thông"], "authors": ["Hoàng Anh"]}
{"title": "Tin nhập không thẻ", "status": "published"}
"#;
        let report = newsdesk::articles::import::import(
            &app.state,
            std::path::Path::new("."),
            std::io::Cursor::new(lines.to_owned()),
        )
        .await
        .unwrap();
        assert_eq!(report.imported, 2, "{report:?}");
        assert_agree(&app, "after an import").await;
        let page = public_detail(&app, "tin-nhap-co-the").await.data();
        assert_eq!(texts(&page["tags"], "name"), ["Giao thông", "Thủ đô"]);
        assert_eq!(texts(&page["authors"], "name"), ["Hoàng Anh"]);

        // The migration that adds the rows fills them for the articles already there (those
        // after it are reverted first).
        let reverted = app
            .state
            .db
            .run(|conn| {
                let mut reverted = newsdesk::db::migrate::revert_last(conn).unwrap();
                while !reverted.ends_with("000015") {
                    reverted = newsdesk::db::migrate::revert_last(conn).unwrap();
                }
                newsdesk::db::migrate::run_pending(conn).unwrap();
                Ok(reverted)
            })
            .await
            .unwrap();
        assert!(reverted.ends_with("000015"), "{reverted}");
        assert_agree(&app, "after the migration").await;
        let count = app
            .state
            .db
            .run(|conn| Ok(article_links::table.count().get_result::<i64>(conn)?))
            .await
            .unwrap();
        assert_eq!(count, 4, "a row for every article, with links or not");
    }
);
