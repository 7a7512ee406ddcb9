//! Writing prepared lines, a batch per transaction.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::ImportRecord;
use super::importer;
use super::prepare::{Draft, Line, Parts, Ready, bylines, parts, wanted_slug};
use crate::articles::demo;
use crate::articles::model::{ArticleState, Content, ContentColumns};
use crate::articles::service::{Placement, insert};
use crate::articles::slug::{slug_conflict, slug_taken, unique_slug};
use crate::articles::validate::check_content;
use crate::audit::Resource;
use crate::cache::{self, Scope};
use crate::db::Db;
use crate::db::schema::{
    article_authors, article_revisions, article_slugs, article_tags, articles, audit_log,
};
use crate::error::ApiError;
use crate::media::links::Links;
use crate::media::uses::Files;
use crate::rows::insert_rows;
use crate::search::{Folded, NewEntry, Vectors};
use crate::taxonomy::service as taxonomy;
use crate::text;
use crate::webhooks::{self, Event};

/// Imports one record; `Ok(false)` when its slug already exists.
fn import_one(conn: &mut Db, links: &Links, record: ImportRecord, files: Files) -> Result<bool, ApiError> {
    let slug = wanted_slug(&record)?;
    // A former slug counts: the article imported under it may have been renamed since.
    if slug_taken(conn, &slug, None)? {
        return Ok(false);
    }
    let slug = if text::is_valid_slug(&slug) {
        slug
    } else {
        unique_slug(conn, &slug)?
    };
    let Parts {
        mut content,
        authors,
        category,
        tags,
        placement,
    } = parts(record, slug, files);
    for name in bylines(&authors)? {
        content.author_ids.push(demo::find_or_create_author(conn, &name)?);
    }
    if let Some(name) = category {
        content.category_id = Some(demo::find_or_create_category(conn, &name)?);
    }
    let tags = (!tags.is_empty()).then_some(tags);
    let content = check_content(conn, &importer(), content, tags)?;
    insert(conn, links, &content, None, placement?)?;
    Ok(true)
}

