//! Article bodies: Markdown or HTML in, sanitised HTML out, rendered once when saved.

use std::collections::HashSet;
use std::sync::OnceLock;

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
            .add_tag_attributes("img", ["src", "alt", "title", "width", "height", "loading"])
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

/// Sanitised HTML for a body. Raw HTML inside Markdown goes through the same sanitiser.
pub fn to_html(body: &str, format: BodyFormat) -> String {
    let html = match format {
        BodyFormat::Html => body.to_owned(),
        BodyFormat::Markdown => {
            let options = pulldown_cmark::Options::ENABLE_TABLES
                | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
                | pulldown_cmark::Options::ENABLE_FOOTNOTES;
            let parser = pulldown_cmark::Parser::new_ext(body, options);
            let mut out = String::with_capacity(body.len() * 3 / 2);
            pulldown_cmark::html::push_html(&mut out, parser);
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
            let html = to_html(dirty, format);
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
