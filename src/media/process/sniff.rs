//! What an upload is, decided from its bytes alone.
//!
//! The file name and the declared `Content-Type` are written by the client and so prove
//! nothing: an HTML page or an executable renamed `photo.jpg` must be refused, and a real JPEG
//! called `report.pdf` is still a JPEG. Magic numbers come from `infer`, which knows far more
//! signatures than this module would want to maintain, so a refusal can name what was found.
//!
//! Office documents need more than a magic number: DOCX, XLSX, ODT and ODS are all zip
//! archives, and so is anything else zipped. `infer` only peeks at the first few local headers,
//! whose order OOXML does not fix, so OOXML is decided from the archive's central directory
//! through the `zip` crate (names only: nothing is decompressed, so a zip bomb costs nothing
//! here). ODF is decided from the first local header, because the format requires the
//! `mimetype` entry to come first and be stored uncompressed precisely so that it can be read
//! this way.

use std::io::Cursor;

use image::ImageFormat;

use super::Refusal;
use super::limits::guarded;

/// The two families the media library keeps; they are stored and served differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Document,
}

/// An accepted type, as told by the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// JPEG, PNG, WebP or GIF, named as the `image` crate names them so decoding does not guess
    /// a second time.
    Image(ImageFormat),
    /// A document that is stored and served as uploaded, with the type it is served as.
    Document {
        content_type: &'static str,
        extension: &'static str,
    },
}

impl Sniffed {
    /// The family, for callers that only route.
    pub fn kind(&self) -> Kind {
        match self {
            Sniffed::Image(_) => Kind::Image,
            Sniffed::Document { .. } => Kind::Document,
        }
    }
}

const PDF: Sniffed = Sniffed::Document {
    content_type: "application/pdf",
    extension: "pdf",
};
const DOCX: Sniffed = Sniffed::Document {
    content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    extension: "docx",
};
const XLSX: Sniffed = Sniffed::Document {
    content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    extension: "xlsx",
};
const ODT: Sniffed = Sniffed::Document {
    content_type: "application/vnd.oasis.opendocument.text",
    extension: "odt",
};
const ODS: Sniffed = Sniffed::Document {
    content_type: "application/vnd.oasis.opendocument.spreadsheet",
    extension: "ods",
};

/// How far into a text upload to look for an `<svg` root: past an XML declaration, a doctype
/// and a licence comment, but not through a whole document.
const SVG_WINDOW: usize = 4096;

/// Decides what `bytes` are, refusing everything that is not an accepted type.
pub fn sniff(bytes: &[u8]) -> Result<Sniffed, Refusal> {
    if bytes.starts_with(b"PK\x03\x04") {
        return guarded(|| sniff_zip(bytes));
    }
    if looks_like_svg(bytes) {
        return Err(Refusal::Svg);
    }
    let Some(found) = infer::get(bytes) else {
        return Err(Refusal::Unsupported { found: None });
    };
    match found.mime_type() {
        "image/jpeg" => Ok(Sniffed::Image(ImageFormat::Jpeg)),
        "image/png" => Ok(Sniffed::Image(ImageFormat::Png)),
        "image/webp" => Ok(Sniffed::Image(ImageFormat::WebP)),
        "image/gif" => Ok(Sniffed::Image(ImageFormat::Gif)),
        "application/pdf" => Ok(PDF),
        other => Err(Refusal::Unsupported {
            found: Some(other.to_owned()),
        }),
    }
}

/// SVG is XML text, which has no magic number; a root `<svg` element near the start is what
/// every SVG has and what a browser keys on.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SVG_WINDOW)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(first) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    head[first] == b'<' && head.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg"))
}

fn sniff_zip(bytes: &[u8]) -> Result<Sniffed, Refusal> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Refusal::Corrupt(format!("unreadable zip archive: {e}")))?;
    if let Some(odf) = odf_mimetype(bytes) {
        // ODF keeps macros in `Basic/` and other scripts in `Scripts/`; refused for the same
        // reason as macro-enabled OOXML below.
        if archive
            .file_names()
            .any(|name| name.starts_with("Basic/") || name.starts_with("Scripts/"))
        {
            return Err(unsupported("OpenDocument with macros"));
        }
        return match odf {
            b"application/vnd.oasis.opendocument.text" => Ok(ODT),
            b"application/vnd.oasis.opendocument.spreadsheet" => Ok(ODS),
            other => Err(Refusal::Unsupported {
                found: Some(String::from_utf8_lossy(other).into_owned()),
            }),
        };
    }
    let mut content_types = false;
    let (mut word, mut xl, mut macros) = (false, false, false);
    for name in archive.file_names() {
        content_types |= name == "[Content_Types].xml";
        word |= name.starts_with("word/");
        xl |= name.starts_with("xl/");
        macros |= name.to_ascii_lowercase().ends_with("vbaproject.bin");
    }
    // Macro-enabled documents (.docm, .xlsm) carry VBA that runs on the reader's machine when
    // allowed; a renamed .docm is still one, so it is refused whatever it is called.
    match (content_types, word, xl, macros) {
        (true, true, false, true) => Err(unsupported("application/vnd.ms-word.document.macroEnabled.12")),
        (true, false, true, true) => Err(unsupported("application/vnd.ms-excel.sheet.macroEnabled.12")),
        (true, true, false, false) => Ok(DOCX),
        (true, false, true, false) => Ok(XLSX),
        _ => Err(unsupported("application/zip")),
    }
}

