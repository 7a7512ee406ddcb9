//! The public reading API: lists with their filters and cursor, conditional reads, and the
//! detail with its neighbours.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{Duration, Utc};
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::{slugs, texts};

use super::{PUBLIC_ARTICLES, action, admin_article, category, create, hour, public_detail, published};

backend_test!(
    async fn public_lists_show_published_articles_only_newest_first_with_page_meta(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        for n in [3, 1, 5, 2, 4] {
            published(&app, &editor, json!({"title": format!("Tin số {n}")}), &hour(n)).await;
        }
        create(&app, &editor, json!({"title": "Bản nháp"})).await;
        let scheduled = create(&app, &editor, json!({"title": "Tin sắp đăng"})).await["id"]
            .as_i64()
            .unwrap();
        let later = (Utc::now() + Duration::days(1)).to_rfc3339();
        action(
            &app,
            &editor,
            scheduled,
            "publish",
            Some(&json!({"publish_at": later})),
        )
        .await;

        let list = app.get(PUBLIC_ARTICLES).await.expect(200);
        let body = list.json();
        assert_eq!(
            slugs(&body),
            ["tin-so-5", "tin-so-4", "tin-so-3", "tin-so-2", "tin-so-1"]
        );
        assert_eq!(
            body["meta"],
            json!({"page": 1, "per_page": 20, "total": 5, "total_pages": 1, "next_cursor": null})
        );
        let item = body["data"][0].clone();
        let mut keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "authors",
                "category",
                "comment_count",
                "cover",
                "cover_image_url",
                "id",
                "published_at",
                "slug",
                "source",
                "summary",
                "tags",
                "title",
                "updated_at",
                "url",
                "view_count"
            ],
            "summaries carry no body and no editorial fields"
        );
        assert_eq!(item["published_at"], hour(5));
        assert_eq!(
            item["url"],
            format!(
                "http://localhost:3000/articles/{}",
                item["slug"].as_str().unwrap()
            )
        );

        let page = app
            .get(&format!("{PUBLIC_ARTICLES}?per_page=2&page=3"))
            .await
            .json();
        assert_eq!(slugs(&page), ["tin-so-1"]);
        assert_eq!(page["meta"]["total"], 5);
        assert_eq!(page["meta"]["total_pages"], 3);
        assert_eq!(page["meta"]["page"], 3);
        let beyond = app
            .get(&format!("{PUBLIC_ARTICLES}?per_page=2&page=4"))
            .await
            .json();
        assert_eq!(beyond["data"], json!([]));

        public_detail(&app, "ban-nhap").await.problem(404);
        public_detail(&app, "tin-sap-dang").await.problem(404);
        public_detail(&app, "khong-co").await.problem(404);
        for bad in [
            "per_page=0",
            "per_page=101",
            "page=0",
            "page=abc",
            "sort=views",
            "sort=",
            "from=yesterday",
            "to=2020-13-01",
        ] {
            app.get(&format!("{PUBLIC_ARTICLES}?{bad}")).await.problem(400);
        }
    }
);

backend_test!(
    async fn the_keyset_cursor_walks_every_article_once_in_order(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        // Two share a publish time: the id breaks the tie, so neither is lost or repeated.
        for (n, at) in [(1, 1), (2, 2), (3, 3), (4, 3), (5, 5), (6, 6), (7, 7)] {
            published(&app, &editor, json!({"title": format!("Bài {n}")}), &hour(at)).await;
        }
        let expected = ["bai-7", "bai-6", "bai-5", "bai-4", "bai-3", "bai-2", "bai-1"];
        let full = app.get(PUBLIC_ARTICLES).await.json();
        assert_eq!(slugs(&full), expected, "page mode agrees on the order");

        for (sort, order) in [
            ("-published_at", expected.to_vec()),
            ("published_at", expected.iter().rev().copied().collect::<Vec<_>>()),
        ] {
            let mut seen = Vec::new();
            let mut pages = 0;
            let mut next = format!("{PUBLIC_ARTICLES}?per_page=3&sort={sort}");
            loop {
                let res = app.get(&next).await.expect(200);
                let page = res.json();
                assert_eq!(page["meta"]["total"], 7);
                seen.extend(slugs(&page));
                pages += 1;
                assert!(pages <= 4, "the walk does not end: {seen:?}");
                match page["meta"]["next_cursor"].as_str() {
                    Some(cursor) => {
                        next = format!("{PUBLIC_ARTICLES}?per_page=3&sort={sort}&cursor={cursor}")
                    }
                    None => break,
                }
            }
            assert_eq!(seen, order, "sort {sort}");
            assert_eq!(pages, 3);
        }

        // The cursor keeps its place when an article is published in front of it.
        let first = app.get(&format!("{PUBLIC_ARTICLES}?per_page=3")).await.json();
        let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
        published(&app, &editor, json!({"title": "Bài mới nhất"}), &hour(100)).await;
        let second = app
            .get(&format!("{PUBLIC_ARTICLES}?per_page=3&cursor={cursor}"))
            .await
            .json();
        assert_eq!(slugs(&second), ["bai-4", "bai-3", "bai-2"]);

        for garbage in [
            "abc",
            "%21%21%21",
            "MTIzOng",
            "bm90LWEtY3Vyc29y",
            "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OjE",
            "OTIyMzM3MjAzNjg1NDc3NTgwNzox",
        ] {
            app.get(&format!("{PUBLIC_ARTICLES}?cursor={garbage}"))
                .await
                .problem(400);
        }
    }
);

