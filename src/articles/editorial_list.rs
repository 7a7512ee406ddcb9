//! The editorial list: every article the caller may see, filtered by state, author,
//! category or search.

use diesel::prelude::*;

use super::dto::EditorialArticle;
use super::editorial::editorial_many;
use super::model::{ArticleRow, ArticleState};
use super::relations::{author_by_slug, bylined};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action, ArticleFacts};
use crate::db::Db;
use crate::db::schema::articles;
use crate::error::ApiError;
use crate::i18n::{Code, Msg};
use crate::media::links::Links;
use crate::taxonomy::service as taxonomy;
use crate::text;

/// Filters of the editorial list.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EditorialFilter {
    /// Only articles in this state.
    pub status: Option<ArticleState>,
    /// Only articles with this author (slug) in the byline.
    pub author: Option<String>,
    /// Only articles in this category (slug).
    pub category: Option<String>,
    /// Search, as on the public list: every word in the title, summary or body, the last
    /// one as a prefix, quoted phrases in order, case and diacritics ignored.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// Every article the caller may see, newest change first.
pub fn list(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    page: crate::envelope::Page,
    filter: &EditorialFilter,
) -> Result<(Vec<EditorialArticle>, i64), ApiError> {
    let may_view = |own: bool| {
        policy::allows(
            user.role,
            Action::ViewArticle(ArticleFacts {
                own,
                state: ArticleState::Draft,
            }),
        )
    };
    let sees_all = may_view(false);
    if !sees_all && !may_view(true) {
        return Err(ApiError::Forbidden(
            Msg::new(Code::ArticleNoAccess).arg("role", user.role.as_str()),
        ));
    }
    let unknown = |slug: &Option<String>| slug.as_deref().is_some_and(|s| !text::is_valid_slug(s));
    if unknown(&filter.author) || unknown(&filter.category) {
        return Ok((Vec::new(), 0));
    }
    let author_id = match &filter.author {
        Some(slug) => match author_by_slug(conn, slug)? {
            Some(id) => Some(id),
            None => return Ok((Vec::new(), 0)),
        },
        None => None,
    };
    let category_ids = match &filter.category {
        Some(slug) => match taxonomy::category_and_descendants(conn, slug)? {
            Some(ids) => Some(ids),
            None => return Ok((Vec::new(), 0)),
        },
        None => None,
    };
    let search = filter
        .q
        .as_deref()
        .map(crate::search::Search::parse)
        .transpose()?
        .flatten();
    if search.as_ref().is_some_and(crate::search::Search::is_empty) {
        return Ok((Vec::new(), 0));
    }
    let backend = conn.backend();
    let user_id = user.id;
    let status = filter.status;
    let build = || {
        let mut q = articles::table.into_boxed();
        if let Some(status) = status {
            q = q.filter(articles::status.eq(status.as_str()));
        }
        if let Some(author) = author_id {
            q = q.filter(bylined(author));
        }
        if !sees_all {
            q = q.filter(bylined(user_id));
        }
        if let Some(ids) = &category_ids {
            q = q.filter(articles::category_id.eq_any(ids.clone()));
        }
        if let Some(search) = &search {
            q = q.filter(search.matches(backend));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows: Vec<ArticleRow> = build()
        .order((articles::updated_at.desc(), articles::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(ArticleRow::as_select())
        .load(conn)?;
    Ok((editorial_many(conn, links, rows)?, total))
}
