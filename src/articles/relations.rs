//! What an article is linked to: its byline, tags, category and library files, read for
//! many articles in batch and rewritten whole when its content is saved.

use diesel::prelude::*;

use super::dto::Byline;
use super::model::Content;
use super::names::{self, Lookup};
use crate::db::Db;
use crate::db::ids::IdMap;
use crate::db::raw::{self, Raw};
use crate::db::schema::{article_authors, article_tags, articles, authors, tags};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::media::dto::Cover;
use crate::media::links::Links;
use crate::media::uses;
use crate::taxonomy::dto::{CategoryRef, Tag};
use crate::taxonomy::service as taxonomy;

pub(super) fn author_ids_of(conn: &mut Db, article_id: i64) -> QueryResult<Vec<i64>> {
    article_authors::table
        .filter(article_authors::article_id.eq(article_id))
        .order(article_authors::position)
        .select(article_authors::author_id)
        .load(conn)
}

pub(super) fn tag_ids_of(conn: &mut Db, article_id: i64) -> QueryResult<Vec<i64>> {
    crate::db::direct::load!(
        conn,
        article_tags::table
            .filter(article_tags::article_id.eq(article_id))
            .order(article_tags::tag_id)
            .select(article_tags::tag_id),
    )
}

/// What list items show besides their own row: bylines, tags, categories and covers. Their
/// ids come with the rows or are read in one statement whatever the number of articles (see
/// [`rewrite_link_ids`]), then the names that `kept` does not hold (see [`names`]) and the
/// covers' files, if any.
pub struct Relations {
    authors: IdMap<Vec<Byline>>,
    tags: IdMap<Vec<Tag>>,
    categories: IdMap<std::sync::Arc<CategoryRef>>,
    covers: IdMap<Cover>,
}

/// One article's share of [`Relations`].
pub struct Related {
    pub category: Option<CategoryRef>,
    pub tags: Vec<Tag>,
    pub authors: Vec<Byline>,
    pub cover: Option<Cover>,
}

impl Relations {
    /// For articles given as `(id, category_id, link ids)`, the ids as read with the row (see
    /// [`crate::articles::model::LinkIdsOf`]) or `None` to read them here.
    pub fn load(
        conn: &mut Db,
        links: &Links,
        kept: Lookup,
        articles: &[(i64, Option<i64>, Option<&str>)],
    ) -> QueryResult<Self> {
        let ids: Vec<(i64, Option<&str>)> = articles.iter().map(|(id, _, ids)| (*id, *ids)).collect();
        let mut category_ids: Vec<i64> = articles.iter().filter_map(|(_, c, _)| *c).collect();
        category_ids.sort_unstable();
        category_ids.dedup();
        let linked = linked(conn, kept, &ids, true)?;
        Ok(Relations {
            authors: linked.authors,
            tags: linked.tags,
            categories: names::categories(conn, kept, &category_ids)?,
            covers: uses::covers_of(conn, links, &linked.covers)?,
        })
    }

    /// For one article's page: its byline and tags (`own`, read first), its cover, and the
    /// categories in `category_ids` (distinct: its own and those of the articles the page
    /// links to); with its attachments, read in the same statement as the cover, unless
    /// `has_files` (read with the row) says there are none.
    pub fn for_page(
        conn: &mut Db,
        links: &Links,
        kept: Lookup,
        own: PageLinks,
        has_files: Option<bool>,
        category_ids: &[i64],
    ) -> QueryResult<(Self, Vec<crate::media::dto::Attachment>)> {
        let PageLinks {
            id,
            linked: Linked { authors, tags, .. },
        } = own;
        let shown = match has_files {
            Some(false) => uses::Shown::default(),
            _ => uses::shown(conn, links, &[id])?.remove(&id).unwrap_or_default(),
        };
        let covers = shown.cover.map(|c| (id, c)).into_iter().collect();
        let relations = Relations {
            authors,
            tags,
            categories: names::categories(conn, kept, category_ids)?,
            covers,
        };
        Ok((relations, shown.attachments))
    }

    /// The category, tags, byline and cover of one article, taken out of the batch.
    pub fn take(&mut self, id: i64, category: Option<i64>) -> Related {
        Related {
            category: self.category(category),
            tags: self.tags.remove(&id).unwrap_or_default(),
            authors: self.authors.remove(&id).unwrap_or_default(),
            cover: self.covers.remove(&id),
        }
    }

    /// A category read with the batch.
    pub fn category(&self, id: Option<i64>) -> Option<CategoryRef> {
        id.and_then(|c| {
            self.categories
                .get(&c)
                .map(|category| CategoryRef::clone(category))
        })
    }
}

