//! `/feed.xml` and `/sitemap.xml` over HTTP: well-formed XML, published articles only, links
//! to the frontend.

use actix_web::test::TestRequest;
use newsdesk::articles::pages::ArticlePages;
use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;

/// Fails unless `xml` is well-formed; returns the text of every element named `name`.
fn texts_of(xml: &str, name: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut current: Option<String> = None;
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => current = (e.name().as_ref() == name.as_bytes()).then(String::new),
            Ok(Event::Text(t)) => {
                if let Some(text) = &mut current {
                    text.push_str(&t.decode().unwrap());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(text) = &mut current {
                    text.push_str(&t.decode().unwrap());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(text) = &mut current {
                    text.push_str(match r.decode().unwrap().as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("unexpected entity {other}"),
                    });
                }
            }
            Ok(Event::End(_)) => out.extend(current.take()),
            Ok(Event::Eof) => return out,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML ({e}): {xml}"),
        }
    }
}

backend_test! {
    config = |c| {
        c.public_url = "https://tin.hanoi.gov.vn/".parse().unwrap();
        c.article_pages = ArticlePages::new(&c.public_url, "/articles/{slug}", "+00:00").unwrap();
    };
    async fn the_feed_lists_published_articles_with_links_to_the_frontend(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let res = app
            .as_user(&editor.access_token, actix_web::http::Method::POST, "/api/v1/admin/categories",
                Some(&json!({"name": "Cải cách hành chính"})))
            .await;
        let category = res.data()["id"].as_i64().unwrap();
        let (_, news) = app
            .published_article(&editor, json!({"title": "Hỏi & đáp <mới>", "summary": "Tóm tắt", "category_id": category}))
            .await;
        let (_, other) = app.published_article(&editor, json!({"title": "Tin khác"})).await;
        app.as_user(&editor.access_token, actix_web::http::Method::POST, "/api/v1/admin/articles",
            Some(&json!({"title": "Bản nháp bí mật"}))).await;

        let res = app.get("/feed.xml").await.expect(200);
        assert_eq!(res.header("content-type"), Some("application/rss+xml; charset=utf-8"));
        let xml = res.text();
        let mut titles = texts_of(&xml, "title");
        titles.remove(0); // the channel's own
        assert_eq!(titles, ["Tin khác", "Hỏi & đáp <mới>"], "newest first, escaped, no draft");
        let links = texts_of(&xml, "link");
        assert_eq!(links[0], "https://tin.hanoi.gov.vn");
        assert_eq!(links[1..], [format!("https://tin.hanoi.gov.vn/articles/{other}"), format!("https://tin.hanoi.gov.vn/articles/{news}")]);
        assert_eq!(texts_of(&xml, "category"), ["Cải cách hành chính"]);
        assert_eq!(texts_of(&xml, "pubDate").len(), 2);

        let only = app.get("/feed.xml?category=cai-cach-hanh-chinh").await.text();
        assert_eq!(texts_of(&only, "link")[1..], [format!("https://tin.hanoi.gov.vn/articles/{news}")]);
        assert!(texts_of(&only, "title")[0].starts_with("Cải cách hành chính"));
        // As on the article list: a category that does not exist, or could not, is a 404.
        for unknown in ["khong-co", "Kh%C3%B4ng%20c%C3%B3"] {
            let res = app.get(&format!("/feed.xml?category={unknown}")).await;
            assert_eq!(res.problem(404)["code"], "category.not_found", "{unknown}");
        }

        let etag = res.header("etag").unwrap().to_owned();
        app.call(TestRequest::get().uri("/feed.xml").insert_header(("If-None-Match", etag))).await.expect(304);
    }
}

backend_test! {
    async fn the_sitemap_lists_every_published_article_and_pages_past_its_limit(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, first) = app.published_article(&editor, json!({"title": "Bài một"})).await;
        let (_, second) = app.published_article(&editor, json!({"title": "Bài hai"})).await;
        app.as_user(&editor.access_token, actix_web::http::Method::POST, "/api/v1/admin/articles",
            Some(&json!({"title": "Bản nháp"}))).await;

        let res = app.get("/sitemap.xml").await.expect(200);
        assert_eq!(res.header("content-type"), Some("application/xml; charset=utf-8"));
        assert!(res.header("etag").is_some());
        let xml = res.text();
        assert!(xml.contains("<urlset"));
        assert_eq!(
            texts_of(&xml, "loc"),
            [format!("http://localhost:3000/articles/{first}"), format!("http://localhost:3000/articles/{second}")]
        );
        let lastmod = texts_of(&xml, "lastmod");
        assert_eq!(lastmod.len(), 2);
        assert!(chrono::DateTime::parse_from_rfc3339(&lastmod[0]).is_ok(), "{lastmod:?}");
        app.get("/sitemap-1.xml").await.expect(200);
        app.get("/sitemap-2.xml").await.problem(404);
        for not_a_page in ["/sitemap-0.xml", "/sitemap--1.xml", "/sitemap-+1.xml", "/sitemap-x.xml", "/sitemap-99999999999.xml"] {
            let problem = app.get(not_a_page).await.problem(404);
            assert_eq!(problem["code"], "sitemap.not_found", "{not_a_page}");
        }
        let metrics = app.get("/metrics").await.expect(200).text();
        assert!(
            metrics.lines().any(|l| l.starts_with("newsdesk_http_requests_total") && l.contains("endpoint=\"/sitemap-{page}.xml\"")),
            "sitemap pages are counted under their route:\n{metrics}"
        );

        // Past the page size, the sitemap is an index of pages.
        let url = app.state.config.article_pages.clone();
        let index = app
            .state
            .db
            .run(move |conn| newsdesk::feeds::sitemap(conn, &url, 1, |n| format!("https://x.vn/sitemap-{n}.xml")))
            .await
            .unwrap();
        assert!(index.contains("<sitemapindex"));
        assert_eq!(texts_of(&index, "loc"), ["https://x.vn/sitemap-1.xml", "https://x.vn/sitemap-2.xml"]);
        let url = app.state.config.article_pages.clone();
        let page = app
            .state
            .db
            .run(move |conn| newsdesk::feeds::sitemap_page(conn, &url, 1, 2))
            .await
            .unwrap();
        assert_eq!(texts_of(&page, "loc"), [format!("http://localhost:3000/articles/{second}")]);
    }
}
