//! Full-text search over articles, Vietnamese first.
//!
//! Stored text and readers' queries are folded by the same function ([`crate::text::fold`]): lower
//! case, no diacritics, `đ` → `d`, words separated by single spaces. The database then only
//! has to match plain words: SQLite through an FTS5 index, PostgreSQL through a `tsvector`
//! with the `simple` configuration and a GIN index (migration 000005). The folded text is
//! written in the same transaction as the article, so search never sees a half-saved article.
//!
//! `query` reads a reader's `q` and walks the matches; `index` writes what search stores.

mod index;
pub mod merges;
pub mod pairs;
mod pg_walk;
mod query;
mod vectors;

pub use index::{Folded, NewEntry, index, index_missing, index_new, key, keys_between, plain_text, rekey};
pub use query::{Field, MAX_QUERY_CHARS, MAX_QUERY_WORDS, Search, count_from_gin, matches_from_index};
pub use vectors::Vectors;

/// Prefixes up to this many characters have their own entries in the index of the whole
/// text (`prefix = '1'`, migration 000009), so FTS5 reads them like words.
const FTS5_PREFIX_INDEXED: usize = 1;
