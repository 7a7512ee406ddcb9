//! Where readers find things, as answers show them: files (the store's [`PublicBase`]) and
//! article pages ([`ArticlePages`]). Cheap to clone into database calls, which build the
//! answers.

use super::dto::Variant;
use super::model::StoredVariant;
use crate::articles::pages::{ArticlePages, Page};
use crate::storage::PublicBase;

#[derive(Debug, Clone)]
pub struct Links {
    base: PublicBase,
    pages: ArticlePages,
}

impl From<PublicBase> for Links {
    /// Article pages at the settings' default address.
    fn from(base: PublicBase) -> Links {
        Links {
            base,
            pages: ArticlePages::default(),
        }
    }
}

impl Links {
    pub fn with_pages(self, pages: ArticlePages) -> Links {
        Links { pages, ..self }
    }

    /// An article's address on the portal.
    pub fn page(&self, page: &Page<'_>) -> String {
        self.pages.url(page)
    }

    pub fn url(&self, key: &str) -> String {
        self.base.url(key)
    }

    pub fn variants(&self, stored: &[StoredVariant]) -> Vec<Variant> {
        stored
            .iter()
            .map(|v| Variant {
                width: v.width,
                height: v.height,
                format: v.format.clone(),
                url: self.url(&v.key),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(public_url: Option<&str>) -> Links {
        Links::from(PublicBase::new(public_url))
    }

    #[test]
    fn urls_are_served_here_unless_a_public_address_is_set() {
        assert_eq!(links(None).url("ab/cd/x.jpg"), "/media/ab/cd/x.jpg");
        assert_eq!(links(Some("")).url("k.png"), "/media/k.png");
        assert_eq!(
            links(Some("https://cdn.example.vn/media/")).url("ab/x.webp"),
            "https://cdn.example.vn/media/ab/x.webp"
        );
    }
}
