//! Media rows as stored, and the column sets written to them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::media;
use crate::error::ApiError;

/// What a file is to the library: a picture shown in pages, or a document offered for
/// download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Document,
}

impl MediaKind {
    pub const ALL: [MediaKind; 2] = [MediaKind::Image, MediaKind::Document];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<MediaKind> {
        MediaKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One resized rendition as the row keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredVariant {
    pub width: u32,
    pub height: u32,
    /// `webp`, `jpeg`, `png`.
    pub format: String,
    pub key: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: i64,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub title: Option<String>,
    pub storage_key: String,
    pub variants: String,
    pub folded: String,
    pub uploaded_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl MediaRow {
    /// The column has a CHECK constraint on the two kinds, so anything else is a broken
    /// database: an error that names it.
    pub fn kind(&self) -> Result<MediaKind, ApiError> {
        MediaKind::parse(&self.kind).ok_or_else(|| {
            ApiError::internal(format!("unknown media kind `{}` in row {}", self.kind, self.id))
        })
    }

    pub fn stored_variants(&self) -> Result<Vec<StoredVariant>, ApiError> {
        serde_json::from_str(&self.variants)
            .map_err(|e| ApiError::internal(format!("variants of media row {}: {e}", self.id)))
    }

    /// Every store key the row names: the full-size file and each variant.
    pub fn keys(&self) -> Result<Vec<String>, ApiError> {
        let mut keys = vec![self.storage_key.clone()];
        keys.extend(self.stored_variants()?.into_iter().map(|v| v.key));
        Ok(keys)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = media)]
pub struct NewMedia<'a> {
    pub kind: &'static str,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub alt: Option<&'a str>,
    pub caption: Option<&'a str>,
    pub credit: Option<&'a str>,
    pub title: Option<&'a str>,
    pub storage_key: &'a str,
    pub variants: String,
    pub folded: String,
    pub uploaded_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The describing fields a PATCH rewrites, merged with the row first.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = media, treat_none_as_null = true)]
pub struct MediaChanges {
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub title: Option<String>,
    pub folded: String,
    pub updated_at: NaiveDateTime,
}

/// How an article uses a file (`article_media.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Cover,
    Attachment,
    /// An image the body shows (`![alt](media:ID)`).
    Body,
}

impl Use {
    pub fn as_str(self) -> &'static str {
        match self {
            Use::Cover => "cover",
            Use::Attachment => "attachment",
            Use::Body => "body",
        }
    }
}
