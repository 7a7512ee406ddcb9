//! Where readers fetch files: `/media/<key>` from this server, or under
//! `NEWSDESK_MEDIA_PUBLIC_URL` (a CDN or the bucket's own address) when that is set.

use std::sync::Arc;

use super::dto::Variant;
use super::model::StoredVariant;

/// The served path prefix when no public address is set.
pub const SERVED_AT: &str = "/media";

#[derive(Debug, Clone)]
pub struct Links {
    base: Arc<str>,
}

impl Links {
    pub fn new(public_url: Option<&str>) -> Links {
        let base = public_url
            .map(|u| u.trim_end_matches('/'))
            .filter(|u| !u.is_empty())
            .unwrap_or(SERVED_AT);
        Links { base: base.into() }
    }

    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.base)
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

    #[test]
    fn urls_are_served_here_unless_a_public_address_is_set() {
        assert_eq!(Links::new(None).url("ab/cd/x.jpg"), "/media/ab/cd/x.jpg");
        assert_eq!(Links::new(Some("")).url("k.png"), "/media/k.png");
        assert_eq!(
            Links::new(Some("https://cdn.example.vn/media/")).url("ab/x.webp"),
            "https://cdn.example.vn/media/ab/x.webp"
        );
    }
}
