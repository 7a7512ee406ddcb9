//! The library as editors browse and describe it, and who may change what.

use super::*;
use crate::common::problem_fields;
use crate::media_test;

fn ids(list: &Value) -> Vec<i64> {
    list["data"].as_array().unwrap().iter().map(id_of).collect()
}

media_test!(
    /// Newest first, filtered by kind and uploader, searched without diacritics.
    async fn the_library_is_listed_filtered_and_searched_without_diacritics(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let author = as_role(&app, Role::Author).await;
        let hall = photo(&app, &editor, 400, 300, "Toàn cảnh hội trường Ủy ban").await;
        let street = photo(&app, &author, 300, 400, "Đường phố Hà Nội").await;
        let decision = document(&app, &editor, "Quyết định về cải cách hành chính").await;
        let all = library(&app, &author, Method::GET, LIBRARY, None)
            .await
            .expect(200)
            .json();
        assert_eq!(ids(&all), [id_of(&decision), id_of(&street), id_of(&hall)]);
        assert_eq!(all["meta"]["total"], 3);
        let images = library(&app, &editor, Method::GET, &format!("{LIBRARY}?kind=image"), None)
            .await
            .expect(200)
            .json();
        assert_eq!(ids(&images), [id_of(&street), id_of(&hall)]);
        let mine = library(
            &app,
            &editor,
            Method::GET,
            &format!("{LIBRARY}?uploaded_by={}", author.id),
            None,
        )
        .await
        .expect(200)
        .json();
        assert_eq!(ids(&mine), [id_of(&street)]);
        for (q, expected) in [
            ("uy ban", vec![id_of(&hall)]),
            ("HA NOI", vec![id_of(&street)]),
            ("cải cách", vec![id_of(&decision)]),
            ("quyet-dinh.pdf", vec![id_of(&decision)]),
            ("anh.jpg", vec![id_of(&street), id_of(&hall)]),
            ("100%_", vec![]),
        ] {
            let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
            let found = library(&app, &editor, Method::GET, &format!("{LIBRARY}?q={q}"), None)
                .await
                .expect(200)
                .json();
            assert_eq!(ids(&found), expected, "q={q}");
        }
        let page = library(
            &app,
            &editor,
            Method::GET,
            &format!("{LIBRARY}?per_page=2&page=2"),
            None,
        )
        .await
        .expect(200)
        .json();
        assert_eq!(ids(&page), [id_of(&hall)]);
        library(&app, &editor, Method::GET, &format!("{LIBRARY}?kind=video"), None)
            .await
            .problem(400);
        let moderator = as_role(&app, Role::Moderator).await;
        library(&app, &moderator, Method::GET, LIBRARY, None)
            .await
            .problem(403);
        library(&app, &editor, Method::GET, &format!("{LIBRARY}/999999"), None)
            .await
            .problem(404);
    }
);

media_test!(
    /// Descriptions change through PATCH; an image keeps its alt; authors and contributors
    /// change only their own unused files; each change is in the audit log.
    async fn descriptions_change_by_role_and_are_audited(app: TestApp) {
        let editor = as_role(&app, Role::Editor).await;
        let author = as_role(&app, Role::Author).await;
        let contributor = as_role(&app, Role::Contributor).await;
        let own = photo(&app, &author, 320, 240, "Ảnh của tác giả").await;
        let others = photo(&app, &editor, 320, 240, "Ảnh của biên tập viên").await;
        let path = format!("{LIBRARY}/{}", id_of(&own));
        let changed = library(
            &app,
            &author,
            Method::PATCH,
            &path,
            Some(&json!({"caption": "Chú thích mới", "credit": "Ảnh: Hoàng Anh"})),
        )
        .await
        .expect(200)
        .data();
        assert_eq!(changed["caption"], "Chú thích mới");
        assert_eq!(changed["credit"], "Ảnh: Hoàng Anh");
        assert_eq!(changed["alt"], "Ảnh của tác giả");
        let cleared = library(
            &app,
            &author,
            Method::PATCH,
            &path,
            Some(&json!({"caption": null})),
        )
        .await
        .expect(200)
        .data();
        assert_eq!(cleared["caption"], Value::Null);
        let problem = library(&app, &author, Method::PATCH, &path, Some(&json!({"alt": null})))
            .await
            .problem(422);
        assert_eq!(problem_fields(&problem), ["alt"]);
        let problem = library(
            &app,
            &author,
            Method::PATCH,
            &path,
            Some(&json!({"filename": "x.jpg"})),
        )
        .await
        .problem(422);
        assert_eq!(problem_fields(&problem), ["filename"]);
        let found = library(
            &app,
            &editor,
            Method::GET,
            &format!("{LIBRARY}?q=chu%20thich"),
            None,
        )
        .await
        .expect(200)
        .json();
        assert_eq!(
            found["meta"]["total"], 0,
            "a cleared caption is no longer searched"
        );

        let theirs = format!("{LIBRARY}/{}", id_of(&others));
        library(
            &app,
            &author,
            Method::PATCH,
            &theirs,
            Some(&json!({"caption": "x"})),
        )
        .await
        .problem(403);
        library(&app, &contributor, Method::DELETE, &theirs, None)
            .await
            .problem(403);
        library(
            &app,
            &editor,
            Method::PATCH,
            &path,
            Some(&json!({"title": "Biên tập"})),
        )
        .await
        .expect(200);
        library(&app, &author, Method::DELETE, &path, None)
            .await
            .expect(204);
        library(&app, &author, Method::GET, &path, None)
            .await
            .problem(404);

        let admin = as_role(&app, Role::Admin).await;
        let audit = library(
            &app,
            &admin,
            Method::GET,
            "/api/v1/admin/audit?resource=media",
            None,
        )
        .await
        .expect(200)
        .json();
        let actions: Vec<&str> = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for action in ["media.upload", "media.update", "media.delete"] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
    }
);
