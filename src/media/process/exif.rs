//! The one thing kept from an image's EXIF before it is thrown away: who made it.
//!
//! Photographers and agencies put their name in `Artist` and `Copyright`; proposing it as the
//! credit saves an editor retyping it and makes forgetting it less likely. Everything else in
//! EXIF (GPS position, camera serial, capture time) is what the stripping exists to remove,
//! so nothing else is read here. `kamadak-exif` is used because it finds the EXIF block in
//! JPEG, PNG and WebP alike and tolerates damaged blocks without panicking.

use std::io::Cursor;

use ::exif::{Exif, In, Reader, Tag, Value};

/// A credit longer than this is not a name; it is cut rather than refused because the
/// proposal is only a default the editor sees.
const MAX_CREDIT_CHARS: usize = 200;

/// The credit proposed from EXIF `Artist` and `Copyright`, if either says anything.
///
/// When both are present and the copyright notice already names the artist, the notice alone
/// is proposed; otherwise both are joined, so neither the person nor the rights holder is lost.
/// Unreadable or absent EXIF proposes nothing: a credit is never a reason to refuse an upload.
pub fn proposed_credit(bytes: &[u8]) -> Option<String> {
    let exif = Reader::new().read_from_container(&mut Cursor::new(bytes)).ok()?;
    let artist = text_field(&exif, Tag::Artist);
    let copyright = text_field(&exif, Tag::Copyright);
    match (artist, copyright) {
        (Some(artist), Some(copyright)) => {
            if copyright.to_lowercase().contains(&artist.to_lowercase()) {
                Some(copyright)
            } else {
                Some(truncate(format!("{artist} / {copyright}")))
            }
        }
        (artist, copyright) => artist.or(copyright),
    }
}

/// An ASCII field as one clean line. EXIF strings are nominally ASCII but cameras write
/// Latin-1 and UTF-8 alike, and `Copyright` may hold several NUL-separated notices.
fn text_field(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &field.value else {
        return None;
    };
    let joined = parts
        .iter()
        .map(|part| clean(&String::from_utf8_lossy(part)))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    (!joined.is_empty()).then(|| truncate(joined))
}

/// Control characters and runs of whitespace would end up in bylines and HTML attributes.
fn clean(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn truncate(text: String) -> String {
    match text.char_indices().nth(MAX_CREDIT_CHARS) {
        Some((cut, _)) => text[..cut].trim_end().to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::media::process::testdata::{self, ExifFields};

    fn credit_of(artist: Option<&str>, copyright: Option<&str>) -> Option<String> {
        let fields = ExifFields {
            artist,
            copyright,
            ..ExifFields::camera()
        };
        proposed_credit(&testdata::jpeg_with_metadata(32, 24, &fields))
    }

    #[test]
    fn artist_and_copyright_propose_a_credit() {
        assert_eq!(credit_of(Some("Jane Doe"), None).as_deref(), Some("Jane Doe"));
        assert_eq!(
            credit_of(None, Some("© 2026 Agency")).as_deref(),
            Some("© 2026 Agency")
        );
        assert_eq!(
            credit_of(Some("Jane Doe"), Some("© Agency")).as_deref(),
            Some("Jane Doe / © Agency")
        );
        assert_eq!(
            credit_of(Some("Jane Doe"), Some("(c) 2026 jane doe")).as_deref(),
            Some("(c) 2026 jane doe")
        );
    }

    #[test]
    fn no_usable_field_proposes_nothing() {
        assert_eq!(credit_of(None, None), None);
        assert_eq!(credit_of(Some("   "), Some("\t")), None);
        assert_eq!(proposed_credit(&testdata::jpeg(16, 16)), None);
        assert_eq!(proposed_credit(b"not an image"), None);
    }

    #[test]
    fn credits_are_one_clean_bounded_line() {
        assert_eq!(
            credit_of(Some(" Jane\r\n\tDoe\u{7} "), None).as_deref(),
            Some("Jane Doe")
        );
        let long = "x".repeat(1000);
        assert_eq!(
            credit_of(Some(&long), None).unwrap().chars().count(),
            MAX_CREDIT_CHARS
        );
    }
}
