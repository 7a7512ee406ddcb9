//! From an uploaded image to the renditions that are stored and served.
//!
//! The upload is decoded once. Its EXIF orientation is applied to the pixels, because the
//! orientation tag is about to be dropped with the rest of the metadata and a portrait photo
//! would otherwise be served lying on its side. The full-size rendition and the variants are
//! then encoded from those pixels.
//!
//! Cost, for the 4000 × 3000 JPEG the design is sized for: one 36 MB RGB buffer (a second one
//! only while a 90° rotation is applied), a 1600-wide buffer of under 6 MB from which the smaller
//! variants cascade, and the encoders' own output. The full-size encode is the longest single
//! job, so it runs on its own thread while the other core resizes and encodes the variants:
//! two cores, two jobs of comparable length.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

use super::limits::{decoding_limits, guarded, header_dimensions};
use super::variants::{self, Layout, Pixels};
use super::{Limits, OutputFormat, Processed, Refusal, Sniffed, proposed_credit, sha256_hex, sniff};

/// A colour profile larger than this is not a display profile (those are a few kilobytes) and
/// would be copied into every rendition; it is dropped.
const MAX_ICC_BYTES: usize = 1024 * 1024;

/// Checks, decodes and renders an uploaded image.
///
/// Refuses anything that is not a JPEG, PNG, WebP or GIF, or that exceeds `limits`, before
/// decoding it. A parser that panics on hostile bytes is reported as [`Refusal::Corrupt`]
/// rather than taking the worker down with it.
pub fn process_image(bytes: &[u8], limits: &Limits) -> Result<Processed, Refusal> {
    limits.check_bytes(bytes)?;
    let format = match sniff(bytes)? {
        Sniffed::Image(format) => format,
        Sniffed::Document { content_type, .. } => {
            return Err(Refusal::Unsupported {
                found: Some(content_type.to_owned()),
            });
        }
    };
    let (width, height) = header_dimensions(bytes, format, limits)?;
    let output = output_format(format);
    guarded(|| {
        let credit = proposed_credit(bytes);
        let (pixels, icc) = decode(bytes, format, output, (width, height), limits)?;
        let (original, variants) = render(&pixels, output, icc.as_deref())?;
        Ok(Processed {
            original,
            variants,
            credit,
            sha256: sha256_hex(bytes),
        })
    })
}

/// The format the full-size rendition keeps. GIF becomes PNG (its first frame): PNG holds the
/// same palette and transparency losslessly, and animation is not something a news image
/// library serves. WebP stays WebP, re-encoded lossy like its variants.
fn output_format(format: ImageFormat) -> OutputFormat {
    match format {
        ImageFormat::Jpeg => OutputFormat::Jpeg,
        ImageFormat::WebP => OutputFormat::Webp,
        _ => OutputFormat::Png,
    }
}

/// Decodes under limits derived from the header, returning upright 8-bit pixels and the
/// colour profile worth keeping.
fn decode(
    bytes: &[u8],
    format: ImageFormat,
    output: OutputFormat,
    (width, height): (u32, u32),
    limits: &Limits,
) -> Result<(Pixels, Option<Vec<u8>>), Refusal> {
    let refusal = |error: ImageError| match error {
        ImageError::Limits(_) => Refusal::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        },
        other => Refusal::Corrupt(other.to_string()),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoding_limits(width, height));
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    // A damaged profile or orientation tag costs the colour accuracy or the rotation, not the
    // upload.
    let icc = decoder
        .icc_profile()
        .ok()
        .flatten()
        .filter(|icc| is_rgb_icc_profile(icc));
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let decoded = DynamicImage::from_decoder(decoder).map_err(refusal)?;

    // JPEG has no alpha channel, and everything served is 8-bit: 16-bit samples buy nothing on
    // a web page and would double every buffer.
    let keep_alpha = output != OutputFormat::Jpeg && decoded.color().has_alpha();
    let mut upright = if keep_alpha {
        DynamicImage::ImageRgba8(decoded.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(decoded.into_rgb8())
    };
    upright.apply_orientation(orientation);
    let (width, height) = (upright.width(), upright.height());
    let (layout, data) = match upright {
        DynamicImage::ImageRgba8(buffer) => (Layout::Rgba, buffer.into_raw()),
        other => (Layout::Rgb, other.into_rgb8().into_raw()),
    };
    Ok((
        Pixels {
            width,
            height,
            layout,
            data,
        },
        icc,
    ))
}

/// Whether `icc` is a bounded ICC profile for RGB data. The renditions are always RGB, so a
/// CMYK or grey profile from the upload would misdescribe them; and since the profile is the one
/// block copied from the upload, it has to at least look like a profile (`acsp` signature).
fn is_rgb_icc_profile(icc: &[u8]) -> bool {
    icc.len() <= MAX_ICC_BYTES && icc.get(36..40) == Some(b"acsp") && icc.get(16..20) == Some(b"RGB ")
}

/// The full-size rendition on a thread of its own, the variants on this one.
fn render(
    pixels: &Pixels,
    output: OutputFormat,
    icc: Option<&[u8]>,
) -> Result<(super::Rendition, Vec<super::Rendition>), Refusal> {
    std::thread::scope(|scope| {
        let full = scope.spawn(|| variants::encode(pixels, output, icc));
        let smaller = variants::variants(pixels, output, icc);
        let full = full
            .join()
            .map_err(|_| Refusal::Failed("the full-size encoder panicked".to_owned()))?;
        Ok((full?, smaller?))
    })
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
