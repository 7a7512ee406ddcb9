//! Text rules shared by every resource: Vietnamese-aware slugs and input normalisation.

use unicode_normalization::UnicodeNormalization;

/// Longest slug we generate; cut at a word boundary below it.
pub const SLUG_MAX: usize = 100;

/// Trims and NFC-normalises user input, so the same visible text is stored the same way
/// whether the client composed `ế` as one code point or as `e` + two combining marks.
pub fn clean(input: &str) -> String {
    let trimmed = input.trim();
    // Almost all input arrives composed already; the quick check spares the recomposition.
    if unicode_normalization::is_nfc_quick(trimmed.chars()) == unicode_normalization::IsNormalized::Yes {
        return trimmed.to_owned();
    }
    trimmed.nfc().collect()
}

/// A URL slug from any title or name: `Tích cực cải cách hành chính` →
/// `tich-cuc-cai-cach-hanh-chinh`, `Đống Đa` → `dong-da`. Empty when nothing transliterable.
pub fn slugify(input: &str) -> String {
    let full = slug::slugify(input);
    if full.len() <= SLUG_MAX {
        return full;
    }
    // Slugs are ASCII, so byte positions are character positions.
    let cut = full[..=SLUG_MAX]
        .rfind('-')
        .filter(|&i| i > 0)
        .unwrap_or(SLUG_MAX);
    full[..cut].trim_end_matches('-').to_owned()
}

/// The slugs to try, in order, for something titled `title`: its own slug (or `fallback` when
/// the title has nothing to transliterate), then `slug-2`, `slug-3`, … up to `slug-{last}`,
/// shortened so that every candidate stays within [`SLUG_MAX`] and canonical.
pub fn slug_candidates(title: &str, fallback: &str, last: u32) -> impl Iterator<Item = String> {
    let base = match slugify(title) {
        s if s.is_empty() => fallback.to_owned(),
        s => s,
    };
    let suffix_room = format!("-{last}").len();
    let stem: String = base.chars().take(SLUG_MAX - suffix_room).collect();
    let stem = stem.trim_end_matches('-').to_owned();
    std::iter::once(base).chain((2..=last).map(move |n| format!("{stem}-{n}")))
}

/// An explicit slug must already be in canonical form: lower-case ASCII letters, digits and
/// single inner hyphens.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= SLUG_MAX
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
}

/// Text that a database can store as given: PostgreSQL refuses U+0000 in text, so both
/// backends refuse it at validation.
pub fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// Length in characters (what a reader counts), not bytes.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Text for matching, not for showing: lower case, Vietnamese diacritics removed (NFD, combining
/// marks dropped, `đ` → `d`), every run of characters other than letters and digits turned into
/// one space. `Cải cách  HÀNH-chính` → `cai cach hanh chinh`.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    let mut push = |c: char, out: &mut String| {
        if unicode_normalization::char::is_combining_mark(c) {
            return;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            pending_space = true;
        }
    };
    // Character by character rather than through a normalising iterator: combining marks are
    // dropped, so their canonical order (all NFD adds to per-character decomposition) cannot
    // matter, and most characters are ASCII, which decompose to themselves. Folding is most
    // of the CPU time of an import.
    for c in input.chars() {
        if c.is_ascii() {
            push(c, &mut out);
        } else {
            unicode_normalization::char::decompose_canonical(c, |d| push(d, &mut out));
        }
    }
    out
}

/// A `LIKE … ESCAPE '\\'` pattern that matches text containing `folded` anywhere, with the
/// pattern characters in it taken literally.
pub fn like_contains(folded: &str) -> String {
    let mut p = String::with_capacity(folded.len() + 2);
    p.push('%');
    for c in folded.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_diacritics_and_punctuation() {
        assert_eq!(fold("Cải cách  HÀNH-chính"), "cai cach hanh chinh");
        assert_eq!(fold("Đống Đa"), "dong da");
        assert_eq!(fold("  ...cá độ!! "), "ca do");
        // Decomposed input folds like composed input.
        assert_eq!(fold("Ti\u{301}ch cu\u{323}c"), "tich cuc");
    }

    #[test]
    fn vietnamese_titles_become_ascii_slugs() {
        assert_eq!(
            slugify("Tích cực cải cách hành chính"),
            "tich-cuc-cai-cach-hanh-chinh"
        );
        assert_eq!(slugify("Hoàng Anh"), "hoang-anh");
        assert_eq!(slugify("Đống Đa, Sơn Tây..."), "dong-da-son-tay");
        assert_eq!(slugify("  "), "");
    }

    #[test]
    fn long_slugs_are_cut_at_a_word_boundary() {
        let title = "Tích cực cải cách hành chính để nâng cao mức độ hài lòng của công dân \
                     và tổ chức đối với sự phục vụ của các cơ quan hành chính nhà nước";
        let slug = slugify(title);
        assert!(slug.len() <= SLUG_MAX, "{slug}");
        assert!(slugify(title).starts_with("tich-cuc-cai-cach-hanh-chinh-de-nang-cao"));
        assert!(!slug.ends_with('-'));
        assert!(slugify(&title.replace(' ', "")).len() <= SLUG_MAX);
    }

    #[test]
    fn numbered_slugs_stay_canonical_and_short() {
        let first: Vec<String> = slug_candidates("Hoàng Anh", "author", 999).take(3).collect();
        assert_eq!(first, ["hoang-anh", "hoang-anh-2", "hoang-anh-3"]);
        assert_eq!(
            slug_candidates("!!!", "author", 9).next().as_deref(),
            Some("author")
        );
        let long = "Tích cực cải cách hành chính để nâng cao mức độ hài lòng của công dân và tổ chức đối với cơ quan";
        for candidate in slug_candidates(long, "x", 9999).take(50) {
            assert!(is_valid_slug(&candidate), "{candidate}");
        }
        assert_eq!(slug_candidates("a", "x", 4).count(), 4);
    }

    #[test]
    fn explicit_slugs_must_be_canonical() {
        assert!(is_valid_slug("hoang-anh-2"));
        for bad in ["", "Hoang", "hoàng", "a--b", "-a", "a-", "a b", "a_b"] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
    }

    #[test]
    fn input_is_trimmed_and_composed() {
        assert_eq!(clean("  Hoa\u{300}ng  "), "Hoàng");
    }
}
