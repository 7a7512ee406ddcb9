//! Files in articles: covers, attachments and body images, as editors write them and readers
//! get them, and the deletions their use forbids.

use super::*;
use crate::common::problem_fields;
use crate::media_test;

const ARTICLES: &str = "/api/v1/admin/articles";

media_test!(
    /// A cover and attachments from the library reach readers with their sizes, alt text and
    /// files; a body image becomes a sized, lazy `<img>` with a `srcset`.
    async fn covers_attachments_and_body_images_reach_readers(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let cover = photo(&app, &editor, 1400, 900, "Toàn cảnh hội nghị").await;
        let inline = photo(&app, &editor, 800, 600, "Đại biểu phát biểu").await;
        let decision = document(&app, &editor, "Quyết định số 1234").await;
        let form = document(&app, &editor, "Mẫu đơn").await;
        let body = format!(
            "Mở đầu.\n\n![Đại biểu tại hội nghị](media:{})\n\nKết thúc.",
            id_of(&inline)
        );
        let (id, slug) = app
            .published_article(
                &editor,
                json!({
                    "title": "Hội nghị tổng kết công tác cải cách hành chính",
                    "body": body,
                    "cover_media_id": id_of(&cover),
                    "attachment_ids": [id_of(&form), id_of(&decision)],
                }),
            )
            .await;

        let list = app.get("/api/v1/articles").await.expect(200).json();
        let summary = &list["data"][0];
        assert_eq!(summary["cover"]["url"], cover["url"]);
        assert_eq!(summary["cover"]["alt"], "Toàn cảnh hội nghị");
        assert_eq!(summary["cover"]["width"], 1400);
        assert_eq!(summary["cover"]["height"], 900);
        assert_eq!(summary["cover"]["variants"], cover["variants"]);
        assert_eq!(summary["cover_image_url"], Value::Null);

        let detail = app
            .get(&format!("/api/v1/articles/{slug}"))
            .await
            .expect(200)
            .data();
        let attachments = detail["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 2);
        assert_eq!(attachments[0]["title"], "Mẫu đơn");
        assert_eq!(attachments[1]["title"], "Quyết định số 1234");
        assert_eq!(attachments[1]["url"], decision["url"]);
        assert_eq!(attachments[1]["content_type"], "application/pdf");
        assert_eq!(attachments[1]["filename"], "quyet-dinh.pdf");
        for private in ["uploaded_by", "sha256", "used_by", "id"] {
            assert!(
                summary["cover"].get(private).is_none(),
                "readers do not see {private}"
            );
            assert!(
                attachments[0].get(private).is_none(),
                "readers do not see {private}"
            );
        }
        let html = detail["body_html"].as_str().unwrap();
        let full = inline["url"].as_str().unwrap();
        assert!(html.contains(r#"alt="Đại biểu tại hội nghị""#), "{html}");
        assert!(html.contains(r#"loading="lazy""#), "{html}");
        assert!(html.contains(r#"width="800" height="600""#), "{html}");
        assert!(html.contains(&format!("{full} 800w")), "{html}");
        let small = inline["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["width"] == 320 && v["format"] == "jpeg")
            .unwrap();
        assert!(
            html.contains(&format!("{} 320w", small["url"].as_str().unwrap())),
            "{html}"
        );
        assert!(!html.contains("media:"), "{html}");

        let editorial = app
            .get_as(&editor.access_token, &format!("{ARTICLES}/{id}"))
            .await
            .expect(200)
            .data();
        assert_eq!(editorial["cover_media_id"], id_of(&cover));
        assert_eq!(
            editorial["attachment_ids"],
            json!([id_of(&form), id_of(&decision)])
        );
        let used = library(
            &app,
            &editor,
            Method::GET,
            &format!("{LIBRARY}/{}", id_of(&inline)),
            None,
        )
        .await
        .expect(200)
        .data();
        assert_eq!(used["used_by"], 1, "a body image counts as a use");
    }
);

media_test!(
    /// Ids an article names must be in the library, a cover must be a photo, and a body image
    /// must be one too.
    async fn files_an_article_names_are_checked(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let decision = document(&app, &editor, "Quyết định").await;
        let picture = photo(&app, &editor, 200, 100, "Ảnh").await;
        for (fields, field, code) in [
            (
                json!({"cover_media_id": id_of(&decision)}),
                "cover_media_id",
                "not_an_image",
            ),
            (
                json!({"cover_media_id": 987654}),
                "cover_media_id",
                "unknown_reference",
            ),
            (
                json!({"attachment_ids": [id_of(&decision), 987654]}),
                "attachment_ids",
                "unknown_reference",
            ),
            (
                json!({"attachment_ids": [id_of(&decision), id_of(&decision)]}),
                "attachment_ids",
                "duplicate",
            ),
            (
                json!({"body": format!("![x](media:{})", id_of(&decision))}),
                "body",
                "unknown_reference",
            ),
            (json!({"body": "![x](media:987654)"}), "body", "unknown_reference"),
            (
                json!({"body": "<p><img src=\"media:987654\" alt=\"x\"></p>", "body_format": "html"}),
                "body",
                "unknown_reference",
            ),
        ] {
            let mut article = json!({"title": "Bài có tệp"});
            for (k, v) in fields.as_object().unwrap() {
                article[k] = v.clone();
            }
            let res = app
                .as_user(&editor.access_token, Method::POST, ARTICLES, Some(&article))
                .await;
            let problem = res.problem(422);
            assert_eq!(problem_fields(&problem), [field], "{article}");
            assert_eq!(problem["errors"][0]["code"], code, "{article}");
        }
        // An HTML body may name a library image too.
        let html = json!({
            "title": "Bài HTML",
            "body_format": "html",
            "body": format!("<p><img src=\"media:{}\"></p>", id_of(&picture)),
        });
        let article = app
            .as_user(&editor.access_token, Method::POST, ARTICLES, Some(&html))
            .await
            .expect(201)
            .data();
        let body = article["body_html"].as_str().unwrap();
        assert!(
            body.contains(r#"alt="Ảnh""#) && body.contains("srcset="),
            "{body}"
        );

        // An image pasted by its library URL is recognised by its content hash; a URL of the
        // same shape elsewhere is left as written.
        let small = picture["url"].as_str().unwrap();
        let stranger = format!("https://anh.example.vn/ab/cd/{}-640.jpg", "f".repeat(64));
        let pasted = json!({
            "title": "Bài dán ảnh",
            "body_format": "html",
            "body": format!("<p><img src=\"{small}\" alt=\"Dán\"></p><p><img src=\"{stranger}\"></p>"),
        });
        let article = app
            .as_user(&editor.access_token, Method::POST, ARTICLES, Some(&pasted))
            .await
            .expect(201)
            .data();
        let body = article["body_html"].as_str().unwrap();
        assert!(
            body.contains(r#"alt="Dán""#) && body.contains(r#"width="200""#),
            "{body}"
        );
        assert!(body.contains(&format!(r#"src="{stranger}""#)), "{body}");
        let used = library(
            &app,
            &editor,
            Method::GET,
            &format!("{LIBRARY}/{}", id_of(&picture)),
            None,
        )
        .await
        .expect(200)
        .data();
        assert_eq!(used["used_by"], 2, "both articles show the picture");
    }
);

media_test!(
    /// A file in use cannot be deleted: the refusal names the articles. Once no article uses
    /// it, it goes, and its files with it.
    async fn a_file_in_use_is_not_deleted(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let cover = photo(&app, &editor, 640, 480, "Ảnh bìa").await;
        let (id, _) = app
            .published_article(
                &editor,
                json!({"title": "Bài dùng ảnh bìa", "cover_media_id": id_of(&cover)}),
            )
            .await;
        let path = format!("{LIBRARY}/{}", id_of(&cover));
        let problem = library(&app, &editor, Method::DELETE, &path, None)
            .await
            .problem(409);
        assert_eq!(problem["code"], "media.in_use");
        assert!(
            problem["detail"].as_str().unwrap().contains("Bài dùng ảnh bìa"),
            "{problem}"
        );
        let listed = library(&app, &editor, Method::GET, &path, None)
            .await
            .expect(200)
            .data();
        assert_eq!(listed["used_by"], 1);

        let current = app
            .get_as(&editor.access_token, &format!("{ARTICLES}/{id}"))
            .await
            .expect(200)
            .data();
        app.as_user(
            &editor.access_token,
            Method::PATCH,
            &format!("{ARTICLES}/{id}"),
            Some(&json!({"version": current["version"], "cover_media_id": null})),
        )
        .await
        .expect(200);
        let public = app.get("/api/v1/articles").await.expect(200).json();
        assert_eq!(public["data"][0]["cover"], Value::Null);
        library(&app, &editor, Method::DELETE, &path, None)
            .await
            .expect(204);
        fetch(&app, cover["url"].as_str().unwrap(), &[])
            .await
            .problem(404);

        // A revision that named the deleted file is restored without it.
        let restored = app
            .as_user(
                &editor.access_token,
                Method::POST,
                &format!("{ARTICLES}/{id}/revisions/1/restore"),
                None,
            )
            .await
            .expect(200)
            .data();
        assert_eq!(restored["cover_media_id"], Value::Null);
    }
);
