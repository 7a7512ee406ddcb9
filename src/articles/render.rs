//! Article bodies: Markdown or HTML in, sanitised HTML out, rendered once when saved.

use std::collections::HashSet;

use std::sync::OnceLock;

use crate::media::uses::{BodyImage, BodyImages};

/// The tags a news article needs, and nothing that runs code or restyles the page.
fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let tags: HashSet<&str> = [
            "a",
            "abbr",
            "b",
            "blockquote",
            "br",
            "caption",
            "cite",
            "code",
            "del",
            "em",
            "figcaption",
            "figure",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "i",
            "img",
            "ins",
            "li",
            "mark",
            "ol",
            "p",
            "pre",
            "q",
            "s",
            "small",
            "strong",
            "sub",
            "sup",
            "table",
            "tbody",
            "td",
            "tfoot",
            "th",
            "thead",
            "tr",
            "u",
            "ul",
        ]
        .into_iter()
        .collect();
        let mut builder = ammonia::Builder::default();
        builder
            .tags(tags)
            .link_rel(Some("noopener noreferrer"))
            .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
            .add_tag_attributes(
                "img",
                [
                    "src", "srcset", "sizes", "alt", "title", "width", "height", "loading",
                ],
            )
            .add_tag_attributes("a", ["href", "title"])
            .add_tag_attributes("td", ["colspan", "rowspan"])
            .add_tag_attributes("th", ["colspan", "rowspan", "scope"]);
        builder
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    Markdown,
    Html,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Markdown => "markdown",
            BodyFormat::Html => "html",
        }
    }

    pub fn parse(s: &str) -> BodyFormat {
        if s == "html" {
            BodyFormat::Html
        } else {
            BodyFormat::Markdown
        }
    }
}

/// Library images in HTML (and in raw HTML within Markdown): `<img src="media:ID">`, or an
/// `<img>` of a library file's URL (`…/ab/cd/<sha256>-640.jpg`), found by its content hash.
fn html_image_refs() -> &'static regex_lite::Regex {
    static RE: OnceLock<regex_lite::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex_lite::Regex::new(
            r#"(?i)<img\b[^>]*?\bsrc\s*=\s*["']?(?:media:(\d+)|[^"'\s>]*/[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})(?:-\d+)?\.(?:jpg|png|webp))["']?[^>]*>"#,
        )
        .unwrap_or_else(|e| unreachable!("the pattern is fixed: {e}"))
    })
}

/// The content hash of a library file's URL.
fn library_url() -> &'static regex_lite::Regex {
    static RE: OnceLock<regex_lite::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex_lite::Regex::new(r"^[^\s]*/[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})(?:-\d+)?\.(?:jpg|png|webp)$")
            .unwrap_or_else(|e| unreachable!("the pattern is fixed: {e}"))
    })
}

fn html_alt() -> &'static regex_lite::Regex {
    static RE: OnceLock<regex_lite::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex_lite::Regex::new(r#"(?i)\balt\s*=\s*"([^"]*)""#)
            .unwrap_or_else(|e| unreachable!("the pattern is fixed: {e}"))
    })
}

fn markdown_options() -> pulldown_cmark::Options {
    pulldown_cmark::Options::ENABLE_TABLES
        | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
        | pulldown_cmark::Options::ENABLE_FOOTNOTES
}

/// The library images a body names: by id (which must exist) and by the content hash of a
/// library URL (an image pasted from the library, or one elsewhere that is left as it is).
#[derive(Debug, Default, PartialEq)]
pub struct ImageRefs {
    pub ids: Vec<i64>,
    pub hashes: Vec<String>,
}

/// What a library image's source names.
enum Source {
    Id(i64),
    Hash(String),
}

fn source_of(url: &str) -> Option<Source> {
    if let Some(id) = url.strip_prefix("media:") {
        return Some(Source::Id(id.parse().unwrap_or(0)));
    }
    library_url()
        .captures(url)
        .and_then(|c| c.get(1))
        .map(|h| Source::Hash(h.as_str().to_ascii_lowercase()))
}

fn html_source(c: &regex_lite::Captures<'_>) -> Option<Source> {
    match (c.get(1), c.get(2)) {
        (Some(id), _) => Some(Source::Id(id.as_str().parse().unwrap_or(0))),
        (None, Some(hash)) => Some(Source::Hash(hash.as_str().to_ascii_lowercase())),
        (None, None) => None,
    }
}

/// The library images a body shows, in order of appearance.
pub fn image_refs(body: &str, format: BodyFormat) -> ImageRefs {
    let mut refs = ImageRefs::default();
    let mut add = |source: Source| match source {
        Source::Id(id) => refs.ids.push(id),
        Source::Hash(hash) => refs.hashes.push(hash),
    };
    let html = |text: &str, add: &mut dyn FnMut(Source)| {
        for c in html_image_refs().captures_iter(text) {
            if let Some(source) = html_source(&c) {
                add(source);
            }
        }
    };
    match format {
        BodyFormat::Html => html(body, &mut add),
        BodyFormat::Markdown => {
            for event in pulldown_cmark::Parser::new_ext(body, markdown_options()) {
                match event {
                    pulldown_cmark::Event::Start(pulldown_cmark::Tag::Image { dest_url, .. }) => {
                        if let Some(source) = source_of(&dest_url) {
                            add(source);
                        }
                    }
                    pulldown_cmark::Event::Html(text) | pulldown_cmark::Event::InlineHtml(text) => {
                        html(&text, &mut add)
                    }
                    _ => {}
                }
            }
        }
    }
    refs
}

