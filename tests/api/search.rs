//! Search (`q`) on the public and editorial article lists: Vietnamese folding, all words
//! required, prefixes, phrases, relevance, and an index that follows every save.

use actix_web::http::Method;
use newsdesk::auth::Role;
use serde_json::json;

use crate::articles::import::import;
use crate::backend_test;
use crate::common::TestApp;
use crate::common::slugs;

const SAMPLE: &str = "tich-cuc-cai-cach-hanh-chinh-de-nang-cao-muc-do-hai-long-cua-cong-dan";

fn encoded(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

/// Slugs the public list gives for `q`, with extra query parameters.
async fn search(app: &TestApp, q: &str, extra: &str) -> Vec<String> {
    let res = app
        .get(&format!("/api/v1/articles?q={}{extra}", encoded(q)))
        .await;
    assert_eq!(res.status, 200, "q={q}: {}", res.text());
    let list = res.json();
    assert!(
        list["meta"]["total"].as_u64().unwrap() as usize >= slugs(&list).len(),
        "{list}"
    );
    slugs(&list)
}

/// Asserts that each of the queries finds the demo's sample article.
async fn assert_found(app: &TestApp, queries: &[&str]) {
    for q in queries {
        let found = search(app, q, "").await;
        assert!(
            found.contains(&SAMPLE.to_owned()),
            "{q} must find the sample: {found:?}"
        );
    }
}

/// Asserts that none of the queries finds the demo's sample article.
async fn assert_not_found(app: &TestApp, queries: &[&str]) {
    for q in queries {
        let found = search(app, q, "").await;
        assert!(
            !found.contains(&SAMPLE.to_owned()),
            "{q} must not find the sample: {found:?}"
        );
    }
}

async fn editorial_search(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let res = app
        .get_as(token, &format!("/api/v1/admin/articles?q={}", encoded(q)))
        .await;
    assert_eq!(res.status, 200, "q={q}: {}", res.text());
    slugs(&res.json())
}

backend_test!(
    async fn the_sample_article_is_found_with_or_without_diacritics(app: TestApp) {
        assert!(app.load_demo().await);
        let queries = [
            "cai cach hanh chinh",
            "CẢI CÁCH",
            "dong da",
            "Đống Đa",
            "SIPAS",
            "sipas",
            "\"một cửa\"",
            "“mot cua”",
            "hài lòng công dân",
        ];
        assert_found(&app, &queries).await;
        // Every word is required, and a phrase is its words in order.
        assert_not_found(&app, &["dong da xyzzy", "\"cửa một\"", "sipas-xyz", "hanoi"]).await;
    }
);

backend_test!(
    async fn the_last_word_is_a_prefix_while_typing(app: TestApp) {
        assert!(app.load_demo().await);
        assert_found(&app, &["cai cach hanh chi", "SIPA", "Đống Đ", "ca"]).await;
        // Only the last word, and never inside a closed phrase.
        assert_not_found(&app, &["sipa dong", "\"sipa\"", "\"mot cu\""]).await;
    }
);

backend_test!(
    async fn search_follows_every_saved_change_and_never_shows_drafts(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (id, slug) = app
            .published_article(
                &editor,
                json!({"title": "Khai trương bộ phận tiếp nhận", "body": "Phường Láng Hạ."}),
            )
            .await;
        assert_eq!(search(&app, "lang ha", "").await, [slug.as_str()]);
        assert_eq!(search(&app, "khai truong", "").await, [slug.as_str()]);

        // Edit title and body: the old words are gone, the new ones found, in one save.
        let path = format!("/api/v1/admin/articles/{id}");
        app.as_user(
            &editor.access_token,
            Method::PATCH,
            &path,
            Some(&json!({"version": 1, "title": "Sáp nhập phường", "body": "Quận **Ba Đình**."})),
        )
        .await
        .expect(200);
        assert!(search(&app, "khai truong", "").await.is_empty());
        assert!(search(&app, "lang ha", "").await.is_empty());
        assert_eq!(search(&app, "sap nhap ba dinh", "").await, [slug.as_str()]);

        // Restoring the first version brings its text back into the index.
        app.as_user(
            &editor.access_token,
            Method::POST,
            &format!("{path}/revisions/1/restore"),
            None,
        )
        .await
        .expect(200);
        assert_eq!(search(&app, "khai truong", "").await, [slug.as_str()]);
        assert!(search(&app, "ba dinh", "").await.is_empty());

        // A draft is found by editors, never by readers; unpublishing hides it again.
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&json!({"title": "Dự thảo khai trương"})),
            )
            .await;
        let draft = res.data()["slug"].as_str().unwrap().to_owned();
        assert_eq!(search(&app, "khai truong", "").await, [slug.as_str()]);
        let mut editorial = editorial_search(&app, &editor.access_token, "khai truong").await;
        editorial.sort();
        let mut expected = vec![draft, slug.clone()];
        expected.sort();
        assert_eq!(editorial, expected);
        app.as_user(
            &editor.access_token,
            Method::POST,
            &format!("{path}/unpublish"),
            None,
        )
        .await;
        assert!(search(&app, "khai truong", "").await.is_empty());
    }
);

