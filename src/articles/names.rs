//! Bylines, tags and categories by id, kept in memory between public pages.
//!
//! Every list item and page shows its byline, tags and category. Joined into each page's
//! statements, the names were read again, with their text, for every article showing them:
//! the costliest statement of an uncached list (a third of its time). Links are now read as
//! ids, and the names come from here: read once under the cache generations (see
//! [`crate::cache`]), which any change to authors or taxonomy moves, so none is shown after
//! it changed. Reads that must see the database as it is (editors', previews) pass no
//! [`Names`] and read every name.

use std::collections::HashMap;

use diesel::prelude::*;

use super::dto::Byline;
use crate::cache::Stamp;
use crate::db::Db;
use crate::db::ids::in_ids;
use crate::db::schema::{authors, tags};
use crate::taxonomy::dto::{CategoryRef, Tag};

/// Bytes the kept names may take.
const BUDGET: u64 = 8 << 20;

/// What one kept entry is the name of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Author(i64),
    Tag(i64),
    Category(i64),
}

#[derive(Debug, Clone)]
enum Name {
    Author(Byline),
    Tag(Tag),
    Category(CategoryRef),
}

impl Name {
    /// About the bytes it holds, for the budget.
    fn weight(&self) -> usize {
        64 + match self {
            Name::Author(b) => {
                b.slug.len()
                    + b.name.len()
                    + b.bio.as_ref().map_or(0, String::len)
                    + b.avatar_url.as_ref().map_or(0, String::len)
            }
            Name::Tag(t) => t.slug.len() + t.name.len(),
            Name::Category(c) => {
                c.slug.len()
                    + c.name.len()
                    + c.path
                        .iter()
                        .map(|p| 48 + p.slug.len() + p.name.len())
                        .sum::<usize>()
            }
        }
    }
}

/// Names by id, each under the generations it was read under.
pub struct Names(moka::sync::Cache<(Stamp, Key), Name>);

impl Default for Names {
    fn default() -> Self {
        Names(
            moka::sync::Cache::builder()
                .max_capacity(BUDGET)
                .weigher(|_, name: &Name| u32::try_from(name.weight()).unwrap_or(u32::MAX))
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
        )
    }
}

/// Where names come from: kept ones under a stamp, or the database alone.
pub type Lookup<'a> = Option<(&'a Names, &'a Stamp)>;

/// The entries of `ids` that `kept` holds, and the ids it does not.
fn split<T>(
    kept: Lookup,
    ids: &[i64],
    key: fn(i64) -> Key,
    take: fn(Name) -> Option<T>,
) -> (HashMap<i64, T>, Vec<i64>) {
    let mut found = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for &id in ids {
        match kept
            .and_then(|(names, stamp)| names.0.get(&(*stamp, key(id))))
            .and_then(take)
        {
            Some(value) => {
                found.insert(id, value);
            }
            None => missing.push(id),
        }
    }
    (found, missing)
}

/// Keeps `read` under `kept`'s stamp, and adds it to `found`.
fn keep<T: Clone>(
    kept: Lookup,
    found: &mut HashMap<i64, T>,
    read: HashMap<i64, T>,
    key: fn(i64) -> Key,
    wrap: fn(T) -> Name,
) {
    if let Some((names, stamp)) = kept {
        for (&id, value) in &read {
            names.0.insert((*stamp, key(id)), wrap(value.clone()));
        }
    }
    found.extend(read);
}

/// An author's id, slug, name, bio and avatar.
type AuthorRow = (i64, String, String, Option<String>, Option<String>);

/// The bylines of the authors `ids` (distinct).
pub fn authors(conn: &mut Db, kept: Lookup, ids: &[i64]) -> QueryResult<HashMap<i64, Byline>> {
    let (mut found, missing) = split(kept, ids, Key::Author, |n| match n {
        Name::Author(b) => Some(b),
        _ => None,
    });
    if !missing.is_empty() {
        let rows: Vec<AuthorRow> = crate::db::direct::load!(
            conn,
            authors::table.filter(in_ids(authors::id, &missing)).select((
                authors::id,
                authors::slug,
                authors::name,
                authors::bio,
                authors::avatar_url
            )),
        )?;
        let read = rows
            .into_iter()
            .map(|(id, slug, name, bio, avatar_url)| {
                (
                    id,
                    Byline {
                        id,
                        slug,
                        name,
                        bio,
                        avatar_url,
                    },
                )
            })
            .collect();
        keep(kept, &mut found, read, Key::Author, Name::Author);
    }
    Ok(found)
}

/// The tags `ids` (distinct).
pub fn tags(conn: &mut Db, kept: Lookup, ids: &[i64]) -> QueryResult<HashMap<i64, Tag>> {
    let (mut found, missing) = split(kept, ids, Key::Tag, |n| match n {
        Name::Tag(t) => Some(t),
        _ => None,
    });
    if !missing.is_empty() {
        let rows: Vec<(i64, String, String)> = crate::db::direct::load!(
            conn,
            tags::table
                .filter(in_ids(tags::id, &missing))
                .select((tags::id, tags::slug, tags::name)),
        )?;
        let read = rows
            .into_iter()
            .map(|(id, slug, name)| (id, Tag { id, slug, name }))
            .collect();
        keep(kept, &mut found, read, Key::Tag, Name::Tag);
    }
    Ok(found)
}

/// The categories `ids` (distinct), each with its breadcrumb.
pub fn categories(conn: &mut Db, kept: Lookup, ids: &[i64]) -> QueryResult<HashMap<i64, CategoryRef>> {
    let (mut found, missing) = split(kept, ids, Key::Category, |n| match n {
        Name::Category(c) => Some(c),
        _ => None,
    });
    if !missing.is_empty() {
        let read = crate::taxonomy::service::category_refs(conn, &missing)?;
        keep(kept, &mut found, read, Key::Category, Name::Category);
    }
    Ok(found)
}
