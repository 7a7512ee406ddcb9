//! The OpenAPI document, generated from the handlers' annotations. The same document is
//! served at `/openapi.json`, printed by `newsdesk openapi`, and committed at
//! `openapi/openapi.json`, where a test keeps the three identical.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{InvalidField, Problem, responses};
use crate::{articles, audit, auth, authors, comments, feeds, ops, taxonomy, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk",
        description = "Headless CMS JSON API for news and public-information portals. \
            Errors are RFC 7807 problem documents (`application/problem+json`).",
        license(name = "MIT", identifier = "MIT")
    ),
    paths(
        ops::healthz,
        ops::readyz,
        ops::metrics::scrape,
        auth::routes::login,
        auth::routes::refresh,
        auth::routes::logout,
        auth::routes::me,
        auth::routes::update_me,
        auth::routes::change_password,
        authors::routes::list_authors,
        authors::routes::get_author,
        authors::routes::list_accounts,
        authors::routes::create_account,
        authors::routes::get_account,
        authors::routes::update_account,
        authors::routes::deactivate_account,
        articles::routes::list_articles,
        articles::routes::get_article,
        articles::routes::count_view,
        articles::routes::list_editorial,
        articles::routes::create_article,
        articles::routes::get_editorial,
        articles::routes::update_article,
        articles::routes::archive_article,
        articles::routes::submit_article,
        articles::routes::publish_article,
        articles::routes::unpublish_article,
        articles::routes::list_revisions,
        articles::routes::get_revision,
        articles::routes::restore_revision,
        comments::routes::get_captcha,
        comments::routes::list_comments,
        comments::routes::submit_comment,
        comments::routes::list_desk,
        comments::routes::get_comment,
        comments::routes::moderate_comment,
        comments::routes::moderate_many,
        comments::routes::delete_comment,
        comments::routes::staff_reply,
        feeds::routes::feed,
        feeds::routes::sitemap,
        feeds::routes::sitemap_page,
        taxonomy::routes::list_categories,
        taxonomy::routes::get_category,
        taxonomy::routes::list_tags,
        taxonomy::routes::create_category,
        taxonomy::routes::update_category,
        taxonomy::routes::delete_category,
        taxonomy::routes::create_tag,
        taxonomy::routes::update_tag,
        taxonomy::routes::delete_tag,
        webhooks::routes::list_webhooks,
        webhooks::routes::create_webhook,
        webhooks::routes::get_webhook,
        webhooks::routes::update_webhook,
        webhooks::routes::delete_webhook,
        webhooks::routes::list_deliveries,
        webhooks::routes::redeliver,
        audit::routes::list_audit,
    ),
    components(
        schemas(Problem, InvalidField),
        responses(
            responses::BadRequest,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::Conflict,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::ValidationFailed,
            responses::TooManyRequests,
            responses::Unavailable,
        )
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, sessions and one's own account."),
        (name = "authors", description = "Public author profiles."),
        (name = "accounts", description = "Account management (admin)."),
        (name = "articles", description = "Published articles for readers."),
        (name = "editorial", description = "Writing, reviewing and publishing articles."),
        (name = "comments", description = "Reader comments and the captcha of the comment form."),
        (name = "moderation", description = "The moderation desk: approving, rejecting and answering comments."),
        (name = "taxonomy", description = "Categories and tags."),
        (name = "webhooks", description = "Signed event deliveries to other systems, and their history (admin)."),
        (name = "audit", description = "The audit log: who did what to which resource, and when (admin)."),
        (name = "feeds", description = "RSS and sitemaps for feed readers and crawlers."),
        (name = "operations", description = "Health, readiness and metrics for operators."),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme that protected operations refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from `POST /api/v1/auth/login`."))
                    .build(),
            ),
        );
    }
}

pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as committed: pretty-printed, ending in a newline.
pub fn spec_json() -> String {
    let mut text = spec()
        .to_pretty_json()
        .unwrap_or_else(|e| unreachable!("the OpenAPI document always serialises: {e}"));
    text.push('\n');
    text
}

/// `/docs` without the slash: send browsers to the UI, whose assets use relative paths.
pub async fn docs_redirect() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

/// Swagger UI at `/docs`, its assets compiled into the binary, reading `/openapi.json`.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec())
}
