//! What a frontend needs to render an article's page without a second call: its `url` on the
//! portal (the same in answers, feeds and the sitemap), related articles, and the page head's
//! `noindex`, `canonical_url` and `og_image`.

use actix_web::http::Method;
use newsdesk::articles::pages::ArticlePages;
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::TestApp;

use super::{PUBLIC_ARTICLES, admin_article, category, hour, public_detail, published};

/// The text of every `<loc>` or `<link>` in an XML document.
fn locations(xml: &str, element: &str) -> Vec<String> {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&close).next())
        .map(|s| s.replace("&amp;", "&"))
        .collect()
}

fn urls(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a[field].as_str().unwrap().to_owned())
        .collect()
}

backend_test!(
    config = |c| {
        c.public_url = "https://hanoi.gov.vn/".parse().unwrap();
        c.article_pages = ArticlePages::new(
            &c.public_url,
            "/tin-tuc/{category}/{yyyy}/{mm}/{dd}/{slug}-{id}.htm",
            "+07:00",
        )
        .unwrap();
    };
    async fn every_answer_feed_and_sitemap_names_the_portal_s_own_address(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let section = category(&app, &editor, json!({"name": "Cải cách hành chính"})).await;
        // 18:30 UTC on 14 January is 01:30 on the 15th in Hà Nội: the path has the 15th.
        let a = published(
            &app,
            &editor,
            json!({"title": "Một cửa liên thông", "category_id": section["id"]}),
            "2020-01-14T18:30:00Z",
        )
        .await;
        let b = published(&app, &editor, json!({"title": "Không chuyên mục"}), "2020-01-15T03:00:00Z").await;
        let (a_id, b_id) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
        let a_url = format!("https://hanoi.gov.vn/tin-tuc/cai-cach-hanh-chinh/2020/01/15/mot-cua-lien-thong-{a_id}.htm");
        let b_url = format!("https://hanoi.gov.vn/tin-tuc/2020/01/15/khong-chuyen-muc-{b_id}.htm");

        let list = app.get(PUBLIC_ARTICLES).await.expect(200).json();
        assert_eq!(urls(&list["data"], "url"), [b_url.clone(), a_url.clone()]);
        let detail = public_detail(&app, "mot-cua-lien-thong").await.expect(200).data();
        assert_eq!(detail["url"], a_url);
        assert_eq!(detail["canonical_url"], a_url);
        let newer = public_detail(&app, "khong-chuyen-muc").await.data();
        assert_eq!(newer["older"][0]["url"], a_url, "neighbours name the same address");

        let feed = app.get("/feed.xml").await.expect(200).text();
        assert_eq!(locations(&feed, "link")[1..], [b_url.clone(), a_url.clone()]);
        let sitemap = app.get("/sitemap.xml").await.expect(200).text();
        assert_eq!(locations(&sitemap, "loc"), [a_url, b_url]);
    }
);

backend_test!(
    async fn the_page_head_has_noindex_canonical_url_and_og_image(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let plain = published(
            &app,
            &editor,
            json!({"title": "Bài gốc", "cover_image_url": "https://anh.hanoi.gov.vn/bia.jpg"}),
            &hour(0),
        )
        .await;
        published(
            &app,
            &editor,
            json!({"title": "Bài đăng lại", "canonical_url": "https://baochinhphu.vn/bai-goc.htm"}),
            &hour(1),
        )
        .await;
        published(
            &app,
            &editor,
            json!({"title": "Trang nội bộ", "noindex": true}),
            &hour(2),
        )
        .await;

        let detail = public_detail(&app, "bai-goc").await.data();
        assert_eq!(detail["noindex"], false);
        assert_eq!(detail["canonical_url"], detail["url"]);
        assert_eq!(detail["og_image"], "https://anh.hanoi.gov.vn/bia.jpg");
        let copy = public_detail(&app, "bai-dang-lai").await.data();
        assert_eq!(copy["canonical_url"], "https://baochinhphu.vn/bai-goc.htm");
        assert_eq!(copy["og_image"], Value::Null);
        assert_eq!(public_detail(&app, "trang-noi-bo").await.data()["noindex"], true);

        // The sitemap lists only canonical, indexable pages; the feed lists all three.
        let sitemap = app.get("/sitemap.xml").await.text();
        assert_eq!(
            locations(&sitemap, "loc"),
            ["http://localhost:3000/articles/bai-goc"]
        );
        assert_eq!(locations(&app.get("/feed.xml").await.text(), "link").len(), 4);

        // A bad canonical address is refused; clearing it makes the copy canonical again.
        let id = plain["id"].as_i64().unwrap();
        let res = app
            .as_user(
                &editor.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": 1, "canonical_url": "javascript:alert(1)"})),
            )
            .await;
        assert_eq!(
            res.field_codes(),
            [("canonical_url".to_owned(), "invalid_url".to_owned())]
        );
        let editorial = app.get_as(&editor.access_token, &admin_article(id)).await.data();
        assert_eq!(editorial["noindex"], false);
        assert_eq!(editorial["canonical_url"], Value::Null);
    }
);

