//! `/api/v1/categories`, `/api/v1/tags`, and their management under `/api/v1/admin`
//! (editors and admins).

use actix_web::{HttpRequest, HttpResponse};

use super::dto::{Category, CategoryInput, CategoryPatch, Tag, TagInput, TagWithCount};
use super::service::{self, Shown};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::envelope::Data;
use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::Json;
use crate::http::json_bytes;
use crate::openapi::OriginNotAllowed;
use crate::openapi::bodies::{DataCategory, DataTag, DataVecCategory, DataVecTagWithCount};
use crate::routing::{Endpoint, One, State, endpoints};
use actix_web::web::Path;

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![
    list_categories,
    get_category,
    list_tags,
    list_all_categories,
    list_all_tags,
    create_category,
    update_category,
    delete_category,
    create_tag,
    update_tag,
    delete_tag,
];

/// The category tree: root categories with nested `children`, only those with published
/// articles (in them or in a sub-category), each with its `article_count`.
#[utoipa::path(
    get, path = "/api/v1/categories", tag = "taxonomy", operation_id = "list_categories", security(),
    responses(
        (status = 200, description = "The tree.", body = DataVecCategory,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 403, response = OriginNotAllowed),
    )
)]
pub async fn list_categories(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    state
        .cached(&req, "application/json", |conn, _| {
            json_bytes(&Data::new(service::tree(conn, Shown::Public)?))
        })
        .await
}

/// One category with its parent and the sub-categories that have published articles. A
/// category without any is still found, with `article_count` 0.
#[utoipa::path(
    get, path = "/api/v1/categories/{slug}", tag = "taxonomy", operation_id = "get_category", security(),
    params(("slug" = String, Path, description = "Category slug.")),
    responses(
        (status = 200, description = "The category.", body = DataCategory,
            headers(("ETag" = String), ("Cache-Control" = String))),
    )
)]
pub async fn get_category(
    req: HttpRequest,
    state: State,
    slug: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    state
        .cached(&req, "application/json", move |conn, _| {
            json_bytes(&Data::new(service::category_by_slug(conn, &slug, Shown::Public)?))
        })
        .await
}

/// The tags of published articles, by name, each with its `article_count`.
#[utoipa::path(
    get, path = "/api/v1/tags", tag = "taxonomy", operation_id = "list_tags", security(),
    responses(
        (status = 200, description = "Tags.", body = DataVecTagWithCount,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 403, response = OriginNotAllowed),
    )
)]
pub async fn list_tags(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    state
        .cached(&req, "application/json", |conn, _| {
            json_bytes(&Data::new(service::tags(conn, Shown::Public)?))
        })
        .await
}

/// The whole category tree, empty categories included, to file articles under (everyone who
/// writes articles).
#[utoipa::path(
    get, path = "/api/v1/admin/categories", tag = "taxonomy", operation_id = "list_all_categories",
    responses(
        (status = 200, description = "The tree.", body = DataVecCategory),
    )
)]
pub async fn list_all_categories(user: AuthUser, state: State) -> One<Vec<Category>> {
    policy::require(&user, Action::CreateArticle)?;
    state.data(|conn| Ok(service::tree(conn, Shown::All)?)).await
}

/// Every tag, unused ones included, by name (everyone who writes articles).
#[utoipa::path(
    get, path = "/api/v1/admin/tags", tag = "taxonomy", operation_id = "list_all_tags",
    responses(
        (status = 200, description = "Tags.", body = DataVecTagWithCount),
    )
)]
pub async fn list_all_tags(user: AuthUser, state: State) -> One<Vec<TagWithCount>> {
    policy::require(&user, Action::CreateArticle)?;
    state.data(|conn| Ok(service::tags(conn, Shown::All)?)).await
}

/// Creates a category (editor, admin).
#[utoipa::path(
    post, path = "/api/v1/admin/categories", tag = "taxonomy", operation_id = "create_category",
    request_body = CategoryInput,
    responses(
        (status = 201, description = "Created.", body = DataCategory),
        (status = 409, response = Conflict),
    )
)]
pub async fn create_category(
    user: AuthUser,
    state: State,
    body: Json<CategoryInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    state
        .created(move |conn| service::create_category(conn, &user, input))
        .await
}

/// Renames, moves or reorders a category (editor, admin).
#[utoipa::path(
    patch, path = "/api/v1/admin/categories/{id}", tag = "taxonomy", operation_id = "update_category",
    params(("id" = i64, Path, description = "Category id.")),
    request_body = CategoryPatch,
    responses(
        (status = 200, description = "Changed.", body = DataCategory),
        (status = 409, response = Conflict),
    )
)]
pub async fn update_category(
    user: AuthUser,
    state: State,
    id: Path<i64>,
    body: Json<CategoryPatch>,
) -> One<Category> {
    let (id, patch) = (id.into_inner(), body.into_inner());
    state
        .data(move |conn| service::update_category(conn, &user, id, patch))
        .await
}

/// Deletes a category without sub-categories; its articles lose their category (editor, admin).
#[utoipa::path(
    delete, path = "/api/v1/admin/categories/{id}", tag = "taxonomy", operation_id = "delete_category",
    params(("id" = i64, Path, description = "Category id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, response = Conflict),
    )
)]
pub async fn delete_category(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    state
        .no_content(move |conn| service::delete_category(conn, &user, *id))
        .await
}

/// Creates a tag (editor, admin).
#[utoipa::path(
    post, path = "/api/v1/admin/tags", tag = "taxonomy", operation_id = "create_tag",
    request_body = TagInput,
    responses(
        (status = 201, description = "Created.", body = DataTag),
        (status = 409, response = Conflict),
    )
)]
pub async fn create_tag(
    user: AuthUser,
    state: State,
    body: Json<TagInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    state
        .created(move |conn| service::create_tag(conn, &user, input))
        .await
}

/// Renames a tag (editor, admin).
#[utoipa::path(
    patch, path = "/api/v1/admin/tags/{id}", tag = "taxonomy", operation_id = "update_tag",
    params(("id" = i64, Path, description = "Tag id.")),
    request_body = TagInput,
    responses(
        (status = 200, description = "Changed.", body = DataTag),
        (status = 409, response = Conflict),
    )
)]
pub async fn update_tag(user: AuthUser, state: State, id: Path<i64>, body: Json<TagInput>) -> One<Tag> {
    let (id, input) = (id.into_inner(), body.into_inner());
    state
        .data(move |conn| service::update_tag(conn, &user, id, input))
        .await
}

/// Deletes a tag and removes it from its articles (editor, admin).
#[utoipa::path(
    delete, path = "/api/v1/admin/tags/{id}", tag = "taxonomy", operation_id = "delete_tag",
    params(("id" = i64, Path, description = "Tag id.")),
    responses(
        (status = 204, description = "Deleted."),
    )
)]
pub async fn delete_tag(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    state
        .no_content(move |conn| service::delete_tag(conn, &user, *id))
        .await
}
