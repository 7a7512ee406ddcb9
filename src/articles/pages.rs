//! Where an article lives on the portal: its `url`, built from `NEWSDESK_PUBLIC_URL` and
//! `NEWSDESK_ARTICLE_PATH`, so a portal keeps its own URL scheme and every answer, feed and
//! sitemap names the same address.

use std::sync::Arc;

use chrono::{FixedOffset, NaiveDateTime};

/// The placeholders `NEWSDESK_ARTICLE_PATH` may use.
pub const PLACEHOLDERS: [&str; 6] = ["{slug}", "{id}", "{category}", "{yyyy}", "{mm}", "{dd}"];

/// The article path's pattern and the site it is under.
#[derive(Debug, Clone)]
pub struct ArticlePages {
    base: Arc<str>,
    /// The pattern, read once: every list item, feed entry and sitemap line is an address.
    path: Arc<[Part]>,
    /// Dates in the path are the publication's date here: a portal in Hà Nội names an article
    /// published at 01:00 local time by that day, not by the UTC day before.
    offset: FixedOffset,
}

/// A piece of the path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Slug,
    Id,
    /// `{category}`, and whether a `/` before it goes with it when there is none.
    Category {
        slash: bool,
    },
    Year,
    Month,
    Day,
}

impl Part {
    /// The pattern's pieces, in order.
    fn parse(pattern: &str) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut rest = pattern;
        while !rest.is_empty() {
            let next = PLACEHOLDERS
                .iter()
                .filter_map(|p| rest.find(p).map(|at| (at, *p)))
                .min_by_key(|(at, _)| *at);
            let Some((at, placeholder)) = next else {
                parts.push(Part::Text(rest.to_owned()));
                break;
            };
            let mut text = &rest[..at];
            let part = match placeholder {
                "{slug}" => Part::Slug,
                "{id}" => Part::Id,
                "{yyyy}" => Part::Year,
                "{mm}" => Part::Month,
                "{dd}" => Part::Day,
                _ => {
                    let slash = text.ends_with('/');
                    if slash {
                        text = &text[..text.len() - 1];
                    }
                    Part::Category { slash }
                }
            };
            if !text.is_empty() {
                parts.push(Part::Text(text.to_owned()));
            }
            parts.push(part);
            rest = &rest[at + placeholder.len()..];
        }
        parts
    }
}

/// What a path may name of one article.
pub struct Page<'a> {
    pub id: i64,
    pub slug: &'a str,
    /// The category's slug; `{category}` and the slash before it are left out without one.
    pub category: Option<&'a str>,
    pub published_at: NaiveDateTime,
}

impl ArticlePages {
    /// Checks the pattern: a path starting with `/`, with only known placeholders, naming the
    /// article by `{slug}` or `{id}` (or two articles would share an address).
    pub fn new(
        public_url: &url::Url,
        path: &str,
        utc_offset: &str,
    ) -> Result<ArticlePages, (&'static str, String)> {
        let bad = |message: String| ("NEWSDESK_ARTICLE_PATH", message);
        if !path.starts_with('/') {
            return Err(bad(format!("`{path}` must start with `/`")));
        }
        if !path.contains("{slug}") && !path.contains("{id}") {
            return Err(bad(format!(
                "`{path}` must name the article by `{{slug}}` or `{{id}}`"
            )));
        }
        let mut rest = path.to_owned();
        for placeholder in PLACEHOLDERS {
            rest = rest.replace(placeholder, "");
        }
        if rest.contains(['{', '}']) || rest.chars().any(|c| c.is_whitespace() || c == '?' || c == '#') {
            return Err(bad(format!(
                "`{path}` may hold only a path and the placeholders {}",
                PLACEHOLDERS.join(", ")
            )));
        }
        let offset = utc_offset.parse::<FixedOffset>().map_err(|_| {
            (
                "NEWSDESK_URL_UTC_OFFSET",
                format!("`{utc_offset}` is not an offset such as `+07:00`"),
            )
        })?;
        Ok(ArticlePages {
            base: public_url.as_str().trim_end_matches('/').into(),
            path: Part::parse(path).into(),
            offset,
        })
    }

