//! The processing core of the media library: what an upload is, whether it may be kept, and
//! the renditions that are served in its place.
//!
//! Nothing here touches HTTP or the database, so every rule about hostile uploads can be tested
//! on bytes alone and the handlers only map a [`Refusal`] to a status.
//!
//! The order of the checks is the order of their cost: the byte size first, then the type from
//! the leading bytes ([`sniff`]), then the dimensions from the image header
//! ([`check_image_header`]), and only then a decode ([`process_image`]). A decompression bomb
//! is therefore refused before a single pixel buffer is allocated.
//!
//! Stored objects are content-addressed ([`storage_key`]): the key is derived from the SHA-256
//! of the uploaded bytes, so the same file uploaded twice lands on the same keys and is stored
//! once.

mod exif;
mod limits;
mod pipeline;
mod sniff;
/// Files built in code, for this module's tests and the HTTP tests of the library.
#[cfg(any(test, feature = "test-support"))]
pub mod testdata;
mod variants;

use sha2::{Digest, Sha256};

pub use self::exif::proposed_credit;
pub use self::limits::{DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, Limits, check_image_header};
pub use self::pipeline::process_image;
pub use self::sniff::{Kind, Sniffed, sniff};
pub use self::variants::{JPEG_QUALITY, VARIANT_WIDTHS, WEBP_QUALITY};

/// Why an upload is not kept. Each variant maps to one HTTP status ([`Refusal::http_status`]),
/// so a client can tell "send something else" from "send something smaller".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not one of the accepted types; `found` names what the bytes look like when that is known,
    /// so the message can say "this is an HTML page" rather than only "no".
    #[error("unsupported file type{}", .found.as_deref().map(|f| format!(" ({f})")).unwrap_or_default())]
    Unsupported { found: Option<String> },
    /// SVG is its own variant because it is the one image type people expect to work: it can
    /// carry script, so it is refused deliberately and the message should say so.
    #[error("SVG images are not accepted because they can carry scripts")]
    Svg,
    /// The upload is larger than the byte limit.
    #[error("the file is larger than {max_bytes} bytes")]
    TooLarge { max_bytes: u64 },
    /// The header announces more pixels than may be decoded; told apart from [`Refusal::TooLarge`]
    /// because a small file can still be a decompression bomb.
    #[error("the image is {width}×{height}, more than {max_pixels} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// The bytes claim a supported type but cannot be read as one.
    #[error("the file is damaged: {0}")]
    Corrupt(String),
    /// Accepted input that could still not be turned into renditions (an encoder error); the
    /// server's fault, not the uploader's, so it is told apart from [`Refusal::Corrupt`].
    #[error("the image could not be processed: {0}")]
    Failed(String),
}

impl Refusal {
    /// The status a handler answers with: 415 for types, 413 for bytes, 422 for what the
    /// content itself makes unusable.
    pub fn http_status(&self) -> u16 {
        match self {
            Refusal::Unsupported { .. } | Refusal::Svg => 415,
            Refusal::TooLarge { .. } => 413,
            Refusal::TooManyPixels { .. } | Refusal::Corrupt(_) => 422,
            Refusal::Failed(_) => 500,
        }
    }
}

/// The formats renditions are written in. Originals keep their family (a JPEG stays a JPEG)
/// so nobody's photo is silently turned into a different kind of file, and WebP is added
/// beside them because it is what browsers fetch fastest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    Jpeg,
    Png,
    Webp,
}

impl OutputFormat {
    /// The `Content-Type` the rendition is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::Webp => "image/webp",
        }
    }

    /// The extension used in storage keys, so a key alone says how to serve the object.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
        }
    }
}

