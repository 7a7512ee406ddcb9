//! Real files built in code for the media tests: images through the `image` encoders,
//! documents through `zip`, and a camera-style JPEG whose EXIF, XMP and ICC segments are
//! written byte by byte so the tests know exactly what had to be removed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Write};

use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Rgb, RgbImage};

/// A gradient with a red block in the stored top-left corner, so a rotation shows where it went.
pub fn marked_gradient(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        if x < width / 8 && y < height / 8 {
            Rgb([255, 0, 0])
        } else {
            Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 96])
        }
    })
}

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encoded(marked_gradient(width, height).into(), ImageFormat::Jpeg)
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    encoded(marked_gradient(width, height).into(), ImageFormat::Png)
}

/// A PNG with a half-transparent right half and the given colour profile.
pub fn png_with_alpha_and_icc(width: u32, height: u32, icc: &[u8]) -> Vec<u8> {
    let image = DynamicImage::from(marked_gradient(width, height)).into_rgba8();
    let image = image::RgbaImage::from_fn(width, height, |x, y| {
        let mut pixel = *image.get_pixel(x, y);
        pixel[3] = if x < width / 2 { 255 } else { 100 };
        pixel
    });
    let mut out = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
    encoder.set_icc_profile(icc.to_vec()).unwrap();
    encoder
        .write_image(&image, width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

pub fn gif(width: u32, height: u32) -> Vec<u8> {
    encoded(
        DynamicImage::from(marked_gradient(width, height))
            .into_rgba8()
            .into(),
        ImageFormat::Gif,
    )
}

pub fn webp(width: u32, height: u32) -> Vec<u8> {
    encoded(marked_gradient(width, height).into(), ImageFormat::WebP)
}

pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n\
      2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
        .to_vec()
}

/// A zip of `entries` in order; the first one is stored, as ODF requires of `mimetype`.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        writer.start_file(*name, stored).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A DOCX whose `[Content_Types].xml` is not the first entry, as some writers order them.
pub fn docx() -> Vec<u8> {
    zip(&[
        ("_rels/.rels", b"<Relationships/>"),
        ("docProps/app.xml", b"<Properties/>"),
        ("word/document.xml", b"<w:document/>"),
        ("[Content_Types].xml", b"<Types/>"),
    ])
}

pub fn xlsx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", b"<Relationships/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", b"<worksheet/>"),
    ])
}

pub fn odf(mimetype: &str) -> Vec<u8> {
    zip(&[
        ("mimetype", mimetype.as_bytes()),
        ("content.xml", b"<office:document-content/>"),
        ("META-INF/manifest.xml", b"<manifest:manifest/>"),
    ])
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A PNG that announces `width × height` RGB pixels and carries no image data to speak of: a
/// decompression bomb's header.
pub fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A small real JPEG whose frame header is rewritten to announce `width × height`.
pub fn jpeg_header_only(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(16, 16);
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A minimal RGB display profile: a valid header and an empty tag table.
pub fn icc_profile() -> Vec<u8> {
    let mut icc = vec![0u8; 132];
    icc[0..4].copy_from_slice(&132u32.to_be_bytes());
    icc[8..12].copy_from_slice(&[2, 0x10, 0, 0]);
    icc[12..16].copy_from_slice(b"mntr");
    icc[16..20].copy_from_slice(b"RGB ");
    icc[20..24].copy_from_slice(b"XYZ ");
    icc[36..40].copy_from_slice(b"acsp");
    icc
}

/// The colour profile a decoder finds in `bytes`.
pub fn decoded_icc(bytes: &[u8]) -> Option<Vec<u8>> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap();
    reader.into_decoder().unwrap().icc_profile().unwrap()
}

/// What the camera wrote; every string here must be absent from what is served.
pub struct ExifFields<'a> {
    pub make: &'a str,
    pub model: &'a str,
    pub serial: &'a str,
    pub date_time_original: &'a str,
    pub artist: Option<&'a str>,
    pub copyright: Option<&'a str>,
    pub orientation: u16,
}

