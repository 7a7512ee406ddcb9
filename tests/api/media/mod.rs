//! The media library through HTTP: uploads and their refusals, the files served, the library's
//! list and edits, and files used by articles. Every test runs on both databases and on both
//! stores: a temporary directory and a bucket of a real S3-compatible server.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use newsdesk::auth::Role;
use newsdesk::media::process::testdata;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser};

mod articles;
mod crash;
mod library;
mod uploads;

const LIBRARY: &str = "/api/v1/admin/media";

/// Runs a test on each database with each store; a store or database that is missing is
/// skipped loudly (and fails under `CI=true`), never passed in silence.
#[macro_export]
macro_rules! media_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::common::{Backend, Store, TestAppBuilder};
            $(#[$meta])*
            async fn run($app: $crate::common::TestApp) $body

            async fn on(backend: Backend, store: Store) {
                if let Some(app) = TestAppBuilder::new(backend).store(store).build().await {
                    run(app).await
                } else {
                    assert!(
                        backend == Backend::Postgres || store == Store::S3,
                        "SQLite with a directory is always available"
                    );
                }
            }

            #[actix_web::test]
            async fn sqlite_file() {
                on(Backend::Sqlite, Store::File).await
            }

            #[actix_web::test]
            async fn sqlite_s3() {
                on(Backend::Sqlite, Store::S3).await
            }

            #[actix_web::test]
            async fn postgres_file() {
                on(Backend::Postgres, Store::File).await
            }

            #[actix_web::test]
            async fn postgres_s3() {
                on(Backend::Postgres, Store::S3).await
            }
        }
    };
}

/// One part of a multipart form.
pub enum Part<'a> {
    Text(&'a str),
    File { name: &'a str, bytes: &'a [u8] },
}

pub const BOUNDARY: &str = "----newsdesk-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body of these parts.
pub fn form(parts: &[(&str, Part<'_>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, part) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(text) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{field}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(text.as_bytes());
            }
            Part::File { name, bytes } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// `POST /admin/media` with this form, as `user`.
pub async fn upload(
    app: &TestApp,
    user: &TestUser,
    parts: &[(&str, Part<'_>)],
) -> crate::common::TestResponse {
    app.call(
        TestRequest::post()
            .uri(LIBRARY)
            .insert_header(("Authorization", format!("Bearer {}", user.access_token)))
            .insert_header((
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(form(parts)),
    )
    .await
}

/// Uploads a plain photo of this size with alt text, which must succeed; its library entry.
pub async fn photo(app: &TestApp, user: &TestUser, width: u32, height: u32, alt: &str) -> Value {
    let bytes = testdata::jpeg(width, height);
    upload(
        app,
        user,
        &[
            (
                "file",
                Part::File {
                    name: "anh.jpg",
                    bytes: &bytes,
                },
            ),
            ("alt", Part::Text(alt)),
        ],
    )
    .await
    .expect(201)
    .data()
}

/// Uploads a PDF with a title, which must succeed; its library entry.
pub async fn document(app: &TestApp, user: &TestUser, title: &str) -> Value {
    let bytes = testdata::pdf();
    upload(
        app,
        user,
        &[
            (
                "file",
                Part::File {
                    name: "quyet-dinh.pdf",
                    bytes: &bytes,
                },
            ),
            ("title", Part::Text(title)),
        ],
    )
    .await
    .expect(201)
    .data()
}

/// GET of a served file (`/media/…`), with extra headers.
pub async fn fetch(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> crate::common::TestResponse {
    let mut req = TestRequest::get().uri(url);
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    app.call(req).await
}

pub async fn as_role(app: &TestApp, role: Role) -> TestUser {
    app.user(role).await
}

/// A request to the library as `user`.
pub async fn library(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> crate::common::TestResponse {
    app.as_user(&user.access_token, method, path, body).await
}

pub fn id_of(media: &Value) -> i64 {
    media["id"].as_i64().expect("an id")
}
