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

mod prepare;
mod progress;
mod write;

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

pub use progress::Progress;

use super::model::ArticleState;
use super::render::BodyFormat;
use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::db::Db;
use crate::error::ApiError;
use crate::i18n::FieldCode;
use crate::media::upload::{Texts, ingest};
use crate::media::uses::Files;
use crate::search::merges;
use prepare::{Line, spawn_reader};
use write::{Known, write_batch};

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

/// Lines per transaction: one commit (and fsync) and a few multi-row statements per batch
/// instead of a commit and some thirty statements per article.
const BATCH: usize = 1000;

/// The importer writes as an administrator would: every check of the editorial API applies.
fn importer() -> AuthUser {
    AuthUser {
        id: 0,
        role: Role::Admin,
        session: String::new(),
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

/// How far an import is, for the progress its command shows: bytes of the file and lines
/// written (imported, skipped or failed), updated after each batch.
#[derive(Debug, Default)]
pub struct Tally {
    pub bytes: AtomicU64,
    pub lines: AtomicU64,
    /// Every line is written; the indexes are being merged and the statistics refreshed.
    pub settling: AtomicBool,
}

/// Imports every line, in batches of one transaction each; files a line names are taken
/// into the library first, from `dir`. Returns the counts and the failures by line number.
pub async fn import(
    state: &AppState,
    dir: &Path,
    input: impl BufRead + Send + 'static,
) -> Result<Report, ApiError> {
    import_counting(state, dir, input, Arc::new(Tally::default())).await
}

/// [`import`], counting in `tally` how far it is.
pub async fn import_counting(
    state: &AppState,
    dir: &Path,
    input: impl BufRead + Send + 'static,
    tally: Arc<Tally>,
) -> Result<Report, ApiError> {
    let mut report = Report::default();
    let mut taken = Taken::new();
    let mut known = Known::default();
    let merges = state.db.run(|conn| Ok(merges::before_import(conn)?)).await?;
    let postgres = state.db.backend() == crate::db::Backend::Postgres;
    // With a pool of one connection, the second half would wait for the first.
    let on_two = postgres && state.db.pool().max_size() >= 2;
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    spawn_reader(input, tx, postgres);
    while let Some(batch) = rx.recv().await {
        let mut lines = Vec::with_capacity(batch.lines.len());
        for (number, line) in batch.lines {
            let files = match &line {
                Line::Single(record) => Some(files_of(state, dir, &mut taken, record).await),
                _ => None,
            };
            lines.push((number, line, files));
        }
        let count = lines.len() as u64;
        let (done, back) = if on_two {
            write_on_two(state, known, lines).await?
        } else {
            let links = state.media.links.clone();
            let merges = merges.clone();
            state
                .db
                .run(move |conn| {
                    widen_cache(conn)?;
                    conn.transaction(|conn| {
                        if let Some(merges) = &merges {
                            merges.hold(conn)?;
                        }
                        let done = write_batch(conn, &links, &mut known, lines)?;
                        if let Some(merges) = &merges {
                            merges.release(conn)?;
                        }
                        Ok::<_, ApiError>(done)
                    })
                    .map(|done| (done, known))
                })
                .await?
        };
        known = back;
        report.imported += done.imported;
        report.skipped += done.skipped;
        report.failed.extend(done.failed);
        tally.bytes.store(batch.read, Ordering::Relaxed);
        tally.lines.fetch_add(count, Ordering::Relaxed);
    }
    report.failed.sort_by_key(|(number, _)| *number);
    if report.imported > 0 {
        tally.settling.store(true, Ordering::Relaxed);
        let imported = report.imported;
        state
            .db
            .run(move |conn| {
                if let Some(merges) = &merges {
                    merges::settle(conn, merges, imported)?;
                }
                Ok(refresh_statistics(conn)?)
            })
            .await?;
    }
    Ok(report)
}

/// Writes a batch on PostgreSQL: the names its lines need are created and committed first,
/// then two connections write half of the ready lines each, in transactions of their own.
/// One connection's database process was the import's bottleneck, a core's worth of work
/// while the other core was partly idle. The halves never share a slug (a batch claims each
/// slug once) and seldom a search key (see [`write::halves`]); a half the database refuses is
/// written again line by line once the other half has committed, so it sees those rows.
async fn write_on_two(
    state: &AppState,
    mut known: Known,
    lines: Vec<write::Numbered>,
) -> Result<(write::Done, Known), ApiError> {
    let (sorted, known) = state
        .db
        .run(move |conn| {
            let sorted = conn.transaction(|conn| write::sort_out(conn, &mut known, lines))?;
            Ok((sorted, known))
        })
        .await?;
    let write::Sorted {
        mut done,
        ready,
        single,
    } = sorted;
    let (first, second) = write::halves(ready);
    let bulk = |half: Vec<write::Insert>| {
        state.db.run(move |conn| {
            // Nothing to add to `search_terms`: PostgreSQL keeps none.
            let written = conn.transaction(|conn| write::insert_all(conn, &half, &Default::default()));
            Ok(match written {
                Ok(_) => (half.len(), Vec::new()),
                Err(_) => (0, half),
            })
        })
    };
    let (a, b) = tokio::join!(bulk(first), bulk(second));
    let parts = [a?, b?];
    let links = state.media.links.clone();
    state
        .db
        .run(move |conn| {
            for (imported, refused) in parts {
                done.imported += imported;
                write::write_ready_one_by_one(conn, &links, refused, &mut done);
            }
            write::write_single(conn, &links, single, &mut done);
            Ok((done, known))
        })
        .await
}

/// SQLite's page cache for a connection that imports, in KiB (a negative `cache_size`): the
/// indexes each batch adds to and the full-text segments FTS5 merges stay in memory instead of
/// being read back from the file at the default 2 MB. A pool's connection keeps it for the
/// life of the process, which for `newsdesk import` ends with the import.
const IMPORT_CACHE_KIB: i64 = 256 * 1024;

fn widen_cache(conn: &mut Db) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    if let Db::Sqlite(c) = conn {
        c.batch_execute(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))?;
    }
    Ok(())
}

/// After a bulk load, PostgreSQL's planner still holds the statistics of the tables before
/// it until autovacuum gets round to them, and meanwhile may plan a page's statements for
/// nearly empty tables (seen: an article page at a tenth of its speed in the first seconds
/// after importing 5,000 articles). SQLite keeps no statistics unless asked (none here).
fn refresh_statistics(conn: &mut Db) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    if let Db::Pg(pg) = conn {
        pg.batch_execute(
            "ANALYZE articles, article_tags, article_authors, article_search, article_media, article_slugs",
        )?;
    }
    Ok(())
}
