//! Which articles readers may see: the one filter every public read (lists, feeds, comments)
//! goes through, and the lookup of one such article by slug.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::ArticleState;
use crate::db::schema::articles;
use crate::db::{Db, MultiBackend, now};
use crate::error::ApiError;
use crate::i18n::Code;

/// What readers may see at `at`: published, and not dated after `at`.
pub type Live = diesel::dsl::And<
    diesel::dsl::Eq<articles::status, &'static str>,
    diesel::dsl::LtEq<articles::published_at, NaiveDateTime>,
>;

pub fn live_at(at: NaiveDateTime) -> Live {
    articles::status
        .eq(ArticleState::Published.as_str())
        .and(articles::published_at.le(at))
}

/// The time bound of [`live_at`] where SQLite cannot walk an index for it (`+published_at`,
/// a no-op that no index serves), for a list ordered on another index: given the bound, SQLite
/// took every live row from the index on publication times and sorted them all by views
/// (0.2 s at 100,000 articles, for a page of 20) instead of walking `articles_views` and
/// checking the time of the rows it meets, which are live nearly all.
pub fn dated_by(
    at: NaiveDateTime,
) -> Box<dyn BoxableExpression<articles::table, MultiBackend, SqlType = diesel::sql_types::Bool>> {
    Box::new(
        diesel::dsl::sql::<diesel::sql_types::Bool>("+articles.published_at <= ")
            .bind::<diesel::sql_types::Timestamp, _>(at),
    )
}

/// A condition on whether an article is live, either [`live_at`] or [`live_by_scan`].
pub type LiveBoxed = Box<
    dyn BoxableExpression<
            articles::table,
            MultiBackend,
            SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >,
>;

/// [`live_at`] with both terms out of SQLite's reach (as [`dated_by`]), for a count that an
/// index leading with another column holds every column of: given the status or the time,
/// SQLite walked an index that serves them (`articles_public`, `articles_views`) and looked up
/// every row in the table for the rest.
pub fn live_by_scan(at: NaiveDateTime) -> LiveBoxed {
    Box::new(
        diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Bool>>(&format!(
            "+articles.status = '{}' AND +articles.published_at <= ",
            ArticleState::Published.as_str()
        ))
        .bind::<diesel::sql_types::Timestamp, _>(at),
    )
}

/// The id of an article readers may see, and whether it takes comments; 404 otherwise.
pub fn published_article(conn: &mut Db, slug: &str) -> Result<(i64, bool), ApiError> {
    if !crate::text::is_valid_slug(slug) {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    articles::table
        .filter(articles::slug.eq(slug))
        .filter(live_at(now()))
        .select((articles::id, articles::comments_enabled))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::ArticleNotFound))
}
