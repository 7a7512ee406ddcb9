//! Resizing and encoding the renditions that are served.
//!
//! Every rendition is encoded from decoded pixels, never copied from the upload: an encoder
//! writes only what it is given, so the camera's EXIF (GPS, serial number, capture time), XMP
//! and embedded thumbnail cannot survive. The ICC profile is the one piece of metadata passed
//! on, because without it wide-gamut photos render with visibly wrong colours.
//!
//! Resizing uses `fast_image_resize` rather than `image::imageops`: its SIMD convolution is
//! several times faster, which is what keeps a 12-megapixel photo and all its variants within
//! budget on a two-core server. Variants are made from the largest down, each from the one
//! before it instead of from the full-size pixels, so the expensive pass over the full image
//! happens once and only one intermediate buffer is alive at a time; Lanczos3 keeps that
//! cascade free of visible softening at these ratios.
//!
//! WebP is encoded through `webp`, which bundles libwebp: the `image` crate only writes
//! lossless WebP, which is larger than the JPEG it is meant to replace.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

use super::{OutputFormat, Refusal, Rendition};

/// The widths offered to `srcset`: phone, retina phone / small column, tablet, desktop.
pub const VARIANT_WIDTHS: [u32; 4] = [320, 640, 1024, 1600];
/// Lossy WebP at 80 looks like the JPEG variant beside it while usually weighing less, which
/// is the reason to offer it at all.
pub const WEBP_QUALITY: f32 = 80.0;
/// High enough that recompressing an already-compressed photo does not show blocking, low
/// enough that the full-size rendition stays near the upload's weight.
pub const JPEG_QUALITY: u8 = 82;
/// The largest width or height a WebP bitstream can describe.
const WEBP_MAX_DIMENSION: u32 = 16_383;
/// The VP8X flag that announces an ICCP chunk.
const VP8X_ICC_FLAG: u8 = 0x20;

/// How the decoded samples are laid out: 8-bit RGB, or 8-bit RGBA when the image has
/// transparency to keep; every output format takes one of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    Rgb,
    Rgba,
}

impl Layout {
    fn pixel_type(self) -> PixelType {
        match self {
            Layout::Rgb => PixelType::U8x3,
            Layout::Rgba => PixelType::U8x4,
        }
    }

    fn color_type(self) -> ExtendedColorType {
        match self {
            Layout::Rgb => ExtendedColorType::Rgb8,
            Layout::Rgba => ExtendedColorType::Rgba8,
        }
    }

    fn webp(self) -> webp::PixelLayout {
        match self {
            Layout::Rgb => webp::PixelLayout::Rgb,
            Layout::Rgba => webp::PixelLayout::Rgba,
        }
    }
}

/// Oriented pixels ready to encode. `data` holds exactly `width × height` pixels of `layout`.
pub(super) struct Pixels {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub data: Vec<u8>,
}

fn failed(what: &str, error: impl std::fmt::Display) -> Refusal {
    Refusal::Failed(format!("{what}: {error}"))
}

/// The variants of `full` narrower than it, widest first, each in WebP and, unless the
/// original format is WebP itself, in `original_format`; returned narrowest first.
pub(super) fn variants(
    full: &Pixels,
    original_format: OutputFormat,
    icc: Option<&[u8]>,
) -> Result<Vec<Rendition>, Refusal> {
    let mut resizer = Resizer::new();
    let mut previous: Option<Pixels> = None;
    let mut renditions = Vec::new();
    for width in VARIANT_WIDTHS.into_iter().rev().filter(|&w| w < full.width) {
        let height = scaled_height(full.width, full.height, width);
        let source = previous.as_ref().unwrap_or(full);
        let smaller = resize(&mut resizer, source, width, height)?;
        // A strip too tall for WebP still gets its variant in the original's format.
        if height <= WEBP_MAX_DIMENSION {
            renditions.push(encode(&smaller, OutputFormat::Webp, icc)?);
        }
        if original_format != OutputFormat::Webp {
            renditions.push(encode(&smaller, original_format, icc)?);
        }
        previous = Some(smaller);
    }
    renditions.sort_by_key(|r| r.width);
    Ok(renditions)
}

