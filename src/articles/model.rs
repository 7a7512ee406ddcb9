//! Article rows as the database stores them, the workflow states a row can be in, and the
//! content an editor writes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::render::BodyFormat;
use crate::db::decode::{Stored, StoredOpt, Utf8Text, Utf8TextOpt};
use crate::db::schema::articles;
use crate::error::ApiError;
use crate::media::uses::Files;

/// Workflow states of an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleState {
    Draft,
    InReview,
    Scheduled,
    Published,
    Archived,
}

impl ArticleState {
    pub const ALL: [ArticleState; 5] = [
        ArticleState::Draft,
        ArticleState::InReview,
        ArticleState::Scheduled,
        ArticleState::Published,
        ArticleState::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ArticleState::Draft => "draft",
            ArticleState::InReview => "in_review",
            ArticleState::Scheduled => "scheduled",
            ArticleState::Published => "published",
            ArticleState::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<ArticleState> {
        ArticleState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The state stored in the row `id`. A value no version of the workflow writes means the
    /// row was changed behind the API's back: an error, since guessing a state could publish
    /// or hide an article.
    pub fn stored(s: &str, id: i64) -> Result<ArticleState, ApiError> {
        ArticleState::parse(s)
            .ok_or_else(|| ApiError::internal(format!("unknown article state `{s}` in row {id}")))
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: Option<String>,
    pub source: Option<String>,
    pub body: String,
    pub body_format: String,
    pub body_html: String,
    pub cover_image_url: Option<String>,
    pub category_id: Option<i64>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub comments_enabled: bool,
    pub status: String,
    pub version: i64,
    pub publish_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub view_count: i64,
    pub comment_count: i64,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub unpublish_at: Option<NaiveDateTime>,
    pub featured: bool,
    pub featured_rank: i64,
    pub noindex: bool,
    pub canonical_url: Option<String>,
    pub was_public: bool,
}

impl ArticleRow {
    pub fn state(&self) -> Result<ArticleState, ApiError> {
        ArticleState::stored(&self.status, self.id)
    }

    /// The row's content with what its relations hold: tags, byline and library files.
    pub fn content(&self, tag_ids: Vec<i64>, author_ids: Vec<i64>, files: Files) -> Content {
        Content {
            title: self.title.clone(),
            slug: self.slug.clone(),
            summary: self.summary.clone(),
            source: self.source.clone(),
            body: self.body.clone(),
            body_format: BodyFormat::parse(&self.body_format),
            cover_image_url: self.cover_image_url.clone(),
            category_id: self.category_id,
            meta_title: self.meta_title.clone(),
            meta_description: self.meta_description.clone(),
            comments_enabled: self.comments_enabled,
            tag_ids,
            author_ids,
            cover_media_id: files.cover,
            attachment_ids: files.attachments,
            featured: self.featured,
            featured_rank: self.featured_rank,
            noindex: self.noindex,
            canonical_url: self.canonical_url.clone(),
        }
    }
}

impl Content {
    /// The library files named as cover and attachments.
    pub fn files(&self) -> Files {
        Files {
            cover: self.cover_media_id,
            attachments: self.attachment_ids.clone(),
        }
    }
}

/// The columns an editor's content sets, the same when an article is inserted and each time
/// it is saved. A save writes the whole content, so `None` is written as NULL on both paths:
/// a field cleared by an edit clears its column.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = articles, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ContentColumns<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: Option<&'a str>,
    pub source: Option<&'a str>,
    pub body: &'a str,
    pub body_format: &'static str,
    pub body_html: &'a str,
    pub cover_image_url: Option<&'a str>,
    pub category_id: Option<i64>,
    pub meta_title: Option<&'a str>,
    pub meta_description: Option<&'a str>,
    pub comments_enabled: bool,
    pub featured: bool,
    pub featured_rank: i64,
    pub noindex: bool,
    pub canonical_url: Option<&'a str>,
}

impl<'a> ContentColumns<'a> {
    /// `body_html` is `c.body` rendered in its format.
    pub fn new(c: &'a Content, body_html: &'a str) -> Self {
        ContentColumns {
            slug: &c.slug,
            title: &c.title,
            summary: c.summary.as_deref(),
            source: c.source.as_deref(),
            body: &c.body,
            body_format: c.body_format.as_str(),
            body_html,
            cover_image_url: c.cover_image_url.as_deref(),
            category_id: c.category_id,
            meta_title: c.meta_title.as_deref(),
            meta_description: c.meta_description.as_deref(),
            comments_enabled: c.comments_enabled,
            featured: c.featured,
            featured_rank: c.featured_rank,
            noindex: c.noindex,
            canonical_url: c.canonical_url.as_deref(),
        }
    }
}

/// The columns a public list shows: no bodies, which are most of a row's bytes.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = articles)]
pub struct SummaryRow {
    pub id: i64,
    pub slug: String,
    #[diesel(deserialize_as = Utf8Text)]
    pub title: String,
    #[diesel(deserialize_as = Utf8TextOpt)]
    pub summary: Option<String>,
    pub source: Option<String>,
    pub cover_image_url: Option<String>,
    pub category_id: Option<i64>,
    #[diesel(deserialize_as = StoredOpt)]
    pub published_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Stored)]
    pub updated_at: NaiveDateTime,
    pub view_count: i64,
    pub comment_count: i64,
}

