//! The media library: photos and documents uploaded by editors, stored under
//! content-addressed keys (see [`crate::storage`]), described in the database, and used by
//! articles as covers, attachments and body images.
//!
//! [`process`] decides what an upload is and makes its renditions without touching HTTP or
//! the database; [`upload`] runs it for a request; [`service`] keeps the rows; [`uses`]
//! links files to articles; [`serve`] answers `/media/{key}`; [`sweep`] removes files no row
//! names.

pub mod dto;
pub mod links;
pub mod model;
pub mod process;
pub mod routes;
pub mod serve;
pub mod service;
pub mod sweep;
pub mod upload;
pub mod uses;

use std::sync::Arc;
use std::time::Duration;

use links::Links;

use crate::error::ApiError;
use crate::i18n::Code;
use crate::storage::{MediaStore, StoreError};

/// The longest an upload may take to arrive: well above `NEWSDESK_BODY_TIMEOUT`, which is
/// sized for JSON bodies, since a 20 MB photo from a newsroom's phone takes a while.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// What handlers need of the media library.
#[derive(Debug, Clone)]
pub struct Library {
    pub links: Links,
    pub store: MediaStore,
    pub limits: process::Limits,
    /// Bounds the images processed at once (`NEWSDESK_MEDIA_WORKERS`): each holds a decoded
    /// photo, so unbounded parallel uploads would exhaust memory.
    pub workers: Arc<tokio::sync::Semaphore>,
    pub upload_timeout: Duration,
    /// Small files kept in memory (see [`serve::HotFiles`]).
    pub hot: serve::HotFiles,
}

impl Library {
    pub fn open(config: &crate::config::Config) -> Result<Library, StoreError> {
        let store = MediaStore::open(&config.media)?;
        Ok(Library {
            links: Links::from(store.public_base().clone()).with_pages(config.article_pages.clone()),
            store,
            limits: config.media_limits,
            workers: Arc::new(tokio::sync::Semaphore::new(config.media_workers)),
            upload_timeout: UPLOAD_TIMEOUT.max(config.body_timeout),
            hot: serve::HotFiles::new(config.media_cache_bytes),
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) | StoreError::InvalidKey(_) => ApiError::not_found(Code::MediaNotFound),
            StoreError::RangeNotSatisfiable { size } => ApiError::Http {
                status: actix_web::http::StatusCode::RANGE_NOT_SATISFIABLE,
                msg: crate::i18n::Msg::new(Code::MediaRangeNotSatisfiable).arg("size", size),
            },
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
        }
    }
}