backend_test!(
    async fn public_lists_filter_by_category_tag_author_and_dates_and_sort_by_views(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let writer = app.user(Role::Author).await;
        let news = category(&app, &editor, json!({"name": "Thời sự"})).await;
        let hanoi = category(&app, &editor, json!({"name": "Hà Nội", "parent_id": news["id"]})).await;
        let sport = category(&app, &editor, json!({"name": "Thể thao"})).await;
        published(
            &app,
            &editor,
            json!({"title": "Tin thời sự", "category_id": news["id"], "tags": ["Nóng"]}),
            "2020-01-10T05:00:00Z",
        )
        .await;
        published(
            &app,
            &writer,
            json!({"title": "Tin Hà Nội", "category_id": hanoi["id"], "tags": ["Nóng", "Thủ đô"]}),
            "2020-01-14T13:59:00Z",
        )
        .await;
        published(
            &app,
            &writer,
            json!({"title": "Tin thể thao", "category_id": sport["id"]}),
            "2020-01-20T23:30:00Z",
        )
        .await;
        create(
            &app,
            &writer,
            json!({"title": "Nháp Hà Nội", "category_id": hanoi["id"], "tags": ["Nóng"]}),
        )
        .await;

        let query = |q: &str| {
            let path = format!("{PUBLIC_ARTICLES}?{q}");
            let app = &app;
            async move {
                let res = app.get(&path).await;
                assert_eq!(res.status, 200, "{path}: {}", res.text());
                slugs(&res.json())
            }
        };
        let filtered = app
            .get(&format!("{PUBLIC_ARTICLES}?category=thoi-su"))
            .await
            .json();
        assert_eq!(filtered["meta"]["total"], 2, "total counts the filtered articles");
        assert_eq!(
            query("category=thoi-su").await,
            ["tin-ha-noi", "tin-thoi-su"],
            "sub-categories included"
        );
        assert_eq!(query("category=ha-noi").await, ["tin-ha-noi"]);
        assert_eq!(query("tag=nong").await, ["tin-ha-noi", "tin-thoi-su"]);
        assert_eq!(query("tag=thu-do").await, ["tin-ha-noi"]);
        let writer_slug = app.get_as(&writer.access_token, "/api/v1/auth/me").await.data()["slug"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            query(&format!("author={writer_slug}")).await,
            ["tin-the-thao", "tin-ha-noi"]
        );

        // A slug that names nothing is a 404, whatever else is asked; a malformed one names
        // nothing. One that names something without published articles is an empty page.
        for (q, code) in [
            ("category=khong-co", "category.not_found"),
            ("category=Thoi%20Su", "category.not_found"),
            ("tag=khong-co", "tag.not_found"),
            ("tag=n%C3%B3ng", "tag.not_found"),
            ("author=khong-co", "author.not_found"),
            ("author=-", "author.not_found"),
            ("category=thoi-su&tag=khong-co", "tag.not_found"),
            ("q=ha+noi&category=khong-co", "category.not_found"),
            ("q=%22%22&author=khong-co", "author.not_found"),
            ("sort=-views&tag=khong-co", "tag.not_found"),
        ] {
            let res = app.get(&format!("{PUBLIC_ARTICLES}?{q}")).await;
            assert_eq!(res.problem(404)["code"], code, "{q}");
        }
        category(&app, &editor, json!({"name": "Kinh tế"})).await;
        create(
            &app,
            &editor,
            json!({"title": "Nháp kinh tế", "tags": ["Chưa đăng"]}),
        )
        .await;
        let idle = app.user(Role::Author).await;
        let idle_slug = app.get_as(&idle.access_token, "/api/v1/auth/me").await.data()["slug"]
            .as_str()
            .unwrap()
            .to_owned();
        for q in [
            "category=kinh-te".to_owned(),
            "tag=chua-dang".to_owned(),
            format!("author={idle_slug}"),
            "q=ha+noi&category=kinh-te".to_owned(),
        ] {
            assert_eq!(query(&q).await, Vec::<String>::new(), "{q}");
        }
        assert_eq!(query("category=thoi-su&tag=thu-do").await, ["tin-ha-noi"]);

        // Dates are whole days; `to` includes its day. Instants are exact.
        assert_eq!(query("from=2020-01-14").await, ["tin-the-thao", "tin-ha-noi"]);
        assert_eq!(query("to=2020-01-14").await, ["tin-ha-noi", "tin-thoi-su"]);
        assert_eq!(query("from=2020-01-11&to=2020-01-19").await, ["tin-ha-noi"]);
        assert_eq!(query("from=2020-01-14T14:00:00Z").await, ["tin-the-thao"]);
        assert_eq!(query("to=2020-01-14T13:59:00Z").await, ["tin-thoi-su"]);
        assert_eq!(query("from=2020-01-21").await, Vec::<String>::new());

        assert_eq!(
            query("sort=published_at").await,
            ["tin-thoi-su", "tin-ha-noi", "tin-the-thao"]
        );
        for (slug, views) in [("tin-thoi-su", 3), ("tin-the-thao", 1), ("tin-ha-noi", 5)] {
            for _ in 0..views {
                app.post_json(&format!("{PUBLIC_ARTICLES}/{slug}/views"), &json!({}))
                    .await
                    .expect(204);
            }
        }
        newsdesk::workers::flush_views(&app.state).await.unwrap();
        // Published with a date still to come: not listed until then, whatever the order.
        let report = crate::articles::import::import(
            &app,
            &format!(
                "{}\n",
                json!({"title": "Tin sắp đăng", "slug": "tin-sap-dang", "body": "Sắp đăng.",
                       "status": "published", "published_at": "2099-01-01T00:00:00Z"})
            ),
        )
        .await;
        assert_eq!(report.imported, 1, "{report:?}");
        assert_eq!(
            query("sort=-views").await,
            ["tin-ha-noi", "tin-thoi-su", "tin-the-thao"]
        );
        assert_eq!(query("sort=-views&q=tin").await.len(), 3);
        let first = app
            .get(&format!("{PUBLIC_ARTICLES}?sort=-views&per_page=2"))
            .await
            .json();
        let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
        assert_eq!(
            query(&format!("sort=-views&per_page=2&cursor={cursor}"))
                .await
                .len(),
            1
        );
        app.get(&format!("{PUBLIC_ARTICLES}?sort=views"))
            .await
            .problem(400);
        app.get(&format!("{PUBLIC_ARTICLES}?sort=relevance%20desc"))
            .await
            .problem(400);
    }
);

