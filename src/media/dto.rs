//! Request and response bodies of the media library.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::MediaKind;

/// A file of the library as editors see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Media {
    pub id: i64,
    pub kind: MediaKind,
    /// The name the file was uploaded with (shown to readers when they download a document).
    #[schema(example = "quyet-dinh-1234.pdf")]
    pub filename: String,
    /// Sniffed from the bytes, never taken from the name or the upload's header.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// Bytes of the served file (for images, the full-size rendition without metadata).
    pub size: i64,
    /// Hex SHA-256 of the uploaded bytes; uploads of the same bytes share their files.
    pub sha256: String,
    /// Pixels, after the camera's orientation is applied; null for documents.
    #[schema(required)]
    pub width: Option<i64>,
    #[schema(required)]
    pub height: Option<i64>,
    /// The text a screen reader says in place of the image; required for images.
    #[schema(required)]
    pub alt: Option<String>,
    #[schema(required)]
    pub caption: Option<String>,
    /// Photographer or source; taken from the photo's `Artist`/`Copyright` when not given.
    #[schema(required)]
    pub credit: Option<String>,
    /// A document's title as readers see it.
    #[schema(required)]
    pub title: Option<String>,
    /// Where the full-size file is served.
    pub url: String,
    /// Resized renditions, smallest first, each as WebP and in the original's format.
    pub variants: Vec<Variant>,
    /// Who uploaded it; null when the account is gone.
    #[schema(required)]
    pub uploaded_by: Option<Uploader>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// How many articles use it (as cover, attachment or in the body), whatever their state.
    pub used_by: i64,
}

/// The account that uploaded a file.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Uploader {
    pub id: i64,
    #[schema(example = "Hoàng Anh")]
    pub name: String,
}

/// One resized rendition of an image.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Variant {
    pub width: u32,
    pub height: u32,
    /// `webp`, `jpeg` or `png`.
    #[schema(example = "webp")]
    pub format: String,
    pub url: String,
}

/// An article's cover as readers get it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Cover {
    pub url: String,
    #[schema(required)]
    pub alt: Option<String>,
    #[schema(required)]
    pub caption: Option<String>,
    #[schema(required)]
    pub credit: Option<String>,
    pub width: i64,
    pub height: i64,
    pub variants: Vec<Variant>,
}

/// A document attached to an article, as readers get it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Attachment {
    pub url: String,
    pub filename: String,
    #[schema(required)]
    pub title: Option<String>,
    pub content_type: String,
    pub size: i64,
}

/// The bytes of a stored file, as `GET /media/{key}` sends them.
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for FileBytes {}

/// `POST /admin/media`, as `multipart/form-data`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct MediaUpload {
    /// The file: JPEG, PNG, WebP or GIF images; PDF, DOCX, XLSX, ODT or ODS documents.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Required for images.
    #[schema(max_length = 500)]
    pub alt: Option<String>,
    #[schema(max_length = 1000)]
    pub caption: Option<String>,
    #[schema(max_length = 300)]
    pub credit: Option<String>,
    #[schema(max_length = 300)]
    pub title: Option<String>,
}

/// `PATCH /admin/media/{id}`: the fields sent change; `null` clears one (an image keeps its
/// `alt`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaPatch {
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub alt: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub caption: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub credit: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub title: Option<Option<String>>,
}

/// Filters of the library's list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaFilter {
    pub kind: Option<MediaKind>,
    /// Words of the filename, alt text, caption or title, with or without diacritics.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Files this account uploaded.
    pub uploaded_by: Option<i64>,
}
