//! The test harness: a [`TestApp`] is the real application (`newsdesk::build_app`) on a fresh
//! database of either backend, driven through HTTP requests in process.

#![allow(dead_code)]

pub mod binary;
pub mod pg;
pub mod receiver;
pub mod s3;

use actix_http::Request;
use actix_service::ServiceExt;
use actix_service::boxed::{self, BoxService};
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use actix_web::{test, web};
use newsdesk::AppState;
use newsdesk::auth::Role;
use newsdesk::config::Config;
use newsdesk::db::DbUrl;
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Applies the run's policy to a part of the test environment that could not be had (`part`:
/// "PostgreSQL", "S3"): under `CI=true` the test fails; otherwise the skip is reported loudly
/// once with `how` to get the part, the test's name each time, and `None` is returned.
pub fn skipped<T>(part: &str, why: &str, how: &str) -> Option<T> {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("CI=true requires the {part} pass, but {part} is unavailable: {why}")
    }
    // Written to stderr directly: the test harness captures `eprintln!` of passing tests,
    // and a skipped pass must never go unnoticed.
    use std::io::Write;
    static WARNED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut stderr = std::io::stderr();
    let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
    if !warned.iter().any(|w| w == part) {
        warned.push(part.to_owned());
        let _ = writeln!(
            stderr,
            "\n!!! {part} pass SKIPPED: {why}\n!!! {how}; CI=true makes this an error.\n"
        );
    }
    let _ = writeln!(
        stderr,
        "!!! SKIPPED on {part}: {}",
        std::thread::current().name().unwrap_or("?")
    );
    None
}

/// Where an app keeps its media files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// A temporary directory of its own.
    File,
    /// A fresh bucket on the run's S3-compatible server (see [`s3`]).
    S3,
}

/// Keeps a test's database alive as long as the app that uses it.
enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres(pg::TestPgDatabase),
    /// A database the test manages itself.
    Given,
}

type AppService = BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

pub struct TestApp {
    service: AppService,
    pub state: AppState,
    pub backend: Backend,
    /// The media directory of a file store, removed with the app.
    _media: Option<tempfile::TempDir>,
    // Dropped last: the service and state hold pool connections to it.
    _database: TestDatabase,
}

/// How a test wants its app: extra routes for probing shared machinery, setting changes.
pub struct TestAppBuilder {
    backend: Backend,
    database: Option<DbUrl>,
    store: Store,
    /// A store shared with another app (another process of the same deployment).
    media: Option<newsdesk::storage::StoreSettings>,
    configure: Box<dyn FnOnce(&mut Config)>,
    routes: Box<dyn FnOnce(&mut web::ServiceConfig)>,
}

impl TestAppBuilder {
    pub fn new(backend: Backend) -> Self {
        TestAppBuilder {
            backend,
            database: None,
            store: Store::File,
            media: None,
            configure: Box::new(|_| {}),
            routes: Box::new(|_| {}),
        }
    }

    /// Use this database instead of a fresh one.
    pub fn database(mut self, url: DbUrl) -> Self {
        self.backend = match url.backend() {
            newsdesk::db::Backend::Postgres => Backend::Postgres,
            newsdesk::db::Backend::Sqlite => Backend::Sqlite,
        };
        self.database = Some(url);
        self
    }

    /// Keep media files in this kind of store.
    pub fn store(mut self, store: Store) -> Self {
        self.store = store;
        self
    }

    pub fn config(mut self, f: impl FnOnce(&mut Config) + 'static) -> Self {
        self.configure = Box::new(f);
        self
    }

    /// Adds routes to the real app, to probe the machinery every route shares (extractors, error
    /// conversion, middleware) with inputs no production route can produce on demand.
    pub fn routes(mut self, f: impl FnOnce(&mut web::ServiceConfig) + 'static) -> Self {
        self.routes = Box::new(f);
        self
    }