/// Ids found or created by name during one import, by slug: most lines of an archive name
/// the same few bylines, categories and tags.
#[derive(Default)]
pub(super) struct Known {
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
            demo::find_or_create_author(conn, name)
        })
    }

    fn category(&mut self, conn: &mut Db, name: &str) -> Result<i64, ApiError> {
        remembered(&mut self.categories, name, |name| {
            demo::find_or_create_category(conn, name)
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
pub(super) struct Insert {
    number: usize,
    content: Content,
    placement: Placement,
    body_html: String,
    folded: Folded,
    terms: String,
    vectors: Option<Vectors>,
}

/// A line with its number and, for one that names files, their library ids or why not.
pub(super) type Numbered = (usize, Line, Option<Result<Files, ApiError>>);

/// What one batch did.
#[derive(Default)]
pub(super) struct Done {
    pub(super) imported: usize,
    pub(super) skipped: usize,
    pub(super) failed: Vec<(usize, String)>,
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
pub(super) fn insert_all(
    conn: &mut Db,
    rows: &[Insert],
    known: &HashSet<String>,
) -> Result<Vec<String>, ApiError> {
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
    let mut written = Vec::with_capacity(rows.len());
    for r in rows {
        let id = id_of(r)?;
        written.push(id);
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
        let content = crate::articles::revisions::stored_content(&r.content)?;
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
        search.push(NewEntry {
            id,
            published: live,
            folded: &r.folded,
            terms: &r.terms,
            vectors: r.vectors.as_ref(),
        });
    }
    for chunk in bylines.chunks(ROWS_PER_INSERT) {
        insert_rows!(conn, article_authors::table, chunk)?;
    }
    for chunk in tagged.chunks(ROWS_PER_INSERT) {
        insert_rows!(conn, article_tags::table, chunk)?;
    }
    crate::articles::relations::rewrite_link_ids(conn, &written)?;
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
                .map(|id| crate::articles::editorial::event_data(conn, *id))
                .collect::<Result<Vec<_>, _>>()?;
            webhooks::emit(conn, Event::ArticlePublished, &data)?;
        }
    }
    Ok(added)
}

/// A line that names files or needs a unique slug, to go through the editorial API's path.
pub(super) type Single = (usize, Box<ImportRecord>, Files);

/// A batch's lines sorted out: those already counted (blank, bad, skipped), those ready for
/// the multi-row statements with their names found or created, and those to write one by one.
pub(super) struct Sorted {
    pub(super) done: Done,
    pub(super) ready: Vec<Insert>,
    pub(super) single: Vec<Single>,
}

/// Sorts out a batch's lines: finds which slugs are taken and creates the bylines,
/// categories and tags the ready lines name.
pub(super) fn sort_out(conn: &mut Db, known: &mut Known, lines: Vec<Numbered>) -> Result<Sorted, ApiError> {
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
    Ok(Sorted { done, ready, single })
}

/// Writes ready lines in multi-row statements, in one transaction (a savepoint inside the
/// caller's), or one by one, each in its own, should those fail, so the failing line is found
/// and the others still load. Returns the words added to `search_terms`.
fn write_ready(
    conn: &mut Db,
    links: &Links,
    words: &HashSet<String>,
    ready: Vec<Insert>,
    done: &mut Done,
) -> Vec<String> {
    match conn.transaction(|conn| insert_all(conn, &ready, words)) {
        Ok(added) => {
            done.imported += ready.len();
            added
        }
        // The database refused a row the checks let through: each line on its own finds it.
        Err(_) => {
            write_ready_one_by_one(conn, links, ready, done);
            Vec::new()
        }
    }
}

/// Writes ready lines one by one, each in a transaction (or savepoint) of its own, as the
/// editorial API would.
pub(super) fn write_ready_one_by_one(conn: &mut Db, links: &Links, ready: Vec<Insert>, done: &mut Done) {
    for r in ready {
        let inserted =
            conn.transaction(|conn| insert(conn, links, &r.content, None, r.placement).map(|_| ()));
        match inserted {
            Ok(()) => done.imported += 1,
            Err(e) => done.failed.push((r.number, crate::accounts_cli::describe(&e))),
        }
    }
}

/// Writes lines one by one, each in a transaction (or savepoint) of its own, through the
/// editorial API's path.
pub(super) fn write_single(conn: &mut Db, links: &Links, single: Vec<Single>, done: &mut Done) {
    for (number, record, files) in single {
        match conn.transaction::<_, ApiError, _>(|conn| import_one(conn, links, *record, files)) {
            Ok(true) => done.imported += 1,
            Ok(false) => done.skipped += 1,
            Err(e) => done.failed.push((number, crate::accounts_cli::describe(&e))),
        }
    }
}

/// Writes one batch on one connection, in the caller's transaction: lines ready for bulk in
/// multi-row statements, then the lines that need the editorial API's path.
pub(super) fn write_batch(
    conn: &mut Db,
    links: &Links,
    known: &mut Known,
    lines: Vec<Numbered>,
) -> Result<Done, ApiError> {
    let Sorted {
        mut done,
        ready,
        single,
    } = sort_out(conn, known, lines)?;
    let added = write_ready(conn, links, &known.words, ready, &mut done);
    known.words.extend(added);
    write_single(conn, links, single, &mut done);
    Ok(done)
}

/// Ready lines in two halves, for two connections to write at once. Articles of one
/// publication second go to the same half: a search key is chosen among those not yet taken
/// (see `search::index_new`), which the other half's open transaction would hide, and two
/// articles want one key only when published within a microsecond of each other.
pub(super) fn halves(ready: Vec<Insert>) -> (Vec<Insert>, Vec<Insert>) {
    ready.into_iter().partition(|r| {
        r.placement
            .published_at
            .is_none_or(|at| at.and_utc().timestamp().rem_euclid(2) == 0)
    })
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
        terms,
        vectors,
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
        terms,
        vectors,
    })
}
