//! `/api/v1/admin/media` (the library, for editorial roles) and `/media/{key}` (the files,
//! for everyone).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::dto::{FileBytes, Media, MediaFilter, MediaPatch, MediaUpload};
use super::{serve, service, upload};
use crate::auth::AuthUser;
use crate::envelope::{Data, List, PageQuery};
use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::{Json, Query};
use crate::openapi::bodies::{DataMedia, ListMedia};
use crate::routing::{Endpoint, One, State, endpoints};
use actix_web::web::Path;

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![
    list_media,
    upload_media,
    get_media,
    update_media,
    delete_media,
    media_file = "/media/{key:.+}",
];

/// The library, newest first (admin, editor, author, contributor).
#[utoipa::path(
    get, path = "/api/v1/admin/media", tag = "media", operation_id = "list_media",
    params(PageQuery, MediaFilter),
    responses(
        (status = 200, description = "A page of files.", body = ListMedia),
    )
)]
pub async fn list_media(
    user: AuthUser,
    state: State,
    page: Query<PageQuery>,
    filter: Query<MediaFilter>,
) -> Result<web::Json<List<Media>>, ApiError> {
    let (page, filter, links) = (page.into_inner(), filter.into_inner(), state.media.links.clone());
    state
        .json(move |conn| service::list(conn, &user, &links, page, &filter))
        .await
}

/// Uploads a photo or a document. The type is read from the bytes; a photo is turned the
/// right way up, stripped of its metadata (GPS, camera, capture time) but its colour profile,
/// and resized to 320, 640, 1024 and 1600 pixels wide, as WebP and in its own format.
#[utoipa::path(
    post, path = "/api/v1/admin/media", tag = "media", operation_id = "upload_media",
    request_body(content = MediaUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored.", body = DataMedia,
            headers(("Location" = String, description = "The new file's library entry."))),
        (status = 400, response = BadRequest),
        (status = 408, description = "The upload did not arrive in time."),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
    )
)]
pub async fn upload_media(
    user: AuthUser,
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let media = upload::receive(&state, &user, &req, payload).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/admin/media/{}", media.id)))
        .json(Data::new(media)))
}

/// One file of the library.
#[utoipa::path(
    get, path = "/api/v1/admin/media/{id}", tag = "media", operation_id = "get_media",
    params(("id" = i64, Path, description = "File id.")),
    responses(
        (status = 200, description = "The file.", body = DataMedia),
    )
)]
pub async fn get_media(user: AuthUser, state: State, id: Path<i64>) -> One<Media> {
    let (id, links) = (id.into_inner(), state.media.links.clone());
    state
        .data(move |conn| service::get(conn, &user, &links, id))
        .await
}

/// Changes a file's alt text, caption, credit or title (admin and editor any; author and
/// contributor their own, while no article uses it).
#[utoipa::path(
    patch, path = "/api/v1/admin/media/{id}", tag = "media", operation_id = "update_media",
    params(("id" = i64, Path, description = "File id.")),
    request_body = MediaPatch,
    responses(
        (status = 200, description = "The changed file.", body = DataMedia),
    )
)]
pub async fn update_media(user: AuthUser, state: State, id: Path<i64>, body: Json<MediaPatch>) -> One<Media> {
    let (id, patch, links) = (id.into_inner(), body.into_inner(), state.media.links.clone());
    state
        .data(move |conn| service::update(conn, &user, &links, id, patch))
        .await
}

/// Deletes a file no article uses; a file in use is a 409 naming the articles. Its stored
/// files go once the deletion has committed, unless another upload of the same bytes keeps
/// them.
#[utoipa::path(
    delete, path = "/api/v1/admin/media/{id}", tag = "media", operation_id = "delete_media",
    params(("id" = i64, Path, description = "File id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, response = Conflict),
    )
)]
pub async fn delete_media(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let keys = state.db.run(move |conn| service::delete(conn, &user, id)).await?;
    for key in keys {
        state.media.hot.forget(&key);
        // The row is gone; a file left behind by a failing store is the sweeper's to remove.
        if let Err(e) = state.media.store.delete(&key).await {
            tracing::warn!(%key, error = %e, "deleting a media file failed; the sweeper will retry");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// A stored file: a rendition of a photo or a document, by its content-addressed key. Cached
/// for a year (a new upload is a new key), with `Range` for partial reads; documents are sent
/// as attachments.
#[utoipa::path(
    get, path = "/media/{key}", tag = "media", operation_id = "get_media_file", security(),
    params(("key" = String, Path, description = "The file's key, slashes included (`ab/cd/<sha256>-640.webp`).")),
    responses(
        (status = 200, description = "The file, typed by its key's extension.",
            content((FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "image/webp"), (FileBytes = "application/pdf"), (FileBytes = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (FileBytes = "application/vnd.oasis.opendocument.text"), (FileBytes = "application/vnd.oasis.opendocument.spreadsheet")),
            headers(("ETag" = String), ("Cache-Control" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The requested bytes.",
            content((FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "image/webp"), (FileBytes = "application/pdf"), (FileBytes = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (FileBytes = "application/vnd.oasis.opendocument.text"), (FileBytes = "application/vnd.oasis.opendocument.spreadsheet")),
            headers(("Content-Range" = String))),
        (status = 416, description = "The range starts past the end of the file.",
            headers(("Content-Range" = String))),
        (status = 503, response = Unavailable),
    )
)]
pub async fn media_file(req: HttpRequest, state: State, key: Path<String>) -> Result<HttpResponse, ApiError> {
    serve::serve(&state, &req, &key.into_inner()).await
}
