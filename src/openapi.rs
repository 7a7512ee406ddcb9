//! The OpenAPI document, generated from the handlers' annotations. The same document is
//! served at `/openapi.json`, printed by `newsdesk openapi`, and committed at
//! `openapi/openapi.json`, where a test keeps the three identical.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};
use utoipa_swagger_ui::SwaggerUi;

use crate::articles;
use crate::error::{InvalidField, Problem, responses};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk",
        description = "Headless CMS JSON API for news and public-information portals. \
            Errors are RFC 7807 problem documents (`application/problem+json`).",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((
        url = "/",
        description = "The server that serves this document: relative, so the docs UI and \
            clients on the same origin call the API they were loaded from."
    )),
    components(
        // Query parameters refer to these by name, and utoipa registers only the schemas of
        // bodies by itself.
        schemas(
            Problem,
            InvalidField,
            articles::public::Sort,
            articles::editorial_list::DateField,
            articles::editorial_list::EditorialSort
        ),
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
            OriginNotAllowed,
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
        (name = "media", description = "The media library: photos and documents, their renditions, and the files readers fetch."),
        (name = "webhooks", description = "Signed event deliveries to other systems, and their history (admin)."),
        (name = "audit", description = "The audit log: who did what to which resource, and when (admin)."),
        (name = "feeds", description = "RSS and sitemaps for feed readers and crawlers."),
        (name = "operations", description = "Health, readiness and metrics for operators."),
    )
)]
pub struct ApiDoc;

/// The CORS layer's refusal, made before any route runs, so every operation can answer it;
/// operations that document no other 4xx name it.
#[derive(ToResponse)]
#[response(
    description = "A browser request from an `Origin` that `NEWSDESK_CORS_ORIGINS` does not list \
        (only when that list is set).",
    content_type = "application/problem+json"
)]
pub struct OriginNotAllowed(#[allow(dead_code)] Problem);

/// A string schema that takes only `values`, for a field whose Rust type is a `String` holding
/// one of a fixed set (used with `#[schema(schema_with = …)]`, which also replaces the field's
/// description).
pub fn one_of_strings(values: &[&str], description: &str) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}

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

/// The whole document: what [`ApiDoc`] declares, every endpoint of [`crate::routing`], and
/// the answers that follow from how an operation is declared (see [`implied_responses`]).
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    crate::routing::document(&mut doc);
    implied_responses(&mut doc);
    doc
}

/// Tags whose every signed-in operation is refused to some role, so each answers 403.
/// Editorial operations are not among them: contributors and authors reach their own
/// articles, and those operations declare their 403 where a role can meet it.
const ROLE_GATED_TAGS: &[&str] = &["accounts", "audit", "media", "moderation", "taxonomy", "webhooks"];

/// Adds to every operation the answers its inputs imply, so that no handler repeats them and
/// none can forget one:
/// - no `security` declared: the bearer requirement and 401. Public operations say so with
///   an empty `security()`, so a new endpoint is protected in the document unless it is
///   declared public, as it is in the code unless its handler takes no `AuthUser`;
/// - a signed-in operation of a [`ROLE_GATED_TAGS`] tag: 403;
/// - query parameters: 400 (the `Query` extractor refuses a malformed one);
/// - a JSON body: 400, 413, 415 and 422 (the `Json` extractor and validation);
/// - path parameters: 404 (the resource they name may not exist);
/// - a public read whose 200 carries an `ETag`: 304 for a matching `If-None-Match`.
fn implied_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, ParameterIn};
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{Ref, RefOr, ResponseBuilder};

    for item in doc.paths.paths.values_mut() {
        let operations = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Delete, &mut item.delete),
            (HttpMethod::Options, &mut item.options),
            (HttpMethod::Head, &mut item.head),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Trace, &mut item.trace),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let mut implied: Vec<(&str, &str)> = Vec::new();
            let public = operation.security.is_some();
            if !public {
                operation.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                implied.push(("401", "Unauthorized"));
                let tags = operation.tags.iter().flatten();
                if tags
                    .into_iter()
                    .any(|tag| ROLE_GATED_TAGS.contains(&tag.as_str()))
                {
                    implied.push(("403", "Forbidden"));
                }
            }
            let params = operation.parameters.iter().flatten();
            let located = |place: ParameterIn| params.clone().any(|p| p.parameter_in == place);
            if located(ParameterIn::Query) {
                implied.push(("400", "BadRequest"));
            }
            if located(ParameterIn::Path) {
                implied.push(("404", "NotFound"));
            }
            let json_body = operation
                .request_body
                .as_ref()
                .is_some_and(|body| body.content.contains_key("application/json"));
            if json_body {
                implied.extend([
                    ("400", "BadRequest"),
                    ("413", "PayloadTooLarge"),
                    ("415", "UnsupportedMediaType"),
                    ("422", "ValidationFailed"),
                ]);
            }
            let responses = &mut operation.responses.responses;
            for (status, name) in implied {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
            let tagged = match responses.get("200") {
                Some(RefOr::T(ok)) => ok.headers.contains_key("ETag"),
                _ => false,
            };
            if public && method == HttpMethod::Get && tagged {
                responses.entry("304".to_owned()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description("Unchanged since the `If-None-Match` ETag.")
                            .build(),
                    )
                });
            }
        }
    }
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