backend_test!(
    async fn authors_search_only_their_own_articles(app: TestApp) {
        let author = app.user(Role::Author).await;
        let other = app.user(Role::Author).await;
        for (user, title) in [
            (&author, "Lịch tiếp công dân tháng một"),
            (&other, "Lịch tiếp công dân tháng hai"),
        ] {
            app.as_user(
                &user.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&json!({"title": title})),
            )
            .await
            .expect(201);
        }
        assert_eq!(
            editorial_search(&app, &author.access_token, "lich tiep").await,
            ["lich-tiep-cong-dan-thang-mot"]
        );
        assert_eq!(
            editorial_search(&app, &other.access_token, "LỊCH TIẾP").await,
            ["lich-tiep-cong-dan-thang-hai"]
        );
    }
);

backend_test!(
    async fn relevance_ranks_title_hits_above_summary_and_body_hits(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (_, in_title) = app
            .published_article(&editor, json!({"title": "Chuyển đổi số ở Hà Nội"}))
            .await;
        let (_, in_summary) = app
            .published_article(
                &editor,
                json!({"title": "Tin ngắn một", "summary": "Hà Nội đẩy mạnh chuyển đổi số."}),
            )
            .await;
        let (_, in_body) = app
            .published_article(
                &editor,
                json!({"title": "Tin ngắn hai", "body": "Thành phố tiếp tục **chuyển đổi số**."}),
            )
            .await;
        let (_, split) = app
            .published_article(&editor, json!({"title": "Chuyển giao", "body": "Đổi mới."}))
            .await;
        // Newest first by default.
        assert_eq!(
            search(&app, "chuyen doi so", "").await,
            [in_body.clone(), in_summary.clone(), in_title.clone()]
        );
        assert_eq!(
            search(&app, "chuyen doi so", "&sort=relevance").await,
            [in_title.clone(), in_summary.clone(), in_body.clone()]
        );
        // Words may be spread over the article; a phrase may not.
        assert_eq!(
            search(&app, "chuyen doi so", "&sort=relevance&per_page=10")
                .await
                .len(),
            3
        );
        assert!(search(&app, "chuyen doi", "").await.contains(&split));
        assert!(!search(&app, "\"chuyen doi\"", "").await.contains(&split));
        // Pages of a relevance sort follow each other.
        assert_eq!(
            search(&app, "chuyen doi so", "&sort=relevance&per_page=2&page=2").await,
            [in_body]
        );
    }
);

