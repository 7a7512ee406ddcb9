//! Importing articles from JSON lines, through the import function and the CLI command.

use newsdesk::auth::Role;
use serde_json::json;

use crate::backend_test;
use crate::common::slugs;

use super::{ADMIN_ARTICLES, PUBLIC_ARTICLES, public_detail};

const IMPORT_LINES: &str = r#"{"title": "Tin nhập một", "slug": "tin-nhap-mot", "summary": "Tóm tắt", "source": "HNP", "body": "Đoạn **đậm**.", "category": "Cải cách hành chính", "tags": ["CCHC", "Hà Nội"], "authors": ["Hoàng Anh", "Minh Thu"], "status": "published", "published_at": "2020-01-14T13:59:00Z"}
{"title": "Tin nhập hai còn nháp"}
{"title": "Trùng slug", "slug": "tin-nhap-mot", "status": "published"}
{"title": "hỏng
{"title": "   ", "slug": "khong-tieu-de"}

{"title": "Tin nhập ba", "status": "archived"}
{"title": "Tin nhập bốn", "status": "published", "published_at": "2020-01-15T01:00:00Z", "category": "Cải cách hành chính", "authors": ["Hoàng Anh"]}
"#;

/// Imports these lines as if read from a file in `.`.
pub(crate) async fn import(app: &crate::common::TestApp, lines: &str) -> newsdesk::articles::import::Report {
    import_from(app, std::path::Path::new("."), lines).await
}

async fn import_from(
    app: &crate::common::TestApp,
    dir: &std::path::Path,
    lines: &str,
) -> newsdesk::articles::import::Report {
    newsdesk::articles::import::import(&app.state, dir, std::io::Cursor::new(lines.to_owned()))
        .await
        .unwrap()
}

backend_test!(
    /// A portal's archive migrates with its photos and documents: files named relative to the
    /// imported file go through the media library (each once), and become the cover and the
    /// attachments; a missing file or a path leaving the folder fails its line only.
    async fn import_takes_the_files_a_line_names_into_the_media_library(app: TestApp) {
        use newsdesk::media::process::testdata;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("anh")).unwrap();
        std::fs::write(dir.path().join("anh/hoi-nghi.jpg"), testdata::jpeg(900, 600)).unwrap();
        std::fs::write(dir.path().join("qd-1234.pdf"), testdata::pdf()).unwrap();
        let lines = r#"{"title": "Hội nghị có ảnh", "status": "published", "cover_file": "anh/hoi-nghi.jpg", "cover_alt": "Toàn cảnh hội nghị", "attachments": ["qd-1234.pdf"]}
{"title": "Bài dùng lại ảnh", "status": "published", "cover_file": "./anh/hoi-nghi.jpg"}
{"title": "Thiếu tệp", "cover_file": "anh/khong-co.jpg"}
{"title": "Ra ngoài thư mục", "attachments": ["../bi-mat.pdf"]}
"#;
        let report = import_from(&app, dir.path(), lines).await;
        assert_eq!(report.imported, 2, "{report:?}");
        let failed: Vec<usize> = report.failed.iter().map(|(line, _)| *line).collect();
        assert_eq!(failed, [3, 4], "{report:?}");
        assert!(report.failed[0].1.starts_with("cover_file"), "{report:?}");
        assert!(report.failed[1].1.starts_with("attachments"), "{report:?}");

        let one = public_detail(&app, "hoi-nghi-co-anh").await.data();
        assert_eq!(one["cover"]["alt"], "Toàn cảnh hội nghị");
        assert_eq!(one["cover"]["width"], 900);
        assert_eq!(one["attachments"][0]["filename"], "qd-1234.pdf");
        let url = one["cover"]["url"].as_str().unwrap();
        app.get(url).await.expect(200);
        let two = public_detail(&app, "bai-dung-lai-anh").await.data();
        assert_eq!(two["cover"]["url"], one["cover"]["url"]);
        let editor = app.user(Role::Editor).await;
        let library = app
            .get_as(&editor.access_token, "/api/v1/admin/media")
            .await
            .expect(200)
            .json();
        assert_eq!(library["meta"]["total"], 2, "each file is taken once: {library}");
    }
);