/// The height that keeps the full image's aspect ratio at `width`, computed from the full size
/// rather than the previous step so rounding does not drift down the cascade.
fn scaled_height(full_width: u32, full_height: u32, width: u32) -> u32 {
    let scaled =
        (u64::from(full_height) * u64::from(width) + u64::from(full_width) / 2) / u64::from(full_width);
    u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
}

fn resize(resizer: &mut Resizer, source: &Pixels, width: u32, height: u32) -> Result<Pixels, Refusal> {
    let pixel_type = source.layout.pixel_type();
    let view = ImageRef::new(source.width, source.height, &source.data, pixel_type)
        .map_err(|e| failed("resize source", e))?;
    let mut target = Image::new(width, height, pixel_type);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    resizer
        .resize(&view, &mut target, &options)
        .map_err(|e| failed("resize", e))?;
    Ok(Pixels {
        width,
        height,
        layout: source.layout,
        data: target.into_vec(),
    })
}

/// Writes `pixels` through an encoder of the `image` crate, with the colour profile if any.
fn write_with_profile(
    mut encoder: impl ImageEncoder,
    pixels: &Pixels,
    icc: Option<&[u8]>,
    format: &str,
) -> Result<(), Refusal> {
    if let Some(icc) = icc {
        encoder
            .set_icc_profile(icc.to_vec())
            .map_err(|e| failed(&format!("{format} colour profile"), e))?;
    }
    encoder
        .write_image(
            &pixels.data,
            pixels.width,
            pixels.height,
            pixels.layout.color_type(),
        )
        .map_err(|e| failed(&format!("{format} encoding"), e))
}

/// Encodes `pixels` as `format`, carrying `icc` and nothing else.
pub(super) fn encode(
    pixels: &Pixels,
    format: OutputFormat,
    icc: Option<&[u8]>,
) -> Result<Rendition, Refusal> {
    let bytes = match format {
        OutputFormat::Jpeg => {
            let mut out = Vec::new();
            let encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
            write_with_profile(encoder, pixels, icc, "JPEG")?;
            out
        }
        OutputFormat::Png => {
            let mut out = Vec::new();
            let encoder = PngEncoder::new_with_quality(
                &mut out,
                CompressionType::Default,
                image::codecs::png::FilterType::Adaptive,
            );
            write_with_profile(encoder, pixels, icc, "PNG")?;
            out
        }
        OutputFormat::Webp => {
            let encoder = webp::Encoder::new(&pixels.data, pixels.layout.webp(), pixels.width, pixels.height);
            let encoded = encoder
                .encode_simple(false, WEBP_QUALITY)
                .map_err(|e| failed("WebP encoding", format!("{e:?}")))?;
            match icc {
                Some(icc) => with_icc_chunk(&encoded, icc, pixels.width, pixels.height)
                    .ok_or_else(|| failed("WebP colour profile", "unexpected encoder output"))?,
                None => encoded.to_vec(),
            }
        }
    };
    Ok(Rendition {
        width: pixels.width,
        height: pixels.height,
        format,
        content_type: format.content_type(),
        bytes,
    })
}

