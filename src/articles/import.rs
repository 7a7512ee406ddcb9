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

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use super::model::{ArticleState, Content, ContentColumns};
use super::render::{self, BodyFormat};
use super::service::{Placement, insert};
use super::slug::{slug_conflict, slug_taken, unique_slug};
use super::validate::{check_content, check_text};
use crate::app::AppState;
use crate::audit::Resource;
use crate::auth::{AuthUser, Role};
use crate::cache::{self, Scope};
use crate::db::Db;
use crate::db::schema::{
    article_authors, article_revisions, article_slugs, article_tags, articles, audit_log,
};
use crate::error::{ApiError, FieldError};
use crate::i18n::FieldCode;
use crate::media::links::Links;
use crate::media::upload::{Texts, ingest};
use crate::media::uses::{BodyImages, Files};
use crate::rows::insert_rows;
use crate::search::Folded;
use crate::taxonomy::service as taxonomy;
use crate::text;
use crate::webhooks::{self, Event};

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
}

/// A line prepared away from the connection.
enum Line {
    Blank,
    Bad(String),
    /// Written in bulk: everything the database is needed for is a lookup by name.
    Ready(Box<Ready>),
    /// Names files or library images, or has a slug to be made unique: imported on its own
    /// by [`import_one`], as the editorial API would.
    Single(Box<ImportRecord>),
}

/// A record checked and rendered, waiting for its slug to be found free.
struct Ready {
    slug: String,
    /// What fails the line once its slug is free (a taken slug skips it first).
    draft: Result<Draft, ApiError>,
}

struct Draft {
    /// Checked and normalised content, its ids still to be found from the names below.
    content: Content,
    authors: Vec<String>,
    category: Option<String>,
    tags: Vec<String>,
    placement: Result<Placement, ApiError>,
    body_html: String,
    folded: Folded,
}

/// Lines read so far and their preparations, in file order.
struct Batch {
    lines: Vec<(usize, Line)>,
    /// Bytes of the input up to the end of this batch.
    read: u64,
}

fn placement(record: &ImportRecord) -> Result<Placement, ApiError> {
    match record.status.unwrap_or(ArticleState::Draft) {
        ArticleState::Draft => Ok(Placement {
            status: ArticleState::Draft,
            published_at: None,
        }),
        ArticleState::Published => Ok(Placement {
            status: ArticleState::Published,
            published_at: Some(crate::db::truncate(
                record.published_at.map_or_else(crate::db::now, |t| t.naive_utc()),
            )),
        }),
        other => Err(ApiError::invalid(
            FieldError::new("status", FieldCode::NotImportable).arg("status", other.as_str()),
        )),
    }
}

/// The slug a record asks for, or the one its title makes.
fn wanted_slug(record: &ImportRecord) -> Result<String, ApiError> {
    match &record.slug {
        Some(slug) => Ok(slug.clone()),
        None => {
            let generated = text::slugify(&record.title);
            if generated.is_empty() {
                return Err(ApiError::validation("title", FieldCode::NoLetters));
            }
            Ok(generated)
        }
    }
}

/// Everything about a line that needs no database: parsing, the editorial API's checks of
/// the text, rendering and folding. In the order [`import_one`] reports failures, so a line
/// fails with the same message on either path.
fn prepare(line: std::io::Result<String>) -> Line {
    let line = match line {
        Err(e) => return Line::Bad(format!("unreadable: {e}")),
        Ok(line) if line.trim().is_empty() => return Line::Blank,
        Ok(line) => line,
    };
    let record: ImportRecord = match serde_json::from_str(&line) {
        Ok(record) => record,
        Err(e) => return Line::Bad(format!("not an article: {e}")),
    };
    let format = record.body_format.unwrap_or(BodyFormat::Markdown);
    let slug = match wanted_slug(&record) {
        Ok(slug) => slug,
        Err(e) => {
            return Line::Ready(Box::new(Ready {
                slug: String::new(),
                draft: Err(e),
            }));
        }
    };
    let refs = render::image_refs(&record.body, format);
    let single = record.cover_file.is_some()
        || !record.attachments.is_empty()
        || !refs.ids.is_empty()
        || !refs.hashes.is_empty()
        || !text::is_valid_slug(&slug);
    if single {
        return Line::Single(Box::new(record));
    }
    let draft = draft(record, slug.clone(), format);
    Line::Ready(Box::new(Ready { slug, draft }))
}