backend_test!(
    async fn import_loads_good_lines_skips_existing_slugs_and_reports_bad_lines(app: TestApp) {
        let report = import(&app, IMPORT_LINES).await;
        assert_eq!(report.imported, 3, "{report:?}");
        assert_eq!(report.skipped, 1, "{report:?}");
        let failed: Vec<usize> = report.failed.iter().map(|(line, _)| *line).collect();
        assert_eq!(failed, [4, 5, 7], "{report:?}");
        assert!(report.failed[0].1.starts_with("not an article"), "{report:?}");
        assert!(report.failed[1].1.contains("title"), "{report:?}");
        assert!(report.failed[2].1.contains("status"), "{report:?}");

        let list = app.get(PUBLIC_ARTICLES).await.json();
        assert_eq!(slugs(&list), ["tin-nhap-bon", "tin-nhap-mot"]);
        let one = public_detail(&app, "tin-nhap-mot").await.data();
        assert_eq!(one["published_at"], "2020-01-14T13:59:00Z");
        assert_eq!(one["source"], "HNP");
        assert_eq!(one["body_html"], "<p>Đoạn <strong>đậm</strong>.</p>\n");
        assert_eq!(one["category"]["slug"], "cai-cach-hanh-chinh");
        let names: Vec<&str> = one["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Hoàng Anh", "Minh Thu"]);
        let tags: Vec<&str> = one["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["cchc", "ha-noi"]);
        assert_eq!(one["older"], json!([]));
        assert_eq!(one["newer"][0]["slug"], "tin-nhap-bon", "same category");
        public_detail(&app, "tin-nhap-hai-con-nhap").await.problem(404);
        let bylines = app.get("/api/v1/authors").await.json();
        // Hoàng Anh, Minh Thu and the default byline: found by name, never duplicated.
        assert_eq!(bylines["meta"]["total"], 3, "{bylines}");

        // Importing again is idempotent by slug.
        let again = import(&app, IMPORT_LINES).await;
        assert_eq!((again.imported, again.skipped, again.failed.len()), (0, 4, 3));
        let editor = app.user(Role::Editor).await;
        assert_eq!(
            app.get_as(&editor.access_token, ADMIN_ARTICLES).await.json()["meta"]["total"],
            3
        );
    }
);

