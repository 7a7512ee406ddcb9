//! The public reading side: published articles only, summaries in lists (`list`, with
//! `search` lists walking the search index and `keyset` cursors for deep pages), one article
//! with its neighbours (`detail`).

mod cursor;
mod detail;
mod keyset;
mod list;
mod pools;
mod search;
mod summary;
mod totals;

pub use detail::{detail, detail_of};
pub use list::{ArticleQuery, Sort, list};
pub use pools::TagPools;
pub use summary::summaries;
pub use totals::ListTotals;