fn draft(record: ImportRecord, slug: String, format: BodyFormat) -> Result<Draft, ApiError> {
    let mut authors = Vec::new();
    for name in &record.authors {
        let name = text::clean(name);
        if name.is_empty() {
            return Err(ApiError::validation("authors", FieldCode::Required));
        }
        authors.push(name);
    }
    if authors.is_empty() {
        authors.push(DEFAULT_BYLINE.to_owned());
    }
    let category = record
        .category
        .as_deref()
        .map(text::clean)
        .filter(|c| !c.is_empty());
    let placement = placement(&record);
    let content = Content {
        title: record.title,
        slug,
        summary: record.summary,
        source: record.source,
        body: record.body,
        body_format: format,
        cover_image_url: record.cover_image_url,
        category_id: None,
        meta_title: record.meta_title,
        meta_description: record.meta_description,
        comments_enabled: record.comments_enabled.unwrap_or(true),
        tag_ids: Vec::new(),
        author_ids: Vec::new(),
        cover_media_id: None,
        attachment_ids: Vec::new(),
        featured: record.featured,
        featured_rank: record.featured_rank,
        noindex: record.noindex,
        canonical_url: record.canonical_url,
    };
    let mut errors = Vec::new();
    let content = check_text(content, &mut errors);
    // Authors are found by slug, so two names of one slug would be the same byline twice.
    let mut slugs: Vec<String> = authors.iter().map(|a| text::slugify(a)).collect();
    slugs.sort_unstable();
    slugs.dedup();
    if slugs.len() != authors.len() {
        errors.push(FieldError::new("author_ids", FieldCode::Duplicate));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let body_html = render::to_html(&content.body, content.body_format, &BodyImages::default());
    let folded = Folded::of(&content.title, content.summary.as_deref(), &body_html);
    Ok(Draft {
        content,
        authors,
        category,
        tags: record.tags,
        placement,
        body_html,
        folded,
    })
}

/// The byline of an article whose line names no author.
const DEFAULT_BYLINE: &str = "Ban biên tập";

/// Reads and prepares batches on threads of their own, so the next batch is parsed, checked,
/// rendered and folded while the database writes this one: on two threads, which share the
/// cores with the database's writer as its work and theirs come and go.
fn spawn_reader(input: impl BufRead + Send + 'static, tx: tokio::sync::mpsc::Sender<Batch>) {
    std::thread::spawn(move || {
        let mut read = 0u64;
        let mut lines = input.split(b'\n').enumerate().peekable();
        while lines.peek().is_some() {
            let mut raw = Vec::with_capacity(BATCH);
            for (index, line) in lines.by_ref().take(BATCH) {
                let line = line.and_then(|bytes| {
                    read += bytes.len() as u64 + 1;
                    String::from_utf8(bytes)
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                });
                raw.push((index + 1, line.map(|l| l.trim_end_matches('\r').to_owned())));
            }
            let batch = Batch {
                lines: prepare_all(raw),
                read,
            };
            if tx.blocking_send(batch).is_err() {
                return;
            }
        }
    });
}

/// Prepares lines in two halves at once.
fn prepare_all(mut raw: Vec<(usize, std::io::Result<String>)>) -> Vec<(usize, Line)> {
    let second = raw.split_off(raw.len().div_ceil(2));
    let numbers: Vec<usize> = second.iter().map(|(n, _)| *n).collect();
    let prepare_half = |half: Vec<(usize, std::io::Result<String>)>| -> Vec<(usize, Line)> {
        half.into_iter().map(|(n, line)| (n, prepare(line))).collect()
    };
    std::thread::scope(|scope| {
        let other = scope.spawn(|| prepare_half(second));
        let mut lines = prepare_half(raw);
        match other.join() {
            Ok(rest) => lines.extend(rest),
            // A line that panicked its thread fails with the others of its half, not the import.
            Err(_) => lines.extend(
                numbers
                    .into_iter()
                    .map(|n| (n, Line::Bad("could not be prepared".to_owned()))),
            ),
        }
        lines
    })
}

/// Ids found or created by name during one import, by slug: most lines of an archive name
/// the same few bylines, categories and tags.
#[derive(Default)]
struct Known {
    authors: HashMap<String, i64>,
    categories: HashMap<String, i64>,
    tags: HashMap<String, i64>,
    /// Words already in `search_terms`.
    words: HashSet<String>,
}

/// The id of the name's slug in `known`, or found (or created) by `find` and remembered.
fn remembered(
    known: &mut HashMap<String, i64>,
    name: &str,
    find: impl FnOnce(&str) -> Result<i64, ApiError>,
) -> Result<i64, ApiError> {
    let slug = text::slugify(name);
    if let Some(id) = known.get(&slug) {
        return Ok(*id);
    }
    let id = find(name)?;
    known.insert(slug, id);
    Ok(id)
}

impl Known {
    fn author(&mut self, conn: &mut Db, name: &str) -> Result<i64, ApiError> {
        remembered(&mut self.authors, name, |name| {
            super::demo::find_or_create_author(conn, name)
        })
    }

    fn category(&mut self, conn: &mut Db, name: &str) -> Result<i64, ApiError> {
        remembered(&mut self.categories, name, |name| {
            super::demo::find_or_create_category(conn, name)
        })
    }

    /// The line's tags, created when new, with the editorial API's checks of the names.
    fn tags(&mut self, conn: &mut Db, names: &[String]) -> Result<Vec<i64>, ApiError> {
        if names.iter().any(|n| !self.tags.contains_key(n)) {
            // Checks every name (a bad one fails the line and creates none) and creates the new.
            taxonomy::tag_ids_for_names(conn, importer().id, names)?;
            for name in names {
                if !self.tags.contains_key(name) {
                    let ids = taxonomy::tag_ids_for_names(conn, importer().id, std::slice::from_ref(name))?;
                    if let Some(id) = ids.first() {
                        self.tags.insert(name.clone(), *id);
                    }
                }
            }
        }
        let mut ids: Vec<i64> = names.iter().filter_map(|n| self.tags.get(n).copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

/// A line whose slug is free and whose content is complete, to be inserted.
struct Insert {
    number: usize,
    content: Content,
    placement: Placement,
    body_html: String,
    folded: Folded,
}

/// A line with its number and, for one that names files, their library ids or why not.
type Numbered = (usize, Line, Option<Result<Files, ApiError>>);

/// What one batch did.
#[derive(Default)]
struct Done {
    imported: usize,
    skipped: usize,
    failed: Vec<(usize, String)>,
}

/// The slugs among `slugs` that are articles', current or former.
fn taken_slugs(conn: &mut Db, slugs: &[&str]) -> QueryResult<HashSet<String>> {
    let mut taken = HashSet::new();
    for chunk in slugs.chunks(ROWS_PER_INSERT) {
        let current: Vec<String> = articles::table
            .filter(articles::slug.eq_any(chunk))
            .select(articles::slug)
            .load(conn)?;
        let former: Vec<String> = article_slugs::table
            .filter(article_slugs::slug.eq_any(chunk))
            .select(article_slugs::slug)
            .load(conn)?;
        taken.extend(current);
        taken.extend(former);
    }
    Ok(taken)
}

/// Rows per multi-row INSERT: well under both backends' limits on bound parameters (an
/// article row has some twenty).
const ROWS_PER_INSERT: usize = 500;

/// Inserts checked articles in multi-row statements: the rows, bylines, tags, first
/// revisions, search entries and audit entries, as [`insert`] writes them one by one.
/// Returns the words added to `search_terms`.
fn insert_all(conn: &mut Db, rows: &[Insert], known: &HashSet<String>) -> Result<Vec<String>, ApiError> {
    let at = crate::db::now();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    ContentColumns::new(&r.content, &r.body_html),
                    articles::status.eq(r.placement.status.as_str()),
                    articles::version.eq(1),
                    articles::published_at.eq(r.placement.published_at),
                    articles::was_public.eq(r.placement.status == ArticleState::Published),
                    articles::created_by.eq(None::<i64>),
                    articles::created_at.eq(at),
                    articles::updated_at.eq(at),
                )
            })
            .collect();
        insert_rows!(conn, articles::table, &values).map_err(slug_conflict)?;
    }
    let slugs: Vec<&str> = rows.iter().map(|r| r.content.slug.as_str()).collect();
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    for chunk in slugs.chunks(ROWS_PER_INSERT) {
        let found: Vec<(String, i64)> = articles::table
            .filter(articles::slug.eq_any(chunk))
            .select((articles::slug, articles::id))
            .load(conn)?;
        ids.extend(found);
    }
    let id_of = |r: &Insert| {
        ids.get(&r.content.slug).copied().ok_or_else(|| {
            ApiError::internal(format!("article {} not found after its insert", r.content.slug))
        })
    };
    let mut bylines = Vec::new();
    let mut tagged = Vec::new();
    let mut revisions = Vec::new();
    let mut audit = Vec::new();
    let mut search = Vec::new();
    let mut published = Vec::new();
    for r in rows {
        let id = id_of(r)?;
        for (position, author) in r.content.author_ids.iter().enumerate() {
            bylines.push((
                article_authors::article_id.eq(id),
                article_authors::author_id.eq(*author),
                article_authors::position.eq(position as i64),
            ));
        }
        for tag in &r.content.tag_ids {
            tagged.push((article_tags::article_id.eq(id), article_tags::tag_id.eq(*tag)));
        }
        let content = super::revisions::stored_content(&r.content)?;
        revisions.push((
            article_revisions::article_id.eq(id),
            article_revisions::version.eq(1),
            article_revisions::content.eq(content),
            article_revisions::edited_by.eq(None::<i64>),
            article_revisions::created_at.eq(at),
        ));
        audit.push((
            audit_log::at.eq(at),
            audit_log::actor_id.eq(None::<i64>),
            audit_log::action.eq("article.create"),
            audit_log::resource_type.eq(Resource::Article.as_str()),
            audit_log::resource_id.eq(Some(id)),
            audit_log::client_hash.eq(None::<String>),
            audit_log::detail.eq(Some(
                serde_json::json!({ "status": r.placement.status }).to_string(),
            )),
        ));
        let live = r
            .placement
            .published_at
            .filter(|_| r.placement.status == ArticleState::Published);
        if live.is_some() {
            published.push(id);
        }
        search.push((id, live, &r.folded));
    }
    for chunk in bylines.chunks(ROWS_PER_INSERT) {
        insert_rows!(conn, article_authors::table, chunk)?;
    }
    for chunk in tagged.chunks(ROWS_PER_INSERT) {
        insert_rows!(conn, article_tags::table, chunk)?;
    }
    for chunk in revisions.chunks(ROWS_PER_INSERT) {
        insert_rows!(conn, article_revisions::table, chunk)?;
    }
    let added = crate::search::index_new(conn, &search, known)?;
    for chunk in audit.chunks(ROWS_PER_INSERT) {
        insert_rows!(conn, audit_log::table, chunk)?;
    }
    if !published.is_empty() {
        cache::changed(conn, Scope::Content)?;
        if webhooks::subscribed(conn, Event::ArticlePublished)? {
            let data = published
                .iter()
                .map(|id| super::editorial::event_data(conn, *id))
                .collect::<Result<Vec<_>, _>>()?;
            webhooks::emit(conn, Event::ArticlePublished, &data)?;
        }
    }
    Ok(added)
}

