//! Article slugs: whether one is taken, and a free one made from a title.

use diesel::prelude::*;
use diesel::result::Error as DieselError;

use crate::db::Db;
use crate::db::schema::articles;
use crate::error::ApiError;
use crate::i18n::Code;
use crate::text;

pub(super) fn slug_taken(conn: &mut Db, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut q = articles::table.filter(articles::slug.eq(slug)).into_boxed();
    if let Some(id) = except {
        q = q.filter(articles::id.ne(id));
    }
    q.count().get_result::<i64>(conn).map(|n| n > 0)
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