/// Inserts an ICCP chunk into libwebp's output, which the simple encoding API cannot do
/// itself: the file is rewritten as extended WebP (a VP8X header announcing the profile, then
/// the profile, then the original chunks), as the container specification orders them.
/// `None` if the encoder's output is not a well-formed RIFF/WEBP file.
fn with_icc_chunk(webp: &[u8], icc: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    if webp.get(0..4)? != b"RIFF" || webp.get(8..12)? != b"WEBP" {
        return None;
    }
    let mut chunks: Vec<([u8; 4], &[u8])> = Vec::new();
    let mut rest = webp.get(12..)?;
    while !rest.is_empty() {
        let fourcc: [u8; 4] = rest.get(0..4)?.try_into().ok()?;
        let len = usize::try_from(u32::from_le_bytes(rest.get(4..8)?.try_into().ok()?)).ok()?;
        let end = 8usize.checked_add(len)?;
        chunks.push((fourcc, rest.get(8..end)?));
        rest = rest.get((end + (len & 1)).min(rest.len())..)?;
    }
    let vp8x = match chunks.first() {
        Some(([b'V', b'P', b'8', b'X'], payload)) => {
            let mut header: [u8; 10] = (*payload).try_into().ok()?;
            header[0] |= VP8X_ICC_FLAG;
            chunks.remove(0);
            header
        }
        _ => {
            let (w, h) = (
                width.checked_sub(1)?.to_le_bytes(),
                height.checked_sub(1)?.to_le_bytes(),
            );
            [VP8X_ICC_FLAG, 0, 0, 0, w[0], w[1], w[2], h[0], h[1], h[2]]
        }
    };
    let mut out = Vec::with_capacity(webp.len() + icc.len() + 32);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    push_chunk(&mut out, *b"VP8X", &vp8x)?;
    push_chunk(&mut out, *b"ICCP", icc)?;
    for (fourcc, payload) in chunks {
        push_chunk(&mut out, fourcc, payload)?;
    }
    let riff_size = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Some(out)
}

fn push_chunk(out: &mut Vec<u8>, fourcc: [u8; 4], payload: &[u8]) -> Option<()> {
    out.extend_from_slice(&fourcc);
    out.extend_from_slice(&u32::try_from(payload.len()).ok()?.to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::media::process::testdata;

    fn gradient(width: u32, height: u32, layout: Layout) -> Pixels {
        let channels = if layout == Layout::Rgb { 3 } else { 4 };
        let mut data = Vec::with_capacity((width * height * channels) as usize);
        for y in 0..height {
            for x in 0..width {
                data.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 128]);
                if layout == Layout::Rgba {
                    data.push((x % 256) as u8);
                }
            }
        }
        Pixels {
            width,
            height,
            layout,
            data,
        }
    }

    #[test]
    fn heights_keep_the_aspect_ratio() {
        assert_eq!(scaled_height(4000, 3000, 1600), 1200);
        assert_eq!(scaled_height(2000, 1500, 320), 240);
        assert_eq!(scaled_height(3000, 1, 320), 1);
        assert_eq!(scaled_height(1000, 333, 320), 107);
    }

    #[test]
    fn variants_are_never_upscaled() {
        let made = variants(&gradient(700, 100, Layout::Rgb), OutputFormat::Png, None).unwrap();
        let widths: Vec<_> = made.iter().map(|v| (v.width, v.format)).collect();
        assert_eq!(
            widths,
            [
                (320, OutputFormat::Webp),
                (320, OutputFormat::Png),
                (640, OutputFormat::Webp),
                (640, OutputFormat::Png),
            ]
        );
        assert!(
            variants(&gradient(320, 10, Layout::Rgb), OutputFormat::Png, None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_webp_original_gets_webp_variants_only() {
        let made = variants(&gradient(700, 50, Layout::Rgba), OutputFormat::Webp, None).unwrap();
        assert_eq!(made.len(), 2);
        assert!(made.iter().all(|v| v.format == OutputFormat::Webp));
    }

    #[test]
    fn webp_carries_the_colour_profile_in_a_valid_container() {
        let icc = testdata::icc_profile();
        for layout in [Layout::Rgb, Layout::Rgba] {
            let rendition = encode(&gradient(33, 17, layout), OutputFormat::Webp, Some(&icc)).unwrap();
            assert_eq!(testdata::decoded_icc(&rendition.bytes), Some(icc.clone()));
            let decoded = image::load_from_memory(&rendition.bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (33, 17));
            assert_eq!(decoded.color().has_alpha(), layout == Layout::Rgba);
        }
    }

    #[test]
    fn malformed_webp_is_not_rewritten() {
        assert_eq!(
            with_icc_chunk(b"RIFF\x10\0\0\0WEBPVP8 \xFF\xFF\xFF\xFF", b"icc", 1, 1),
            None
        );
        assert_eq!(with_icc_chunk(b"GIF89a", b"icc", 1, 1), None);
    }
}
