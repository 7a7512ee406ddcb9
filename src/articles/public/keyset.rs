//! Keyset walks over `(published_at, id)`: the rows after or before a position, as cursors
//! and an article's neighbours need them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::model::SummaryRow;
use crate::db::Db;
use crate::db::schema::articles;
use crate::db::text_limit::TextLimit;

pub(super) type Query = articles::BoxedQuery<'static, crate::db::MultiBackend>;

/// Which way a keyset walk over `(published_at, id)` goes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Toward {
    Older,
    Newer,
}

/// Up to `limit` rows of `base` strictly beyond the position `(at, id)`, nearest first.
/// `base(Some(upper))` is the rows live at `upper`; `base(None)` the published rows of any
/// time.
///
/// Two range queries, ties on `at` first and then the rows strictly beyond it, instead of
/// one `published_at < at OR (published_at = at AND id < id)`: with the OR, both SQLite and
/// PostgreSQL bound the index scan on one side only and walk every row from the newest
/// down to the position, which makes deep pages cost as much as their depth.
pub(super) fn beyond(
    conn: &mut Db,
    base: &dyn Fn(Option<NaiveDateTime>) -> Query,
    toward: Toward,
    now: NaiveDateTime,
    at: NaiveDateTime,
    id: i64,
    limit: i64,
) -> QueryResult<Vec<SummaryRow>> {
    // Counts are page sizes, which `PageQuery::resolve` keeps to 100 at most: written into
    // the text (see `TextLimit`).
    let count = |n: i64| u8::try_from(n).unwrap_or(u8::MAX);
    // The ties carry no upper bound on the time: given `published_at <= x` beside
    // `published_at = at`, SQLite walks the whole range below `x` and sorts it. Ties are
    // live when `at` is, which is decided here.
    let mut rows: Vec<SummaryRow> = if at <= now {
        let ties = base(None).filter(articles::published_at.eq(at));
        let ties = match toward {
            Toward::Older => ties.filter(articles::id.lt(id)).order(articles::id.desc()),
            Toward::Newer => ties.filter(articles::id.gt(id)).order(articles::id.asc()),
        };
        TextLimit::new(ties.select(SummaryRow::as_select()), count(limit)).load(conn)?
    } else {
        Vec::new()
    };
    // `base(upper)` bounds `published_at` from above itself: a second upper bound on the same
    // column would leave the planner to guess which is tighter, and it guesses wrong. Stored
    // times are whole microseconds, so "before `at`" is "at most `at` - 1 µs".
    let rest = match toward {
        Toward::Older => base(Some((at - chrono::Duration::microseconds(1)).min(now)))
            .order((articles::published_at.desc(), articles::id.desc())),
        Toward::Newer => base(Some(now))
            .filter(articles::published_at.gt(at))
            .order((articles::published_at.asc(), articles::id.asc())),
    };
    let missing = limit - rows.len() as i64;
    if missing > 0 {
        rows.extend(
            TextLimit::new(rest.select(SummaryRow::as_select()), count(missing)).load::<SummaryRow>(conn)?,
        );
    }
    Ok(rows)
}
