//! `newsdesk import FILE…`: articles from JSON lines, one article per line:
//!
//! ```json
//! {"title": "…", "slug": "…", "summary": "…", "source": "HNP", "body": "…", "body_format": "markdown",
//!  "category": "Cải cách hành chính", "tags": ["CCHC"], "authors": ["Hoàng Anh"],
//!  "status": "published", "published_at": "2020-01-14T13:59:00Z"}
//! ```
//!
//! Only `title` is required. Categories, tags and authors are named and created when new
//! (authors as bylines without credentials). `status` is `draft` (default) or `published`
//! (at `published_at`, default now). Importing is idempotent by slug: a line whose slug
//! exists is skipped. A bad line is reported with its number and the rest still load.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use super::model::ArticleState;
use super::model::Content;
use super::render::BodyFormat;
use super::service::{Placement, insert};
use super::slug::unique_slug;
use super::validate::check_content;
use crate::auth::{AuthUser, Role};
use crate::db::Db;
use crate::db::schema::articles;
use crate::error::{ApiError, FieldError};
use crate::i18n::FieldCode;
use crate::media::links::Links;
use crate::text;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRecord {
    pub title: String,
    pub slug: Option<String>,
    pub summary: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub body: String,
    pub body_format: Option<BodyFormat>,
    pub cover_image_url: Option<String>,
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    pub status: Option<ArticleState>,
    pub published_at: Option<DateTime<Utc>>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub comments_enabled: Option<bool>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub imported: usize,
    pub skipped: usize,
    pub failed: Vec<(usize, String)>,
}

/// Lines per transaction: one commit (and fsync) per batch instead of per article.
const BATCH: usize = 500;

/// The importer writes as an administrator would: every check of the editorial API applies.
fn importer() -> AuthUser {
    AuthUser {
        id: 0,
        role: Role::Admin,
        session: String::new(),
    }
}

/// Imports one record; `Ok(false)` when its slug already exists.
fn import_one(conn: &mut Db, links: &Links, record: ImportRecord) -> Result<bool, ApiError> {
    let slug = match record.slug {
        Some(slug) => slug,
        None => {
            let generated = text::slugify(&record.title);
            if generated.is_empty() {
                return Err(ApiError::validation("title", FieldCode::NoLetters));
            }
            generated
        }
    };
    let exists: i64 = articles::table
        .filter(articles::slug.eq(&slug))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    let slug = if text::is_valid_slug(&slug) {
        slug
    } else {
        unique_slug(conn, &slug)?
    };
    let mut author_ids = Vec::new();
    for name in &record.authors {
        let name = text::clean(name);
        if name.is_empty() {
            return Err(ApiError::validation("authors", FieldCode::Required));
        }
        author_ids.push(super::demo::find_or_create_author(conn, &name)?);
    }
    if author_ids.is_empty() {
        author_ids.push(super::demo::find_or_create_author(conn, "Ban biên tập")?);
    }
    let category_id = match record
        .category
        .as_deref()
        .map(text::clean)
        .filter(|c| !c.is_empty())
    {
        Some(name) => Some(super::demo::find_or_create_category(conn, &name)?),
        None => None,
    };
    let content = Content {
        title: record.title,
        slug,
        summary: record.summary,
        source: record.source,
        body: record.body,
        body_format: record.body_format.unwrap_or(BodyFormat::Markdown),
        cover_image_url: record.cover_image_url,
        category_id,
        meta_title: record.meta_title,
        meta_description: record.meta_description,
        comments_enabled: record.comments_enabled.unwrap_or(true),
        tag_ids: Vec::new(),
        author_ids,
        cover_media_id: None,
        attachment_ids: Vec::new(),
    };
    let tags = (!record.tags.is_empty()).then_some(record.tags);
    let content = check_content(conn, &importer(), content, tags)?;
    let placement = match record.status.unwrap_or(ArticleState::Draft) {
        ArticleState::Draft => Placement {
            status: ArticleState::Draft,
            published_at: None,
        },
        ArticleState::Published => Placement {
            status: ArticleState::Published,
            published_at: Some(crate::db::truncate(
                record.published_at.map_or_else(crate::db::now, |t| t.naive_utc()),
            )),
        },
        other => {
            return Err(ApiError::invalid(
                FieldError::new("status", FieldCode::NotImportable).arg("status", other.as_str()),
            ));
        }
    };
    insert(conn, links, &content, None, placement)?;
    Ok(true)
}

/// Imports every line, in batches; returns the counts and the failures by line number.
pub fn import(conn: &mut Db, links: &Links, input: impl BufRead) -> Result<Report, ApiError> {
    let mut report = Report::default();
    let mut lines = input.lines().enumerate().peekable();
    while lines.peek().is_some() {
        let batch: Vec<(usize, std::io::Result<String>)> = lines.by_ref().take(BATCH).collect();
        conn.transaction::<_, ApiError, _>(|conn| {
            for (index, line) in batch {
                let number = index + 1;
                let line = match line {
                    Ok(line) => line,
                    Err(e) => {
                        report.failed.push((number, format!("unreadable: {e}")));
                        continue;
                    }
                };
                if line.trim().is_empty() {
                    continue;
                }
                let record: ImportRecord = match serde_json::from_str(&line) {
                    Ok(record) => record,
                    Err(e) => {
                        report.failed.push((number, format!("not an article: {e}")));
                        continue;
                    }
                };
                // A savepoint per line: a failing line leaves the rest of its batch intact.
                match conn.transaction::<_, ApiError, _>(|conn| import_one(conn, links, record)) {
                    Ok(true) => report.imported += 1,
                    Ok(false) => report.skipped += 1,
                    Err(e) => report.failed.push((number, crate::accounts_cli::describe(&e))),
                }
            }
            Ok(())
        })?;
    }
    Ok(report)
}