backend_test!(
    async fn public_reads_send_etags_and_answer_304_until_something_changes(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let article = published(&app, &editor, json!({"title": "Tin có ETag"}), &hour(1)).await;
        let id = article["id"].as_i64().unwrap();
        for path in [
            PUBLIC_ARTICLES.to_owned(),
            format!("{PUBLIC_ARTICLES}/tin-co-etag"),
        ] {
            let first = app.get(&path).await.expect(200);
            let etag = first.header("etag").unwrap().to_owned();
            assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
            assert!(
                first
                    .header("cache-control")
                    .unwrap()
                    .starts_with("public, max-age="),
                "{path}"
            );
            let conditional = |etag: String| {
                let path = path.clone();
                let app = &app;
                async move {
                    app.call(
                        TestRequest::get()
                            .uri(&path)
                            .insert_header(("If-None-Match", etag)),
                    )
                    .await
                }
            };
            let again = conditional(etag.clone()).await;
            assert_eq!(again.status, 304, "{path}");
            assert!(again.body.is_empty());
            assert_eq!(again.header("etag"), Some(etag.as_str()));
            assert_eq!(conditional("\"other\"".into()).await.status, 200);
            assert_eq!(
                conditional(format!("\"x\", {etag}")).await.status,
                304,
                "one of a list"
            );
            // An edit changes the answer and its ETag.
            let version =
                app.get_as(&editor.access_token, &admin_article(id)).await.data()["version"].clone();
            app.as_user(
                &editor.access_token,
                Method::PATCH,
                &admin_article(id),
                Some(&json!({"version": version, "summary": format!("Tóm tắt {version}")})),
            )
            .await
            .expect(200);
            let changed = conditional(etag.clone()).await;
            assert_eq!(changed.status, 200, "{path}");
            assert_ne!(changed.header("etag"), Some(etag.as_str()));
        }
    }
);

