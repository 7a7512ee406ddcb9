//! View counting: counted in memory per process and added to the database in batches, so a
//! busy article costs one UPDATE every few seconds instead of one per reader.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use diesel::prelude::*;

use crate::db::Db;
use crate::db::schema::articles;

#[derive(Debug, Default)]
pub struct ViewCounter {
    pending: Mutex<HashMap<i64, i64>>,
}

impl ViewCounter {
    /// The counts, even after a thread panicked holding them: the map holds plain counts, so
    /// whatever a panic left in it is still a map to keep counting in (at worst short of the
    /// views being added), while refusing it would silently drop every view from then on.
    fn pending_counts(&self) -> MutexGuard<'_, HashMap<i64, i64>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, article_id: i64) {
        *self.pending_counts().entry(article_id).or_insert(0) += 1;
    }

    /// Views counted but not yet written.
    pub fn pending(&self) -> i64 {
        self.pending_counts().values().sum()
    }

    /// Adds the pending counts to the articles. Increments (not assignments) keep counts from
    /// several processes exact; counts that fail to be written are kept for the next flush.
    pub fn flush(&self, conn: &mut Db) -> QueryResult<i64> {
        let batch = std::mem::take(&mut *self.pending_counts());
        let mut written = 0;
        let mut failed: Option<diesel::result::Error> = None;
        let mut left = HashMap::new();
        for (id, n) in batch {
            if failed.is_some() {
                left.insert(id, n);
                continue;
            }
            match diesel::update(articles::table.find(id))
                .set(articles::view_count.eq(articles::view_count + n))
                .execute(conn)
            {
                Ok(_) => written += n,
                Err(e) => {
                    left.insert(id, n);
                    failed = Some(e);
                }
            }
        }
        if !left.is_empty() {
            let mut pending = self.pending_counts();
            for (id, n) in left {
                *pending.entry(id).or_insert(0) += n;
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }
}
