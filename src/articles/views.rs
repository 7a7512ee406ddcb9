//! View counting: counted in memory per process and added to the database in batches, so a
//! busy article costs one UPDATE every few seconds instead of one per reader.

use std::collections::HashMap;
use std::sync::Mutex;

use diesel::prelude::*;

use crate::db::Db;
use crate::db::schema::articles;

#[derive(Debug, Default)]
pub struct ViewCounter {
    pending: Mutex<HashMap<i64, i64>>,
}

impl ViewCounter {
    pub fn add(&self, article_id: i64) {
        if let Ok(mut pending) = self.pending.lock() {
            *pending.entry(article_id).or_insert(0) += 1;
        }
    }

    /// Views counted but not yet written.
    pub fn pending(&self) -> i64 {
        self.pending.lock().map(|p| p.values().sum()).unwrap_or(0)
    }

    /// Adds the pending counts to the articles. Increments (not assignments) keep counts from
    /// several processes exact; counts that fail to be written are kept for the next flush.
    pub fn flush(&self, conn: &mut Db) -> QueryResult<i64> {
        let batch = match self.pending.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => return Ok(0),
        };
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
        if !left.is_empty()
            && let Ok(mut pending) = self.pending.lock()
        {
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