/// Writes one batch in one transaction: lines ready for bulk in multi-row statements (one by
/// one, each in a savepoint, should those fail, so the failing line is found and the others
/// still load), then the lines that need the editorial API's path, each in a savepoint.
fn write_batch(
    conn: &mut Db,
    links: &Links,
    known: &mut Known,
    lines: Vec<Numbered>,
) -> Result<Done, ApiError> {
    let mut done = Done::default();
    let wanted: Vec<&str> = lines
        .iter()
        .filter_map(|(_, line, _)| match line {
            Line::Ready(ready) if !ready.slug.is_empty() => Some(ready.slug.as_str()),
            Line::Single(record) => record.slug.as_deref().filter(|s| text::is_valid_slug(s)),
            _ => None,
        })
        .collect();
    let taken = taken_slugs(conn, &wanted)?;
    let mut claimed: HashSet<String> = HashSet::new();
    let mut ready = Vec::new();
    let mut single = Vec::new();
    for (number, line, files) in lines {
        match line {
            Line::Blank => {}
            Line::Bad(why) => done.failed.push((number, why)),
            Line::Single(record) => match files {
                Some(Err(e)) => done.failed.push((number, crate::accounts_cli::describe(&e))),
                files => {
                    if let Some(slug) = record.slug.as_deref().filter(|s| text::is_valid_slug(s)) {
                        claimed.insert(slug.to_owned());
                    }
                    single.push((number, record, files.and_then(Result::ok).unwrap_or_default()));
                }
            },
            Line::Ready(r) => {
                let Ready { slug, draft } = *r;
                let draft = match draft {
                    Err(e) if slug.is_empty() => {
                        done.failed.push((number, crate::accounts_cli::describe(&e)));
                        continue;
                    }
                    // A former slug counts: the article imported under it may have been renamed since.
                    _ if taken.contains(&slug) || !claimed.insert(slug.clone()) => {
                        done.skipped += 1;
                        continue;
                    }
                    Err(e) => {
                        done.failed.push((number, crate::accounts_cli::describe(&e)));
                        continue;
                    }
                    Ok(draft) => draft,
                };
                match complete(conn, known, draft) {
                    Ok(insert) => ready.push(Insert { number, ..insert }),
                    Err(e) => done.failed.push((number, crate::accounts_cli::describe(&e))),
                }
            }
        }
    }
    let bulk = conn.transaction(|conn| insert_all(conn, &ready, &known.words));
    match bulk {
        Ok(added) => {
            done.imported += ready.len();
            known.words.extend(added);
        }
        // The database refused a row the checks let through: each line on its own finds it.
        Err(_) => {
            for r in ready {
                let inserted =
                    conn.transaction(|conn| insert(conn, links, &r.content, None, r.placement).map(|_| ()));
                match inserted {
                    Ok(()) => done.imported += 1,
                    Err(e) => done.failed.push((r.number, crate::accounts_cli::describe(&e))),
                }
            }
        }
    }
    for (number, record, files) in single {
        match conn.transaction::<_, ApiError, _>(|conn| import_one(conn, links, *record, files)) {
            Ok(true) => done.imported += 1,
            Ok(false) => done.skipped += 1,
            Err(e) => done.failed.push((number, crate::accounts_cli::describe(&e))),
        }
    }
    Ok(done)
}