/// Sanitised HTML for a body. Raw HTML inside Markdown goes through the same sanitiser.
/// Library images become `<img>` elements with their sizes from `images`; one named by id
/// that is not there loses its source (saving checks every id first), and a URL whose hash
/// the library does not know is left as written.
pub fn to_html(body: &str, format: BodyFormat, images: &BodyImages) -> String {
    let swap_html = |text: &str| -> String {
        html_image_refs()
            .replace_all(text, |c: &regex_lite::Captures<'_>| {
                let alt = html_alt()
                    .captures(&c[0])
                    .and_then(|a| a.get(1))
                    .map_or("", |a| a.as_str());
                match html_source(c) {
                    Some(Source::Id(id)) => images.by_id(id).map_or_else(String::new, |i| i.html(alt)),
                    Some(Source::Hash(hash)) => images
                        .by_hash(&hash)
                        .map_or_else(|| c[0].to_owned(), |i| i.html(alt)),
                    None => c[0].to_owned(),
                }
            })
            .into_owned()
    };
    let html = match format {
        BodyFormat::Html => swap_html(body),
        BodyFormat::Markdown => {
            use pulldown_cmark::{Event, Tag, TagEnd};
            let mut out = String::with_capacity(body.len() * 3 / 2);
            let mut events = Vec::new();
            // Inside a library image: the image (none when unknown), and the alt text so far.
            let mut image: Option<(Option<&BodyImage>, String)> = None;
            for event in pulldown_cmark::Parser::new_ext(body, markdown_options()) {
                match (&mut image, event) {
                    (
                        None,
                        Event::Start(Tag::Image {
                            dest_url,
                            link_type,
                            title,
                            id,
                        }),
                    ) => {
                        let found = match source_of(&dest_url) {
                            Some(Source::Id(id)) => Some(images.by_id(id)),
                            Some(Source::Hash(hash)) => images.by_hash(&hash).map(Some),
                            None => None,
                        };
                        match found {
                            Some(found) => image = Some((found, String::new())),
                            None => events.push(Event::Start(Tag::Image {
                                dest_url,
                                link_type,
                                title,
                                id,
                            })),
                        }
                    }
                    (Some((_, alt)), Event::Text(text) | Event::Code(text)) => alt.push_str(&text),
                    (Some((found, alt)), Event::End(TagEnd::Image)) => {
                        let element = found.map_or_else(String::new, |i| i.html(alt));
                        events.push(Event::InlineHtml(element.into()));
                        image = None;
                    }
                    (Some(_), _) => {}
                    (None, Event::Html(text)) => events.push(Event::Html(swap_html(&text).into())),
                    (None, Event::InlineHtml(text)) => {
                        events.push(Event::InlineHtml(swap_html(&text).into()))
                    }
                    (None, event) => events.push(event),
                }
            }
            pulldown_cmark::html::push_html(&mut out, events.into_iter());
            out
        }
    };
    sanitizer().clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_with_safe_links() {
        let html = to_html(
            "Đoạn **một**.\n\n[Cổng](https://hanoi.gov.vn)",
            BodyFormat::Markdown,
            &BodyImages::default(),
        );
        assert!(html.contains("<p>Đoạn <strong>một</strong>.</p>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://hanoi.gov.vn" rel="noopener noreferrer">Cổng</a>"#),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let dirty = r#"<p onclick="x()">Tin</p><script>alert(1)</script><a href="javascript:alert(1)">x</a><img src="https://a.vn/i.jpg" onerror="x()"><iframe src="https://evil"></iframe><style>p{}</style>"#;
        for format in [BodyFormat::Html, BodyFormat::Markdown] {
            let html = to_html(dirty, format, &BodyImages::default());
            for bad in ["script", "onclick", "onerror", "javascript:", "iframe", "<style"] {
                assert!(!html.contains(bad), "{bad} survived in {html}");
            }
            assert!(html.contains("Tin"));
        }
    }

    #[test]
    fn news_markup_survives() {
        let html = to_html(
            r#"<figure><img src="https://a.vn/i.jpg" alt="Ảnh"><figcaption>Chú thích</figcaption></figure><table><tr><td>1</td></tr></table><blockquote>Trích</blockquote><h2>Mục</h2>"#,
            BodyFormat::Html,
            &BodyImages::default(),
        );
        for kept in [
            "<figure>",
            "<figcaption>",
            "<img",
            "<table>",
            "<blockquote>",
            "<h2>",
        ] {
            assert!(html.contains(kept), "{kept} lost in {html}");
        }
    }
}
