//! Preview links: who may make one, what it shows to anyone holding it, and the tokens it
//! refuses.

use actix_web::http::Method;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::common::{TestApp, TestResponse, TestUser};

use super::{action, admin_article, create, public_detail, publish_now};

async fn ask(app: &TestApp, user: &TestUser, id: i64) -> TestResponse {
    action(app, user, id, "preview", None).await
}

async fn link(app: &TestApp, user: &TestUser, id: i64) -> Value {
    let res = ask(app, user, id).await;
    assert_eq!(res.status, 201, "preview {id}: {}", res.text());
    res.data()
}

async fn preview(app: &TestApp, token: &str) -> TestResponse {
    app.get(&format!("/api/v1/preview/{token}")).await
}

fn key(app: &TestApp) -> Vec<u8> {
    app.state.secrets.jwt.as_bytes().to_vec()
}

async fn edit(app: &TestApp, user: &TestUser, id: i64, body: Value) -> Value {
    app.as_user(&user.access_token, Method::PATCH, &admin_article(id), Some(&body))
        .await
        .expect(200)
        .data()
}

backend_test!(
    config = |c| c.preview_url = "https://portal.example/xem-truoc/{token}?ban=nhap".into();
    async fn a_preview_link_shows_the_latest_saved_draft_to_anyone_who_has_it(app: TestApp) {
        let contributor = app.user(Role::Contributor).await;
        let article = create(&app, &contributor, json!({"title": "Bản nháp xem trước", "body": "Bản đầu"})).await;
        let id = article["id"].as_i64().unwrap();
        edit(&app, &contributor, id, json!({"version": 1, "body": "Bản **sửa**"})).await;

        let before = Utc::now();
        let made = link(&app, &contributor, id).await;
        let token = made["token"].as_str().unwrap();
        assert_eq!(
            made["url"],
            format!("https://portal.example/xem-truoc/{token}?ban=nhap")
        );
        let expires: DateTime<Utc> = made["expires_at"].as_str().unwrap().parse().unwrap();
        let ttl = expires - before;
        assert!(ttl > Duration::hours(23) && ttl <= Duration::hours(24), "{ttl}");

        // No sign-in: the link is for people without an account.
        let res = preview(&app, token).await.expect(200);
        assert_eq!(res.header("cache-control"), Some("private, no-store"));
        assert_eq!(res.header("x-robots-tag"), Some("noindex"));
        assert_eq!(res.header("etag"), None);
        let shown = res.data();
        assert_eq!(shown["id"], id);
        assert_eq!(shown["slug"], "ban-nhap-xem-truoc");
        assert_eq!(shown["title"], "Bản nháp xem trước");
        assert!(shown["body_html"].as_str().unwrap().contains("<strong>sửa</strong>"), "{shown}");
        assert_eq!(shown["published_at"], shown["updated_at"], "a draft is dated by its last change");
        assert!(shown["newer"].is_array() && shown["older"].is_array(), "{shown}");
        // Readers still do not see the draft.
        public_detail(&app, "ban-nhap-xem-truoc").await.problem(404);

        // Every read is fresh: the next save shows at once.
        edit(&app, &contributor, id, json!({"version": 2, "title": "Bản nháp đã sửa"})).await;
        assert_eq!(preview(&app, token).await.expect(200).data()["title"], "Bản nháp đã sửa");

        // Once published, the link shows the same as readers get.
        let editor = app.user(Role::Editor).await;
        publish_now(&app, &editor, id).await;
        let public = public_detail(&app, "ban-nhap-xem-truoc").await.expect(200).data();
        assert_eq!(preview(&app, token).await.expect(200).data(), public);

        // Each link made is in the audit log.
        let admin = app.user(Role::Admin).await;
        let log = app
            .get_as(&admin.access_token, "/api/v1/admin/audit?action=article.preview")
            .await
            .expect(200)
            .data();
        assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
        assert_eq!(log[0]["actor_id"], contributor.id);
        assert_eq!(log[0]["resource_id"], id);
        assert_eq!(log[0]["detail"]["expires_at"], made["expires_at"]);
    }
);

