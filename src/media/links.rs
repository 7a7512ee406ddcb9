//! Where readers fetch files (the store's [`PublicBase`]), as the library's answers show
//! them: cheap to clone into database calls, which build the answers.

use super::dto::Variant;
use super::model::StoredVariant;
use crate::storage::PublicBase;

#[derive(Debug, Clone)]
pub struct Links {
    base: PublicBase,
}

impl From<PublicBase> for Links {
    fn from(base: PublicBase) -> Links {
        Links { base }
    }
}

impl Links {
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