backend_test!(
    async fn search_combines_with_the_other_filters(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let res = app
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/categories",
                Some(&json!({"name": "Thanh niên"})),
            )
            .await;
        let category = res.data()["id"].as_i64().unwrap();
        let (_, young) = app
            .published_article(
                &editor,
                json!({"title": "Hiến máu tình nguyện", "category_id": category}),
            )
            .await;
        app.published_article(&editor, json!({"title": "Hiến máu nhân đạo"}))
            .await;
        assert_eq!(search(&app, "hien mau", "").await.len(), 2);
        assert_eq!(search(&app, "hien mau", "&category=thanh-nien").await, [young]);
        let res = app
            .get(&format!("/api/v1/articles?q={}&per_page=1", encoded("hien mau")))
            .await;
        assert_eq!(res.json()["meta"]["total"], 2);
        // Dates bound the search too.
        let today = chrono::Utc::now().date_naive();
        let (yesterday, tomorrow) = (today.pred_opt().unwrap(), today.succ_opt().unwrap());
        assert_eq!(
            search(&app, "hien mau", &format!("&from={yesterday}"))
                .await
                .len(),
            2
        );
        assert_eq!(
            search(&app, "hien mau", &format!("&from={tomorrow}")).await.len(),
            0
        );
        assert_eq!(
            search(&app, "hien mau", &format!("&to={yesterday}")).await.len(),
            0
        );
        assert_eq!(
            search(&app, "hien mau", &format!("&to={today}")).await.len(),
            2,
            "to a day covers the day"
        );
        // So do author and tag.
        let other = app.user(Role::Editor).await;
        let (_, theirs) = app
            .published_article(&other, json!({"title": "Hiến máu cứu người", "tags": ["Y tế"]}))
            .await;
        assert_eq!(search(&app, "hien mau", "").await.len(), 3);
        let author = app.get_as(&other.access_token, "/api/v1/auth/me").await.data()["slug"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            search(&app, "hien mau", &format!("&author={author}")).await,
            [theirs.as_str()]
        );
        assert_eq!(search(&app, "hien mau", "&tag=y-te").await, [theirs]);
    }
);

backend_test!(
    async fn odd_searches_are_answered_plainly(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        app.published_article(&editor, json!({"title": "Thông báo tuyển dụng"}))
            .await;
        // The engines' own syntax is plain punctuation here, and never a 500.
        for q in [
            "\"",
            "\"\"\"",
            "*",
            "thong*",
            "NEAR(thong bao)",
            "thong OR x",
            "thong AND NOT bao",
            "'; DROP TABLE articles; --",
            "a & b | !c",
            "thong:*",
            "{title}: thong",
            "^thong",
            "-",
            "!!!",
            "<script>alert(1)</script>",
            "%00",
            "\u{301}\u{300}",
        ] {
            let res = app.get(&format!("/api/v1/articles?q={}", encoded(q))).await;
            assert_eq!(res.status, 200, "q={q}: {}", res.text());
        }
        assert_eq!(
            search(&app, "thong OR bao", "").await.len(),
            0,
            "OR is a word, and required"
        );
        assert_eq!(search(&app, "!!!", "").await.len(), 0);
        assert_eq!(search(&app, "", "").await.len(), 1, "an empty q is no search");
        assert_eq!(search(&app, "thong:*", "").await.len(), 1);

        let res = app.get("/api/v1/articles?sort=relevance").await.expect(400);
        assert!(res.problem(400)["detail"].as_str().unwrap().contains("q"));
        app.get("/api/v1/articles?q=thong&sort=relevance&cursor=MTox")
            .await
            .expect(400);
        app.get(&format!("/api/v1/articles?q={}", "a".repeat(201)))
            .await
            .expect(400);
        app.get(&format!("/api/v1/articles?q={}", encoded(&"ab ".repeat(17))))
            .await
            .expect(400);
        app.get_as(
            &editor.access_token,
            &format!("/api/v1/admin/articles?q={}", "a".repeat(201)),
        )
        .await
        .expect(400);
    }
);

