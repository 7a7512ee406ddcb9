//! The media library's object store: where uploaded files and their renditions live.
//!
//! Files are kept under content-addressed keys (`ab/cd/<sha256>-640.webp`), either in a local
//! directory (the default, `file://./media`) or in S3-compatible object storage
//! (`s3://bucket/prefix`) that several newsdesk processes share. Both sit behind the
//! [`object_store`] crate's `ObjectStore` trait (Apache Arrow's maintained abstraction, with
//! `LocalFileSystem` and `AmazonS3`) instead of hand-signed S3 requests: request signing,
//! retries, path-style addressing and credential discovery are its job, not ours.
//!
//! Keys are checked ([`validate_key`]) before any I/O, because they arrive from request paths.

mod key;
mod settings;

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutOptions, PutPayload,
    RetryConfig,
};

pub use key::{MAX_KEY_LEN, validate_key, validate_prefix};
pub use settings::{DEFAULT_S3_REGION, S3Credentials, StoreLocation, StoreSettings};

/// What can go wrong with the store, in the terms the HTTP layer answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No object under this key.
    #[error("no stored object {0}")]
    NotFound(String),
    /// The key is not one the store accepts; nothing was read or written.
    #[error("invalid media key {0}")]
    InvalidKey(String),
    /// The requested byte range starts past the end of the object (HTTP 416); `size` is the
    /// object's length, for `Content-Range: bytes */size`.
    #[error("range not satisfiable: the object has {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// The store could not be reached or refused the operation; worth retrying later.
    #[error("media store unavailable: {0}")]
    Unavailable(String),
}

/// Bytes of an object to read: what an HTTP `Range` header can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByteRange {
    /// `start..end`, end exclusive; an end past the object is cut to its length.
    Bounded(Range<u64>),
    /// From this offset to the end.
    From(u64),
    /// The last this many bytes (the whole object when it is shorter).
    Suffix(u64),
}

impl ByteRange {
    /// Whether an object of `size` bytes has at least one byte in this range.
    pub fn satisfiable(&self, size: u64) -> bool {
        match self {
            ByteRange::Bounded(r) => r.start < r.end && r.start < size,
            ByteRange::From(start) => *start < size,
            ByteRange::Suffix(n) => *n > 0 && size > 0,
        }
    }
}

impl From<Range<u64>> for ByteRange {
    fn from(range: Range<u64>) -> Self {
        ByteRange::Bounded(range)
    }
}

impl From<ByteRange> for GetRange {
    fn from(range: ByteRange) -> Self {
        match range {
            ByteRange::Bounded(r) => GetRange::Bounded(r),
            ByteRange::From(start) => GetRange::Offset(start),
            ByteRange::Suffix(n) => GetRange::Suffix(n),
        }
    }
}

/// An object's metadata, as `head` and `list` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    /// When it was last written: the sweeper spares files younger than its grace period,
    /// which may belong to an upload whose row is not committed yet.
    pub last_modified: DateTime<Utc>,
    pub e_tag: Option<String>,
}

/// The answer to [`MediaStore::get`].
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The bytes of `range`.
    pub bytes: Bytes,
    /// Which bytes these are, within `0..info.size`.
    pub range: Range<u64>,
    /// The whole object's metadata (`size` is its total length).
    pub info: ObjectInfo,
    /// The type given at `put`, where the backend keeps it (S3 does, a directory does not).
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Local,
    S3,
}

/// A handle on the configured store; cheap to clone and share between workers.
#[derive(Debug, Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
    backend: Backend,
    public_base: PublicBase,
}

/// The path newsdesk serves stored files under when no public address is set.
pub const SERVED_AT: &str = "/media";

/// Where clients fetch stored files: under `NEWSDESK_MEDIA_PUBLIC_URL` when that is set (a
/// CDN or the bucket itself), otherwise newsdesk's own [`SERVED_AT`]. The one rule for file
/// addresses, used by [`MediaStore::public_url`] and by the media library's answers.
#[derive(Debug, Clone)]
pub struct PublicBase(Arc<str>);

impl PublicBase {
    pub fn new(public_url: Option<&str>) -> PublicBase {
        let base = public_url
            .map(|u| u.trim_end_matches('/'))
            .filter(|u| !u.is_empty())
            .unwrap_or(SERVED_AT);
        PublicBase(base.into())
    }

    /// The address of `key`, a key already known to be valid (read from a row, or checked).
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.0)
    }
}