impl ExifFields<'static> {
    pub fn camera() -> Self {
        ExifFields {
            make: "SnoopCam",
            model: "SnoopCam X100 Pro",
            serial: "SN-0042-7781",
            date_time_original: "2026:03:14 15:09:26",
            artist: Some("Jane Doe"),
            copyright: Some("(c) 2026 Newsdesk Agency"),
            orientation: 6,
        }
    }
}

/// The XMP packet's marker text, and a value inside it that must not survive.
pub const XMP_NAMESPACE: &[u8] = b"http://ns.adobe.com/xap/1.0/";
pub const XMP_SECRET: &str = "XmpSecretLocation";
/// The embedded thumbnail's bytes: a marker that must not survive either.
pub const THUMBNAIL_MARKER: &[u8] = b"EMBEDDED-THUMBNAIL-BYTES";

enum Field<'a> {
    Ascii(&'a str),
    Short(u16),
    Long(u32),
    Rationals(&'a [(u32, u32)]),
}

/// Little-endian TIFF entries: (tag, type, count, value bytes).
fn entry(tag: u16, field: Field<'_>) -> (u16, u16, u32, Vec<u8>) {
    match field {
        Field::Ascii(text) => {
            let mut bytes = text.as_bytes().to_vec();
            bytes.push(0);
            (tag, 2, bytes.len() as u32, bytes)
        }
        Field::Short(value) => (tag, 3, 1, value.to_le_bytes().to_vec()),
        Field::Long(value) => (tag, 4, 1, value.to_le_bytes().to_vec()),
        Field::Rationals(values) => {
            let bytes = values
                .iter()
                .flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()])
                .flatten()
                .collect();
            (tag, 5, values.len() as u32, bytes)
        }
    }
}

type Entries = Vec<(u16, u16, u32, Vec<u8>)>;

fn ifd_len(entries: &Entries) -> u32 {
    let data: usize = entries
        .iter()
        .map(|e| {
            if e.3.len() > 4 {
                e.3.len() + e.3.len() % 2
            } else {
                0
            }
        })
        .sum();
    (2 + 12 * entries.len() + 4 + data) as u32
}

/// Appends an IFD at `out.len()` (which must be its offset), its long values right after it.
fn write_ifd(out: &mut Vec<u8>, entries: &Entries, next: u32) {
    let start = out.len();
    let mut data_at = (start + 2 + 12 * entries.len() + 4) as u32;
    let mut data = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if value.len() <= 4 {
            let mut inline = value.clone();
            inline.resize(4, 0);
            out.extend_from_slice(&inline);
        } else {
            out.extend_from_slice(&data_at.to_le_bytes());
            data.extend_from_slice(value);
            if value.len() % 2 == 1 {
                data.push(0);
            }
            data_at += (value.len() + value.len() % 2) as u32;
        }
    }
    out.extend_from_slice(&next.to_le_bytes());
    out.extend_from_slice(&data);
}