backend_test!(
    async fn articles_stored_before_search_existed_are_indexed_at_start(app: TestApp) {
        use diesel::RunQueryDsl;
        let editor = app.user(Role::Editor).await;
        let (_, slug) = app
            .published_article(&editor, json!({"title": "Bản tin cũ"}))
            .await;
        // As a database from before search: no search text at all.
        app.state
            .db
            .run(|conn| {
                diesel::delete(newsdesk::db::schema::article_search::table).execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        assert!(search(&app, "ban tin cu", "").await.is_empty());
        let indexed = app
            .state
            .db
            .run(|conn| Ok(newsdesk::search::index_missing(conn)?))
            .await
            .unwrap();
        assert_eq!(indexed, 1);
        assert_eq!(search(&app, "ban tin cu", "").await, [slug]);
        let again = app
            .state
            .db
            .run(|conn| Ok(newsdesk::search::index_missing(conn)?))
            .await
            .unwrap();
        assert_eq!(again, 0);
    }
);

backend_test! {
    config = |c| c.search_count_limit = 3;
    async fn long_searches_are_counted_up_to_the_limit_and_walked_with_cursors(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let mut expected = Vec::new();
        for n in 1..=5 {
            let (_, slug) = app.published_article(&editor, json!({"title": format!("Thông báo số {n}")})).await;
            expected.insert(0, slug);
        }
        let res = app.get("/api/v1/articles?q=thong%20bao&per_page=2").await;
        let list = res.json();
        assert_eq!(list["meta"]["total"], 3, "{list}");
        assert_eq!(list["meta"]["total_capped"], true);
        assert_eq!(slugs(&list), expected[..2]);

        // Cursors walk every match once, newest first, past the counted ones.
        let mut walked = slugs(&list);
        let mut cursor = list["meta"]["next_cursor"].as_str().unwrap().to_owned();
        loop {
            let page = app.get(&format!("/api/v1/articles?q=thong%20bao&per_page=2&cursor={cursor}")).await.json();
            walked.extend(slugs(&page));
            match page["meta"]["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(walked, expected);
        // Pages past the counted ones still hold results, and say how far they reach.
        let page = app.get("/api/v1/articles?q=thong%20bao&per_page=2&page=3").await.json();
        assert_eq!(slugs(&page), expected[4..]);
        assert_eq!(page["meta"]["total"], 5);
        // Oldest first walks the other way.
        let mut oldest = expected.clone();
        oldest.reverse();
        assert_eq!(search(&app, "thong bao", "&sort=published_at&per_page=10").await, oldest);

        let exact = app.get("/api/v1/articles?q=thong%20bao%205").await.json();
        assert_eq!(exact["meta"]["total"], 1);
        assert_eq!(exact["meta"]["total_capped"], false);
        assert!(app.get("/api/v1/articles").await.json()["meta"].get("total_capped").is_none());

        // A list's cursor is not a search's, and the other way round.
        let plain = app.get("/api/v1/articles?per_page=1").await.json();
        let plain_cursor = plain["meta"]["next_cursor"].as_str().unwrap();
        app.get(&format!("/api/v1/articles?q=thong&cursor={plain_cursor}")).await.expect(400);
    }
}

/// Every list a phrase search gives: newest first (with its total), oldest first, by views,
/// by relevance, a second page, and the editors' list (sorted). `per_page` keeps each round's
/// addresses apart, so that no answer comes from the response cache.
async fn phrase_lists(app: &TestApp, token: &str, q: &str, per_page: u32) -> Vec<(String, Vec<String>)> {
    let mut lists = Vec::new();
    let newest = app
        .get(&format!("/api/v1/articles?q={}&per_page={per_page}", encoded(q)))
        .await
        .json();
    lists.push((format!("total {}", newest["meta"]["total"]), slugs(&newest)));
    for extra in ["&sort=published_at", "&sort=-views", "&sort=relevance"] {
        lists.push((
            extra.to_owned(),
            search(app, q, &format!("{extra}&per_page={per_page}")).await,
        ));
    }
    lists.push(("page 2".to_owned(), search(app, q, "&per_page=2&page=2").await));
    let res = app
        .get_as(
            token,
            &format!("/api/v1/admin/articles?q={}&per_page={per_page}", encoded(q)),
        )
        .await;
    let mut edited = slugs(&res.expect(200).json());
    edited.sort();
    lists.push(("editors".to_owned(), edited));
    // Published from the 50th hour of 2020 to before the 200th (see the test below).
    let dates = format!("&from=2020-01-03T02:00:00Z&to=2020-01-09T08:00:00Z&per_page={per_page}");
    lists.push(("dates".to_owned(), search(app, q, &dates).await));
    lists
}

backend_test!(
    /// A phrase of words that every article holds, next to each other in a few: found the
    /// same before PostgreSQL indexes the pairs of adjacent words, after, and after an edit
    /// and a new article. Most matches lie beyond the window of the newest rows tested first,
    /// and a three-word phrase has articles holding both its pairs apart, which must not match.
    /// Within dates, only the matches of those dates are listed; a phrase with more matches
    /// than a walk's first batch is listed and counted to its last page.
    async fn phrases_of_common_words_are_found_before_and_after_their_pairs_are_indexed(app: TestApp) {
        const ARTICLES: u32 = 1200;
        const PHRASE: [u32; 5] = [4, 60, 90, 170, 1150];
        let lines: String = (1..=ARTICLES)
            .map(|n| {
                let extra = match n {
                    170 => " Tra cứu qua Zalo PCI mở.",
                    n if PHRASE.contains(&n) => " Tra cứu qua Zalo PCI.",
                    _ => "",
                };
                let map = if n % 11 == 0 {
                    " Xem bản đồ số."
                } else {
                    " Bản đồ in số mới."
                };
                let body = format!("Bản tin số {n}: Zalo là một kênh, cổng PCI mở cả ngày.{extra}{map}");
                let published =
                    chrono::DateTime::from_timestamp(1_577_836_800 + i64::from(n) * 3600, 0).unwrap();
                format!(
                    "{}\n",
                    json!({"title": format!("Bản tin số {n}"), "slug": format!("tin-{n}"), "body": body,
                           "status": "published", "published_at": published.to_rfc3339()})
                )
            })
            .collect();
        let report = import(&app, &lines).await;
        assert_eq!(report.imported, ARTICLES as usize, "{report:?}");
        let admin = app.user(Role::Admin).await;

        let tin = |ns: &[u32]| ns.iter().map(|n| format!("tin-{n}")).collect::<Vec<_>>();
        let expected = |newest: Vec<String>, total: usize| {
            let mut oldest = newest.clone();
            oldest.reverse();
            let mut sorted = newest.clone();
            sorted.sort();
            let dated = newest
                .iter()
                .filter(|slug| {
                    slug.strip_prefix("tin-")
                        .and_then(|n| n.parse::<u32>().ok())
                        .is_some_and(|n| (50..200).contains(&n))
                })
                .cloned()
                .collect();
            vec![
                (format!("total {total}"), newest.clone()),
                ("&sort=published_at".to_owned(), oldest),
                ("&sort=-views".to_owned(), newest.clone()),
                ("&sort=relevance".to_owned(), newest.clone()),
                (
                    "page 2".to_owned(),
                    newest.iter().skip(2).take(2).cloned().collect(),
                ),
                ("editors".to_owned(), sorted),
                ("dates".to_owned(), dated),
            ]
        };
        let two = expected(tin(&[1150, 170, 90, 60, 4]), 5);
        let three = expected(tin(&[170]), 1);
        let none = expected(Vec::new(), 0);
        let token = admin.access_token.as_str();
        let check = |round: u32| {
            let (app, two, three, none) = (&app, &two, &three, &none);
            async move {
                for (q, lists) in [
                    ("\"zalo pci\"", two),
                    ("“Zalo PCI mở”", three),
                    ("\"pci zalo\"", none),
                    ("\"zalo pci\" xyzzy", none),
                ] {
                    assert_eq!(
                        phrase_lists(app, token, q, round).await,
                        *lists,
                        "round {round}, q={q}"
                    );
                }
                // 109 matches (every eleventh article), their pairs held by no other: the
                // last page, its total counted on the same walk.
                let res = app
                    .get(&format!(
                        "/api/v1/articles?q={}&per_page=20&page=6",
                        encoded("“bản đồ số”")
                    ))
                    .await
                    .json();
                let last: Vec<u32> = (1..=9).rev().map(|n| n * 11).collect();
                assert_eq!(
                    (res["meta"]["total"].as_u64(), slugs(&res)),
                    (Some(109), tin(&last)),
                    "round {round}"
                );
                // A phrase all 1,200 articles hold: counted up to the limit, and exactly
                // within dates, newest first and by views alike.
                for sort in ["", "&sort=-views"] {
                    for (dates, total, capped, first) in [
                        ("", 1000, true, "tin-1200"),
                        (
                            "&from=2020-01-03T02:00:00Z&to=2020-01-09T08:00:00Z",
                            150,
                            false,
                            "tin-199",
                        ),
                    ] {
                        let res = app
                            .get(&format!(
                                "/api/v1/articles?q={}&per_page={round}{sort}{dates}",
                                encoded("\"cổng pci\"")
                            ))
                            .await
                            .json();
                        assert_eq!(
                            (
                                res["meta"]["total"].clone(),
                                res["meta"]["total_capped"].clone(),
                                slugs(&res).first().cloned()
                            ),
                            (json!(total), json!(capped), Some(first.to_owned())),
                            "round {round}{sort}{dates}"
                        );
                    }
                }
            }
        };
        check(20).await;

        let unpaired = || async {
            app.state
                .db
                .run(|conn| Ok(newsdesk::search::pairs::unpaired(conn)?))
                .await
                .unwrap()
        };
        let paired = newsdesk::workers::pair_backlog(&app.state, || false)
            .await
            .unwrap();
        let postgres = app.state.db.backend() == newsdesk::db::Backend::Postgres;
        assert_eq!(paired, if postgres { ARTICLES as usize } else { 0 });
        assert_eq!(unpaired().await, 0);
        check(19).await;

        // An article the server writes is paired as it is written, and so is an edit of one.
        let editor = app.user(Role::Editor).await;
        let (_, new) = app
            .published_article(
                &editor,
                json!({"title": "Tin mới", "body": "Hỏi đáp qua Zalo PCI."}),
            )
            .await;
        let (edited, edited_slug) = app
            .published_article(&editor, json!({"title": "Tin sửa", "body": "Chưa có."}))
            .await;
        app.as_user(
            &editor.access_token,
            Method::PATCH,
            &format!("/api/v1/admin/articles/{edited}"),
            Some(&json!({"version": 1, "body": "Đã có Zalo PCI mở."})),
        )
        .await
        .expect(200);
        assert_eq!(unpaired().await, 0);
        // An imported one waits for the server's background work, and is found meanwhile.
        let line = json!({"title": "Tin nhập", "slug": "tin-nhap", "body": "Qua Zalo PCI.",
                          "status": "published", "published_at": "2025-01-01T00:00:00Z"});
        assert_eq!(import(&app, &format!("{line}\n")).await.imported, 1);
        assert_eq!(unpaired().await, if postgres { 1 } else { 0 });
        let found = |round: u32| {
            let (app, new, edited_slug) = (&app, &new, &edited_slug);
            async move {
                let newest = vec![edited_slug.clone(), tin(&[170])[0].clone()];
                assert_eq!(
                    phrase_lists(app, token, "“zalo pci mở”", round).await,
                    expected(newest, 2)
                );
                let mut newest = vec![edited_slug.clone(), new.clone(), "tin-nhap".to_owned()];
                newest.extend(tin(&[1150, 170, 90, 60, 4]));
                let mut lists = expected(newest.clone(), 8);
                // Equal views (none) list the last written first: the import's article.
                newest.swap(0, 2);
                newest.swap(1, 2);
                lists[2].1 = newest;
                assert_eq!(phrase_lists(app, token, "\"zalo pci\"", round).await, lists);
            }
        };
        found(18).await;
        let workers = newsdesk::workers::Workers::start(&app.state);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while unpaired().await > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the server pairs imported rows"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        workers.stop().await;
        found(17).await;
    }
);

backend_test!(
    async fn search_keeps_publication_order_through_every_change_of_state(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let (first, a) = app
            .published_article(&editor, json!({"title": "Lịch họp một"}))
            .await;
        let (_, b) = app
            .published_article(&editor, json!({"title": "Lịch họp hai"}))
            .await;
        assert_eq!(search(&app, "lich hop", "").await, [b.clone(), a.clone()]);
        // Unpublished, then published again: it is now the newest.
        let path = format!("/api/v1/admin/articles/{first}");
        app.as_user(
            &editor.access_token,
            Method::POST,
            &format!("{path}/unpublish"),
            None,
        )
        .await;
        assert_eq!(search(&app, "lich hop", "").await, [b.as_str()]);
        app.as_user(
            &editor.access_token,
            Method::POST,
            &format!("{path}/publish"),
            None,
        )
        .await
        .expect(200);
        assert_eq!(search(&app, "lich hop", "").await, [a.clone(), b.clone()]);
        // Archived: gone from readers' searches.
        app.as_user(&editor.access_token, Method::DELETE, &path, None)
            .await
            .expect(204);
        assert_eq!(search(&app, "lich hop", "").await, [b]);
    }
);

backend_test!(
    /// A word that the newest thousand articles lack is still found, in order, however far
    /// back it stands, and a word nobody wrote is answered with nothing. On PostgreSQL the
    /// first case walks past the window of rows tested in key order and collects the rest
    /// from GIN; in the second it tests the window and asks GIN once.
    async fn rare_words_are_found_beyond_the_newest_thousand_articles(app: TestApp) {
        const ARTICLES: u32 = 1200;
        const RARE: [u32; 3] = [5, 50, 1190];
        let lines: String = (1..=ARTICLES)
            .map(|n| {
                let title = match RARE.contains(&n) {
                    true => format!("Bản tin số {n}: lễ hội Xuân Phương"),
                    false => format!("Bản tin số {n}"),
                };
                let published = chrono::DateTime::from_timestamp(1_577_836_800 + i64::from(n) * 3600, 0).unwrap();
                format!(
                    "{}\n",
                    json!({"title": title, "slug": format!("tin-{n}"), "body": format!("Nội dung bản tin số {n}."),
                           "status": "published", "published_at": published.to_rfc3339()})
                )
            })
            .collect();
        let report = import(&app, &lines).await;
        assert_eq!(report.imported, ARTICLES as usize, "{report:?}");

        let newest_first: Vec<String> = RARE.iter().rev().map(|n| format!("tin-{n}")).collect();
        let mut oldest_first = newest_first.clone();
        oldest_first.reverse();
        for q in [
            "xuan phuong",
            "Xuân Phươ",
            "\"xuân phương\"",
            "le hoi xuan phuong ban tin",
        ] {
            let list = app
                .get(&format!("/api/v1/articles?q={}", encoded(q)))
                .await
                .json();
            assert_eq!(slugs(&list), newest_first, "q={q}");
            assert_eq!(list["meta"]["total"], 3, "q={q}");
        }
        assert_eq!(
            search(&app, "xuan phuong", "&sort=published_at").await,
            oldest_first
        );
        assert_eq!(search(&app, "xuan phuong", "&sort=relevance").await, newest_first);

        let mut cursor = String::new();
        let mut walked = Vec::new();
        loop {
            let page = app
                .get(&format!("/api/v1/articles?q=xuan%20phuong&per_page=1{cursor}"))
                .await
                .json();
            walked.extend(slugs(&page));
            match page["meta"]["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(walked, newest_first);

        for q in ["xyzzy", "ban tin xyzzy", "xuan phuong so 6", "\"phuong le hoi\""] {
            let list = app
                .get(&format!("/api/v1/articles?q={}", encoded(q)))
                .await
                .json();
            assert_eq!(slugs(&list), Vec::<String>::new(), "q={q}");
            assert_eq!(list["meta"]["total"], 0, "q={q}");
        }

        // Ordered on a column, a search filters by all of its matches: by views, and on the
        // editors' list.
        assert_eq!(search(&app, "xuan phuong", "&sort=-views").await, newest_first);
        assert_eq!(search(&app, "xyzzy", "&sort=-views").await, Vec::<String>::new());
        let admin = app.user(Role::Admin).await;
        let mut edited = editorial_search(&app, &admin.access_token, "xuan phuong").await;
        edited.sort();
        let mut expected = newest_first.clone();
        expected.sort();
        assert_eq!(edited, expected);
        assert_eq!(
            editorial_search(&app, &admin.access_token, "xyzzy").await,
            Vec::<String>::new()
        );

        // A word every article holds: the newest, counted up to the limit.
        let common = app.get("/api/v1/articles?q=ban%20tin&per_page=3").await.json();
        assert_eq!(slugs(&common), ["tin-1200", "tin-1199", "tin-1198"]);
        assert_eq!(common["meta"]["total"], 1000);
        assert_eq!(common["meta"]["total_capped"], true);
        // A page past that limit, for a search not counted yet: one walk finds the page and
        // counts, and goes on past the limit for the page.
        let deep = app
            .get("/api/v1/articles?q=noi%20dung&per_page=10&page=101")
            .await
            .json();
        let expected: Vec<String> = (191..=200).rev().map(|n| format!("tin-{n}")).collect();
        assert_eq!(slugs(&deep), expected);
        assert_eq!(deep["meta"]["total"], 1010);
        assert_eq!(deep["meta"]["total_capped"], true);

        // By views, the same word's matches are counted up to the limit too, with the list's
        // other filters; a page past it says how far it reached.
        let by_views = |extra: &'static str| {
            let app = &app;
            async move {
                let list = app
                    .get(&format!("/api/v1/articles?q=ban%20tin&sort=-views{extra}"))
                    .await
                    .json();
                (
                    slugs(&list),
                    list["meta"]["total"].clone(),
                    list["meta"]["total_capped"].clone(),
                )
            }
        };
        let pair = |a: &str, b: &str| vec![a.to_owned(), b.to_owned()];
        assert_eq!(
            by_views("&per_page=2").await,
            (pair("tin-1200", "tin-1199"), json!(1000), json!(true))
        );
        assert_eq!(
            by_views("&per_page=2&page=501").await,
            (pair("tin-200", "tin-199"), json!(1002), json!(true))
        );
        // Article n is published n hours after 2020-01-01T00:00Z; `to` is exclusive.
        assert_eq!(
            by_views("&per_page=2&to=2020-01-30T04:00:00Z").await,
            (pair("tin-699", "tin-698"), json!(699), json!(false))
        );
        // Featured or not, which the search index does not know, and on the editors' list,
        // all are counted.
        assert_eq!(
            by_views("&per_page=2&featured=false").await,
            (pair("tin-1200", "tin-1199"), json!(1200), json!(false))
        );
        let edited = app
            .get_as(
                &admin.access_token,
                "/api/v1/admin/articles?q=ban%20tin&per_page=1",
            )
            .await
            .json();
        assert_eq!(edited["meta"]["total"], 1200, "{edited}");
    }
);