backend_test!(
    async fn only_those_who_may_see_the_article_make_links(app: TestApp) {
        let contributor = app.user(Role::Contributor).await;
        let other = app.user(Role::Contributor).await;
        let author = app.user(Role::Author).await;
        let moderator = app.user(Role::Moderator).await;
        let editor = app.user(Role::Editor).await;
        let id = create(&app, &contributor, json!({"title": "Tin riêng"})).await["id"]
            .as_i64()
            .unwrap();

        link(&app, &contributor, id).await;
        link(&app, &editor, id).await;
        for stranger in [&other, &author, &moderator] {
            let problem = ask(&app, stranger, id).await.problem(404);
            assert_eq!(problem["code"], "article.not_found");
        }
        ask(&app, &editor, 999_999).await.problem(404);
        app.send(Method::POST, &format!("{}/preview", admin_article(id)))
            .await
            .problem(401);

        // Without NEWSDESK_PREVIEW_URL, links go to the preview page of NEWSDESK_PUBLIC_URL.
        let made = link(&app, &editor, id).await;
        assert_eq!(
            made["url"],
            format!(
                "http://localhost:3000/preview/{}",
                made["token"].as_str().unwrap()
            )
        );
    }
);

backend_test!(
    async fn wrong_tampered_expired_and_archived_links_show_nothing(app: TestApp) {
        let editor = app.user(Role::Editor).await;
        let first = create(&app, &editor, json!({"title": "Bài thứ nhất"})).await["id"]
            .as_i64()
            .unwrap();
        let second = create(&app, &editor, json!({"title": "Bài thứ hai"})).await["id"]
            .as_i64()
            .unwrap();
        let token = link(&app, &editor, first).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(preview(&app, &token).await.expect(200).data()["id"], first);

        let not_found = |res: TestResponse| {
            let problem = res.problem(404);
            assert_eq!(problem["code"], "preview.not_found", "{problem}");
        };

        // The first token with the second article's id in it: the signature no longer fits.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[..8].copy_from_slice(&second.to_be_bytes());
        not_found(preview(&app, &URL_SAFE_NO_PAD.encode(&bytes)).await);
        // A later expiry written in, or one bit of the signature changed.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[15] = bytes[15].wrapping_add(1);
        not_found(preview(&app, &URL_SAFE_NO_PAD.encode(&bytes)).await);
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[47] ^= 1;
        not_found(preview(&app, &URL_SAFE_NO_PAD.encode(&bytes)).await);
        for junk in [
            "x",
            "not-a-token",
            "AAAA",
            &"A".repeat(64),
            &"A".repeat(5000),
            "%F0%9F%92%A9",
        ] {
            not_found(preview(&app, junk).await);
        }

        // Signed by the server's key: fine until it expires, and never for a missing article.
        let key = key(&app);
        let fresh = newsdesk::articles::preview::sign(&key, second, Utc::now() + Duration::minutes(5));
        assert_eq!(preview(&app, &fresh).await.expect(200).data()["id"], second);
        let expired = newsdesk::articles::preview::sign(&key, second, Utc::now() - Duration::seconds(1));
        not_found(preview(&app, &expired).await);
        let missing = newsdesk::articles::preview::sign(&key, 999_999, Utc::now() + Duration::minutes(5));
        not_found(preview(&app, &missing).await);
        let foreign = newsdesk::articles::preview::sign(
            b"some other server's signing secret",
            second,
            Utc::now() + Duration::minutes(5),
        );
        not_found(preview(&app, &foreign).await);

        // Archiving stops the article's links, even one made afterwards.
        app.as_user(&editor.access_token, Method::DELETE, &admin_article(first), None)
            .await
            .expect(204);
        not_found(preview(&app, &token).await);
        let late = link(&app, &editor, first).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        not_found(preview(&app, &late).await);
    }
);

#[test]
fn preview_settings_are_checked_at_start() {
    use clap::Parser;
    let settings = |args: &[&str]| {
        let mut argv = vec!["newsdesk"];
        argv.extend_from_slice(args);
        newsdesk::cli::Cli::parse_from(argv).settings.validate()
    };
    for bad in [
        "https://portal.example/preview",
        "ftp://portal.example/preview/{token}",
        "/preview/{token}",
        "{token}",
    ] {
        let err = settings(&["--preview-url", bad]).unwrap_err();
        assert_eq!(err.variable, "NEWSDESK_PREVIEW_URL", "{bad}");
    }
    for bad in ["0", "59", "2592001"] {
        let err = settings(&["--preview-ttl", bad]).unwrap_err();
        assert_eq!(err.variable, "NEWSDESK_PREVIEW_TTL", "{bad}");
    }
    let config = settings(&[
        "--preview-ttl",
        "3600",
        "--public-url",
        "https://tin.example/cong/",
    ])
    .unwrap();
    assert_eq!(config.preview_ttl, std::time::Duration::from_secs(3600));
    assert_eq!(config.preview_url, "https://tin.example/cong/preview/{token}");
    let config = settings(&["--preview-url", "https://portal.example/p?t={token}"]).unwrap();
    assert_eq!(config.preview_url, "https://portal.example/p?t={token}");
}