/// A draft with its names found or created, or why its line fails.
fn complete(conn: &mut Db, known: &mut Known, draft: Draft) -> Result<Insert, ApiError> {
    let Draft {
        mut content,
        authors,
        category,
        tags,
        placement,
        body_html,
        folded,
    } = draft;
    // Checked before any name is created, so a line that fails leaves no new byline or tag.
    let placement = placement?;
    if !tags.is_empty() {
        content.tag_ids = known.tags(conn, &tags)?;
    }
    for name in &authors {
        content.author_ids.push(known.author(conn, name)?);
    }
    if let Some(name) = &category {
        content.category_id = Some(known.category(conn, name)?);
    }
    Ok(Insert {
        number: 0,
        content,
        placement,
        body_html,
        folded,
    })
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
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    spawn_reader(input, tx);
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
        let links = state.media.links.clone();
        let (done, back) = state
            .db
            .run(move |conn| {
                conn.transaction(|conn| write_batch(conn, &links, &mut known, lines))
                    .map(|done| (done, known))
            })
            .await?;
        known = back;
        report.imported += done.imported;
        report.skipped += done.skipped;
        report.failed.extend(done.failed);
        tally.bytes.store(batch.read, Ordering::Relaxed);
        tally.lines.fetch_add(count, Ordering::Relaxed);
    }
    report.failed.sort_by_key(|(number, _)| *number);
    if report.imported > 0 {
        state.db.run(|conn| Ok(refresh_statistics(conn)?)).await?;
    }
    Ok(report)
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