    /// The article's address on the portal.
    pub fn url(&self, page: &Page<'_>) -> String {
        use chrono::Datelike;
        use std::fmt::Write;
        let local = page.published_at.and_utc().with_timezone(&self.offset);
        let mut url = String::with_capacity(self.base.len() + 2 * page.slug.len() + 48);
        url.push_str(&self.base);
        for part in self.path.iter() {
            // Writing to a String cannot fail.
            let _ = match part {
                Part::Text(text) => write!(url, "{text}"),
                Part::Slug => write!(url, "{}", page.slug),
                Part::Id => write!(url, "{}", page.id),
                Part::Category { slash } => match (page.category, slash) {
                    (Some(category), true) => write!(url, "/{category}"),
                    (Some(category), false) => write!(url, "{category}"),
                    (None, _) => Ok(()),
                },
                // As chrono's `%Y`: four digits, a sign beyond them.
                Part::Year if (0..=9999).contains(&local.year()) => write!(url, "{:04}", local.year()),
                Part::Year => write!(url, "{}", local.format("%Y")),
                Part::Month => write!(url, "{:02}", local.month()),
                Part::Day => write!(url, "{:02}", local.day()),
            };
        }
        url
    }
}

impl Default for ArticlePages {
    /// `http://localhost:3000/articles/{slug}`, as with the settings' defaults.
    fn default() -> Self {
        ArticlePages {
            base: "http://localhost:3000".into(),
            path: Part::parse("/articles/{slug}").into(),
            offset: FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pages(path: &str) -> Result<ArticlePages, (&'static str, String)> {
        ArticlePages::new(&url::Url::parse("https://hanoi.gov.vn/").unwrap(), path, "+07:00")
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn every_placeholder_is_filled_with_the_local_date() {
        let p = pages("/tin-tuc/{category}/{yyyy}/{mm}/{dd}/{slug}-{id}.htm").unwrap();
        let page = Page {
            id: 42,
            slug: "cai-cach",
            category: Some("cai-cach-hanh-chinh"),
            // 18:30 UTC on the 14th is 01:30 on the 15th in Hà Nội.
            published_at: at("2020-01-14 18:30"),
        };
        assert_eq!(
            p.url(&page),
            "https://hanoi.gov.vn/tin-tuc/cai-cach-hanh-chinh/2020/01/15/cai-cach-42.htm"
        );
        let uncategorised = Page {
            category: None,
            ..page
        };
        assert_eq!(
            p.url(&uncategorised),
            "https://hanoi.gov.vn/tin-tuc/2020/01/15/cai-cach-42.htm"
        );
    }

    #[test]
    fn a_missing_category_takes_its_slash_along_wherever_it_stands() {
        let page = |category| Page {
            id: 7,
            slug: "tin",
            category,
            published_at: at("2020-01-14 10:00"),
        };
        for (pattern, with, without) in [
            ("/{category}/{slug}", "/thoi-su/tin", "/tin"),
            ("/a/{slug}/{category}", "/a/tin/thoi-su", "/a/tin"),
            ("/a/{slug}-{category}", "/a/tin-thoi-su", "/a/tin-"),
            ("/{id}{category}", "/7thoi-su", "/7"),
            ("/{yyyy}{mm}{dd}/{slug}", "/20200114/tin", "/20200114/tin"),
        ] {
            let p = pages(pattern).unwrap();
            assert_eq!(
                p.url(&page(Some("thoi-su"))),
                format!("https://hanoi.gov.vn{with}"),
                "{pattern}"
            );
            assert_eq!(
                p.url(&page(None)),
                format!("https://hanoi.gov.vn{without}"),
                "{pattern}"
            );
        }
    }

    #[test]
    fn patterns_that_cannot_name_one_article_are_refused() {
        assert!(pages("/articles/{slug}").is_ok());
        assert!(pages("/a/{id}").is_ok());
        for bad in [
            "articles/{slug}",
            "/articles/{yyyy}",
            "/a/{title}",
            "/a/{slug}?x=1",
            "/a b/{slug}",
        ] {
            let (variable, _) = pages(bad).unwrap_err();
            assert_eq!(variable, "NEWSDESK_ARTICLE_PATH", "{bad}");
        }
        let offset = ArticlePages::new(&url::Url::parse("https://x.vn").unwrap(), "/{slug}", "ICT");
        assert_eq!(offset.unwrap_err().0, "NEWSDESK_URL_UTC_OFFSET");
    }
}
