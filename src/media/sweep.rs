//! Removing stored files that no row names. An upload writes its files before its row, and a
//! deletion removes files after its row, so a crash or a failing store can leave files behind
//! but never a row without its files; this is what collects them.

use std::time::Duration;

use futures_util::StreamExt;

use crate::app::AppState;
use crate::error::ApiError;

/// How long an unnamed file is left alone: far longer than an upload takes between writing its
/// files and committing its row, so a file of an upload in progress is never taken.
pub const GRACE: Duration = Duration::from_secs(60 * 60);

/// How often the server sweeps.
pub const EVERY: Duration = Duration::from_secs(60 * 60);

/// Deletes every stored file older than `grace` that no media row names; answers how many.
pub async fn sweep(state: &AppState, grace: Duration) -> Result<usize, ApiError> {
    let store = &state.media.store;
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::zero());
    // Listed before the rows are read: a file whose row commits in between is younger than
    // the cutoff, or named by the rows read after.
    let mut old = Vec::new();
    let mut listing = store.list("")?;
    while let Some(object) = listing.next().await {
        let object = object?;
        if object.last_modified <= cutoff {
            old.push(object.key);
        }
    }
    if old.is_empty() {
        return Ok(0);
    }
    let named = state.db.run(crate::media::service::referenced_keys).await?;
    let mut removed = 0;
    for key in old.into_iter().filter(|k| !named.contains(k)) {
        store.delete(&key).await?;
        state.media.hot.forget(&key);
        removed += 1;
    }
    if removed > 0 {
        tracing::info!(removed, "removed media files no row names");
    }
    Ok(removed)
}
