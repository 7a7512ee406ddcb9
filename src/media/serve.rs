//! Serving stored files at `/media/{key}`. Keys are content hashes, so what a key names never
//! changes: answers are cacheable for a year, the key is the ETag, a `Range` picks bytes of
//! a large document, and small files are kept in memory ([`HotFiles`]) with nothing to
//! invalidate but deletions.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::app::AppState;
use crate::error::ApiError;
use crate::i18n::{Code, Msg};
use crate::storage::{ByteRange, StoreError};

/// The type a key's extension is served as, and whether it is a document (downloaded rather
/// than shown). Only what the library writes is served.
fn served_as(key: &str) -> Option<(&'static str, bool)> {
    let ext = key.rsplit_once('.')?.1;
    Some(match ext {
        "jpg" => ("image/jpeg", false),
        "png" => ("image/png", false),
        "webp" => ("image/webp", false),
        "pdf" => ("application/pdf", true),
        "docx" => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            true,
        ),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            true,
        ),
        "odt" => ("application/vnd.oasis.opendocument.text", true),
        "ods" => ("application/vnd.oasis.opendocument.spreadsheet", true),
        _ => return None,
    })
}

/// The largest file kept in memory: every rendition of a photo up to 1600 pixels wide fits,
/// full-size photos and documents are read from the store each time.
const HOT_MAX: usize = 1 << 20;

/// How long a file stays in memory at most: the time another process may go on serving a
/// file deleted elsewhere (the process that deletes forgets it at once).
const HOT_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Small stored files in memory, by key. Reading a rendition from a directory costs a file
/// open and read on the blocking pool per request, and from S3 a round trip; both are far
/// slower than answering from memory, and the bytes of a key never change.
#[derive(Debug, Clone)]
pub struct HotFiles(Option<moka::sync::Cache<String, bytes::Bytes>>);

