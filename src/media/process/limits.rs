//! The size limits, and the cheap checks that enforce them before anything is decoded.
//!
//! A few kilobytes of PNG or JPEG can announce a 50 000 × 50 000 canvas: decoding it would
//! allocate gigabytes. The dimensions are therefore read from the header alone, through
//! `image::ImageReader::into_dimensions`, which parses the header and stops, and the decode
//! that follows is itself bounded by `image::Limits` in case a decoder meets more than the
//! header promised.

use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};

use image::{ImageFormat, ImageReader};

use super::{Refusal, Sniffed, sniff};

/// 20 MB: above what a phone camera produces, below what makes an upload a nuisance.
pub const DEFAULT_MAX_BYTES: u64 = 20_000_000;
/// 50 megapixels: a full-frame camera's output, and about 200 MB as 8-bit RGBA.
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

/// The largest sample layout a supported decoder produces (16-bit RGBA from PNG), used to bound
/// the decoder's allocation from the header's dimensions.
const MAX_BYTES_PER_PIXEL: u64 = 8;
/// Room for the decoder's own tables and row buffers beside the pixel buffer.
const DECODER_SLACK_BYTES: u64 = 32 * 1024 * 1024;

/// What an upload may weigh, configurable because a site of photographers and a site of
/// press releases want different ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest accepted upload, in bytes.
    pub max_bytes: u64,
    /// The largest accepted width × height of an image.
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

impl Limits {
    /// Refuses an upload heavier than `max_bytes`; the first check, since it needs only the
    /// length.
    pub fn check_bytes(&self, bytes: &[u8]) -> Result<(), Refusal> {
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > self.max_bytes {
            return Err(Refusal::TooLarge {
                max_bytes: self.max_bytes,
            });
        }
        Ok(())
    }
}

/// The bounds a decode runs under: never wider or taller than the header said, and never
/// allocating more than those dimensions need, so a decoder fed a lying stream fails instead of
/// growing.
pub(super) fn decoding_limits(width: u32, height: u32) -> image::Limits {
    let pixels = u64::from(width) * u64::from(height);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(
        pixels
            .saturating_mul(MAX_BYTES_PER_PIXEL)
            .saturating_add(DECODER_SLACK_BYTES),
    );
    limits
}

/// Refuses an image whose bytes or announced pixels exceed `limits`, and returns its
/// dimensions (before any EXIF rotation) otherwise. Reads only the header.
pub fn check_image_header(bytes: &[u8], limits: &Limits) -> Result<(u32, u32), Refusal> {
    limits.check_bytes(bytes)?;
    match sniff(bytes)? {
        Sniffed::Image(format) => header_dimensions(bytes, format, limits),
        Sniffed::Document { content_type, .. } => Err(Refusal::Unsupported {
            found: Some(content_type.to_owned()),
        }),
    }
}

/// Runs a parse of untrusted bytes, turning a panic into [`Refusal::Corrupt`]: the decoders
/// are third-party parsers and the bytes are the attacker's, and a crafted file should cost a
/// refusal, not the worker.
pub(super) fn guarded<T>(parse: impl FnOnce() -> Result<T, Refusal>) -> Result<T, Refusal> {
    panic::catch_unwind(AssertUnwindSafe(parse))
        .unwrap_or_else(|_| Err(Refusal::Corrupt("the file could not be parsed".to_owned())))
}

pub(super) fn header_dimensions(
    bytes: &[u8],
    format: ImageFormat,
    limits: &Limits,
) -> Result<(u32, u32), Refusal> {
    guarded(|| header_dimensions_unguarded(bytes, format, limits))
}

fn header_dimensions_unguarded(
    bytes: &[u8],
    format: ImageFormat,
    limits: &Limits,
) -> Result<(u32, u32), Refusal> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The header is read unbounded so that an oversized image is reported with its real
    // dimensions rather than as a decoder error.
    reader.no_limits();
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| Refusal::Corrupt(format!("unreadable image header: {e}")))?;
    if width == 0 || height == 0 {
        return Err(Refusal::Corrupt("the image has no pixels".to_owned()));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(Refusal::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    Ok((width, height))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::{Duration, Instant};

    use super::*;
    use crate::media::process::testdata;

    #[test]
    fn header_dimensions_are_read() {
        let limits = Limits::default();
        assert_eq!(
            check_image_header(&testdata::jpeg(120, 80), &limits).unwrap(),
            (120, 80)
        );
        assert_eq!(
            check_image_header(&testdata::png(33, 7), &limits).unwrap(),
            (33, 7)
        );
        assert_eq!(
            check_image_header(&testdata::webp(40, 30), &limits).unwrap(),
            (40, 30)
        );
        assert_eq!(check_image_header(&testdata::gif(9, 5), &limits).unwrap(), (9, 5));
    }

    #[test]
    fn a_huge_png_header_is_refused_without_decoding() {
        let bomb = testdata::png_header_only(20_000, 20_000);
        assert!(bomb.len() < 100);
        let started = Instant::now();
        let refused = check_image_header(&bomb, &Limits::default());
        assert!(started.elapsed() < Duration::from_secs(1));
        let expected = Refusal::TooManyPixels {
            width: 20_000,
            height: 20_000,
            max_pixels: DEFAULT_MAX_PIXELS,
        };
        assert_eq!(refused, Err(expected));
    }

    #[test]
    fn a_huge_jpeg_header_is_refused_without_decoding() {
        let bomb = testdata::jpeg_header_only(20_000, 20_000);
        let started = Instant::now();
        let refused = check_image_header(&bomb, &Limits::default());
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(matches!(
            refused,
            Err(Refusal::TooManyPixels {
                width: 20_000,
                height: 20_000,
                ..
            })
        ));
    }

    #[test]
    fn the_pixel_limit_is_configurable() {
        let small = Limits {
            max_pixels: 100 * 100,
            ..Limits::default()
        };
        assert!(check_image_header(&testdata::png(100, 100), &small).is_ok());
        let refused = check_image_header(&testdata::png(101, 100), &small);
        assert!(matches!(
            refused,
            Err(Refusal::TooManyPixels {
                width: 101,
                height: 100,
                max_pixels: 10_000
            })
        ));
    }

    #[test]
    fn the_byte_limit_is_distinct_from_the_pixel_limit() {
        let bytes = testdata::png(64, 64);
        let tight = Limits {
            max_bytes: bytes.len() as u64 - 1,
            ..Limits::default()
        };
        let refused = check_image_header(&bytes, &tight);
        assert_eq!(
            refused,
            Err(Refusal::TooLarge {
                max_bytes: bytes.len() as u64 - 1
            })
        );
        assert_eq!(refused.unwrap_err().http_status(), 413);
    }

    #[test]
    fn documents_and_truncated_images_are_not_image_headers() {
        let limits = Limits::default();
        assert!(matches!(
            check_image_header(&testdata::pdf(), &limits),
            Err(Refusal::Unsupported { .. })
        ));
        let jpeg = testdata::jpeg(64, 64);
        assert!(matches!(
            check_image_header(&jpeg[..8], &limits),
            Err(Refusal::Corrupt(_))
        ));
    }
}