/// Slugs of a detail's `related`.
async fn related(app: &TestApp, slug: &str) -> Vec<String> {
    let detail = public_detail(app, slug).await.expect(200).data();
    urls(&detail["related"], "slug")
}

backend_test!(
    // The response cache off, so every page is built: the tags' pools kept between pages must
    // follow each change on their own.
    config = |c| c.cache_bytes = 0;
    async fn related_articles_follow_each_publication_and_withdrawal(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let roads = category(&app, &editor, json!({"name": "Giao thông"})).await;
        let health = category(&app, &editor, json!({"name": "Y tế"})).await;
        // In another category than the page, so not its newer/older neighbours.
        let tagged = |title: &str| json!({"title": title, "tags": ["cầu", "đường"], "category_id": health["id"]});
        published(&app, &editor, tagged("Cầu cũ"), &hour(0)).await;
        published(&app, &editor, tagged("Cầu giữa"), &hour(1)).await;
        let page = published(
            &app,
            &editor,
            json!({"title": "Cầu trang", "tags": ["cầu", "đường"], "category_id": roads["id"]}),
            &hour(2),
        )
        .await;
        assert_eq!(related(&app, "cau-trang").await, ["cau-giua", "cau-cu"]);
        assert_eq!(related(&app, "cau-trang").await, ["cau-giua", "cau-cu"]);

        let newest = published(&app, &editor, tagged("Cầu mới"), &hour(1)).await;
        let shown = related(&app, "cau-trang").await;
        assert!(shown.contains(&"cau-moi".to_owned()), "a new article with the tags: {shown:?}");

        let id = newest["id"].as_i64().unwrap();
        app.as_user(
            &editor.access_token,
            Method::POST,
            &format!("{}/unpublish", admin_article(id)),
            None,
        )
        .await
        .expect(200);
        assert_eq!(
            related(&app, "cau-trang").await,
            ["cau-giua", "cau-cu"],
            "withdrawn, it leaves the related list of the page {}",
            page["id"]
        );
    }
);

backend_test!(
    async fn related_articles_share_the_most_tags_then_the_category_never_a_neighbour(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let roads = category(&app, &editor, json!({"name": "Giao thông"})).await;
        let health = category(&app, &editor, json!({"name": "Y tế"})).await;
        let tagged = |title: &str, tags: &[&str], section: &Value| json!({"title": title, "tags": tags, "category_id": section["id"]});
        // In another category, so the page's newer/older neighbours (same category) are not
        // these.
        published(
            &app,
            &editor,
            tagged("Hai thẻ chung cũ", &["cầu", "đường"], &health),
            &hour(0),
        )
        .await;
        published(
            &app,
            &editor,
            tagged("Hai thẻ chung mới", &["cầu", "đường"], &health),
            &hour(1),
        )
        .await;
        published(
            &app,
            &editor,
            tagged("Một thẻ chung", &["cầu"], &health),
            &hour(2),
        )
        .await;
        published(
            &app,
            &editor,
            tagged("Không thẻ chung", &["bệnh viện"], &health),
            &hour(3),
        )
        .await;
        let draft = json!({"title": "Bản nháp cùng thẻ", "tags": ["cầu", "đường"]});
        app.as_user(
            &editor.access_token,
            Method::POST,
            "/api/v1/admin/articles",
            Some(&draft),
        )
        .await
        .expect(201);
        published(
            &app,
            &editor,
            tagged("Cầu mới thông xe", &["cầu", "đường"], &roads),
            &hour(10),
        )
        .await;

        assert_eq!(
            related(&app, "cau-moi-thong-xe").await,
            ["hai-the-chung-moi", "hai-the-chung-cu", "mot-the-chung"],
            "most shared tags first, newest among equals; drafts and unrelated articles left out"
        );

        // Topped up from the category; a neighbour is never repeated.
        for n in 0..3 {
            published(
                &app,
                &editor,
                tagged(&format!("Cùng mục {n}"), &[], &roads),
                &hour(20 + n),
            )
            .await;
        }
        let detail = public_detail(&app, "cau-moi-thong-xe").await.data();
        let neighbours: Vec<String> = urls(&detail["newer"], "slug");
        assert_eq!(neighbours.len(), 3);
        let related = urls(&detail["related"], "slug");
        assert_eq!(
            related,
            ["hai-the-chung-moi", "hai-the-chung-cu", "mot-the-chung"]
        );
        assert!(
            related.iter().all(|r| !neighbours.contains(r)),
            "{related:?} / {neighbours:?}"
        );

        // Without tags, the category's newest that are not neighbours.
        let older = public_detail(&app, "cung-muc-0").await.data();
        let shown: Vec<String> = urls(&older["newer"], "slug")
            .into_iter()
            .chain(urls(&older["older"], "slug"))
            .collect();
        assert!(
            urls(&older["related"], "slug")
                .iter()
                .all(|r| !shown.contains(r) && r != "cung-muc-0")
        );
    }
);