/// How long a failing S3 operation is retried before the caller hears of it: long enough to
/// ride out a restarting server, short enough to answer a request within a client's patience.
const S3_RETRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const S3_MAX_RETRIES: usize = 3;

impl MediaStore {
    /// Opens the store: creates the local directory if needed, or builds the S3 client (which
    /// connects lazily, so an unreachable server shows up at the first operation).
    pub fn open(settings: &StoreSettings) -> Result<Self, StoreError> {
        let (inner, backend): (Arc<dyn ObjectStore>, Backend) = match &settings.location {
            StoreLocation::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Unavailable(format!("creating {}: {e}", dir.display())))?;
                let fs = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", dir.display())))?
                    // The sweeper deletes files one by one; leave no empty `ab/cd/` behind.
                    .with_automatic_cleanup(true);
                (Arc::new(fs), Backend::Local)
            }
            StoreLocation::S3 { bucket, prefix } => {
                let s3 = s3_builder(settings, bucket)
                    .build()
                    .map_err(|e| StoreError::Unavailable(format!("configuring S3: {e}")))?;
                match prefix {
                    Some(prefix) => (Arc::new(PrefixStore::new(s3, prefix.as_str())), Backend::S3),
                    None => (Arc::new(s3), Backend::S3),
                }
            }
        };
        Ok(MediaStore {
            inner,
            backend,
            public_base: PublicBase::new(settings.public_url.as_ref().map(url::Url::as_str)),
        })
    }

    /// Whether other processes see this store's files: `true` for S3, `false` for a directory
    /// (which may still be shared through a network file system, but nothing says so).
    pub fn is_shared(&self) -> bool {
        self.backend == Backend::S3
    }

    /// Stores `bytes` under `key`, replacing any object there. Idempotent for content-addressed
    /// keys: writing the same bytes again changes nothing a reader can see. Readers never see
    /// a half-written object (S3 puts are atomic; the directory store renames a finished file).
    pub async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), StoreError> {
        let path = to_path(key)?;
        let mut attributes = Attributes::new();
        // The directory store has nowhere to keep attributes and refuses them; the media rows
        // hold the type anyway.
        if self.backend == Backend::S3 && !content_type.is_empty() {
            attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        }
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.inner
            .put_opts(&path, PutPayload::from_bytes(bytes), options)
            .await
            .map(|_| ())
            .map_err(|e| map_error(key, e))
    }

    /// Reads an object, or part of it. A range that selects no byte (empty, or starting past
    /// the end) is [`StoreError::RangeNotSatisfiable`].
    pub async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<Fetched, StoreError> {
        let path = to_path(key)?;
        let empty = match &range {
            Some(ByteRange::Bounded(r)) => r.start >= r.end,
            Some(ByteRange::Suffix(n)) => *n == 0,
            _ => false,
        };
        if empty {
            // No byte can satisfy it; backends disagree on what to answer, so answer here.
            let size = self.head(key).await?.size;
            return Err(StoreError::RangeNotSatisfiable { size });
        }
        let options = GetOptions {
            range: range.clone().map(GetRange::from),
            ..GetOptions::default()
        };
        let result = match self.inner.get_opts(&path, options).await {
            Ok(result) => result,
            Err(e) => {
                let error = map_error(key, e);
                // Backends word an unsatisfiable range differently (a local error, an S3 416);
                // the object's size tells for certain, and this costs a request only on failure.
                if let (Some(range), StoreError::Unavailable(_)) = (&range, &error)
                    && let Ok(info) = self.head(key).await
                    && !range.satisfiable(info.size)
                {
                    return Err(StoreError::RangeNotSatisfiable { size: info.size });
                }
                return Err(error);
            }
        };
        // The directory store answers a suffix of an empty file with no bytes where S3 says
        // 416; both say 416 here.
        if let Some(range) = &range
            && !range.satisfiable(result.meta.size)
        {
            return Err(StoreError::RangeNotSatisfiable {
                size: result.meta.size,
            });
        }
        let content_type = result
            .attributes
            .get(&Attribute::ContentType)
            .map(|v| v.as_ref().to_owned());
        let returned = result.range.clone();
        let info = to_info(result.meta.clone());
        let bytes = result.bytes().await.map_err(|e| map_error(key, e))?;
        Ok(Fetched {
            bytes,
            range: returned,
            info,
            content_type,
        })
    }

    /// An object's metadata without its bytes.
    pub async fn head(&self, key: &str) -> Result<ObjectInfo, StoreError> {
        let path = to_path(key)?;
        self.inner
            .head(&path)
            .await
            .map(to_info)
            .map_err(|e| map_error(key, e))
    }

    /// Removes an object; removing one that is not there succeeds, so a sweeper running in
    /// several processes at once needs no coordination.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = to_path(key)?;
        match self.inner.delete(&path).await {
            Ok(()) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(map_error(key, e)),
        }
    }

    /// Every object under `prefix` (`""` for all, or a directory such as `ab/` or `ab/cd`;
    /// prefixes match whole path segments), in no particular order, with keys as given to
    /// `put`. A stream rather than a list: a sweeper walks stores far larger than memory.
    pub fn list(
        &self,
        prefix: &str,
    ) -> Result<BoxStream<'static, Result<ObjectInfo, StoreError>>, StoreError> {
        let prefix = validate_prefix(prefix)?;
        let path = if prefix.is_empty() {
            None
        } else {
            Some(to_path(prefix)?)
        };
        let shown = prefix.to_owned();
        Ok(self
            .inner
            .list(path.as_ref())
            .map(move |item| item.map(to_info).map_err(|e| map_error(&shown, e)))
            .boxed())
    }

    /// The address clients fetch `key` from: `NEWSDESK_MEDIA_PUBLIC_URL/<key>` when that is
    /// set (a CDN or the bucket itself), otherwise newsdesk's own `/media/<key>`.
    pub fn public_url(&self, key: &str) -> Result<String, StoreError> {
        validate_key(key)?;
        Ok(self.public_base.url(key))
    }

    /// Where this store's files are fetched from, for addresses of keys known to be valid.
    pub fn public_base(&self) -> &PublicBase {
        &self.public_base
    }
}

