//! HTTP-level tests of the whole application, each run on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "api/accounts.rs"]
mod accounts;
#[path = "api/articles/mod.rs"]
mod articles;
#[path = "api/audit/mod.rs"]
mod audit;
#[path = "api/auth.rs"]
mod auth;
#[path = "api/cache.rs"]
mod cache;
#[path = "api/cli.rs"]
mod cli;
#[path = "api/comments.rs"]
mod comments;
#[path = "api/cors.rs"]
mod cors;
#[path = "api/docs.rs"]
mod docs;
#[path = "api/edge.rs"]
mod edge;
#[path = "api/errors.rs"]
mod errors;
#[path = "api/feeds.rs"]
mod feeds;
#[path = "api/i18n.rs"]
mod i18n;
#[path = "api/media/mod.rs"]
mod media;
#[path = "api/migrations.rs"]
mod migrations;
#[path = "api/openapi.rs"]
mod openapi;
#[path = "api/operations.rs"]
mod operations;
#[path = "api/outage.rs"]
mod outage;
#[path = "api/permissions.rs"]
mod permissions;
#[path = "api/processes.rs"]
mod processes;
#[path = "api/reader.rs"]
mod reader;
#[path = "api/replicas.rs"]
mod replicas;
#[path = "api/search.rs"]
mod search;
#[path = "api/storage.rs"]
mod storage;
#[path = "api/taxonomy.rs"]
mod taxonomy;
#[path = "api/times.rs"]
mod times;
#[path = "api/webhooks.rs"]
mod webhooks;