/// The byline and tags of the article a page shows, read before the rest of the page: its
/// related articles are chosen by its tags.
pub struct PageLinks {
    id: i64,
    linked: Linked,
}

impl PageLinks {
    /// `ids` as read with the row, or `None` to read them here.
    pub fn read(conn: &mut Db, kept: Lookup, id: i64, ids: Option<&str>) -> QueryResult<Self> {
        Ok(PageLinks {
            id,
            linked: linked(conn, kept, &[(id, ids)], false)?,
        })
    }

    /// The ids of its tags.
    pub fn tag_ids(&self) -> Vec<i64> {
        self.linked
            .tags
            .get(&self.id)
            .map(|tags| tags.iter().map(|t| t.id).collect())
            .unwrap_or_default()
    }
}

/// A byline, a tag or a cover of an article, as [`linked`] reads them.
struct Link {
    /// 0 for an author, 1 for a tag, 2 for a cover.
    kind: i64,
    article_id: i64,
    /// In the byline, or among the covers; 0 for a tag.
    position: i64,
    id: i64,
}

/// A row of `article_links`: an article's byline, tags and covers as ids (see
/// [`rewrite_link_ids`]).
#[derive(QueryableByName)]
struct LinkIds {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    article_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    ids: String,
}

/// Adds the links that `ids`, an article's row of `article_links`, lists: `kinds` of them (the
/// byline and tags, and the covers when 3). `ids` is `authors;tags;covers`, each
/// comma-separated; a part that is not a number is skipped, as only [`rewrite_link_ids`]
/// writes them.
fn push_links(links: &mut Vec<Link>, article_id: i64, ids: &str, kinds: usize) {
    for (kind, part) in ids.split(';').take(kinds).enumerate() {
        let ids = part.split(',').filter_map(|id| id.parse::<i64>().ok());
        for (position, id) in ids.enumerate() {
            links.push(Link {
                kind: kind as i64,
                article_id,
                position: if kind == 1 { 0 } else { position as i64 },
                id,
            });
        }
    }
}

/// Items of many articles, by article id.
type ById<T> = IdMap<Vec<T>>;

/// What [`linked`] reads of many articles.
#[derive(Default)]
struct Linked {
    authors: ById<Byline>,
    tags: ById<Tag>,
    /// `(article id, cover's file id)`, when asked for.
    covers: Vec<(i64, i64)>,
}