/// One servable encoding of the image: already oriented and without any metadata but the
/// colour profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Everything a handler needs to store an accepted image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The full-size rendition served instead of the upload; the upload itself is never served
    /// because it still carries the camera's metadata.
    pub original: Rendition,
    /// The smaller widths from [`VARIANT_WIDTHS`] below the original's, in WebP and, unless the
    /// original was WebP, in the original's format; ordered by width.
    pub variants: Vec<Rendition>,
    /// A credit proposed from the EXIF `Artist`/`Copyright`, used only when the uploader gives
    /// none, because it is read from metadata that is otherwise thrown away.
    pub credit: Option<String>,
    /// Lower-case hex SHA-256 of the uploaded bytes: the identity of the upload.
    pub sha256: String,
}

impl Processed {
    /// The storage key of every rendition, the full-size one first.
    pub fn stored_objects(&self) -> Vec<(String, &Rendition)> {
        let full = std::iter::once((None, &self.original));
        let variants = self.variants.iter().map(|v| (Some(v.width), v));
        full.chain(variants)
            .filter_map(|(width, r)| {
                storage_key(&self.sha256, width, r.format.extension()).map(|key| (key, r))
            })
            .collect()
    }
}

/// Lower-case hex SHA-256 of `bytes`, the identity [`storage_key`] is built from.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The object key for one stored rendition: `ab/cd/<sha256>[-<width>].<ext>`.
///
/// The key depends only on the uploaded bytes, the width and the format, so identical uploads
/// map to identical keys and are stored once; the two directory levels from the hash's first
/// bytes keep any one directory of a file-system store small. `width` is `None` for the
/// full-size rendition (and for documents), whose width varies from upload to upload.
///
/// Returns `None` unless `sha256` is 64 lower-case hex digits, so a key can never be steered
/// outside the store by a crafted hash, and likewise for an `ext` that is not a short
/// lower-case alphanumeric word.
pub fn storage_key(sha256: &str, width: Option<u32>, ext: &str) -> Option<String> {
    let is_hash = sha256.len() == 64 && sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let is_ext = (1..=8).contains(&ext.len()) && ext.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9'));
    if !is_hash || !is_ext {
        return None;
    }
    let (a, b) = (&sha256[0..2], &sha256[2..4]);
    Some(match width {
        Some(w) => format!("{a}/{b}/{sha256}-{w}.{ext}"),
        None => format!("{a}/{b}/{sha256}.{ext}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn storage_keys_are_content_addressed() {
        let sha = sha256_hex(b"hello");
        assert_eq!(
            sha,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            storage_key(&sha, Some(640), "webp").unwrap(),
            format!("2c/f2/{sha}-640.webp")
        );
        assert_eq!(
            storage_key(&sha, None, "pdf").unwrap(),
            format!("2c/f2/{sha}.pdf")
        );
        assert_eq!(
            storage_key(&sha256_hex(b"hello"), None, "pdf"),
            storage_key(&sha, None, "pdf")
        );
    }

    #[test]
    fn storage_keys_refuse_what_is_not_a_hash_or_extension() {
        let sha = sha256_hex(b"x");
        assert_eq!(storage_key("../../etc/passwd", None, "jpg"), None);
        assert_eq!(storage_key(&sha.to_uppercase(), None, "jpg"), None);
        assert_eq!(storage_key(&sha[..10], None, "jpg"), None);
        assert_eq!(storage_key(&sha, None, "../x"), None);
        assert_eq!(storage_key(&sha, None, ""), None);
    }

    #[test]
    fn refusals_map_to_their_statuses() {
        assert_eq!(Refusal::Unsupported { found: None }.http_status(), 415);
        assert_eq!(Refusal::Svg.http_status(), 415);
        assert_eq!(Refusal::TooLarge { max_bytes: 1 }.http_status(), 413);
        let pixels = Refusal::TooManyPixels {
            width: 1,
            height: 1,
            max_pixels: 0,
        };
        assert_eq!(pixels.http_status(), 422);
        assert_eq!(Refusal::Corrupt(String::new()).http_status(), 422);
        assert_eq!(Refusal::Failed(String::new()).http_status(), 500);
    }
}
