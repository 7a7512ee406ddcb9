//! Articles over HTTP: writing, optimistic locking, the workflow, revisions, preview links,
//! slug history, the public reading API, view counting, demo content and import.

mod demo;
mod desk;
mod editorial_list;
pub(crate) mod import;
mod links;
mod locking;
mod pages;
mod preview;
mod public;
mod revisions;
mod slugs;
mod views;
mod workflow;
mod writing;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{DateTime, Duration, NaiveDateTime};
use diesel::prelude::*;
use newsdesk::db::schema::articles;
use serde_json::{Value, json};

use crate::common::{TestApp, TestResponse, TestUser};

const ADMIN_ARTICLES: &str = "/api/v1/admin/articles";
const PUBLIC_ARTICLES: &str = "/api/v1/articles";

fn admin_article(id: i64) -> String {
    format!("{ADMIN_ARTICLES}/{id}")
}

/// A request with the user's bearer token.
fn authed(user: &TestUser, method: Method, path: &str) -> TestRequest {
    TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {}", user.access_token)))
}

/// Creates an article and returns its editorial form.
async fn create(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app
        .as_user(&user.access_token, Method::POST, ADMIN_ARTICLES, Some(&body))
        .await;
    assert_eq!(res.status, 201, "create {body}: {}", res.text());
    res.data()
}

async fn action(app: &TestApp, user: &TestUser, id: i64, what: &str, body: Option<&Value>) -> TestResponse {
    app.as_user(
        &user.access_token,
        Method::POST,
        &format!("{ADMIN_ARTICLES}/{id}/{what}"),
        body,
    )
    .await
}

async fn publish_now(app: &TestApp, user: &TestUser, id: i64) -> Value {
    let res = action(app, user, id, "publish", None).await;
    assert_eq!(res.status, 200, "publish {id}: {}", res.text());
    res.data()
}

fn parse_time(rfc3339: &str) -> NaiveDateTime {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().naive_utc()
}

/// Moves a published article's publish time, as if it had been published then.
async fn set_published_at(app: &TestApp, id: i64, at: &str) {
    let at = parse_time(at);
    app.state
        .db
        .run(move |conn| {
            diesel::update(articles::table.find(id))
                .set(articles::published_at.eq(Some(at)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// Creates and publishes an article, then dates its publication `at`.
async fn published(app: &TestApp, user: &TestUser, mut body: Value, at: &str) -> Value {
    if body.get("title").is_none() {
        body["title"] = json!(format!("Bài đăng lúc {at}"));
    }
    let article = create(app, user, body).await;
    let id = article["id"].as_i64().unwrap();
    publish_now(app, user, id).await;
    set_published_at(app, id, at).await;
    article
}

/// `2020-01-01T00:00:00Z` plus `n` hours.
fn hour(n: i64) -> String {
    let base = parse_time("2020-01-01T00:00:00Z");
    (base + Duration::hours(n))
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn public_detail(app: &TestApp, slug: &str) -> TestResponse {
    app.get(&format!("{PUBLIC_ARTICLES}/{slug}")).await
}

async fn category(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app
        .as_user(
            &user.access_token,
            Method::POST,
            "/api/v1/admin/categories",
            Some(&body),
        )
        .await
        .expect(201);
    res.data()
}
