//! Response envelopes from the contract: `{"data": …}` for one resource.

use serde::Serialize;
use utoipa::ToSchema;

/// One resource: `{"data": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

impl<T> Data<T> {
    pub fn new(data: T) -> Self {
        Data { data }
    }
}

/// Paging facts of a list: `{"page", "per_page", "total", "total_pages", "next_cursor"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeta {
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    pub total_pages: i64,
    /// Opaque keyset cursor for the next page, where the list supports one.
    pub next_cursor: Option<String>,
    /// Searches only: `true` when counting stopped early, so there are more than `total`
    /// matches (pages past `total_pages` may still hold results); `false` when `total` is
    /// exact. Absent from other lists, whose totals are always exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_capped: Option<bool>,
}

/// A list: `{"data": [...], "meta": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    pub meta: ListMeta,
}

/// `page` and `per_page` from the query string.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl PageQuery {
    pub fn resolve(self) -> Result<Page, crate::error::ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if !(1..=1_000_000).contains(&page) {
            return Err(crate::error::ApiError::BadRequest(
                crate::i18n::Msg::new(crate::i18n::Code::QueryPageRange).arg("max", 1_000_000i64),
            ));
        }
        if !(1..=100).contains(&per_page) {
            return Err(crate::error::ApiError::BadRequest(
                crate::i18n::Msg::new(crate::i18n::Code::QueryPerPageRange).arg("max", 100i64),
            ));
        }
        Ok(Page { page, per_page })
    }
}

impl Page {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    pub fn list<T>(&self, data: Vec<T>, total: i64) -> List<T> {
        List {
            data,
            meta: ListMeta {
                page: self.page,
                per_page: self.per_page,
                total,
                total_pages: (total + self.per_page - 1) / self.per_page,
                next_cursor: None,
                total_capped: None,
            },
        }
    }
}