backend_test!(
    async fn the_detail_has_the_body_and_five_newer_and_five_older_neighbours_in_its_category(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let section = category(&app, &editor, json!({"name": "Cải cách hành chính"})).await;
        let other = category(&app, &editor, json!({"name": "Thể thao"})).await;
        for n in 0..12 {
            published(
                &app,
                &editor,
                json!({
                    "title": format!("Cải cách {n}"),
                    "category_id": section["id"],
                    "body": format!("Đoạn **{n}**."),
                    "source": "HNP",
                    "summary": format!("Tóm tắt {n}"),
                    "meta_title": format!("SEO {n}"),
                    "tags": ["CCHC"],
                }),
                &hour(10 * n),
            )
            .await;
        }
        // Articles elsewhere are never neighbours, even when closer in time.
        for n in [45, 55] {
            published(
                &app,
                &editor,
                json!({"title": format!("Thể thao {n}"), "category_id": other["id"]}),
                &hour(n),
            )
            .await;
        }
        create(
            &app,
            &editor,
            json!({"title": "Nháp cải cách", "category_id": section["id"]}),
        )
        .await;

        let res = public_detail(&app, "cai-cach-5").await.expect(200);
        let data = res.data();
        assert_eq!(data["title"], "Cải cách 5");
        assert_eq!(data["body_html"], "<p>Đoạn <strong>5</strong>.</p>\n");
        assert_eq!(data["body_format"], "markdown");
        assert_eq!(data["source"], "HNP");
        assert_eq!(data["summary"], "Tóm tắt 5");
        assert_eq!(data["meta_title"], "SEO 5");
        assert_eq!(data["meta_description"], Value::Null);
        assert_eq!(data["published_at"], hour(50));
        assert_eq!(
            data["category"],
            json!({
                "id": section["id"],
                "slug": "cai-cach-hanh-chinh",
                "name": "Cải cách hành chính",
                "path": [{"slug": "cai-cach-hanh-chinh", "name": "Cải cách hành chính"}],
            })
        );
        assert_eq!(data["tags"][0]["slug"], "cchc");
        assert_eq!(data["authors"][0]["id"], editor.id);
        let author_keys: Vec<&String> = data["authors"][0].as_object().unwrap().keys().collect();
        assert_eq!(
            author_keys,
            ["avatar_url", "bio", "id", "name", "slug"],
            "public profile only"
        );
        assert!(data.get("body").is_none() && data.get("version").is_none());

        let titles = |list: &Value| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|n| n["slug"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            titles(&data["newer"]),
            [
                "cai-cach-6",
                "cai-cach-7",
                "cai-cach-8",
                "cai-cach-9",
                "cai-cach-10"
            ],
            "nearest first"
        );
        assert_eq!(
            titles(&data["older"]),
            [
                "cai-cach-4",
                "cai-cach-3",
                "cai-cach-2",
                "cai-cach-1",
                "cai-cach-0"
            ]
        );
        assert_eq!(data["newer"][0]["title"], "Cải cách 6");
        assert_eq!(data["newer"][0]["published_at"], hour(60));
        let keys: Vec<&String> = data["newer"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["published_at", "slug", "title", "url"]);
        assert_eq!(
            data["newer"][0]["url"],
            "http://localhost:3000/articles/cai-cach-6"
        );

        let oldest = public_detail(&app, "cai-cach-0").await.data();
        assert_eq!(oldest["older"], json!([]));
        assert_eq!(titles(&oldest["newer"]).len(), 5);
        let newest = public_detail(&app, "cai-cach-11").await.data();
        assert_eq!(newest["newer"], json!([]));
        assert_eq!(
            titles(&newest["older"]),
            [
                "cai-cach-10",
                "cai-cach-9",
                "cai-cach-8",
                "cai-cach-7",
                "cai-cach-6"
            ]
        );
        let near_end = public_detail(&app, "cai-cach-9").await.data();
        assert_eq!(titles(&near_end["newer"]), ["cai-cach-10", "cai-cach-11"]);
        let sport = public_detail(&app, "the-thao-45").await.data();
        assert_eq!(titles(&sport["newer"]), ["the-thao-55"]);
        assert_eq!(sport["older"], json!([]));
    }
);

