//! Uploads: what is kept of a photo, what is served, and every refusal.

use super::*;
use crate::common::problem_fields;
use crate::media_test;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

media_test!(
    /// A phone photo: turned upright, credited from its EXIF, resized, and served without a
    /// trace of its GPS position, camera, serial, capture time, XMP or thumbnail.
    async fn a_photo_is_served_upright_resized_and_without_its_metadata(app: TestApp) {
        let author = as_role(&app, Role::Author).await;
        let camera = testdata::ExifFields::camera();
        // Stored 1800×1200 with orientation 6: upright it is 1200×1800.
        let bytes = testdata::jpeg_with_metadata(1800, 1200, &camera);
        let media = upload(
            &app,
            &author,
            &[
                (
                    "file",
                    Part::File {
                        name: "../../Ảnh/IMG_0042.JPG",
                        bytes: &bytes,
                    },
                ),
                ("alt", Part::Text("  Toàn cảnh hội nghị  ")),
                ("caption", Part::Text("Hội nghị tổng kết năm 2019")),
            ],
        )
        .await
        .expect(201)
        .data();
        assert_eq!(media["kind"], "image");
        assert_eq!(media["filename"], "IMG_0042.JPG");
        assert_eq!(media["content_type"], "image/jpeg");
        assert_eq!(
            (media["width"].as_i64(), media["height"].as_i64()),
            (Some(1200), Some(1800))
        );
        assert_eq!(media["alt"], "Toàn cảnh hội nghị");
        assert_eq!(
            media["credit"], "Jane Doe / (c) 2026 Newsdesk Agency",
            "the photographer is credited from EXIF Artist and Copyright"
        );
        assert_eq!(media["uploaded_by"]["id"], author.id);
        assert_eq!(media["used_by"], 0);
        assert_eq!(media["sha256"].as_str().map(str::len), Some(64));
        let widths: Vec<(u64, &str)> = media["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["width"].as_u64().unwrap(), v["format"].as_str().unwrap()))
            .collect();
        for width in [320, 640, 1024] {
            assert!(widths.contains(&(width, "webp")), "{width} webp in {widths:?}");
            assert!(widths.contains(&(width, "jpeg")), "{width} jpeg in {widths:?}");
        }
        assert!(
            widths.iter().all(|(w, _)| *w < 1200),
            "never upscaled: {widths:?}"
        );

        let mut served = vec![media["url"].as_str().unwrap().to_owned()];
        served.extend(
            media["variants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["url"].as_str().unwrap().to_owned()),
        );
        for url in &served {
            assert!(url.starts_with("/media/"), "{url}");
            let res = fetch(&app, url, &[]).await.expect(200);
            let body = &res.body;
            for secret in [
                camera.make.as_bytes(),
                camera.model.as_bytes(),
                camera.serial.as_bytes(),
                camera.date_time_original.as_bytes(),
                b"Exif\0\0",
                testdata::XMP_NAMESPACE,
                testdata::XMP_SECRET.as_bytes(),
                testdata::THUMBNAIL_MARKER,
            ] {
                assert!(
                    !contains(body, secret),
                    "{url} still carries {:?}",
                    String::from_utf8_lossy(secret)
                );
            }
            assert_eq!(
                res.header("cache-control"),
                Some("public, max-age=31536000, immutable")
            );
            assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(res.header("accept-ranges"), Some("bytes"));
            assert!(res.header("etag").is_some());
            assert_eq!(
                res.header("content-disposition"),
                None,
                "photos are shown, not downloaded"
            );
            if url.ends_with(".webp") {
                assert_eq!(res.header("content-type"), Some("image/webp"));
                assert!(
                    body.starts_with(b"RIFF") && &body[8..12] == b"WEBP",
                    "{url} is WebP"
                );
            } else {
                assert_eq!(res.header("content-type"), Some("image/jpeg"));
                assert!(body.starts_with(&[0xFF, 0xD8]), "{url} is JPEG");
            }
        }
        let tag = fetch(&app, &served[0], &[])
            .await
            .header("etag")
            .unwrap()
            .to_owned();
        let again = fetch(&app, &served[0], &[("If-None-Match", &tag)]).await;
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
    }
);

media_test!(
    /// A PDF is kept as sent and downloaded as an attachment, in parts when asked.
    async fn a_document_is_downloaded_whole_or_by_range(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let media = document(&app, &editor, "Quyết định số 1234/QĐ-UBND").await;
        assert_eq!(media["kind"], "document");
        assert_eq!(media["content_type"], "application/pdf");
        assert_eq!(media["width"], Value::Null);
        assert_eq!(media["variants"], json!([]));
        assert_eq!(media["alt"], Value::Null, "documents need no alt text");
        let url = media["url"].as_str().unwrap();
        let whole = fetch(&app, url, &[]).await.expect(200);
        assert_eq!(whole.body.as_ref(), testdata::pdf().as_slice());
        assert_eq!(media["size"].as_u64(), Some(whole.body.len() as u64));
        assert_eq!(whole.header("content-disposition"), Some("attachment"));
        assert_eq!(whole.header("content-type"), Some("application/pdf"));

        let part = fetch(&app, url, &[("Range", "bytes=0-4")]).await.expect(206);
        assert_eq!(part.body.as_ref(), b"%PDF-");
        let size = whole.body.len();
        assert_eq!(
            part.header("content-range"),
            Some(format!("bytes 0-4/{size}").as_str())
        );
        let tail = fetch(&app, url, &[("Range", "bytes=-3")]).await.expect(206);
        assert_eq!(tail.body.as_ref(), &whole.body[size - 3..]);
        let past = fetch(&app, url, &[("Range", &format!("bytes={}-", size + 10))]).await;
        past.problem(416);
        assert_eq!(
            past.header("content-range"),
            Some(format!("bytes */{size}").as_str())
        );
        // A range the server does not understand is ignored, as HTTP allows.
        fetch(&app, url, &[("Range", "lines=1-2")]).await.expect(200);
    }
);

media_test!(
    /// What is not one of the accepted types is refused from its bytes, whatever its name.
    async fn files_that_are_not_photos_or_documents_are_refused_by_their_bytes(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>"#;
        let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0";
        let pe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";
        for (name, bytes) in [
            ("logo.svg", &svg[..]),
            ("anh.jpg", &html[..]),
            ("anh.png", &elf[..]),
            ("quyet-dinh.pdf", &pe[..]),
            ("ghi-chu.txt", b"just some text".as_slice()),
        ] {
            let res = upload(
                &app,
                &editor,
                &[("file", Part::File { name, bytes }), ("alt", Part::Text("Ảnh"))],
            )
            .await;
            let problem = res.problem(415);
            assert_eq!(problem["code"], "media.unsupported_type", "{name}");
        }
        let listed = library(&app, &editor, Method::GET, LIBRARY, None)
            .await
            .expect(200);
        assert_eq!(listed.json()["meta"]["total"], 0, "nothing refused was kept");
    }
);

media_test!(
    /// Bombs and oversized files are refused before they cost memory; a photo needs alt text;
    /// the form must be a form; a moderator may not upload.
    async fn oversized_bombs_missing_fields_and_wrong_roles_are_refused(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        // 20000 × 20000 announced by a header of a few dozen bytes.
        let bomb = testdata::png_header_only(20_000, 20_000);
        let started = std::time::Instant::now();
        let problem = upload(
            &app,
            &editor,
            &[
                (
                    "file",
                    Part::File {
                        name: "bom.png",
                        bytes: &bomb,
                    },
                ),
                ("alt", Part::Text("x")),
            ],
        )
        .await
        .problem(422);
        assert_eq!(problem["errors"][0]["field"], "file");
        assert_eq!(problem["errors"][0]["code"], "too_many_pixels");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "refused from the header"
        );

        let limit = app.state.media.limits.max_bytes as usize;
        let mut big = testdata::pdf();
        big.resize(limit + 1, b' ');
        let problem = upload(
            &app,
            &editor,
            &[(
                "file",
                Part::File {
                    name: "lon.pdf",
                    bytes: &big,
                },
            )],
        )
        .await
        .problem(413);
        assert_eq!(problem["code"], "media.too_large");

        let photo = testdata::jpeg(64, 48);
        let problem = upload(
            &app,
            &editor,
            &[(
                "file",
                Part::File {
                    name: "a.jpg",
                    bytes: &photo,
                },
            )],
        )
        .await
        .problem(422);
        assert_eq!(problem_fields(&problem), ["alt"]);
        let problem = upload(&app, &editor, &[("alt", Part::Text("Ảnh"))])
            .await
            .problem(422);
        assert_eq!(problem_fields(&problem), ["file"]);
        let long = "d".repeat(1001);
        for (field, value) in [("gps", "21.0,105.8"), ("caption", long.as_str())] {
            let problem = upload(
                &app,
                &editor,
                &[
                    (
                        "file",
                        Part::File {
                            name: "a.jpg",
                            bytes: &photo,
                        },
                    ),
                    ("alt", Part::Text("Ảnh")),
                    (field, Part::Text(value)),
                ],
            )
            .await
            .problem(422);
            assert_eq!(problem_fields(&problem), [field]);
        }

        let json = library(&app, &editor, Method::POST, LIBRARY, Some(&json!({"file": "x"}))).await;
        assert_eq!(json.problem(415)["code"], "media.form_required");

        let moderator = as_role(&app, Role::Moderator).await;
        upload(
            &app,
            &moderator,
            &[
                (
                    "file",
                    Part::File {
                        name: "a.jpg",
                        bytes: &photo,
                    },
                ),
                ("alt", Part::Text("Ảnh")),
            ],
        )
        .await
        .problem(403);
        let anonymous = app
            .call(
                TestRequest::post()
                    .uri(LIBRARY)
                    .insert_header((
                        "Content-Type",
                        format!("multipart/form-data; boundary={BOUNDARY}"),
                    ))
                    .set_payload(form(&[("alt", Part::Text("Ảnh"))])),
            )
            .await;
        anonymous.problem(401);
        let listed = library(&app, &editor, Method::GET, LIBRARY, None)
            .await
            .expect(200);
        assert_eq!(listed.json()["meta"]["total"], 0);
    }
);

media_test!(
    /// The same bytes uploaded twice are two entries sharing one set of files, which stay until
    /// the last entry naming them is deleted.
    async fn identical_uploads_share_their_files_until_the_last_is_deleted(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let first = photo(&app, &editor, 700, 400, "Lần một").await;
        let second = photo(&app, &editor, 700, 400, "Lần hai").await;
        assert_ne!(first["id"], second["id"]);
        assert_eq!(first["url"], second["url"]);
        assert_eq!(first["sha256"], second["sha256"]);
        let url = first["url"].as_str().unwrap();
        let variant = first["variants"][0]["url"].as_str().unwrap();
        library(
            &app,
            &editor,
            Method::DELETE,
            &format!("{LIBRARY}/{}", id_of(&first)),
            None,
        )
        .await
        .expect(204);
        fetch(&app, url, &[]).await.expect(200);
        library(
            &app,
            &editor,
            Method::DELETE,
            &format!("{LIBRARY}/{}", id_of(&second)),
            None,
        )
        .await
        .expect(204);
        fetch(&app, url, &[]).await.problem(404);
        fetch(&app, variant, &[]).await.problem(404);
    }
);

media_test!(
    /// Files no row names (an upload whose process died before its row committed) are swept
    /// once old enough; named files are kept. Another process sees the same files.
    async fn the_sweeper_removes_only_files_no_row_names(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let kept = photo(&app, &editor, 500, 300, "Giữ lại").await;
        let orphan = "ab/cd/abababababababababababababababababababababababababababababababab.pdf";
        app.state
            .media
            .store
            .put(orphan, testdata::pdf().into(), "application/pdf")
            .await
            .unwrap();
        fetch(&app, &format!("/media/{orphan}"), &[]).await.expect(200);
        let young = newsdesk::media::sweep::sweep(&app.state, std::time::Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(young, 0, "files younger than the grace period are left alone");
        let removed = newsdesk::media::sweep::sweep(&app.state, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(removed, 1);
        fetch(&app, &format!("/media/{orphan}"), &[]).await.problem(404);
        let other = app.another_process().build().await.unwrap();
        for url in std::iter::once(&kept["url"])
            .chain(kept["variants"].as_array().unwrap().iter().map(|v| &v["url"]))
        {
            fetch(&other, url.as_str().unwrap(), &[]).await.expect(200);
        }
    }
);

media_test!(
    /// Keys are checked before the store is asked: nothing outside the library is reachable.
    async fn only_library_keys_are_served(app: TestApp) {
        for path in [
            "/media/..%2F..%2Fetc%2Fpasswd",
            "/media/ab/cd/../../newsdesk.db",
            "/media/ab/cd/x.html",
            "/media/ab/cd/nothing-here.jpg",
            "/media/ab",
        ] {
            let res = fetch(&app, path, &[]).await;
            assert_eq!(res.status, 404, "{path}: {}", res.text());
        }
    }
);