/// A TIFF block as cameras write it: IFD0 with the camera and the people, the Exif IFD with
/// the capture time and serial, the GPS IFD, and IFD1 pointing at a thumbnail.
pub fn exif_tiff(fields: &ExifFields<'_>) -> Vec<u8> {
    let mut exif_ifd: Entries = vec![
        entry(0x9003, Field::Ascii(fields.date_time_original)),
        entry(0xA431, Field::Ascii(fields.serial)),
    ];
    exif_ifd.sort_by_key(|e| e.0);
    let gps_ifd: Entries = vec![
        entry(0x0001, Field::Ascii("N")),
        entry(0x0002, Field::Rationals(&[(48, 1), (51, 1), (2998, 100)])),
        entry(0x0003, Field::Ascii("E")),
        entry(0x0004, Field::Rationals(&[(2, 1), (17, 1), (4010, 100)])),
    ];
    let ifd0_for = |exif_at: u32, gps_at: u32| {
        let mut ifd0: Entries = vec![
            entry(0x010F, Field::Ascii(fields.make)),
            entry(0x0110, Field::Ascii(fields.model)),
            entry(0x0112, Field::Short(fields.orientation)),
            entry(0x8769, Field::Long(exif_at)),
            entry(0x8825, Field::Long(gps_at)),
        ];
        if let Some(artist) = fields.artist {
            ifd0.push(entry(0x013B, Field::Ascii(artist)));
        }
        if let Some(copyright) = fields.copyright {
            ifd0.push(entry(0x8298, Field::Ascii(copyright)));
        }
        ifd0.sort_by_key(|e| e.0);
        ifd0
    };
    let ifd1_for = |thumb_at: u32| -> Entries {
        vec![
            entry(0x0201, Field::Long(thumb_at)),
            entry(0x0202, Field::Long(THUMBNAIL_MARKER.len() as u32)),
        ]
    };
    let ifd0_at = 8;
    let exif_at = ifd0_at + ifd_len(&ifd0_for(0, 0));
    let gps_at = exif_at + ifd_len(&exif_ifd);
    let ifd1_at = gps_at + ifd_len(&gps_ifd);
    let thumb_at = ifd1_at + ifd_len(&ifd1_for(0));

    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&ifd0_at.to_le_bytes());
    write_ifd(&mut tiff, &ifd0_for(exif_at, gps_at), ifd1_at);
    write_ifd(&mut tiff, &exif_ifd, 0);
    write_ifd(&mut tiff, &gps_ifd, 0);
    write_ifd(&mut tiff, &ifd1_for(thumb_at), 0);
    assert_eq!(tiff.len() as u32, thumb_at);
    tiff.extend_from_slice(THUMBNAIL_MARKER);
    tiff
}

fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut segment = vec![0xFF, marker];
    segment.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    segment.extend_from_slice(payload);
    segment
}

/// A JPEG as a phone would upload it: EXIF (with GPS and a thumbnail), XMP and an ICC profile
/// right after the start-of-image marker.
pub fn jpeg_with_metadata(width: u32, height: u32, fields: &ExifFields<'_>) -> Vec<u8> {
    let plain = jpeg(width, height);
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&exif_tiff(fields));
    let mut xmp = XMP_NAMESPACE.to_vec();
    xmp.push(0);
    xmp.extend_from_slice(
        format!(
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description \
             exif:GPSLatitude=\"48,51.5N\" photoshop:City=\"{XMP_SECRET}\"/></rdf:RDF></x:xmpmeta>"
        )
        .as_bytes(),
    );
    let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
    icc.extend_from_slice(&icc_profile());

    let mut out = plain[..2].to_vec();
    out.extend(jpeg_segment(0xE1, &exif));
    out.extend(jpeg_segment(0xE1, &xmp));
    out.extend(jpeg_segment(0xE2, &icc));
    out.extend_from_slice(&plain[2..]);
    out
}

/// A PNG (eXIf chunk) or lossless WebP (EXIF chunk) carrying the camera's EXIF and an ICC
/// profile, as some editors export them.
pub fn with_exif_and_icc(format: ImageFormat, width: u32, height: u32, fields: &ExifFields<'_>) -> Vec<u8> {
    let image = marked_gradient(width, height);
    let mut out = Vec::new();
    let (tiff, icc) = (exif_tiff(fields), icc_profile());
    match format {
        ImageFormat::Png => {
            let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
            encoder.set_exif_metadata(tiff).unwrap();
            encoder.set_icc_profile(icc).unwrap();
            encoder
                .write_image(&image, width, height, image::ExtendedColorType::Rgb8)
                .unwrap();
        }
        ImageFormat::WebP => {
            let mut encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
            encoder.set_exif_metadata(tiff).unwrap();
            encoder.set_icc_profile(icc).unwrap();
            encoder
                .write_image(&image, width, height, image::ExtendedColorType::Rgb8)
                .unwrap();
        }
        other => panic!("no EXIF writer for {other:?}"),
    }
    out
}