backend_test!(
    /// Lines are written in bulk; a line the database refuses (here a trigger standing for any
    /// constraint the checks cannot see) fails alone, found by writing its batch line by line,
    /// and a slug twice in one file is imported once.
    async fn import_in_bulk_reports_the_line_the_database_refuses_and_loads_the_rest(app: TestApp) {
        use diesel::connection::SimpleConnection;
        let refuse = match app.backend {
            crate::common::Backend::Sqlite => {
                "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.title = 'Bị từ chối' \
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;"
            }
            crate::common::Backend::Postgres => {
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.title = 'Bị từ chối' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; \
                 CREATE TRIGGER refuse BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse();"
            }
        };
        app.state
            .db
            .run(move |conn| Ok(conn.batch_execute(refuse)?))
            .await
            .unwrap();
        let lines = r#"{"title": "Lô một", "status": "published", "published_at": "2021-03-01T00:00:00Z", "tags": ["Lô hàng"], "authors": ["Hoàng Anh"], "body": "Thủ tục **một cửa**."}
{"title": "Bị từ chối", "slug": "bi-tu-choi", "status": "published"}
{"title": "Lô hai", "slug": "lo-hai", "status": "published", "published_at": "2021-03-02T00:00:00Z", "tags": ["Lô hàng"]}
{"title": "Lô hai bản sao", "slug": "lo-hai", "status": "published"}
{"title": "Lô ba", "authors": ["Hoàng Anh", "hoàng anh"]}
"#;
        let report = import(&app, lines).await;
        assert_eq!((report.imported, report.skipped), (2, 1), "{report:?}");
        let failed: Vec<usize> = report.failed.iter().map(|(line, _)| *line).collect();
        assert_eq!(failed, [2, 5], "{report:?}");
        assert!(report.failed[1].1.contains("author_ids"), "{report:?}");

        let list = app.get(PUBLIC_ARTICLES).await.json();
        assert_eq!(slugs(&list), ["lo-hai", "lo-mot"]);
        let found = app.get("/api/v1/articles?q=%22mot%20cua%22").await.json();
        assert_eq!(slugs(&found), ["lo-mot"], "{found}");
        let found = app.get("/api/v1/articles?q=l").await.json();
        assert_eq!(slugs(&found), ["lo-hai", "lo-mot"], "newest first: {found}");
        let one = public_detail(&app, "lo-mot").await.data();
        assert_eq!(one["tags"][0]["slug"], "lo-hang");
        assert_eq!(one["authors"][0]["name"], "Hoàng Anh");
        let two = public_detail(&app, "lo-hai").await.data();
        assert_eq!(two["tags"][0]["slug"], "lo-hang", "one tag for both: {two}");

        // The first revision is there as for an API create, body included.
        let editor = app.user(Role::Editor).await;
        let id = one["id"].as_i64().unwrap();
        let revision = app
            .get_as(
                &editor.access_token,
                &format!("/api/v1/admin/articles/{id}/revisions/1"),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(
            revision["data"]["content"]["body"], "Thủ tục **một cửa**.",
            "{revision}"
        );
    }
);

backend_test!(
    /// On PostgreSQL the importer computes the search documents itself: they must be exactly
    /// what the database computes, for text it leaves to the database (a word the parser reads
    /// as two, letters outside ASCII, a word repeated beyond the positions kept) as for the rest.
    async fn imported_search_documents_are_the_ones_the_database_computes(app: TestApp) {
        let many = "lặp ".repeat(300);
        let lines = format!(
            r#"{{"title": "Năm 2024 có abc123 và 123abc", "summary": "Tóm tắt ngắn", "status": "published", "body": "Thủ tục **một cửa** liên thông, số 0012 và 99999999999."}}
{{"title": "Số 1e5x", "status": "published", "body": "Đoạn 1e05 x."}}
{{"title": "Chữ ß và 中文", "status": "published", "body": "Đoạn."}}
{{"title": "Lặp lại", "summary": "", "status": "published", "body": "{many}"}}
{{"title": "Không tóm tắt", "status": "draft"}}
"#
        );
        let report = import(&app, &lines).await;
        assert_eq!((report.imported, report.failed.len()), (5, 0), "{report:?}");
        let found = app.get("/api/v1/articles?q=%22mot%20cua%22").await.json();
        assert_eq!(slugs(&found), ["nam-2024-co-abc123-va-123abc"], "{found}");
        let found = app.get("/api/v1/articles?q=lap").await.json();
        assert_eq!(slugs(&found), ["lap-lai"], "{found}");
        if app.backend != crate::common::Backend::Postgres {
            return;
        }
        #[derive(diesel::QueryableByName)]
        struct Counts {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            rows: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            differ: i64,
        }
        let counts = app
            .state
            .db
            .run(|conn| {
                use diesel::RunQueryDsl;
                Ok(diesel::sql_query(
                    "SELECT COUNT(*) AS rows, COUNT(*) FILTER (WHERE \
                     document IS DISTINCT FROM to_tsvector('simple', title) \
                     || to_tsvector('simple', summary) || to_tsvector('simple', body) \
                     OR lead IS DISTINCT FROM to_tsvector('simple', title) || to_tsvector('simple', summary) \
                     OR heading IS DISTINCT FROM to_tsvector('simple', title)) AS differ \
                     FROM article_search",
                )
                .get_result::<Counts>(conn)?)
            })
            .await
            .unwrap();
        assert_eq!((counts.rows, counts.differ), (5, 0));
    }
);

backend_test!(
    /// Long texts come back whole whichever way they were compressed; on PostgreSQL built
    /// with lz4 (as the official images and packages are), new ones are stored with it.
    async fn long_texts_are_stored_compressed_and_read_back_whole(app: TestApp) {
        let body = (0..400)
            .map(|n| format!("Đoạn {n}: thủ tục hành chính một cửa liên thông."))
            .collect::<Vec<_>>()
            .join("\n\n");
        let line = serde_json::json!({"title": "Bài dài", "status": "published", "body": body});
        let report = import(&app, &format!("{line}\n")).await;
        assert_eq!((report.imported, report.failed.len()), (1, 0), "{report:?}");
        let one = public_detail(&app, "bai-dai").await.data();
        let html = one["body_html"].as_str().unwrap();
        assert!(
            html.contains("Đoạn 0:") && html.contains("Đoạn 399: thủ tục"),
            "{html:.200}"
        );
        if app.backend != crate::common::Backend::Postgres {
            return;
        }
        #[derive(diesel::QueryableByName)]
        struct Methods {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            lz4: bool,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            body: Option<String>,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            html: Option<String>,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            folded: Option<String>,
        }
        let found = app
            .state
            .db
            .run(|conn| {
                use diesel::RunQueryDsl;
                Ok(diesel::sql_query(
                    "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' \
                     AND 'lz4' = ANY (enumvals)) AS lz4, \
                     pg_column_compression(a.body) AS body, pg_column_compression(a.body_html) AS html, \
                     pg_column_compression(s.body) AS folded \
                     FROM articles a JOIN article_search s ON s.article_id = a.id WHERE a.slug = 'bai-dai'",
                )
                .get_result::<Methods>(conn)?)
            })
            .await
            .unwrap();
        let expected = if found.lz4 { "lz4" } else { "pglz" };
        let methods = [found.body, found.html, found.folded];
        assert_eq!(
            methods,
            [Some(expected), Some(expected), Some(expected)].map(|m| m.map(str::to_owned))
        );
    }
);

backend_test!(
    /// A batch is written in parts at once on PostgreSQL (by publication second): articles of
    /// one second that want the same search key (ids 512 apart, so a batch of more than 512)
    /// and articles of other seconds all load, are listed and are found.
    async fn a_batch_of_many_articles_of_one_second_and_of_others_loads_whole(app: TestApp) {
        let mut lines = String::new();
        for n in 0..540 {
            let at = if n < 520 {
                "2024-05-01T08:00:00Z".to_owned()
            } else {
                format!("2024-05-01T08:00:{:02}Z", n - 519)
            };
            let line = json!({"title": format!("Thông báo lô {n}"), "status": "published",
                              "published_at": at, "tags": ["Lô lớn"], "body": format!("Nội dung so{n}.")});
            lines.push_str(&format!("{line}\n"));
        }
        let report = import(&app, &lines).await;
        assert_eq!(
            (report.imported, report.skipped, report.failed.len()),
            (540, 0, 0),
            "{report:?}"
        );
        let list = app.get(&format!("{PUBLIC_ARTICLES}?per_page=1")).await.json();
        assert_eq!(list["meta"]["total"], 540, "{list}");
        assert_eq!(slugs(&list), ["thong-bao-lo-539"], "the newest first: {list}");
        let found = app
            .get("/api/v1/articles?q=thong%20bao%20lo&per_page=1")
            .await
            .json();
        assert_eq!(found["meta"]["total"], 540, "{found}");
        for n in [0, 1, 512, 513, 519, 520, 539] {
            let found = app.get(&format!("/api/v1/articles?q=%22so{n}%22")).await.json();
            assert_eq!(slugs(&found), [format!("thong-bao-lo-{n}")], "{found}");
        }

        // A process with one connection writes its batches whole, on that connection.
        let single = app
            .another_process()
            .config(|c| c.db_pool_size = 1)
            .build()
            .await
            .expect("a second process");
        let more: String = (540..560)
            .map(|n| {
                let line = json!({"title": format!("Thông báo lô {n}"), "status": "published",
                                  "published_at": format!("2024-05-02T08:00:{:02}Z", n - 540), "tags": ["Lô lớn"]});
                format!("{line}\n")
            })
            .collect();
        let report = import(&single, &more).await;
        assert_eq!((report.imported, report.failed.len()), (20, 0), "{report:?}");
        let list = single.get(&format!("{PUBLIC_ARTICLES}?per_page=1")).await.json();
        assert_eq!(list["meta"]["total"], 560, "{list}");
        assert_eq!(slugs(&list), ["thong-bao-lo-559"], "{list}");
    }
);

/// SQLite: each full-text index's merge settings.
async fn merge_settings(app: &crate::common::TestApp) -> Vec<(String, String)> {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        setting: String,
    }
    app.state
        .db
        .run(|conn| {
            use diesel::RunQueryDsl;
            let mut all = Vec::new();
            for index in ["article_fts", "article_lead_fts", "article_title_fts"] {
                // FTS5's defaults where the configuration names none.
                let row: Setting = diesel::sql_query(format!(
                    "SELECT 'automerge=' || COALESCE((SELECT v FROM {index}_config WHERE k = 'automerge'), 4) \
                     || ' crisismerge=' || COALESCE((SELECT v FROM {index}_config WHERE k = 'crisismerge'), 16) \
                     AS setting"
                ))
                .get_result(conn)?;
                all.push((index.to_owned(), row.setting));
            }
            Ok(all)
        })
        .await
        .unwrap()
}

