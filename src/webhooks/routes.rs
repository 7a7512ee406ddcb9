//! `/api/v1/admin/webhooks` (admin).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::dto::{Delivery, DeliveryFilter, Webhook, WebhookInput, WebhookPatch};
use super::service;
use crate::auth::AuthUser;
use crate::envelope::{Data, List, PageQuery};
use crate::error::ApiError;
use crate::error::responses::*;
use crate::http::{Json, Query};
use crate::openapi::bodies::{
    DataChangedWebhook, DataWebhook, DataWebhookWithSecret, ListDelivery, ListWebhook,
};
use crate::routing::{Endpoint, One, State, endpoints};
use actix_web::http::StatusCode;
use actix_web::web::Path;

/// The handlers of this module, served and documented from this one list.
pub const ENDPOINTS: &[Endpoint] = endpoints![
    list_webhooks,
    create_webhook,
    get_webhook,
    update_webhook,
    delete_webhook,
    list_deliveries,
    redeliver,
];

/// Every webhook, oldest first, with its pending and failed delivery counts.
#[utoipa::path(
    get, path = "/api/v1/admin/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of webhooks (secrets are never shown).", body = ListWebhook),
    )
)]
pub async fn list_webhooks(
    user: AuthUser,
    state: State,
    page: Query<PageQuery>,
) -> Result<web::Json<List<Webhook>>, ApiError> {
    let page = page.into_inner();
    state.json(move |conn| service::list(conn, &user, page)).await
}

/// Subscribes a URL to events. The answer holds the signing secret, shown only this once.
#[utoipa::path(
    post, path = "/api/v1/admin/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = WebhookInput,
    responses(
        (status = 201, description = "Created, with its secret.", body = DataWebhookWithSecret,
            headers(("Location" = String))),
    )
)]
pub async fn create_webhook(
    user: AuthUser,
    state: State,
    body: Json<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, &user, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/admin/webhooks/{}", created.webhook.id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Data::new(created)))
}

/// One webhook.
#[utoipa::path(
    get, path = "/api/v1/admin/webhooks/{id}", tag = "webhooks", operation_id = "get_webhook",
    params(("id" = i64, Path, description = "Webhook id.")),
    responses(
        (status = 200, description = "The webhook.", body = DataWebhook),
    )
)]
pub async fn get_webhook(user: AuthUser, state: State, id: Path<i64>) -> One<Webhook> {
    let id = id.into_inner();
    Ok(web::Json(Data::new(
        state.db.run(move |conn| service::get(conn, &user, id)).await?,
    )))
}

/// Changes a webhook's URL, events, secret, description or whether it is active. The answer
/// shows the secret only when this request set a new one.
#[utoipa::path(
    patch, path = "/api/v1/admin/webhooks/{id}", tag = "webhooks", operation_id = "update_webhook",
    params(("id" = i64, Path, description = "Webhook id.")),
    request_body = WebhookPatch,
    responses(
        (status = 200, description = "Changed; `secret` is present only when the request set it.",
            body = DataChangedWebhook),
    )
)]
pub async fn update_webhook(
    user: AuthUser,
    state: State,
    id: Path<i64>,
    body: Json<WebhookPatch>,
) -> Result<HttpResponse, ApiError> {
    let changed = service::update(&state, &user, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Data::new(changed)))
}

/// Deletes a webhook and its deliveries, including those not yet sent.
#[utoipa::path(
    delete, path = "/api/v1/admin/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = i64, Path, description = "Webhook id.")),
    responses(
        (status = 204, description = "Deleted."),
    )
)]
pub async fn delete_webhook(user: AuthUser, state: State, id: Path<i64>) -> Result<HttpResponse, ApiError> {
    state
        .no_content(move |conn| service::delete(conn, &user, *id))
        .await
}

/// A webhook's deliveries, newest first: state, attempts with their status codes and errors,
/// and the exact body sent.
#[utoipa::path(
    get, path = "/api/v1/admin/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_deliveries",
    params(("id" = i64, Path, description = "Webhook id."), DeliveryFilter, PageQuery),
    responses(
        (status = 200, description = "A page of deliveries.", body = ListDelivery),
    )
)]
pub async fn list_deliveries(
    user: AuthUser,
    state: State,
    id: Path<i64>,
    filter: Query<DeliveryFilter>,
    page: Query<PageQuery>,
) -> Result<web::Json<List<Delivery>>, ApiError> {
    let (id, filter, page) = (id.into_inner(), filter.into_inner(), page.into_inner());
    state
        .json(move |conn| service::deliveries(conn, &user, id, filter, page))
        .await
}

/// Queues a delivered or failed delivery again, with the same body, id and signature.
#[utoipa::path(
    post, path = "/api/v1/admin/webhooks/{id}/deliveries/{delivery}/redeliver", tag = "webhooks",
    operation_id = "redeliver_webhook",
    params(("id" = i64, Path, description = "Webhook id."), ("delivery" = i64, Path, description = "Delivery id.")),
    responses(
        (status = 202, description = "Queued; the worker sends it at once."),
        (status = 409, response = Conflict),
    )
)]
pub async fn redeliver(
    user: AuthUser,
    state: State,
    path: Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (webhook, delivery) = path.into_inner();
    state
        .done(StatusCode::ACCEPTED, move |conn| {
            service::redeliver(conn, &user, webhook, delivery)
        })
        .await
}
