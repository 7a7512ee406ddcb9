//! Request and response bodies for categories and tags.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::TagRow;

/// A category as embedded in other resources.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct CategoryRef {
    pub id: i64,
    #[schema(example = "cai-cach-hanh-chinh")]
    pub slug: String,
    #[schema(example = "Cải cách hành chính")]
    pub name: String,
    /// The breadcrumb: the categories from the root down to and including this one, so a
    /// page shows "Tin tức › Thời sự › Cải cách hành chính" without asking for the tree.
    #[schema(example = json!([
        {"slug": "tin-tuc", "name": "Tin tức"},
        {"slug": "thoi-su", "name": "Thời sự"},
        {"slug": "cai-cach-hanh-chinh", "name": "Cải cách hành chính"}
    ]))]
    pub path: Vec<Crumb>,
}

/// One step of a category's breadcrumb.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Crumb {
    #[schema(example = "thoi-su")]
    pub slug: String,
    #[schema(example = "Thời sự")]
    pub name: String,
}

/// A category with its place in the tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    /// Order among siblings, ascending.
    pub position: i64,
    #[schema(required)]
    pub parent: Option<CategoryRef>,
    /// Published articles readers can see in this category **and its sub-categories**, as
    /// `GET /api/v1/articles?category=` counts them.
    #[schema(example = 12)]
    pub article_count: i64,
    /// Sub-categories, in order, each with its own children. Public reads leave out those
    /// without published articles.
    #[schema(no_recursion)]
    pub children: Vec<Category>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Tag {
    pub id: i64,
    #[schema(example = "cai-cach-hanh-chinh")]
    pub slug: String,
    #[schema(example = "cải cách hành chính")]
    pub name: String,
}

/// A tag in a list of tags, with how much it is used.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct TagWithCount {
    pub id: i64,
    #[schema(example = "cai-cach-hanh-chinh")]
    pub slug: String,
    #[schema(example = "cải cách hành chính")]
    pub name: String,
    /// Published articles readers can see with this tag.
    #[schema(example = 7)]
    pub article_count: i64,
}

impl From<TagRow> for Tag {
    fn from(row: TagRow) -> Self {
        Tag {
            id: row.id,
            slug: row.slug,
            name: row.name,
        }
    }
}

/// `POST /admin/categories`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[schema(example = "Cải cách hành chính", min_length = 1, max_length = 100)]
    pub name: String,
    /// Generated from the name when absent.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub position: Option<i64>,
}

/// `PATCH /admin/categories/{id}`; `parent_id: null` makes it a root.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
    pub position: Option<i64>,
}

/// `POST /admin/tags` and `PATCH /admin/tags/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagInput {
    #[schema(example = "cải cách hành chính", min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
}