    /// `None` when the backend is PostgreSQL and none is available outside CI.
    pub async fn build(self) -> Option<TestApp> {
        let (url, database) = match (self.database, self.backend) {
            (Some(url), _) => (url, TestDatabase::Given),
            (None, Backend::Sqlite) => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = DbUrl::Sqlite(dir.path().join("newsdesk.db"));
                (url, TestDatabase::Sqlite(dir))
            }
            (None, Backend::Postgres) => {
                let server = pg::server()?;
                let db = server.create_database().expect("test database");
                let url = DbUrl::parse(&db.url).expect("postgres url");
                (url, TestDatabase::Postgres(db))
            }
        };
        let mut config = Config::for_database(url);
        let mut media_dir = None;
        config.media = match (self.media, self.store) {
            (Some(shared), _) => shared,
            (None, Store::File) => {
                let dir = tempfile::tempdir().expect("media dir");
                let settings = newsdesk::storage::StoreSettings::new(
                    newsdesk::storage::StoreLocation::Local(dir.path().to_owned()),
                );
                media_dir = Some(dir);
                settings
            }
            (None, Store::S3) => s3::fresh_bucket(None)?.1,
        };
        config.db_pool_size = 4;
        config.db_timeout = std::time::Duration::from_secs(2);
        (self.configure)(&mut config);
        let state = AppState::prepare(config).expect("app state");
        let app = newsdesk::build_app(state.clone()).configure(self.routes);
        let service = test::init_service(app).await;
        let service = boxed::service(service.map(ServiceResponse::map_into_boxed_body));
        Some(TestApp {
            service,
            state,
            backend: self.backend,
            _media: media_dir,
            _database: database,
        })
    }
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        TestAppBuilder::new(Backend::Sqlite)
            .build()
            .await
            .expect("SQLite is always available")
    }

    pub async fn postgres() -> Option<TestApp> {
        TestAppBuilder::new(Backend::Postgres).build().await
    }

    pub async fn call(&self, req: test::TestRequest) -> TestResponse {
        let res = actix_service::Service::call(&self.service, req.to_request())
            .await
            .expect("the app turns every failure into a response");
        let status = res.status();
        let headers = res.headers().clone();
        let body = test::read_body(res).await;
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// Another app on this app's database, as a second process of the same deployment.
    pub fn another_process(&self) -> TestAppBuilder {
        let mut builder = TestAppBuilder::new(self.backend).database(self.state.config.database.clone());
        builder.media = Some(self.state.config.media.clone());
        builder
    }

    /// Sets an article's title in the database without going through the application: no
    /// cache notification, no replica fence.
    pub async fn retitle_behind_the_back(&self, id: i64, title: &str) {
        use diesel::prelude::*;
        use newsdesk::db::schema::articles;
        let title = title.to_owned();
        self.state
            .db
            .run(move |conn| {
                diesel::update(articles::table.find(id))
                    .set(articles::title.eq(title))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap_or_else(|e| panic!("retitling article {id}: {e:?}"));
    }

    /// Loads the demo content (`serve --demo`); whether it was loaded now.
    pub async fn load_demo(&self) -> bool {
        let links = self.state.media.links.clone();
        self.state
            .db
            .run(move |conn| newsdesk::articles::demo::load(conn, &links))
            .await
            .expect("demo content")
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.call(test::TestRequest::get().uri(path)).await
    }

    pub async fn send(&self, method: Method, path: &str) -> TestResponse {
        self.call(test::TestRequest::default().method(method).uri(path))
            .await
    }
}

const LOGIN: &str = "/api/v1/auth/login";

static NEXT_USER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// An account made for a test, signed in over HTTP.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    /// Creates an account with this role and signs it in through `POST /auth/login`.
    pub async fn user(&self, role: Role) -> TestUser {
        let n = NEXT_USER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let email = format!("{}{n}@example.vn", role.as_str());
        let password = format!("mật khẩu {n} đủ dài");
        let row = newsdesk::accounts_cli::create(
            &self.state,
            &email,
            &format!("Người dùng {n}"),
            role,
            password.clone(),
        )
        .await
        .expect("create account");
        let data = self.login_as(&email, &password).await.expect(200).data();
        TestUser {
            id: row.id,
            email,
            password,
            access_token: data["access_token"].as_str().unwrap().to_owned(),
            refresh_token: data["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A sign-in attempt, `POST /auth/login`, whatever its outcome.
    pub async fn login_as(&self, email: &str, password: &str) -> TestResponse {
        self.post_json(LOGIN, &serde_json::json!({"email": email, "password": password}))
            .await
    }

    /// A sign-in attempt with the user's own credentials.
    pub async fn login(&self, user: &TestUser) -> TestResponse {
        self.login_as(&user.email, &user.password).await
    }

    /// A sign-in attempt from this client address (throttles and the audit log key on it).
    pub async fn login_from(&self, client: IpAddr, email: &str, password: &str) -> TestResponse {
        self.call(
            test::TestRequest::post()
                .uri(LOGIN)
                .peer_addr(SocketAddr::new(client, 40000))
                .set_json(serde_json::json!({"email": email, "password": password})),
        )
        .await
    }

    /// Signs in, which must succeed, and returns the new session's access token.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let data = self.login_as(email, password).await.expect(200).data();
        data["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.call(test::TestRequest::post().uri(path).set_json(body))
            .await
    }

    /// A request with a bearer token and an optional JSON body.
    pub async fn as_user(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut req = test::TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {token}")));
        if let Some(body) = body {
            req = req.set_json(body);
        }
        self.call(req).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> TestResponse {
        self.as_user(token, Method::GET, path, None).await
    }

    /// Creates an article as `editor` from these fields (a `title` at least) and publishes it
    /// now; returns its id and slug.
    pub async fn published_article(&self, editor: &TestUser, fields: Value) -> (i64, String) {
        let res = self
            .as_user(
                &editor.access_token,
                Method::POST,
                "/api/v1/admin/articles",
                Some(&fields),
            )
            .await;
        let article = res.expect(201).data();
        let id = article["id"].as_i64().unwrap();
        let slug = article["slug"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/admin/articles/{id}/publish");
        self.as_user(&editor.access_token, Method::POST, &path, None)
            .await
            .expect(200);
        (id, slug)
    }
}

/// The invalid fields a problem document names, sorted.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    fields
}

/// The slugs of a list answer, in order.
pub fn slugs(list: &Value) -> Vec<String> {
    texts(&list["data"], "slug")
}

/// The text `field` of each element of the array `items`, in order: the names of an item's
/// tags, say.
pub fn texts(items: &Value, field: &str) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a[field].as_str().unwrap().to_owned())
        .collect()
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: actix_web::web::Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts the status, showing the body when it is another, and hands the response on.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text());
        self
    }

    /// The `data` member of a JSON answer (`null` when there is none).
    pub fn data(&self) -> Value {
        self.json().get("data").cloned().unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and returns the problem document.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type of a {status}"
        );
        let problem = self.json();
        assert_eq!(problem["status"], status, "status field of {problem}");
        assert!(
            problem["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:newsdesk:problem:"))
        );
        assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(
            problem["code"].as_str().is_some_and(|c| c.contains('.')),
            "a machine code in {problem}"
        );
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        if let Some(errors) = problem["errors"].as_array() {
            for e in errors {
                assert!(
                    e["code"].is_string() && e["message"].is_string(),
                    "field error {e}"
                );
            }
        }
        problem
    }

    /// The `(field, code, message)` of each invalid field of a 422 answer.
    #[track_caller]
    pub fn field_errors(&self) -> Vec<(String, String, String)> {
        let text = |v: &Value| v.as_str().unwrap().to_owned();
        self.problem(422)["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (text(&e["field"]), text(&e["code"]), text(&e["message"])))
            .collect()
    }

    /// The `(field, code)` pairs of a 422 answer.
    #[track_caller]
    pub fn field_codes(&self) -> Vec<(String, String)> {
        self.field_errors().into_iter().map(|(f, c, _)| (f, c)).collect()
    }
}