fn unsupported(found: &str) -> Refusal {
    Refusal::Unsupported {
        found: Some(found.to_owned()),
    }
}

/// The content of a stored `mimetype` entry at the very start of the archive, which is where
/// ODF puts it; `None` when the first entry is anything else.
fn odf_mimetype(bytes: &[u8]) -> Option<&[u8]> {
    const LOCAL_HEADER: usize = 30;
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let method = u16_at(8)?;
    let compressed = u32_at(18)?;
    let uncompressed = u32_at(22)?;
    let name_len = usize::from(u16_at(26)?);
    let extra_len = usize::from(u16_at(28)?);
    let name = bytes.get(LOCAL_HEADER..LOCAL_HEADER + name_len)?;
    if method != 0 || name != b"mimetype" || compressed != uncompressed {
        return None;
    }
    let start = LOCAL_HEADER + name_len + extra_len;
    bytes.get(start..start.checked_add(usize::try_from(compressed).ok()?)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::media::process::testdata;

    #[test]
    fn images_are_told_by_their_bytes() {
        assert_eq!(
            sniff(&testdata::jpeg(16, 16)).unwrap(),
            Sniffed::Image(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff(&testdata::png(16, 16)).unwrap(),
            Sniffed::Image(ImageFormat::Png)
        );
        assert_eq!(
            sniff(&testdata::gif(16, 16)).unwrap(),
            Sniffed::Image(ImageFormat::Gif)
        );
        assert_eq!(
            sniff(&testdata::webp(16, 16)).unwrap(),
            Sniffed::Image(ImageFormat::WebP)
        );
        assert_eq!(sniff(&testdata::jpeg(16, 16)).unwrap().kind(), Kind::Image);
    }

    #[test]
    fn documents_are_told_by_their_bytes() {
        assert_eq!(sniff(&testdata::pdf()).unwrap(), PDF);
        assert_eq!(sniff(&testdata::docx()).unwrap(), DOCX);
        assert_eq!(sniff(&testdata::xlsx()).unwrap(), XLSX);
        assert_eq!(
            sniff(&testdata::odf("application/vnd.oasis.opendocument.text")).unwrap(),
            ODT
        );
        assert_eq!(
            sniff(&testdata::odf("application/vnd.oasis.opendocument.spreadsheet")).unwrap(),
            ODS
        );
        assert_eq!(sniff(&testdata::pdf()).unwrap().kind(), Kind::Document);
    }

    #[test]
    fn other_zips_are_refused() {
        let presentation = testdata::odf("application/vnd.oasis.opendocument.presentation");
        assert!(matches!(sniff(&presentation), Err(Refusal::Unsupported { .. })));
        let plain = testdata::zip(&[("readme.txt", b"hi".as_slice())]);
        assert_eq!(
            sniff(&plain),
            Err(Refusal::Unsupported {
                found: Some("application/zip".into())
            })
        );
        let no_manifest = testdata::zip(&[("word/document.xml", b"<w/>".as_slice())]);
        assert!(matches!(sniff(&no_manifest), Err(Refusal::Unsupported { .. })));
        assert!(matches!(sniff(b"PK\x03\x04 truncated"), Err(Refusal::Corrupt(_))));
    }

    #[test]
    fn macro_enabled_office_documents_are_refused() {
        let docm = testdata::zip(&[
            ("[Content_Types].xml", b"<Types/>".as_slice()),
            ("word/document.xml", b"<w:document/>"),
            ("word/vbaProject.bin", b"\xD0\xCF\x11\xE0"),
        ]);
        let found = "application/vnd.ms-word.document.macroEnabled.12".to_owned();
        assert_eq!(sniff(&docm), Err(Refusal::Unsupported { found: Some(found) }));
        let xlsm = testdata::zip(&[
            ("[Content_Types].xml", b"<Types/>".as_slice()),
            ("xl/workbook.xml", b"<workbook/>"),
            ("xl/vbaProject.bin", b"\xD0\xCF\x11\xE0"),
        ]);
        assert!(matches!(
            sniff(&xlsm),
            Err(Refusal::Unsupported { found: Some(_) })
        ));
    }

    #[test]
    fn svg_is_refused_as_svg() {
        assert_eq!(
            sniff(br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#),
            Err(Refusal::Svg)
        );
        let with_prolog = b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- drawn -->\n<SVG onload=\"alert(1)\">";
        assert_eq!(sniff(with_prolog), Err(Refusal::Svg));
    }

    #[test]
    fn html_and_executables_renamed_as_images_are_unsupported() {
        let html = sniff(b"<!DOCTYPE html><html><body><script>alert(1)</script>");
        assert_eq!(
            html,
            Err(Refusal::Unsupported {
                found: Some("text/html".into())
            })
        );

        let mut elf = b"\x7FELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        assert!(matches!(
            sniff(&elf),
            Err(Refusal::Unsupported { found: Some(_) })
        ));

        let mut pe = b"MZ\x90\x00".to_vec();
        pe.resize(64, 0);
        assert!(matches!(sniff(&pe), Err(Refusal::Unsupported { found: Some(_) })));
    }

    #[test]
    fn noise_and_nothing_are_unsupported() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect();
        assert_eq!(sniff(&noise), Err(Refusal::Unsupported { found: None }));
        assert_eq!(sniff(b""), Err(Refusal::Unsupported { found: None }));
        assert_eq!(sniff(b"\xFF"), Err(Refusal::Unsupported { found: None }));
    }
}