/// Bylines (in byline order) and tags (by name) of many articles, and the files of their
/// covers when `covers` says so: their ids as given with each article, or else read in one
/// statement; their names from `kept` or the database.
fn linked(
    conn: &mut Db,
    kept: Lookup,
    articles: &[(i64, Option<&str>)],
    covers: bool,
) -> QueryResult<Linked> {
    let kinds = if covers { 3 } else { 2 };
    let mut links = Vec::with_capacity(articles.len() * 4);
    let mut wanted = Vec::new();
    for &(id, ids) in articles {
        match ids {
            Some(ids) => push_links(&mut links, id, ids, kinds),
            None => wanted.push(id),
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    if let (Some(&first), Some(&last)) = (wanted.first(), wanted.last()) {
        let rows = if dense(&wanted) {
            let mut rows = link_ids(conn, Wanted::Between(first, last))?;
            rows.retain(|r| wanted.binary_search(&r.article_id).is_ok());
            rows
        } else {
            link_ids(conn, Wanted::Each(&wanted))?
        };
        for row in &rows {
            push_links(&mut links, row.article_id, &row.ids, kinds);
        }
    }
    let mut linked = Linked::default();
    if links.is_empty() {
        return Ok(linked);
    }
    links.sort_unstable_by_key(|l| (l.kind, l.article_id, l.position));
    let distinct = |kind: i64| {
        let mut ids: Vec<i64> = links.iter().filter(|l| l.kind == kind).map(|l| l.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let bylines = names::authors(conn, kept, &distinct(0))?;
    let named = names::tags(conn, kept, &distinct(1))?;
    for link in &links {
        // A name missing here was deleted since the ids were read: it is left out, as the
        // join it replaces left it out.
        match link.kind {
            0 => {
                if let Some(byline) = bylines.get(&link.id) {
                    linked
                        .authors
                        .entry(link.article_id)
                        .or_default()
                        .push(Byline::clone(byline));
                }
            }
            1 => {
                if let Some(tag) = named.get(&link.id) {
                    linked
                        .tags
                        .entry(link.article_id)
                        .or_default()
                        .push(Tag::clone(tag));
                }
            }
            _ => linked.covers.push((link.article_id, link.id)),
        }
    }
    for list in linked.tags.values_mut() {
        list.sort_unstable_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    }
    Ok(linked)
}

/// Whether the sorted, distinct `ids` lie close enough together for one walk of the key of
/// `article_links`, from the first to the last, to beat a lookup per id: a list's newest
/// articles mostly have neighbouring ids, as they were written in turn. Such a walk reads the
/// rows of at most `ids.len() + SPARE_IDS` articles that were not asked for.
fn dense(ids: &[i64]) -> bool {
    const SPARE_IDS: i128 = 16;
    let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
        return false;
    };
    i128::from(last) - i128::from(first) < 2 * ids.len() as i128 + SPARE_IDS
}

/// Which articles [`link_ids`] reads the rows of.
#[derive(Clone, Copy)]
enum Wanted<'a> {
    /// Every article with an id from the first to the last: one range of the key.
    Between(i64, i64),
    /// These, looked up one by one.
    Each(&'a [i64]),
}

/// The rows of `article_links` of the `wanted` articles.
fn link_ids(conn: &mut Db, wanted: Wanted) -> QueryResult<Vec<LinkIds>> {
    /// The statements' names for the statement cache (see [`Raw::keyed`]).
    struct Each;
    impl raw::Key for Each {}
    struct Between;
    impl raw::Key for Between {}
    static EACH_PG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT article_id, ids FROM article_links WHERE article_id {}",
            raw::IDS_PG
        )
    });
    match wanted {
        // On SQLite the ids drive the lookups as the outer loop of a join: `IN (SELECT … FROM
        // json_each(…))` would build a temporary index of them first.
        Wanted::Each(ids) => Raw::<Each>::keyed(
            "SELECT l.article_id AS article_id, l.ids AS ids \
             FROM json_each('[' || ? || ']') AS wanted \
             CROSS JOIN article_links l ON l.article_id = wanted.value",
            &EACH_PG,
        )
        .ids(ids)
        .load(conn),
        // PostgreSQL reads a range's bounds from sub-selects, which keep their values from its
        // planner: with them in view, each custom plan of a narrow range looked cheaper than
        // the generic plan, and it planned the statement again on every call (see
        // [`raw::IDS_PG`]).
        Wanted::Between(first, last) => Raw::<Between>::keyed(
            "SELECT article_id, ids FROM article_links WHERE article_id BETWEEN ? AND ?",
            "SELECT article_id, ids FROM article_links \
             WHERE article_id BETWEEN (SELECT ?::bigint) AND (SELECT ?::bigint)",
        )
        .int(first)
        .int(last)
        .load(conn),
    }
}

/// Writes the rows of `article_links` of these articles from the link tables, in the
/// transaction that changed them: whatever changes an article's byline, tags or covers calls
/// this.
pub(crate) fn rewrite_link_ids(conn: &mut Db, ids: &[i64]) -> QueryResult<()> {
    use std::sync::LazyLock;
    /// The same statement on each backend, but for how a list of ids is joined into text and
    /// how bound ids are matched: [SQLite, PostgreSQL].
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        let statement = |joined: fn(&str, &str) -> String, ids_in: &str| {
            let part = |column: &str, table: &str, order: &str, only: &str| {
                format!(
                    "coalesce((SELECT {} FROM {table} l WHERE l.article_id = a.id{only}), '')",
                    joined(column, order)
                )
            };
            format!(
                "INSERT INTO article_links (article_id, ids) \
                 SELECT a.id, {} || ';' || {} || ';' || {} \
                 FROM articles a WHERE a.id {ids_in} \
                 ON CONFLICT (article_id) DO UPDATE SET ids = excluded.ids",
                part("l.author_id", "article_authors", "l.position", ""),
                part("l.tag_id", "article_tags", "l.tag_id", ""),
                part(
                    "l.media_id",
                    "article_media",
                    "l.position",
                    " AND l.role = 'cover'"
                ),
            )
        };
        [
            statement(
                |column, order| format!("group_concat({column}, ',' ORDER BY {order})"),
                raw::IDS_SQLITE,
            ),
            statement(
                |column, order| format!("string_agg({column}::text, ',' ORDER BY {order})"),
                raw::IDS_PG,
            ),
        ]
    });
    if ids.is_empty() {
        return Ok(());
    }
    let [sqlite, pg] = &*SQL;
    Raw::each(sqlite, pg).ids(ids).execute(conn)?;
    Ok(())
}

