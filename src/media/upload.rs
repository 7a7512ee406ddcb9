//! An upload from the form to the library: the multipart body read within its limits, the
//! type sniffed, an image checked, oriented, stripped of metadata and resized on the blocking
//! pool, every file written to the store, and only then the row (so a row never names a file
//! that is not stored; files whose row never came are swept later).

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use actix_web::http::header;
use bytes::Bytes;
use futures_util::StreamExt;

use super::dto::Media;
use super::model::{MediaKind, StoredVariant};
use super::process::{self, Refusal, Sniffed};
use super::service::{self, Description, Stored};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode, Msg};

/// Bytes a text field of the form may have: far above every field's limit in characters,
/// so a long caption gets its own 422 rather than a refusal of the whole form.
const TEXT_FIELD_BYTES: usize = 16 * 1024;

/// The longest a filename is kept, in characters.
const FILENAME_MAX: usize = 255;

/// What the form carried.
#[derive(Debug, Default)]
struct Form {
    file: Option<(String, Vec<u8>)>,
    alt: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
    title: Option<String>,
}

fn too_large(max_bytes: u64) -> ApiError {
    ApiError::PayloadTooLarge(Msg::new(Code::MediaTooLarge).arg("max", max_bytes / (1024 * 1024)))
}

fn unreadable() -> ApiError {
    ApiError::bad_request(Code::BodyUnreadable)
}

/// The refusal of the processing core as the API answers it.
fn refused(refusal: Refusal, max_bytes: u64) -> ApiError {
    match refusal {
        Refusal::Unsupported { found } => ApiError::UnsupportedMediaType(
            Msg::new(Code::MediaUnsupportedType).arg("found", found.unwrap_or_else(|| "?".into())),
        ),
        Refusal::Svg => {
            ApiError::UnsupportedMediaType(Msg::new(Code::MediaUnsupportedType).arg("found", "image/svg+xml"))
        }
        Refusal::TooLarge { .. } => too_large(max_bytes),
        Refusal::TooManyPixels {
            width,
            height,
            max_pixels,
        } => ApiError::invalid(
            FieldError::new("file", FieldCode::TooManyPixels)
                .arg("width", i64::from(width))
                .arg("height", i64::from(height))
                .arg("max", max_pixels / 1_000_000),
        ),
        Refusal::Corrupt(_) => ApiError::invalid(FieldError::new("file", FieldCode::UnreadableImage)),
        Refusal::Failed(cause) => ApiError::internal(format!("processing an upload: {cause}")),
    }
}

/// The filename as the uploader's system gave it, without any directory, cleaned of control
/// characters; `upload` when there is none.
fn filename(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let clean: String = crate::text::clean(base).chars().take(FILENAME_MAX).collect();
    if clean.is_empty() { "upload".into() } else { clean }
}

/// A rendition's format as the API names it.
fn format_name(format: process::OutputFormat) -> &'static str {
    match format {
        process::OutputFormat::Jpeg => "jpeg",
        process::OutputFormat::Png => "png",
        process::OutputFormat::Webp => "webp",
    }
}