impl HotFiles {
    /// Up to `bytes` of files; none when `bytes` is 0.
    pub fn new(bytes: u64) -> HotFiles {
        HotFiles((bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|key: &String, file: &bytes::Bytes| {
                    u32::try_from(key.len() + file.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(HOT_TTL)
                .build()
        }))
    }

    fn get(&self, key: &str) -> Option<bytes::Bytes> {
        self.0.as_ref()?.get(key)
    }

    fn keep(&self, key: &str, file: &bytes::Bytes) {
        if let Some(cache) = &self.0
            && file.len() <= HOT_MAX
        {
            cache.insert(key.to_owned(), file.clone());
        }
    }

    /// Forgets a deleted file.
    pub fn forget(&self, key: &str) {
        if let Some(cache) = &self.0 {
            cache.invalidate(key);
        }
    }
}

/// The bytes of `range` within a file of `size` bytes, as the store would select them; `None`
/// when no byte is selected.
fn slice(range: &ByteRange, size: u64) -> Option<std::ops::Range<u64>> {
    let (start, end) = match *range {
        ByteRange::Bounded(ref r) => (r.start, r.end.min(size)),
        ByteRange::From(start) => (start, size),
        ByteRange::Suffix(n) => (size.saturating_sub(n), size),
    };
    (start < end).then_some(start..end)
}

/// One `bytes=` range of a `Range` header. Anything else (several ranges, other units, a
/// malformed value) is ignored and the whole file is sent, as RFC 9110 allows.
fn requested_range(req: &HttpRequest) -> Option<ByteRange> {
    let value = req.headers().get(header::RANGE)?.to_str().ok()?;
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    match (start.is_empty(), end.is_empty()) {
        (true, false) => Some(ByteRange::Suffix(end.parse().ok()?)),
        (false, true) => Some(ByteRange::From(start.parse().ok()?)),
        (false, false) => {
            let (start, end): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
            (start <= end).then(|| ByteRange::Bounded(start..end.saturating_add(1)))
        }
        (true, true) => None,
    }
}

/// The strong ETag of a key: its file name, which is its content hash and rendition.
fn etag(key: &str) -> String {
    format!("\"{}\"", key.rsplit('/').next().unwrap_or(key))
}

fn matches_etag(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

pub async fn serve(state: &AppState, req: &HttpRequest, key: &str) -> Result<HttpResponse, ApiError> {
    let (content_type, document) = served_as(key).ok_or_else(|| ApiError::not_found(Code::MediaNotFound))?;
    let tag = etag(key);
    if matches_etag(req, &tag) {
        // Nothing is read: the bytes of a key never change, so a known tag is still current.
        return Ok(finish(HttpResponse::NotModified(), &tag).finish());
    }
    let range = requested_range(req);
    let ranged = range.is_some();
    let hot = state.media.hot.get(key);
    let (bytes, selected, size) = match (hot, range) {
        (Some(file), None) => {
            let size = file.len() as u64;
            (file, 0..size, size)
        }
        (Some(file), Some(range)) => {
            let size = file.len() as u64;
            let Some(selected) = slice(&range, size) else {
                return unsatisfiable(size);
            };
            let part = file.slice(selected.start as usize..selected.end as usize);
            (part, selected, size)
        }
        (None, range) => match state.media.store.get(key, range).await {
            Ok(fetched) => {
                if !ranged {
                    state.media.hot.keep(key, &fetched.bytes);
                }
                (fetched.bytes, fetched.range, fetched.info.size)
            }
            Err(StoreError::RangeNotSatisfiable { size }) => return unsatisfiable(size),
            Err(e) => return Err(e.into()),
        },
    };
    let mut res = if ranged {
        let mut res = HttpResponse::PartialContent();
        res.insert_header((
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{size}",
                selected.start,
                selected.end.saturating_sub(1)
            ),
        ));
        res
    } else {
        HttpResponse::Ok()
    };
    res.content_type(content_type);
    if document {
        res.insert_header((header::CONTENT_DISPOSITION, "attachment"));
    }
    Ok(finish(res, &tag).body(bytes))
}

/// 416 with the size of the file, so the client can ask again within it.
fn unsatisfiable(size: u64) -> Result<HttpResponse, ApiError> {
    let refusal = ApiError::Http {
        status: StatusCode::RANGE_NOT_SATISFIABLE,
        msg: Msg::new(Code::MediaRangeNotSatisfiable).arg("size", size),
    };
    let mut res = ResponseError::error_response(&refusal);
    res.headers_mut().insert(
        header::CONTENT_RANGE,
        HeaderValue::from_str(&format!("bytes */{size}")).map_err(|e| ApiError::internal(e.to_string()))?,
    );
    Ok(res)
}

/// The headers every answer of a stored file carries.
fn finish(mut res: actix_web::HttpResponseBuilder, tag: &str) -> actix_web::HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, tag.to_owned()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str) -> Option<ByteRange> {
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::RANGE, value))
            .to_http_request();
        requested_range(&req)
    }

    #[test]
    fn single_byte_ranges_are_understood_and_others_ignored() {
        assert_eq!(range("bytes=0-9"), Some(ByteRange::Bounded(0..10)));
        assert_eq!(range("bytes=100-"), Some(ByteRange::From(100)));
        assert_eq!(range("bytes=-500"), Some(ByteRange::Suffix(500)));
        for ignored in [
            "bytes=5-1",
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=-",
            "bytes=a-b",
            "0-1",
        ] {
            assert_eq!(range(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn ranges_select_the_same_bytes_from_memory_as_from_the_store() {
        assert_eq!(slice(&ByteRange::Bounded(0..10), 100), Some(0..10));
        assert_eq!(slice(&ByteRange::Bounded(90..200), 100), Some(90..100));
        assert_eq!(slice(&ByteRange::From(40), 100), Some(40..100));
        assert_eq!(slice(&ByteRange::Suffix(30), 100), Some(70..100));
        assert_eq!(slice(&ByteRange::Suffix(300), 100), Some(0..100));
        assert_eq!(slice(&ByteRange::From(100), 100), None);
        assert_eq!(slice(&ByteRange::Bounded(120..130), 100), None);
    }

    #[test]
    fn only_what_the_library_writes_is_served() {
        assert_eq!(served_as("ab/cd/x-640.webp"), Some(("image/webp", false)));
        assert_eq!(served_as("ab/cd/x.pdf"), Some(("application/pdf", true)));
        assert_eq!(served_as("ab/cd/x.html"), None);
        assert_eq!(served_as("ab/cd/x"), None);
    }
}