/// Rewrites the byline, tags and file uses of an article whose content is being saved;
/// `body_images` are the library images its body shows.
pub(super) fn write_relations(conn: &mut Db, id: i64, c: &Content, body_images: &[i64]) -> QueryResult<()> {
    diesel::delete(article_authors::table.filter(article_authors::article_id.eq(id))).execute(conn)?;
    for (position, author) in c.author_ids.iter().enumerate() {
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(id),
                article_authors::author_id.eq(author),
                article_authors::position.eq(position as i64),
            ))
            .execute(conn)?;
    }
    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(id))).execute(conn)?;
    for tag in &c.tag_ids {
        diesel::insert_into(article_tags::table)
            .values((article_tags::article_id.eq(id), article_tags::tag_id.eq(tag)))
            .execute(conn)?;
    }
    uses::write(conn, id, &c.files(), body_images)?;
    rewrite_link_ids(conn, &[id])
}

/// What a list's `category`, `tag` and `author` filters name.
pub(super) struct Named {
    /// The category and its sub-categories.
    pub categories: Option<Vec<i64>>,
    pub tag: Option<i64>,
    pub author: Option<i64>,
}

/// Looks up a list's filters by slug; one that names nothing is a 404 with its own code.
pub(super) fn named_filters(
    conn: &mut Db,
    category: Option<&str>,
    tag: Option<&str>,
    author: Option<&str>,
) -> Result<Named, ApiError> {
    let categories = category
        .map(|slug| {
            named(slug, Code::CategoryNotFound, |s| {
                taxonomy::category_and_descendants(conn, s)
            })
        })
        .transpose()?;
    let tag = tag
        .map(|slug| {
            named(slug, Code::TagNotFound, |s| {
                tags::table
                    .filter(tags::slug.eq(s))
                    .select(tags::id)
                    .first(conn)
                    .optional()
            })
        })
        .transpose()?;
    let author = author
        .map(|slug| named(slug, Code::AuthorNotFound, |s| author_by_slug(conn, s)))
        .transpose()?;
    Ok(Named {
        categories,
        tag,
        author,
    })
}

/// What a filter's slug names, found by `find`; a 404 with `missing` when nothing has that
/// slug. Slugs are `[a-z0-9-]`: anything else names nothing, and is not sent to the database.
fn named<T>(
    slug: &str,
    missing: Code,
    find: impl FnOnce(&str) -> QueryResult<Option<T>>,
) -> Result<T, ApiError> {
    let found = if crate::text::is_valid_slug(slug) {
        find(slug)?
    } else {
        None
    };
    found.ok_or_else(|| ApiError::not_found(missing))
}

/// The id of the author with this slug.
fn author_by_slug(conn: &mut Db, slug: &str) -> QueryResult<Option<i64>> {
    authors::table
        .filter(authors::slug.eq(slug))
        .select(authors::id)
        .first(conn)
        .optional()
}

/// The articles with `author` in the byline, as a filter on `articles`.
pub(super) type Bylined = diesel::dsl::EqAny<
    articles::id,
    diesel::dsl::Select<
        diesel::dsl::Filter<article_authors::table, diesel::dsl::Eq<article_authors::author_id, i64>>,
        article_authors::article_id,
    >,
>;

/// The articles with `tag`, as a filter on `articles`.
pub(super) type Tagged = diesel::dsl::EqAny<
    articles::id,
    diesel::dsl::Select<
        diesel::dsl::Filter<article_tags::table, diesel::dsl::Eq<article_tags::tag_id, i64>>,
        article_tags::article_id,
    >,
>;

pub(super) fn tagged(tag: i64) -> Tagged {
    articles::id.eq_any(
        article_tags::table
            .filter(article_tags::tag_id.eq(tag))
            .select(article_tags::article_id),
    )
}

pub(super) fn bylined(author: i64) -> Bylined {
    articles::id.eq_any(
        article_authors::table
            .filter(article_authors::author_id.eq(author))
            .select(article_authors::article_id),
    )
}

#[cfg(test)]
mod tests {
    use super::dense;

    #[test]
    fn ids_are_walked_as_a_range_only_when_few_others_lie_between_them() {
        assert!(!dense(&[]));
        assert!(dense(&[7]));
        let newest: Vec<i64> = (81..=100).collect();
        assert!(dense(&newest));
        // Twenty ids from 1 to 56: the links of 36 others are read in vain, as many as 20 + 16.
        let gappy = |last: i64| -> Vec<i64> { (1..=19).chain([last]).collect() };
        assert!(dense(&gappy(56)));
        assert!(!dense(&gappy(57)));
        assert!(!dense(&[1, 15, 31]));
        assert!(!dense(&[1, i64::MAX]));
    }
}
