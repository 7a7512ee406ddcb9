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
