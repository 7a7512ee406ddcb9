//! newsdesk: a headless CMS JSON API for news and public-information portals.
//!
//! The library holds everything; `main.rs` only parses the command line. Tests drive the
//! same [`build_app`] the server runs.

pub mod accounts_cli;
pub mod app;
pub mod articles;
pub mod audit;
pub mod auth;
pub mod authors;
pub mod backup;
pub mod cache;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod envelope;
pub mod error;
pub mod feeds;
pub mod http;
pub mod i18n;
pub mod media;
pub mod openapi;
pub mod ops;
pub mod patch;
pub mod reader;
pub mod routing;
mod rows;
pub mod search;
pub mod server;
pub mod storage;
pub mod taxonomy;
pub mod telemetry;
pub mod text;
pub mod time;
pub mod webhooks;
pub mod workers;

pub use app::{AppState, build_app};