backend_test!(
    /// An import holds SQLite's full-text merges while it writes and merges once at the end:
    /// every article is found after an import into an empty archive (merged whole) and after
    /// one into a larger archive (merged level by level), the indexes pass FTS5's integrity
    /// check, and the merge settings are the ones they were before, an operator's own included.
    async fn an_import_merges_the_search_indexes_and_leaves_their_settings_as_they_were(app: TestApp) {
        let lines = |from: usize, to: usize| -> String {
            (from..to)
                .map(|n| {
                    format!(
                        "{}\n",
                        json!({"title": format!("Thông báo số {n}"), "status": "published",
                               "body": format!("Nội dung riêng mucluc{n} của thông báo.")})
                    )
                })
                .collect()
        };
        let sqlite = app.backend == crate::common::Backend::Sqlite;
        if sqlite {
            app.state
                .db
                .run(|conn| {
                    use diesel::RunQueryDsl;
                    diesel::sql_query("INSERT INTO article_fts (article_fts, rank) VALUES ('automerge', 8)")
                        .execute(conn)?;
                    Ok(())
                })
                .await
                .unwrap();
        }
        let settings = if sqlite {
            merge_settings(&app).await
        } else {
            Vec::new()
        };
        let first = import(&app, &lines(0, 40)).await;
        assert_eq!((first.imported, first.failed.len()), (40, 0), "{first:?}");
        let second = import(&app, &lines(40, 45)).await;
        assert_eq!((second.imported, second.failed.len()), (5, 0), "{second:?}");
        for n in [0, 39, 40, 44] {
            let found = app.get(&format!("/api/v1/articles?q=mucluc{n}")).await.json();
            assert_eq!(slugs(&found), [format!("thong-bao-so-{n}")], "{found}");
        }
        let found = app
            .get("/api/v1/articles?q=thong%20bao&per_page=100")
            .await
            .json();
        assert_eq!(found["meta"]["total"], 45, "{found}");
        if !sqlite {
            return;
        }
        assert_eq!(merge_settings(&app).await, settings);
        assert_eq!(
            settings,
            [
                ("article_fts", "automerge=8 crisismerge=16"),
                ("article_lead_fts", "automerge=4 crisismerge=16"),
                ("article_title_fts", "automerge=4 crisismerge=16"),
            ]
            .map(|(i, s)| (i.to_owned(), s.to_owned()))
        );
        app.state
            .db
            .run(|conn| {
                use diesel::RunQueryDsl;
                for index in ["article_fts", "article_lead_fts", "article_title_fts"] {
                    diesel::sql_query(format!(
                        "INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', 0)"
                    ))
                    .execute(conn)?;
                }
                Ok(())
            })
            .await
            .unwrap();
    }
);