backend_test!(
    async fn list_items_carry_their_own_bylines_and_tags_with_ids_close_or_far_apart(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let writer = app.user(Role::Author).await;
        let section = category(&app, &editor, json!({"name": "Chuyên mục thưa"})).await;
        // Thirty articles, each with its own tag and, in turn, either byline; the first, the
        // fifteenth and the last also in a category, so that its list's ids lie far apart.
        for n in 1..=30 {
            let user = if n % 2 == 0 { &editor } else { &writer };
            let mut body = json!({"title": format!("Tin liền {n}"), "tags": [format!("Nhãn {n}")]});
            if [1, 15, 30].contains(&n) {
                body["category_id"] = section["id"].clone();
            }
            published(&app, user, body, &hour(n)).await;
            if n == 20 {
                // A draft among them has links too; no list shows them.
                create(
                    &app,
                    &editor,
                    json!({"title": "Nháp giữa", "tags": ["Nhãn nháp"]}),
                )
                .await;
            }
        }
        let check = |list: &Value, expected: &[i64]| {
            let items = list.as_array().unwrap();
            let numbers: Vec<i64> = items
                .iter()
                .map(|a| a["slug"].as_str().unwrap()["tin-lien-".len()..].parse().unwrap())
                .collect();
            assert_eq!(numbers, expected);
            for (item, n) in items.iter().zip(expected) {
                assert_eq!(texts(&item["tags"], "slug"), [format!("nhan-{n}")], "{item}");
                let author = if n % 2 == 0 { &editor } else { &writer };
                assert_eq!(item["authors"].as_array().unwrap().len(), 1, "{item}");
                assert_eq!(item["authors"][0]["id"], author.id, "{item}");
            }
        };
        let newest: Vec<i64> = (11..=30).rev().collect();
        check(&app.get(PUBLIC_ARTICLES).await.expect(200).data(), &newest);
        let spread = app
            .get(&format!("{PUBLIC_ARTICLES}?category=chuyen-muc-thua"))
            .await
            .expect(200)
            .data();
        check(&spread, &[30, 15, 1]);
    }
);

backend_test!(
    async fn first_pages_stop_at_their_size_overall_and_by_category_with_each_item_s_tags(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let sport = category(&app, &editor, json!({"name": "Thể thao"})).await;
        let economy = category(&app, &editor, json!({"name": "Kinh tế"})).await;
        // 24 sport articles and 2 economy ones, interleaved in time; every third sport one
        // tagged, so a page whose items took another's tags would show it.
        for n in 1..=26 {
            let (section, tags) = match n % 9 {
                0 => (&economy, json!([])),
                _ if n % 3 == 1 => (&sport, json!(["Bóng đá", format!("Vòng {n}")])),
                _ => (&sport, json!([])),
            };
            let body = json!({"title": format!("Tin {n}"), "category_id": section["id"], "tags": tags});
            published(&app, &editor, body, &hour(n)).await;
        }
        let expected = |in_sport: bool, count: usize| -> Vec<String> {
            (1..=26)
                .rev()
                .filter(|n| !in_sport || n % 9 != 0)
                .take(count)
                .map(|n| format!("tin-{n}"))
                .collect()
        };
        for (query, in_sport, size, total) in [
            ("", false, 20, 26),
            ("?category=the-thao", true, 20, 24),
            ("?per_page=7", false, 7, 26),
            ("?category=the-thao&per_page=7", true, 7, 24),
        ] {
            let body = app
                .get(&format!("{PUBLIC_ARTICLES}{query}"))
                .await
                .expect(200)
                .json();
            assert_eq!(slugs(&body), expected(in_sport, size), "{query}");
            assert_eq!(body["meta"]["total"], total, "{query}");
            assert_eq!(body["meta"]["per_page"], size, "{query}");
            assert!(body["meta"]["next_cursor"].is_string(), "{query}");
            for item in body["data"].as_array().unwrap() {
                let n: i64 = item["slug"].as_str().unwrap()["tin-".len()..].parse().unwrap();
                let tags = texts(&item["tags"], "name");
                let vong = format!("Vòng {n}");
                let want: Vec<&str> = match n % 9 != 0 && n % 3 == 1 {
                    true => vec!["Bóng đá", &vong],
                    false => vec![],
                };
                assert_eq!(tags, want, "{query}: tin-{n}");
                let section = if n % 9 == 0 { "Kinh tế" } else { "Thể thao" };
                assert_eq!(item["category"]["name"], section, "{query}: tin-{n}");
            }
        }
    }
);
