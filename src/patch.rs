//! Serde helpers for PATCH bodies, where a field left out and a field sent as `null` mean
//! different things.

use serde::{Deserialize, Deserializer};

/// Distinguishes a field sent as `null` (clear it) from a field left out (keep it).
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
