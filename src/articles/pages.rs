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
    path: Arc<str>,
    /// Dates in the path are the publication's date here: a portal in Hà Nội names an article
    /// published at 01:00 local time by that day, not by the UTC day before.
    offset: FixedOffset,
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
            path: path.into(),
            offset,
        })
    }

    /// The article's address on the portal.
    pub fn url(&self, page: &Page<'_>) -> String {
        let local = page.published_at.and_utc().with_timezone(&self.offset);
        let path = self
            .path
            .replace("{slug}", page.slug)
            .replace("{id}", &page.id.to_string())
            .replace("{yyyy}", &local.format("%Y").to_string())
            .replace("{mm}", &local.format("%m").to_string())
            .replace("{dd}", &local.format("%d").to_string());
        let path = match page.category {
            Some(category) => path.replace("{category}", category),
            None => path.replace("/{category}", "").replace("{category}", ""),
        };
        format!("{}{path}", self.base)
    }
}

impl Default for ArticlePages {
    /// `http://localhost:3000/articles/{slug}`, as with the settings' defaults.
    fn default() -> Self {
        ArticlePages {
            base: "http://localhost:3000".into(),
            path: "/articles/{slug}".into(),
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
