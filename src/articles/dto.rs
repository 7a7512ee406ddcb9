//! Request and response bodies for articles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::ArticleState;
use super::model::Content;
use super::render::BodyFormat;
use crate::media::dto::{Attachment, Cover};
use crate::patch::double_option;
use crate::taxonomy::dto::{CategoryRef, Tag};

/// An author as shown in a byline: the public profile.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = crate::db::schema::authors)]
pub struct Byline {
    pub id: i64,
    #[schema(example = "hoang-anh")]
    pub slug: String,
    #[schema(example = "Hoàng Anh")]
    pub name: String,
    #[schema(required)]
    pub bio: Option<String>,
    #[schema(required)]
    pub avatar_url: Option<String>,
}

/// `POST /admin/articles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    #[schema(
        example = "Tích cực cải cách hành chính để nâng cao mức độ hài lòng của công dân",
        min_length = 1,
        max_length = 300
    )]
    pub title: String,
    /// Generated from the title when absent; a taken slug is a 409.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    /// The lead paragraph.
    #[schema(max_length = 2000)]
    pub summary: Option<String>,
    /// Markdown or HTML, per `body_format`.
    #[serde(default)]
    pub body: String,
    /// Default `markdown`.
    pub body_format: Option<BodyFormat>,
    /// Where the news comes from, shown before the lead (`HNP`).
    #[schema(example = "HNP", max_length = 100)]
    pub source: Option<String>,
    #[schema(max_length = 2048)]
    pub cover_image_url: Option<String>,
    pub category_id: Option<i64>,
    /// Existing tags by id.
    pub tag_ids: Option<Vec<i64>>,
    /// Tags by name, created when new.
    pub tags: Option<Vec<String>>,
    /// The byline in order; default the caller.
    pub author_ids: Option<Vec<i64>>,
    /// A library image as the cover (a document is refused).
    pub cover_media_id: Option<i64>,
    /// Library files offered with the article, in order.
    pub attachment_ids: Option<Vec<i64>>,
    #[schema(max_length = 300)]
    pub meta_title: Option<String>,
    #[schema(max_length = 500)]
    pub meta_description: Option<String>,
    /// Default `true`.
    pub comments_enabled: Option<bool>,
    /// Listed among featured news (`GET /api/v1/articles?featured=true`). Default `false`.
    pub featured: Option<bool>,
    /// Order among featured articles, lower first. Default 0.
    #[schema(minimum = 0, maximum = 1000000)]
    pub featured_rank: Option<i64>,
    /// Keep search engines from indexing the article. Default `false`.
    pub noindex: Option<bool>,
    /// The original's address, for a syndicated copy.
    #[schema(max_length = 2048, example = "https://baochinhphu.vn/bai-goc.htm")]
    pub canonical_url: Option<String>,
}

/// `PATCH /admin/articles/{id}`: the fields sent change; `null` clears an optional one. The
/// `version` read before editing is required here or as `If-Match: "<version>"`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticlePatch {
    /// The version this edit is based on.
    pub version: Option<i64>,
    #[schema(min_length = 1, max_length = 300)]
    pub title: Option<String>,
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    pub body: Option<String>,
    pub body_format: Option<BodyFormat>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub cover_image_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub category_id: Option<Option<i64>>,
    pub tag_ids: Option<Vec<i64>>,
    pub tags: Option<Vec<String>>,
    pub author_ids: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub meta_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub meta_description: Option<Option<String>>,
    pub comments_enabled: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub cover_media_id: Option<Option<i64>>,
    pub attachment_ids: Option<Vec<i64>>,
    pub featured: Option<bool>,
    #[schema(minimum = 0, maximum = 1000000)]
    pub featured_rank: Option<i64>,
    pub noindex: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2048)]
    pub canonical_url: Option<Option<String>>,
    /// When the scheduler takes the published article back to draft; `null` cancels.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub unpublish_at: Option<Option<DateTime<Utc>>>,
}

impl ArticlePatch {
    /// Writes the fields sent over `c`. Sending `tag_ids` or `tags` replaces the tags: the ids
    /// sent (none when only names are), to which the returned names are to be added.
    pub fn apply(self, c: &mut Content) -> Option<Vec<String>> {
        fn set<T>(field: &mut T, sent: Option<T>) {
            if let Some(v) = sent {
                *field = v;
            }
        }
        set(&mut c.title, self.title);
        set(&mut c.slug, self.slug);
        set(&mut c.summary, self.summary);
        set(&mut c.body, self.body);
        set(&mut c.body_format, self.body_format);
        set(&mut c.source, self.source);
        set(&mut c.cover_image_url, self.cover_image_url);
        set(&mut c.category_id, self.category_id);
        set(&mut c.meta_title, self.meta_title);
        set(&mut c.meta_description, self.meta_description);
        set(&mut c.comments_enabled, self.comments_enabled);
        set(&mut c.author_ids, self.author_ids);
        set(&mut c.cover_media_id, self.cover_media_id);
        set(&mut c.attachment_ids, self.attachment_ids);
        set(&mut c.featured, self.featured);
        set(&mut c.featured_rank, self.featured_rank);
        set(&mut c.noindex, self.noindex);
        set(&mut c.canonical_url, self.canonical_url);
        if self.tag_ids.is_some() || self.tags.is_some() {
            c.tag_ids = self.tag_ids.unwrap_or_default();
        }
        self.tags
    }
}