fn s3_builder(settings: &StoreSettings, bucket: &str) -> AmazonS3Builder {
    let retry = RetryConfig {
        max_retries: S3_MAX_RETRIES,
        retry_timeout: S3_RETRY_TIMEOUT,
        ..RetryConfig::default()
    };
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_region(settings.s3_region.as_str())
        .with_retry(retry);
    builder = match &settings.s3_endpoint {
        // Custom servers are addressed by path (`http://host:9000/bucket/key`): they seldom
        // have a DNS name per bucket. Plain http only because this endpoint asked for it.
        Some(endpoint) => builder
            .with_endpoint(endpoint.as_str().trim_end_matches('/'))
            .with_virtual_hosted_style_request(false)
            .with_allow_http(endpoint.scheme() == "http"),
        None => builder.with_allow_http(false),
    };
    if let Some(credentials) = &settings.s3_credentials {
        builder = builder
            .with_access_key_id(credentials.access_key_id.as_str())
            .with_secret_access_key(credentials.secret_access_key.as_str());
    }
    builder
}

fn to_path(key: &str) -> Result<Path, StoreError> {
    validate_key(key)?;
    Path::parse(key).map_err(|e| StoreError::InvalidKey(format!("`{key}`: {e}")))
}

fn to_info(meta: object_store::ObjectMeta) -> ObjectInfo {
    ObjectInfo {
        key: meta.location.as_ref().to_owned(),
        size: meta.size,
        last_modified: meta.last_modified,
        e_tag: meta.e_tag,
    }
}

fn map_error(key: &str, error: object_store::Error) -> StoreError {
    match error {
        object_store::Error::NotFound { .. } => StoreError::NotFound(key.to_owned()),
        object_store::Error::InvalidPath { source } => StoreError::InvalidKey(format!("`{key}`: {source}")),
        other => StoreError::Unavailable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::ByteRange;

    #[test]
    fn satisfiable_ranges_select_a_byte() {
        assert!(ByteRange::Bounded(0..1).satisfiable(1));
        assert!(ByteRange::Bounded(99..500).satisfiable(100));
        assert!(!ByteRange::Bounded(100..500).satisfiable(100));
        assert!(!ByteRange::Bounded(5..5).satisfiable(100));
        assert!(ByteRange::From(99).satisfiable(100));
        assert!(!ByteRange::From(100).satisfiable(100));
        assert!(ByteRange::Suffix(500).satisfiable(100));
        assert!(!ByteRange::Suffix(1).satisfiable(0));
        assert!(!ByteRange::Suffix(0).satisfiable(100));
    }
}
