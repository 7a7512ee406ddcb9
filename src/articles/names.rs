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
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::dto::Byline;
use crate::cache::Stamp;
use crate::db::Db;
use crate::db::ids::{IdMap, in_ids};
use crate::db::schema::{authors, tags};
use crate::taxonomy::dto::{CategoryRef, Tag};

/// Bytes the kept names may take.
const BUDGET: usize = 8 << 20;

/// What one kept entry is the name of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Author(i64),
    Tag(i64),
    Category(i64),
}

/// Shared, not copied: a list looks up some forty names, and copying each out of the map
/// (and dropping the copy) was about 5% of an uncached list's instructions.
#[derive(Debug, Clone)]
enum Name {
    Author(Arc<Byline>),
    Tag(Arc<Tag>),
    Category(Arc<CategoryRef>),
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

/// Names by id, all read under one stamp: the latest a page asked with. A page built under
/// another stamp reads its names from the database, and the first to keep any under a new
/// stamp drops the old ones, which no page built under the new stamp may show.
///
/// A map behind a lock rather than a concurrent cache: a list looks up some forty names, and
/// one read lock and a hashed lookup each cost a fraction of what a bounded cache's bookkeeping
/// did (5% of an uncached list).
#[derive(Default)]
pub struct Names(RwLock<Held>);

#[derive(Default)]
struct Held {
    /// The stamp every entry was read under, and when the first of them was.
    under: Option<(Stamp, Instant)>,
    entries: HashMap<Key, Name, rustc_hash::FxBuildHasher>,
    bytes: usize,
}

/// How long names are kept under one stamp: what a change made behind the application's back
/// (plain SQL, another program) may take to show, as for cached answers.
const LIFETIME: Duration = Duration::from_secs(600);

impl Held {
    fn serves(&self, stamp: &Stamp) -> bool {
        self.under
            .is_some_and(|(under, since)| under == *stamp && since.elapsed() < LIFETIME)
    }
}

/// Where names come from: kept ones under a stamp, or the database alone.
pub type Lookup<'a> = Option<(&'a Names, &'a Stamp)>;

/// The entries of `ids` that `kept` holds, and the ids it does not.
fn split<T>(
    kept: Lookup,
    ids: &[i64],
    key: fn(i64) -> Key,
    take: fn(&Name) -> Option<T>,
) -> (IdMap<T>, Vec<i64>) {
    let mut found = IdMap::with_capacity_and_hasher(ids.len(), Default::default());
    let held = kept.and_then(|(names, stamp)| {
        // A poisoned lock only means a panic elsewhere while it was held: read from the
        // database as if nothing were kept.
        names.0.read().ok().filter(|held| held.serves(stamp))
    });
    let missing = match held {
        Some(held) => ids
            .iter()
            .copied()
            .filter(|&id| match held.entries.get(&key(id)).and_then(take) {
                Some(value) => {
                    found.insert(id, value);
                    false
                }
                None => true,
            })
            .collect(),
        None => ids.to_vec(),
    };
    (found, missing)
}

/// Keeps `read` under `kept`'s stamp, and adds it to `found`.
fn keep<T: Clone, S>(
    kept: Lookup,
    found: &mut IdMap<T>,
    read: HashMap<i64, T, S>,
    key: fn(i64) -> Key,
    wrap: fn(T) -> Name,
) {
    if let Some((names, stamp)) = kept
        && let Ok(mut held) = names.0.write()
    {
        if !held.serves(stamp) {
            *held = Held {
                under: Some((*stamp, Instant::now())),
                ..Held::default()
            };
        }
        for (&id, value) in &read {
            let name = wrap(value.clone());
            held.bytes += name.weight();
            held.entries.insert(key(id), name);
        }
        // Past the budget the names start over, under the same stamp.
        if held.bytes > BUDGET {
            held.entries.clear();
            held.bytes = 0;
        }
    }
    found.extend(read);
}

/// An author's id, slug, name, bio and avatar.
type AuthorRow = (i64, String, String, Option<String>, Option<String>);

/// The bylines of the authors `ids` (distinct).
pub fn authors(conn: &mut Db, kept: Lookup, ids: &[i64]) -> QueryResult<IdMap<Arc<Byline>>> {
    let (mut found, missing) = split(kept, ids, Key::Author, |n| match n {
        Name::Author(b) => Some(Arc::clone(b)),
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
        let read: IdMap<_> = rows
            .into_iter()
            .map(|(id, slug, name, bio, avatar_url)| {
                (
                    id,
                    Arc::new(Byline {
                        id,
                        slug,
                        name,
                        bio,
                        avatar_url,
                    }),
                )
            })
            .collect();
        keep(kept, &mut found, read, Key::Author, Name::Author);
    }
    Ok(found)
}

/// The tags `ids` (distinct).
pub fn tags(conn: &mut Db, kept: Lookup, ids: &[i64]) -> QueryResult<IdMap<Arc<Tag>>> {
    let (mut found, missing) = split(kept, ids, Key::Tag, |n| match n {
        Name::Tag(t) => Some(Arc::clone(t)),
        _ => None,
    });
    if !missing.is_empty() {
        let rows: Vec<(i64, String, String)> = crate::db::direct::load!(
            conn,
            tags::table
                .filter(in_ids(tags::id, &missing))
                .select((tags::id, tags::slug, tags::name)),
        )?;
        let read: IdMap<_> = rows
            .into_iter()
            .map(|(id, slug, name)| (id, Arc::new(Tag { id, slug, name })))
            .collect();
        keep(kept, &mut found, read, Key::Tag, Name::Tag);
    }
    Ok(found)
}

/// The categories `ids` (distinct), each with its breadcrumb.
pub fn categories(conn: &mut Db, kept: Lookup, ids: &[i64]) -> QueryResult<IdMap<Arc<CategoryRef>>> {
    let (mut found, missing) = split(kept, ids, Key::Category, |n| match n {
        Name::Category(c) => Some(Arc::clone(c)),
        _ => None,
    });
    if !missing.is_empty() {
        let read: IdMap<_> = crate::taxonomy::service::category_refs(conn, &missing)?
            .into_iter()
            .map(|(id, category)| (id, Arc::new(category)))
            .collect();
        keep(kept, &mut found, read, Key::Category, Name::Category);
    }
    Ok(found)
}