#[actix_web::test]
async fn the_import_command_prints_counts_and_failing_lines_and_fails_when_a_line_failed() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bai.jsonl"), IMPORT_LINES).unwrap();
    std::fs::write(
        dir.path().join("tot.jsonl"),
        "{\"title\": \"Tin tốt\", \"status\": \"published\"}\n",
    )
    .unwrap();
    let run = |files: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_newsdesk"))
            .current_dir(dir.path())
            .env("NEWSDESK_LOG", "warn")
            .env_remove("NEWSDESK_DATABASE_URL")
            .stdin(Stdio::null())
            .arg("import")
            .args(files)
            .output()
            .unwrap()
    };
    let out = run(&["bai.jsonl"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed line fails the run: {stdout} {stderr}"
    );
    assert!(
        stdout.contains("bai.jsonl: 3 imported, 1 skipped (slug exists), 3 failed"),
        "{stdout}"
    );
    assert!(stderr.contains("bai.jsonl:4: not an article"), "{stderr}");
    assert!(stderr.contains("bai.jsonl:5: title"), "{stderr}");
    assert!(stderr.contains("bai.jsonl:7: status"), "{stderr}");
    // Not a terminal: plain progress lines, the last one with every line of the file.
    assert!(stderr.contains("bai.jsonl: importing"), "{stderr}");
    assert!(
        stderr.contains("bai.jsonl: 8 lines, ") && stderr.contains("(100%)"),
        "{stderr}"
    );
    assert!(
        dir.path().join("newsdesk.db").is_file(),
        "the default database is ./newsdesk.db"
    );

    let out = run(&["tot.jsonl", "bai.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("tot.jsonl: 1 imported, 0 skipped"), "{stdout}");
    assert!(stdout.contains("bai.jsonl: 0 imported, 4 skipped"), "{stdout}");

    let out = run(&["tot.jsonl"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("tot.jsonl: 0 imported, 1 skipped"));

    let out = run(&["khong-co.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("khong-co.jsonl"));

    // What was imported is what the API serves.
    let app = crate::common::TestAppBuilder::new(crate::common::Backend::Sqlite)
        .database(newsdesk::db::DbUrl::Sqlite(dir.path().join("newsdesk.db")))
        .build()
        .await
        .unwrap();
    let list = app.get(PUBLIC_ARTICLES).await.json();
    assert_eq!(slugs(&list), ["tin-tot", "tin-nhap-bon", "tin-nhap-mot"]);
}
