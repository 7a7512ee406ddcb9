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
use crate::media::model::Use;
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
/// links are read in one statement whatever the number of articles, then the names that
/// `kept` does not hold (see [`names`]) and the covers' files, if any.
pub struct Relations {
    authors: IdMap<Vec<Byline>>,
    tags: IdMap<Vec<Tag>>,
    categories: IdMap<CategoryRef>,
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
    /// For articles given as `(id, category_id)`.
    pub fn load(
        conn: &mut Db,
        links: &Links,
        kept: Lookup,
        articles: &[(i64, Option<i64>)],
    ) -> QueryResult<Self> {
        let ids: Vec<i64> = articles.iter().map(|(id, _)| *id).collect();
        let mut category_ids: Vec<i64> = articles.iter().filter_map(|(_, c)| *c).collect();
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
    /// links to); with its attachments, read in the same statement as the cover.
    pub fn for_page(
        conn: &mut Db,
        links: &Links,
        kept: Lookup,
        own: PageLinks,
        category_ids: &[i64],
    ) -> QueryResult<(Self, Vec<crate::media::dto::Attachment>)> {
        let PageLinks {
            id,
            linked: Linked { authors, tags, .. },
        } = own;
        let shown = uses::shown(conn, links, &[id])?.remove(&id).unwrap_or_default();
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
        id.and_then(|c| self.categories.get(&c).cloned())
    }
}

/// The byline and tags of the article a page shows, read before the rest of the page: its
/// related articles are chosen by its tags.
pub struct PageLinks {
    id: i64,
    linked: Linked,
}

impl PageLinks {
    pub fn read(conn: &mut Db, kept: Lookup, id: i64) -> QueryResult<Self> {
        Ok(PageLinks {
            id,
            linked: linked(conn, kept, &[id], false)?,
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
#[derive(QueryableByName)]
struct Link {
    /// 0 for an author, 1 for a tag, 2 for a cover.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    kind: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    article_id: i64,
    /// In the byline; 0 for a tag or a cover.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    position: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
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
/// covers when `covers` says so: their links in one statement, their names from `kept` or
/// the database.
fn linked(conn: &mut Db, kept: Lookup, ids: &[i64], covers: bool) -> QueryResult<Linked> {
    let mut linked = Linked::default();
    let mut wanted = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let (Some(&first), Some(&last)) = (wanted.first(), wanted.last()) else {
        return Ok(linked);
    };
    let mut links = if dense(&wanted) {
        let mut links = links_of(conn, Wanted::Between(first, last), covers)?;
        links.retain(|l| wanted.binary_search(&l.article_id).is_ok());
        links
    } else {
        links_of(conn, Wanted::Each(&wanted), covers)?
    };
    // Ordered here rather than by the statement, which sorted in two temporary B-trees.
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
        // A name missing here was deleted since the links were read: it is left out, as the
        // join it replaces left it out.
        match link.kind {
            0 => {
                if let Some(byline) = bylines.get(&link.id) {
                    linked
                        .authors
                        .entry(link.article_id)
                        .or_default()
                        .push(byline.clone());
                }
            }
            1 => {
                if let Some(tag) = named.get(&link.id) {
                    linked.tags.entry(link.article_id).or_default().push(tag.clone());
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

/// Whether the sorted, distinct `ids` lie close enough together for one walk of each link
/// table's key, from the first to the last, to beat a lookup per id: a list's newest articles
/// mostly have neighbouring ids, as they were written in turn. Such a walk reads the links of
/// at most `ids.len() + SPARE_IDS` articles that were not asked for; a lookup is a descent
/// from the index's root per id and table (a quarter of an uncached list's time, 20 articles).
fn dense(ids: &[i64]) -> bool {
    const SPARE_IDS: i128 = 16;
    let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
        return false;
    };
    i128::from(last) - i128::from(first) < 2 * ids.len() as i128 + SPARE_IDS
}

/// Which articles [`links_of`] reads the links of.
#[derive(Clone, Copy)]
enum Wanted<'a> {
    /// Every article with an id from the first to the last: one range of each table's key.
    Between(i64, i64),
    /// These, looked up one by one.
    Each(&'a [i64]),
}

impl Wanted<'_> {
    /// Binds the articles of one branch of the statement.
    fn bind<K: raw::Key>(self, q: Raw<K>) -> Raw<K> {
        match self {
            Wanted::Between(first, last) => q.int(first).int(last),
            Wanted::Each(ids) => q.ids(ids),
        }
    }
}

/// The bylines, tags and, when `covers`, covers' uses of the `wanted` articles, in one
/// statement of a branch per link table.
fn links_of(conn: &mut Db, wanted: Wanted, covers: bool) -> QueryResult<Vec<Link>> {
    use std::sync::LazyLock;
    /// Each branch's table, with the condition that picks the wanted articles' links.
    type From = dyn Fn(&str, &str) -> String;
    // [each, between] of [without covers, with covers] of [SQLite, PostgreSQL].
    static SQL: LazyLock<[[[String; 2]; 2]; 2]> = LazyLock::new(|| {
        let statement = |from: &From, covers: bool| {
            let mut sql = format!(
                "SELECT CAST(0 AS BIGINT) AS kind, aa.article_id AS article_id, aa.position AS position, \
                 aa.author_id AS id FROM {} \
                 UNION ALL \
                 SELECT CAST(1 AS BIGINT), at.article_id, CAST(0 AS BIGINT), at.tag_id FROM {}",
                from("article_authors", "aa"),
                from("article_tags", "at"),
            );
            if covers {
                sql += &format!(
                    " UNION ALL SELECT CAST(2 AS BIGINT), am.article_id, am.position, am.media_id FROM {} \
                     AND am.role = '{}'",
                    from("article_media", "am"),
                    Use::Cover.as_str()
                );
            }
            sql
        };
        // On SQLite the ids drive the lookups as the outer loop of a join: `IN (SELECT … FROM
        // json_each(…))` would build a temporary index of them first, once per branch.
        let each_sqlite = |table: &str, alias: &str| {
            format!(
                "json_each('[' || ? || ']') AS wanted CROSS JOIN {table} {alias} ON {alias}.article_id = wanted.value"
            )
        };
        let each_pg =
            |table: &str, alias: &str| format!("{table} {alias} WHERE {alias}.article_id {}", raw::IDS_PG);
        // PostgreSQL reads a range's bounds from sub-selects, which keep their values from its
        // planner: with them in view, each custom plan of a narrow range looked cheaper than
        // the generic plan, and it planned the statement again on every call (see
        // [`raw::IDS_PG`]), which made an uncached page 15% slower.
        let between_sqlite =
            |table: &str, alias: &str| format!("{table} {alias} WHERE {alias}.article_id BETWEEN ? AND ?");
        let between_pg = |table: &str, alias: &str| {
            format!(
                "{table} {alias} WHERE {alias}.article_id BETWEEN (SELECT ?::bigint) AND (SELECT ?::bigint)"
            )
        };
        let both = |sqlite: &From, pg: &From| {
            [false, true].map(|covers| [statement(sqlite, covers), statement(pg, covers)])
        };
        [both(&each_sqlite, &each_pg), both(&between_sqlite, &between_pg)]
    });
    /// The statements' names for the statement cache (see [`Raw::keyed`]).
    struct BylinesAndTags;
    impl raw::Key for BylinesAndTags {}
    struct WithCovers;
    impl raw::Key for WithCovers {}
    struct BylinesAndTagsBetween;
    impl raw::Key for BylinesAndTagsBetween {}
    struct WithCoversBetween;
    impl raw::Key for WithCoversBetween {}
    fn load<K: raw::Key>(
        conn: &mut Db,
        [sqlite, pg]: &'static [String; 2],
        wanted: Wanted,
        branches: usize,
    ) -> QueryResult<Vec<Link>> {
        let mut q = Raw::<K>::keyed(sqlite, pg);
        for _ in 0..branches {
            q = wanted.bind(q);
        }
        q.load(conn)
    }
    let between = matches!(wanted, Wanted::Between(..));
    let sql = &SQL[usize::from(between)][usize::from(covers)];
    let branches = 2 + usize::from(covers);
    match (between, covers) {
        (false, false) => load::<BylinesAndTags>(conn, sql, wanted, branches),
        (false, true) => load::<WithCovers>(conn, sql, wanted, branches),
        (true, false) => load::<BylinesAndTagsBetween>(conn, sql, wanted, branches),
        (true, true) => load::<WithCoversBetween>(conn, sql, wanted, branches),
    }
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
    uses::write(conn, id, &c.files(), body_images)
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