/// What the operator sees while a file imports: on a terminal a bar over the file's bytes
/// with the lines done, the rate and the time left; otherwise a line at the start, one every
/// few seconds and one at the end, which is what a log collector wants. An archive takes
/// minutes, and silence would look like a hang.
pub struct Progress {
    done: Arc<std::sync::atomic::AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

/// Seconds between two progress lines when stderr is not a terminal.
const PROGRESS_EVERY: u64 = 5;

impl Progress {
    /// Starts showing the import of `name`, `size` bytes, as `tally` counts it.
    pub fn start(name: String, size: u64, tally: Arc<Tally>) -> Progress {
        use std::io::IsTerminal;
        use std::time::{Duration, Instant};
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let started = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            // A pipe has no size to measure against: a spinner with the bytes and lines read.
            let (bar, template) = if size > 0 {
                (
                    indicatif::ProgressBar::new(size),
                    "{msg} [{bar:30}] {bytes}/{total_bytes}, {elapsed_precise}, ETA {eta}",
                )
            } else {
                (
                    indicatif::ProgressBar::new_spinner(),
                    "{spinner} {msg}, {bytes}, {elapsed_precise}",
                )
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(name.clone());
            bar
        });
        if bar.is_none() {
            if size > 0 {
                eprintln!("{name}: importing {}", indicatif::HumanBytes(size));
            } else {
                eprintln!("{name}: importing");
            }
        }
        let line = {
            let (name, tally) = (name.clone(), tally.clone());
            move || {
                let bytes = tally.bytes.load(Ordering::Relaxed);
                let lines = tally.lines.load(Ordering::Relaxed);
                let seconds = started.elapsed().as_secs_f64();
                let rate = if seconds > 0.0 {
                    lines as f64 / seconds
                } else {
                    0.0
                };
                let eta = (bytes > 0 && bytes < size).then(|| {
                    let left = seconds * (size - bytes) as f64 / bytes as f64;
                    format!(
                        ", ETA {}",
                        indicatif::HumanDuration(Duration::from_secs_f64(left))
                    )
                });
                // A pipe has no size: its bytes are counted without a share of a whole.
                let of = if size > 0 {
                    format!(
                        "/{} ({:.0}%)",
                        indicatif::HumanBytes(size),
                        bytes as f64 * 100.0 / size as f64
                    )
                } else {
                    String::new()
                };
                format!(
                    "{name}: {lines} lines, {}{of}, {rate:.0} lines/s, {:.0} s{}",
                    indicatif::HumanBytes(bytes),
                    seconds,
                    eta.unwrap_or_default()
                )
            }
        };
        let ticker = {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut last_line = Instant::now();
                loop {
                    let finished = done.load(Ordering::Relaxed);
                    match &bar {
                        Some(bar) => {
                            bar.set_position(tally.bytes.load(Ordering::Relaxed));
                            bar.set_message(format!("{name}: {} lines", tally.lines.load(Ordering::Relaxed)));
                            if finished {
                                bar.finish_and_clear();
                            }
                        }
                        None if finished || last_line.elapsed() >= Duration::from_secs(PROGRESS_EVERY) => {
                            last_line = Instant::now();
                            eprintln!("{}", line());
                        }
                        None => {}
                    }
                    if finished {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Progress {
            done,
            ticker: Some(ticker),
        }
    }

    /// Stops showing progress, with a last line when stderr is not a terminal.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