/// Response bodies as route annotations name them: utoipa's `body = …` composes a generic
/// type with a derive-only trait, so each envelope gets a plain alias here. Each alias's
/// component is named after its Rust form (`Data_ArticleDetail`, `Data_Vec_Tag`,
/// `List_ArticleSummary`).
pub mod bodies {
    use crate::articles::bulk::BulkArticleOutcome;
    use crate::articles::dto::{ArticleDetail, ArticleSummary, EditorialArticle, Revision, RevisionSummary};
    use crate::articles::preview::PreviewLink;
    use crate::audit::dto::AuditEntry;
    use crate::auth::routes::TokenPair;
    use crate::authors::dto::{Account, PublicAuthor};
    use crate::comments::dto::{Accepted, BulkOutcome, CaptchaChallenge, CommentDetail, PublicComment};
    use crate::envelope::{Data, List, Named};
    use crate::media::dto::Media;
    use crate::ops::{Health, Readiness};
    use crate::taxonomy::dto::{Category, Tag, TagWithCount};
    use crate::webhooks::dto::{ChangedWebhook, Delivery, Webhook, WebhookWithSecret};

    impl Named for Accepted {}
    impl Named for Account {}
    impl Named for ArticleDetail {}
    impl Named for ArticleSummary {}
    impl Named for AuditEntry {}
    impl Named for BulkArticleOutcome {}
    impl Named for BulkOutcome {}
    impl Named for CaptchaChallenge {}
    impl Named for Category {}
    impl Named for ChangedWebhook {}
    impl Named for CommentDetail {}
    impl Named for Delivery {}
    impl Named for EditorialArticle {}
    impl Named for Health {}
    impl Named for Media {}
    impl Named for PreviewLink {}
    impl Named for PublicAuthor {}
    impl Named for PublicComment {}
    impl Named for Readiness {}
    impl Named for Revision {}
    impl Named for RevisionSummary {}
    impl Named for Tag {}
    impl Named for TagWithCount {}
    impl Named for TokenPair {}
    impl Named for Webhook {}
    impl Named for WebhookWithSecret {}

    pub type DataAccepted = Data<Accepted>;
    pub type DataAccount = Data<Account>;
    pub type DataArticleDetail = Data<ArticleDetail>;
    pub type DataCaptchaChallenge = Data<CaptchaChallenge>;
    pub type DataCategory = Data<Category>;
    pub type DataChangedWebhook = Data<ChangedWebhook>;
    pub type DataCommentDetail = Data<CommentDetail>;
    pub type DataEditorialArticle = Data<EditorialArticle>;
    pub type DataHealth = Data<Health>;
    pub type DataMedia = Data<Media>;
    pub type DataPreviewLink = Data<PreviewLink>;
    pub type DataPublicAuthor = Data<PublicAuthor>;
    pub type DataReadiness = Data<Readiness>;
    pub type DataRevision = Data<Revision>;
    pub type DataTag = Data<Tag>;
    pub type DataTokenPair = Data<TokenPair>;
    pub type DataWebhook = Data<Webhook>;
    pub type DataWebhookWithSecret = Data<WebhookWithSecret>;

    pub type DataVecBulkArticleOutcome = Data<Vec<BulkArticleOutcome>>;
    pub type DataVecBulkOutcome = Data<Vec<BulkOutcome>>;
    pub type DataVecCategory = Data<Vec<Category>>;
    pub type DataVecRevisionSummary = Data<Vec<RevisionSummary>>;
    pub type DataVecTagWithCount = Data<Vec<TagWithCount>>;

    pub type ListAccount = List<Account>;
    pub type ListArticleSummary = List<ArticleSummary>;
    pub type ListAuditEntry = List<AuditEntry>;
    pub type ListCommentDetail = List<CommentDetail>;
    pub type ListDelivery = List<Delivery>;
    pub type ListEditorialArticle = List<EditorialArticle>;
    pub type ListMedia = List<Media>;
    pub type ListPublicAuthor = List<PublicAuthor>;
    pub type ListPublicComment = List<PublicComment>;
    pub type ListWebhook = List<Webhook>;
}
