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
//! (at `published_at`, default now). `cover_file` (with `cover_alt`, default the title) and
//! `attachments` name files by paths relative to the imported file's folder; they go through
//! the media library like uploads, each file once per import. Importing is idempotent by
//! slug: a line whose slug is an article's, current or former, is skipped. A bad line is
//! reported with its number and the rest still load.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use super::model::ArticleState;
use super::model::Content;
use super::render::BodyFormat;
use super::service::{Placement, insert};
use super::slug::{slug_taken, unique_slug};
use super::validate::check_content;
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::Db;
use crate::error::{ApiError, FieldError};
use crate::i18n::FieldCode;
use crate::media::links::Links;
use crate::media::upload::{Texts, ingest};
use crate::media::uses::Files;
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
    /// A photo for the cover, relative to the imported file's folder.
    pub cover_file: Option<String>,
    /// The cover's alt text; the title when absent.
    pub cover_alt: Option<String>,
    /// Files offered with the article, in order, relative to the imported file's folder.
    #[serde(default)]
    pub attachments: Vec<String>,
    #[serde(default)]
    pub featured: bool,
    #[serde(default)]
    pub featured_rank: i64,
    #[serde(default)]
    pub noindex: bool,
    /// The original's address, for a syndicated copy.
    pub canonical_url: Option<String>,
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
fn import_one(conn: &mut Db, links: &Links, record: ImportRecord, files: Files) -> Result<bool, ApiError> {
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
    // A former slug counts: the article imported under it may have been renamed since.
    if slug_taken(conn, &slug, None)? {
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
        cover_media_id: files.cover,
        attachment_ids: files.attachments,
        featured: record.featured,
        featured_rank: record.featured_rank,
        noindex: record.noindex,
        canonical_url: record.canonical_url,
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

/// One line read: blank, not an article, or an article.
enum Line {
    Blank,
    Bad(String),
    Record(Box<ImportRecord>),
}

fn parse(line: std::io::Result<String>) -> Line {
    match line {
        Err(e) => Line::Bad(format!("unreadable: {e}")),
        Ok(line) if line.trim().is_empty() => Line::Blank,
        Ok(line) => match serde_json::from_str(&line) {
            Ok(record) => Line::Record(Box::new(record)),
            Err(e) => Line::Bad(format!("not an article: {e}")),
        },
    }
}

/// The files of the archive already in the library, by path: each is taken once.
type Taken = HashMap<PathBuf, i64>;

/// A path of a line, inside the archive's folder: relative, without `..`.
fn inside(dir: &Path, field: &str, relative: &str) -> Result<PathBuf, ApiError> {
    let path = Path::new(relative);
    let plain = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
    if relative.is_empty() || !plain {
        return Err(ApiError::validation(field, FieldCode::InvalidValue));
    }
    Ok(dir.join(path))
}

/// Takes a file of the archive into the library, or finds it taken earlier in this import.
async fn take(
    state: &AppState,
    taken: &mut Taken,
    field: &str,
    path: PathBuf,
    alt: &str,
) -> Result<i64, ApiError> {
    if let Some(id) = taken.get(&path) {
        return Ok(*id);
    }
    let bytes = std::fs::read(&path).map_err(|_| ApiError::validation(field, FieldCode::FileUnreadable))?;
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let texts = Texts {
        alt: Some(alt.to_owned()),
        ..Texts::default()
    };
    let media = ingest(state, None, filename, bytes, texts).await?;
    taken.insert(path, media.id);
    Ok(media.id)
}

/// The library ids of the files a record names.
async fn files_of(
    state: &AppState,
    dir: &Path,
    taken: &mut Taken,
    record: &ImportRecord,
) -> Result<Files, ApiError> {
    let mut files = Files::default();
    if let Some(cover) = &record.cover_file {
        let alt = record.cover_alt.as_deref().unwrap_or(&record.title);
        let path = inside(dir, "cover_file", cover)?;
        files.cover = Some(take(state, taken, "cover_file", path, alt).await?);
    }
    for attachment in &record.attachments {
        let path = inside(dir, "attachments", attachment)?;
        files
            .attachments
            .push(take(state, taken, "attachments", path, &record.title).await?);
    }
    Ok(files)
}

/// Imports every line, in batches of one transaction each (a savepoint per line, so a
/// failing line leaves the rest of its batch intact); files a line names are taken into the
/// library first, from `dir`. Returns the counts and the failures by line number.
pub async fn import(state: &AppState, dir: &Path, input: impl BufRead) -> Result<Report, ApiError> {
    let mut report = Report::default();
    let mut taken = Taken::new();
    let mut lines = input.lines().enumerate().peekable();
    while lines.peek().is_some() {
        let mut batch = Vec::new();
        for (index, line) in lines.by_ref().take(BATCH) {
            let number = index + 1;
            match parse(line) {
                Line::Blank => {}
                Line::Bad(why) => report.failed.push((number, why)),
                Line::Record(record) => match files_of(state, dir, &mut taken, &record).await {
                    Ok(files) => batch.push((number, record, files)),
                    Err(e) => report.failed.push((number, crate::accounts_cli::describe(&e))),
                },
            }
        }
        let links = state.media.links.clone();
        let (imported, skipped, failed) = state
            .db
            .run(move |conn| {
                conn.transaction::<_, ApiError, _>(|conn| {
                    let (mut imported, mut skipped, mut failed) = (0, 0, Vec::new());
                    for (number, record, files) in batch {
                        match conn
                            .transaction::<_, ApiError, _>(|conn| import_one(conn, &links, *record, files))
                        {
                            Ok(true) => imported += 1,
                            Ok(false) => skipped += 1,
                            Err(e) => failed.push((number, crate::accounts_cli::describe(&e))),
                        }
                    }
                    Ok((imported, skipped, failed))
                })
            })
            .await?;
        report.imported += imported;
        report.skipped += skipped;
        report.failed.extend(failed);
    }
    report.failed.sort_by_key(|(number, _)| *number);
    Ok(report)
}