/// Declares one test that runs on both backends, as `name::sqlite` and `name::postgres`.
/// `config = |c| …;` first changes the app's settings; `routes = f;` adds routes to the app
/// (see [`TestAppBuilder::routes`]).
#[macro_export]
macro_rules! backend_test {
    (@build $setup:expr; $(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$meta])*
            async fn run($app: $crate::common::TestApp) $body

            fn builder(backend: $crate::common::Backend) -> $crate::common::TestAppBuilder {
                let setup: fn($crate::common::TestAppBuilder) -> $crate::common::TestAppBuilder = $setup;
                setup($crate::common::TestAppBuilder::new(backend))
            }

            #[actix_web::test]
            async fn sqlite() {
                let app = builder($crate::common::Backend::Sqlite)
                    .build()
                    .await
                    .expect("SQLite is always available");
                run(app).await
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = builder($crate::common::Backend::Postgres).build().await {
                    run(app).await
                }
            }
        }
    };
    (config = $config:expr; $($test:tt)*) => {
        $crate::backend_test! { @build |b| b.config($config); $($test)* }
    };
    (routes = $routes:expr; $($test:tt)*) => {
        $crate::backend_test! { @build |b| b.routes($routes); $($test)* }
    };
    ($($test:tt)*) => {
        $crate::backend_test! { @build |b| b; $($test)* }
    };
}
