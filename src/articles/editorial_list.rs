//! The editorial list: every article the caller may see, filtered by states, author,
//! category, tag, a time range or search, in the order the desk asks for.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;

use super::dto::EditorialArticle;
use super::editorial::editorial_many;
use super::model::{ArticleRow, ArticleState};
use super::relations::{Named, bylined, named_filters, tagged};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action, ArticleFacts};
use crate::db::Db;
use crate::db::ids::in_ids;
use crate::db::schema::articles;
use crate::error::ApiError;
use crate::i18n::{Code, Msg};
use crate::media::links::Links;

/// Which time `from` and `to` bound.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DateField {
    CreatedAt,
    #[default]
    UpdatedAt,
    PublishedAt,
}

/// Order of the editorial list.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub enum EditorialSort {
    #[default]
    #[serde(rename = "-updated_at")]
    RecentlyChanged,
    #[serde(rename = "-created_at")]
    RecentlyCreated,
    /// Published first, newest first; never-published articles last.
    #[serde(rename = "-published_at")]
    RecentlyPublished,
    /// By title, A to Z.
    #[serde(rename = "title")]
    Title,
}

/// Filters of the editorial list.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EditorialFilter {
    /// Only articles in these states, separated by commas (`draft,in_review`).
    #[param(example = "draft,in_review", pattern = "^[a-z_]+(,[a-z_]+)*$")]
    pub status: Option<String>,
    /// Only articles with this author (slug) in the byline.
    pub author: Option<String>,
    /// Only articles in this category (slug), sub-categories included.
    pub category: Option<String>,
    /// Only articles with this tag (slug).
    pub tag: Option<String>,
    /// Only articles whose `date_field` is on or after this date (`2020-01-14`) or instant.
    pub from: Option<String>,
    /// Only articles whose `date_field` is on or before this date, or before this instant.
    pub to: Option<String>,
    /// The time `from` and `to` bound: `updated_at` (default), `created_at` or `published_at`.
    #[param(value_type = Option<DateField>)]
    pub date_field: Option<DateField>,
    /// `-updated_at` (default), `-created_at`, `-published_at` or `title`.
    #[param(value_type = Option<EditorialSort>)]
    pub sort: Option<EditorialSort>,
    /// Search, as on the public list: every word in the title, summary or body, the last
    /// one as a prefix, quoted phrases in order, case and diacritics ignored.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// The states named by `status`; an unknown one is a 400 naming the parameter.
fn states(raw: &str) -> Result<Vec<&'static str>, ApiError> {
    raw.split(',')
        .map(|s| {
            ArticleState::parse(s.trim())
                .map(ArticleState::as_str)
                .ok_or_else(|| ApiError::BadRequest(Msg::new(Code::QueryInvalidParam).arg("name", "status")))
        })
        .collect()
}

/// Every article the caller may see, in the order asked for.
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
    let statuses = filter.status.as_deref().map(states).transpose()?;
    let bound = |raw: &Option<String>, name: &str, end: bool| {
        raw.as_deref()
            .map(|r| crate::time::parse_bound(r, name, end))
            .transpose()
    };
    let from: Option<NaiveDateTime> = bound(&filter.from, "from", false)?;
    let to: Option<NaiveDateTime> = bound(&filter.to, "to", true)?;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(ApiError::bad_request(Code::QueryRangeReversed));
    }
    let Named {
        categories: category_ids,
        tag: tag_id,
        author: author_id,
    } = named_filters(
        conn,
        filter.category.as_deref(),
        filter.tag.as_deref(),
        filter.author.as_deref(),
    )?;
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
    let date_field = filter.date_field.unwrap_or_default();
    // A rare word's matches, listed (see `Search::few_matches`).
    let few = match &search {
        Some(search) => search.few_matches(conn)?,
        None => None,
    };
    let build = || {
        let mut q = articles::table.into_boxed();
        if let Some(statuses) = &statuses {
            q = q.filter(articles::status.eq_any(statuses.clone()));
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
        if let Some(tag) = tag_id {
            q = q.filter(tagged(tag));
        }
        if let Some(from) = from {
            q = match date_field {
                DateField::CreatedAt => q.filter(articles::created_at.ge(from)),
                DateField::UpdatedAt => q.filter(articles::updated_at.ge(from)),
                DateField::PublishedAt => q.filter(articles::published_at.ge(from)),
            };
        }
        if let Some(to) = to {
            q = match date_field {
                DateField::CreatedAt => q.filter(articles::created_at.lt(to)),
                DateField::UpdatedAt => q.filter(articles::updated_at.lt(to)),
                DateField::PublishedAt => q.filter(articles::published_at.lt(to)),
            };
        }
        match (&search, &few) {
            (Some(_), Some(ids)) => q = q.filter(in_ids(articles::id, ids)),
            (Some(search), None) => q = q.filter(search.matches(backend)),
            (None, _) => {}
        }
        q
    };
    // A search not listed by its ids filters by every match (see `search::matches_from_index`).
    let searched = search.is_some() && few.is_none();
    let (total, rows) = crate::search::matches_from_index(conn, searched, |conn| {
        let total = crate::search::count_from_gin(conn, searched, |conn| build().count().get_result(conn))?;
        // The page's ids are chosen first, then its rows read: asked for whole rows, SQLite
        // carried each row it sorted with its body, and as articles are changed and created
        // in about the order they were written, nearly every row entered the page's top 20
        // on its way (0.6 s at 100,000 articles, against 0.06 s for the ids alone).
        let ids: Vec<i64> = ordered(build(), filter.sort.unwrap_or_default())
            .select(articles::id)
            .limit(page.per_page)
            .offset(page.offset())
            .load(conn)?;
        let mut rows: Vec<ArticleRow> = articles::table
            .filter(in_ids(articles::id, &ids))
            .select(ArticleRow::as_select())
            .load(conn)?;
        crate::db::ids::in_order_of(&ids, &mut rows, |r| r.id);
        QueryResult::Ok((total, rows))
    })?;
    Ok((editorial_many(conn, links, rows)?, total))
}

/// `q` in the order of `sort`, the id last so that pages never overlap.
fn ordered<'a>(
    q: articles::BoxedQuery<'a, crate::db::MultiBackend>,
    sort: EditorialSort,
) -> articles::BoxedQuery<'a, crate::db::MultiBackend> {
    match sort {
        EditorialSort::RecentlyChanged => q.order((articles::updated_at.desc(), articles::id.desc())),
        EditorialSort::RecentlyCreated => q.order((articles::created_at.desc(), articles::id.desc())),
        // Spelled out: SQLite puts NULLs first in a descending order, PostgreSQL last.
        EditorialSort::RecentlyPublished => q.order((
            articles::published_at.is_null().asc(),
            articles::published_at.desc(),
            articles::id.desc(),
        )),
        EditorialSort::Title => q.order((articles::title.asc(), articles::id.asc())),
    }
}