impl From<&ArticleRow> for SummaryRow {
    fn from(r: &ArticleRow) -> Self {
        SummaryRow {
            id: r.id,
            slug: r.slug.clone(),
            title: r.title.clone(),
            summary: r.summary.clone(),
            source: r.source.clone(),
            cover_image_url: r.cover_image_url.clone(),
            category_id: r.category_id,
            published_at: r.published_at,
            updated_at: r.updated_at,
            view_count: r.view_count,
            comment_count: r.comment_count,
        }
    }
}

/// A [`SummaryRow`] with its byline, tags and covers as ids (see [`LinkIdsOf`]), for lists
/// whose rows come in the order of an index, which computes them for the rows shown only.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ListedRow {
    #[diesel(embed)]
    pub summary: SummaryRow,
    #[diesel(select_expression = LinkIdsOf)]
    #[diesel(select_expression_type = LinkIdsOf)]
    pub link_ids: Option<String>,
}

/// The article's row of `article_links` (see `relations::rewrite_link_ids`), as a column of
/// the statement that reads the article: one lookup by key in the same statement, where a
/// statement of its own costs a round trip on PostgreSQL and a twentieth of an uncached list
/// on SQLite.
///
/// SQLite computes a column before sorting, for every row it sorts, and both backends for
/// every row an `OFFSET` skips: such statements read the ids apart instead
/// (`relations::linked`).
#[derive(Debug, Clone, Copy, Default, diesel::query_builder::QueryId)]
pub struct LinkIdsOf;

impl Expression for LinkIdsOf {
    type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for LinkIdsOf {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(
            "(SELECT article_links.ids FROM article_links \
             WHERE article_links.article_id = articles.id)",
        );
        Ok(())
    }
}

impl<QS> AppearsOnTable<QS> for LinkIdsOf {}

impl<QS> SelectableExpression<QS> for LinkIdsOf {}

