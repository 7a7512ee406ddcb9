//! Article slugs: whether one is taken, a free one made from a title, and the slugs an article
//! had while readers could see it, which keep leading to it.

use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::published::live_at;
use crate::db::schema::{article_slugs, articles};
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::text;

/// Whether `slug` is another article's, current or former; `except`'s own former slugs are
/// free for it to take back.
pub(super) fn slug_taken(conn: &mut Db, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut current = articles::table.filter(articles::slug.eq(slug)).into_boxed();
    let mut former = article_slugs::table
        .filter(article_slugs::slug.eq(slug))
        .into_boxed();
    if let Some(id) = except {
        current = current.filter(articles::id.ne(id));
        former = former.filter(article_slugs::article_id.ne(id));
    }
    Ok(current.count().get_result::<i64>(conn)? > 0 || former.count().get_result::<i64>(conn)? > 0)
}

/// The title's slug, or the first free `slug-2`, `slug-3`, …
pub fn unique_slug(conn: &mut Db, title: &str) -> Result<String, ApiError> {
    for candidate in text::slug_candidates(title, "bai-viet", 9_999) {
        if !slug_taken(conn, &candidate, None)? {
            return Ok(candidate);
        }
    }
    Err(ApiError::conflict(Code::ArticleSlugExhausted))
}

pub(super) fn slug_conflict(e: DieselError) -> ApiError {
    crate::error::unique_conflict(e, &[("slug", Code::ArticleSlugTaken)])
}

/// Gives article `id` the slug `slug`, which its row already holds, in the transaction that
/// wrote it: refused when it is another article's former slug, and no longer a former slug
/// of its own. The check before the write only reports the conflict early; this one, made
/// after the row's unique index has settled any race for the current slug, keeps a former
/// slug from ever also being a current one.
pub(super) fn claim(conn: &mut Db, id: i64, slug: &str) -> Result<(), ApiError> {
    let others = article_slugs::table
        .filter(article_slugs::slug.eq(slug))
        .filter(article_slugs::article_id.ne(id))
        .count()
        .get_result::<i64>(conn)?;
    if others > 0 {
        return Err(ApiError::conflict(Code::ArticleSlugTaken));
    }
    diesel::delete(article_slugs::table.filter(article_slugs::slug.eq(slug))).execute(conn)?;
    Ok(())
}

/// Keeps `old` leading to article `id`, which has just left it, when readers may have seen
/// the article there. Call it inside the transaction of the change.
pub(super) fn keep_former(conn: &mut Db, id: i64, old: &str, was_public: bool) -> Result<(), ApiError> {
    if !was_public {
        return Ok(());
    }
    diesel::insert_into(article_slugs::table)
        .values((
            article_slugs::slug.eq(old),
            article_slugs::article_id.eq(id),
            article_slugs::created_at.eq(now()),
        ))
        .execute(conn)
        .map_err(slug_conflict)?;
    Ok(())
}

/// The current slug of the live article that once had `old`. Every former slug names the
/// article, not the slug that replaced it, so a chain of renames leads straight to the end.
pub fn moved_to(conn: &mut Db, old: &str) -> Result<Option<String>, ApiError> {
    if !text::is_valid_slug(old) {
        return Ok(None);
    }
    Ok(article_slugs::table
        .inner_join(articles::table)
        .filter(article_slugs::slug.eq(old))
        .filter(live_at(now()))
        .select(articles::slug)
        .first(conn)
        .optional()?)
}
