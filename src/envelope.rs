//! Response envelopes from the contract: `{"data": …}` for one resource.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// One resource: `{"data": {...}}`.
#[derive(Debug, Serialize)]
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
    /// Opaque keyset cursor for the next page, where the list supports one; null otherwise.
    #[schema(required)]
    pub next_cursor: Option<String>,
    /// Searches only: `true` when counting stopped early, so there are more than `total`
    /// matches (pages past `total_pages` may still hold results); `false` when `total` is
    /// exact. Absent from other lists, whose totals are always exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_capped: Option<bool>,
}

/// A list: `{"data": [...], "meta": {...}}`.
#[derive(Debug, Serialize)]
pub struct List<T> {
    pub data: Vec<T>,
    pub meta: ListMeta,
}

// The envelopes' schemas are written by hand: utoipa's derive copies the whole schema of a
// type parameter into every envelope, so each resource would appear once under its own name
// and again inside each envelope, and generated clients would get a duplicate class for each.
// These refer to the resource's named component instead. utoipa's path macro composes generic
// bodies through a derive-only trait, so routes name envelopes by the aliases in
// `crate::openapi::bodies`.

/// A resource that envelopes refer to by name. Implemented by every type that appears in a
/// [`Data`] or a [`List`].
pub trait Named: ToSchema {}

/// What `data` holds: one named resource, or an array of them.
pub trait Payload {
    /// This payload's part of the envelope's component name (`ArticleDetail`, `Vec_Tag`).
    fn name() -> String;
    /// The schema of `data`, by reference.
    fn schema() -> RefOr<Schema>;
    /// Adds the named resources, and every schema they refer to, to `schemas`.
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>);
}

impl<T: Named> Payload for T {
    fn name() -> String {
        <T as ToSchema>::name().into_owned()
    }

    fn schema() -> RefOr<Schema> {
        Ref::from_schema_name(<T as ToSchema>::name()).into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((<T as Payload>::name(), <T as PartialSchema>::schema()));
        <T as ToSchema>::schemas(schemas);
    }
}

impl<T: Named> Payload for Vec<T> {
    fn name() -> String {
        format!("Vec_{}", <T as Payload>::name())
    }

    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new().items(<T as Payload>::schema()).into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <T as Payload>::schemas(schemas);
    }
}

impl<T: Payload> PartialSchema for Data<T> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "One resource, or a whole unpaged collection: `{\"data\": {...}}` or `{\"data\": [...]}`.",
            ))
            .property("data", <T as Payload>::schema())
            .required("data")
            .into()
    }
}

impl<T: Payload> ToSchema for Data<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Data_{}", <T as Payload>::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <T as Payload>::schemas(schemas);
    }
}

impl<T: Named> PartialSchema for List<T> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("A list: `{\"data\": [...], \"meta\": {...}}`."))
            .property("data", <Vec<T> as Payload>::schema())
            .required("data")
            .property("meta", Ref::from_schema_name(<ListMeta as ToSchema>::name()))
            .required("meta")
            .into()
    }
}

impl<T: Named> ToSchema for List<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("List_{}", <T as Payload>::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <T as Payload>::schemas(schemas);
        schemas.push((
            <ListMeta as ToSchema>::name().into_owned(),
            <ListMeta as PartialSchema>::schema(),
        ));
        <ListMeta as ToSchema>::schemas(schemas);
    }
}

/// Rows in a page when the query string does not say.
pub const DEFAULT_PER_PAGE: u8 = 20;

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
        let per_page = self.per_page.unwrap_or(i64::from(DEFAULT_PER_PAGE));
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