/// `POST /admin/articles/{id}/publish`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    /// Absent: publish now. Past: publish now, dated then (backdating an archive's article).
    /// Future: schedule.
    pub publish_at: Option<DateTime<Utc>>,
    /// When the scheduler takes the article back to draft (a notice valid until a date);
    /// must be after the publication time.
    pub unpublish_at: Option<DateTime<Utc>>,
}

/// An article as editors see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditorialArticle {
    pub id: i64,
    pub slug: String,
    pub title: String,
    #[schema(required)]
    pub summary: Option<String>,
    #[schema(required)]
    pub source: Option<String>,
    pub body: String,
    pub body_format: BodyFormat,
    /// The sanitised HTML readers get.
    pub body_html: String,
    #[schema(required)]
    pub cover_image_url: Option<String>,
    /// The library image shown as the cover, by id (as written) and as readers get it.
    #[schema(required)]
    pub cover_media_id: Option<i64>,
    #[schema(required)]
    pub cover: Option<Cover>,
    /// Library files offered with the article, in order: by id and as readers get them.
    pub attachment_ids: Vec<i64>,
    pub attachments: Vec<Attachment>,
    #[schema(required)]
    pub category: Option<CategoryRef>,
    pub tags: Vec<Tag>,
    pub authors: Vec<Byline>,
    #[schema(required)]
    pub meta_title: Option<String>,
    #[schema(required)]
    pub meta_description: Option<String>,
    pub comments_enabled: bool,
    pub status: ArticleState,
    /// Send it back with an edit; it changes with every saved edit.
    pub version: i64,
    /// When a scheduled article goes out.
    #[schema(required)]
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub publish_at: Option<DateTime<Utc>>,
    /// When the scheduler takes the article back to draft.
    #[schema(required)]
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub unpublish_at: Option<DateTime<Utc>>,
    pub featured: bool,
    pub featured_rank: i64,
    pub noindex: bool,
    #[schema(required)]
    pub canonical_url: Option<String>,
    #[schema(required)]
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub published_at: Option<DateTime<Utc>>,
    pub view_count: i64,
    /// Approved comments, replies included; the comment list's `meta.total` counts threads.
    pub comment_count: i64,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// An article in a public list: everything but the body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    /// Its page on the portal (`NEWSDESK_PUBLIC_URL` + `NEWSDESK_ARTICLE_PATH`).
    #[schema(example = "https://hanoi.gov.vn/articles/tich-cuc-cai-cach-hanh-chinh")]
    pub url: String,
    pub title: String,
    #[schema(required)]
    pub summary: Option<String>,
    #[schema(required)]
    pub source: Option<String>,
    /// An external cover image's address; a library cover is in `cover`.
    #[schema(required)]
    pub cover_image_url: Option<String>,
    /// The cover from the media library, with its sizes for `srcset`.
    #[schema(required)]
    pub cover: Option<Cover>,
    #[schema(required)]
    pub category: Option<CategoryRef>,
    pub tags: Vec<Tag>,
    pub authors: Vec<Byline>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub published_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub view_count: i64,
    /// Approved comments, replies included; the comment list's `meta.total` counts threads.
    pub comment_count: i64,
}

/// A neighbouring or related article, for "newer", "older" and "related" lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Neighbour {
    pub slug: String,
    /// Its page on the portal.
    pub url: String,
    pub title: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub published_at: DateTime<Utc>,
}

/// One published article, as a reader's page needs it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDetail {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    pub body_html: String,
    pub body_format: BodyFormat,
    #[schema(required)]
    pub meta_title: Option<String>,
    #[schema(required)]
    pub meta_description: Option<String>,
    pub comments_enabled: bool,
    /// Files offered for download, in order.
    pub attachments: Vec<Attachment>,
    /// Up to 5 newer published articles (same category when it has one), nearest first.
    pub newer: Vec<Neighbour>,
    /// Up to 5 older published articles (same category when it has one), nearest first.
    pub older: Vec<Neighbour>,
    /// Up to 5 published articles sharing the most tags with this one, then its category,
    /// newest first; none of them is also in `newer` or `older`.
    pub related: Vec<Neighbour>,
    /// Ask search engines not to index this page (`<meta name="robots" content="noindex">`).
    pub noindex: bool,
    /// The page's canonical address: the original's for a syndicated copy, else `url`.
    pub canonical_url: String,
    /// The image for link previews (`og:image`): the library cover's largest rendition, or
    /// the external cover image.
    #[schema(required)]
    pub og_image: Option<String>,
}

/// One saved version in an article's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionSummary {
    pub version: i64,
    pub title: String,
    /// Who saved it.
    #[schema(required)]
    pub edited_by: Option<Byline>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// One saved version with its whole content.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revision {
    pub version: i64,
    #[schema(required)]
    pub edited_by: Option<Byline>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    pub content: Content,
}