impl<GB> diesel::expression::ValidGrouping<GB> for LinkIdsOf {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// Whether the article has a file its page lists (a cover or an attachment; images in the
/// body are not listed), as a column of the statement that reads it: most articles have
/// none, and their page then skips the statement of files, a round trip on PostgreSQL. The
/// condition is `uses::shown`'s.
#[derive(Debug, Clone, Copy, Default, diesel::query_builder::QueryId)]
pub struct HasFiles;

/// [`HasFiles`]'s text; `'body'` is `media::model::Use::Body` (a test checks).
const HAS_FILES_SQL: &str = "EXISTS (SELECT 1 FROM article_media \
     WHERE article_media.article_id = articles.id AND article_media.role <> 'body')";

impl Expression for HasFiles {
    // Never null; nullable so that a row built without it (a preview) can say so.
    type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for HasFiles {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(HAS_FILES_SQL);
        Ok(())
    }
}

impl<QS> AppearsOnTable<QS> for HasFiles {}

impl<QS> SelectableExpression<QS> for HasFiles {}

impl<GB> diesel::expression::ValidGrouping<GB> for HasFiles {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// The columns a reader's page shows: a summary's, the rendered body and the page's own
/// settings. Not the source text, which only editors read and which is as long as the body.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct PageRow {
    #[diesel(embed)]
    pub summary: SummaryRow,
    /// Its byline, tags and covers as ids; `None` when not read with the row (a preview).
    #[diesel(select_expression = LinkIdsOf)]
    #[diesel(select_expression_type = LinkIdsOf)]
    pub link_ids: Option<String>,
    /// Whether it has a cover or attachments; `None` when not read with the row (a preview).
    #[diesel(select_expression = HasFiles)]
    #[diesel(select_expression_type = HasFiles)]
    pub has_files: Option<bool>,
    pub body_format: String,
    #[diesel(deserialize_as = Utf8Text)]
    pub body_html: String,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub comments_enabled: bool,
    pub noindex: bool,
    pub canonical_url: Option<String>,
}

impl From<ArticleRow> for PageRow {
    fn from(r: ArticleRow) -> Self {
        PageRow {
            summary: SummaryRow::from(&r),
            link_ids: None,
            has_files: None,
            body_format: r.body_format,
            body_html: r.body_html,
            meta_title: r.meta_title,
            meta_description: r.meta_description,
            comments_enabled: r.comments_enabled,
            noindex: r.noindex,
            canonical_url: r.canonical_url,
        }
    }
}

/// What a page's lists of other articles (newer, older, related) show of each.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = articles)]
pub struct LinkRow {
    pub id: i64,
    pub slug: String,
    #[diesel(deserialize_as = Utf8Text)]
    pub title: String,
    pub category_id: Option<i64>,
    #[diesel(deserialize_as = StoredOpt)]
    pub published_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Stored)]
    pub updated_at: NaiveDateTime,
}

/// Everything an editor writes: what a revision keeps and a restore brings back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Content {
    pub title: String,
    pub slug: String,
    #[schema(required)]
    pub summary: Option<String>,
    #[schema(required)]
    pub source: Option<String>,
    pub body: String,
    pub body_format: BodyFormat,
    #[schema(required)]
    pub cover_image_url: Option<String>,
    #[schema(required)]
    pub category_id: Option<i64>,
    #[schema(required)]
    pub meta_title: Option<String>,
    #[schema(required)]
    pub meta_description: Option<String>,
    pub comments_enabled: bool,
    pub tag_ids: Vec<i64>,
    /// The byline, in order.
    pub author_ids: Vec<i64>,
    /// A library image shown as the cover; `cover_image_url` remains for an external one.
    /// (Revisions saved before the media library have neither field.)
    #[serde(default)]
    #[schema(required)]
    pub cover_media_id: Option<i64>,
    /// Library files offered with the article, in order.
    #[serde(default)]
    #[schema(required)]
    pub attachment_ids: Vec<i64>,
    /// Listed by `GET /api/v1/articles?featured=true`. (Revisions saved before these four
    /// fields existed read as not featured, indexed and without a canonical address.)
    #[serde(default)]
    #[schema(required)]
    pub featured: bool,
    /// Order among featured articles, lower first.
    #[serde(default)]
    #[schema(required)]
    pub featured_rank: i64,
    /// Asks search engines not to index the article; it is left out of the sitemap.
    #[serde(default)]
    #[schema(required)]
    pub noindex: bool,
    /// The original's address when this is a syndicated copy.
    #[serde(default)]
    #[schema(required)]
    pub canonical_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_as_written() {
        for state in ArticleState::ALL {
            assert_eq!(ArticleState::stored(state.as_str(), 1).ok(), Some(state));
        }
    }

    #[test]
    fn an_unknown_stored_state_is_an_error_naming_it_and_its_row() {
        match ArticleState::stored("deleted", 42) {
            Err(ApiError::Internal(cause)) => {
                assert_eq!(cause, "unknown article state `deleted` in row 42");
            }
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn files_are_told_apart_from_body_images_by_the_role_pages_skip() {
        let body = format!(
            "article_media.role <> '{}'",
            crate::media::model::Use::Body.as_str()
        );
        assert!(HAS_FILES_SQL.contains(&body), "{HAS_FILES_SQL}");
    }
}