/// Reads the multipart form, refusing a file over `max_bytes` as soon as it is exceeded.
async fn read_form(mut form: Multipart, max_bytes: u64) -> Result<Form, ApiError> {
    let mut read = Form::default();
    let mut unknown = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "file" {
            usize::try_from(max_bytes).unwrap_or(usize::MAX)
        } else {
            TEXT_FIELD_BYTES
        };
        let given_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            if bytes.len() + chunk.len() > limit {
                return Err(if name == "file" {
                    too_large(max_bytes)
                } else {
                    ApiError::invalid(FieldError::new(name, FieldCode::TooLong).arg("max", TEXT_FIELD_BYTES))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || {
            String::from_utf8(bytes.clone())
                .map_err(|_| ApiError::invalid(FieldError::new(&name, FieldCode::WrongType)))
        };
        match name.as_str() {
            "file" => read.file = Some((filename(given_name.as_deref()), bytes)),
            "alt" => read.alt = Some(text()?),
            "caption" => read.caption = Some(text()?),
            "credit" => read.credit = Some(text()?),
            "title" => read.title = Some(text()?),
            _ => unknown.push(FieldError::new(name, FieldCode::UnknownField)),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    Ok(read)
}

/// Whether the request says it is a multipart form.
fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Takes an upload into the library.
pub async fn receive(
    state: &AppState,
    user: &AuthUser,
    req: &HttpRequest,
    payload: actix_web::web::Payload,
) -> Result<Media, ApiError> {
    // Who may not upload is told so before a byte of the file is read.
    policy::require(user, Action::UseMedia)?;
    if !is_form(req) {
        return Err(ApiError::UnsupportedMediaType(Msg::new(Code::MediaFormRequired)));
    }
    let library = &state.media;
    let limits = library.limits;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // The form around the file adds a few hundred bytes; a body far over the limit is refused
    // before it is read.
    if declared.is_some_and(|n| n > limits.max_bytes.saturating_add(TEXT_FIELD_BYTES as u64 * 8)) {
        return Err(too_large(limits.max_bytes));
    }
    let form = Multipart::new(req.headers(), payload);
    let form = tokio::time::timeout(library.upload_timeout, read_form(form, limits.max_bytes))
        .await
        .map_err(|_| ApiError::Http {
            status: actix_web::http::StatusCode::REQUEST_TIMEOUT,
            msg: Msg::new(Code::RequestTimeout),
        })??;
    let Some((filename, bytes)) = form.file else {
        return Err(ApiError::invalid(FieldError::new("file", FieldCode::Required)));
    };
    let texts = Texts {
        alt: form.alt,
        caption: form.caption,
        credit: form.credit,
        title: form.title,
    };
    ingest(state, Some(user.id), filename, bytes, texts).await
}

/// The describing texts given with a file, unchecked.
#[derive(Debug, Default)]
pub struct Texts {
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub title: Option<String>,
}

/// Takes a file into the library, uploaded through the API or read by an import: checks it,
/// makes its renditions, stores them and writes its row. `uploaded_by` is none for imports.
pub async fn ingest(
    state: &AppState,
    uploaded_by: Option<i64>,
    filename: String,
    bytes: Vec<u8>,
    texts: Texts,
) -> Result<Media, ApiError> {
    let library = &state.media;
    let limits = library.limits;
    if bytes.is_empty() {
        return Err(ApiError::invalid(FieldError::new("file", FieldCode::Required)));
    }
    limits
        .check_bytes(&bytes)
        .map_err(|r| refused(r, limits.max_bytes))?;
    let sniffed = process::sniff(&bytes).map_err(|r| refused(r, limits.max_bytes))?;
    let kind = match sniffed {
        Sniffed::Image(_) => MediaKind::Image,
        Sniffed::Document { .. } => MediaKind::Document,
    };
    // The texts are checked before the costly part, so a missing alt is answered at once.
    let mut description = Description::check(kind, texts.alt, texts.caption, texts.credit, texts.title)?;
    let stored = match sniffed {
        Sniffed::Image(_) => {
            process::check_image_header(&bytes, &limits).map_err(|r| refused(r, limits.max_bytes))?;
            let permit = library
                .workers
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| ApiError::internal("the media workers are closed"))?;
            let processed = actix_web::web::block(move || {
                let _permit = permit;
                process::process_image(&bytes, &limits)
            })
            .await
            .map_err(|e| ApiError::internal(format!("the image worker failed: {e}")))?
            .map_err(|r| refused(r, limits.max_bytes))?;
            if description.credit.is_none() {
                description.credit = processed.credit.clone();
            }
            let objects = processed.stored_objects();
            let Some((key, full)) = objects.first() else {
                return Err(ApiError::internal("an image without its full-size rendition"));
            };
            for (key, rendition) in &objects {
                library
                    .store
                    .put(key, Bytes::from(rendition.bytes.clone()), rendition.content_type)
                    .await?;
            }
            Stored {
                kind,
                filename,
                content_type: full.content_type.to_owned(),
                size: full.bytes.len() as i64,
                sha256: processed.sha256.clone(),
                dimensions: Some((full.width, full.height)),
                key: key.clone(),
                variants: objects
                    .iter()
                    .skip(1)
                    .map(|(key, r)| StoredVariant {
                        width: r.width,
                        height: r.height,
                        format: format_name(r.format).to_owned(),
                        key: key.clone(),
                    })
                    .collect(),
            }
        }
        Sniffed::Document {
            content_type,
            extension,
        } => {
            let sha256 = process::sha256_hex(&bytes);
            let key = process::storage_key(&sha256, None, extension)
                .ok_or_else(|| ApiError::internal("a document's storage key"))?;
            let size = bytes.len() as i64;
            library.store.put(&key, Bytes::from(bytes), content_type).await?;
            Stored {
                kind,
                filename,
                content_type: content_type.to_owned(),
                size,
                sha256,
                dimensions: None,
                key,
                variants: Vec::new(),
            }
        }
    };
    let links = library.links.clone();
    state
        .db
        .run(move |conn| service::insert(conn, uploaded_by, &links, &stored, &description))
        .await
}
