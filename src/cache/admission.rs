//! Which answers the response cache keeps: those asked for a second time while the first
//! request is still remembered.
//!
//! On a large archive most article pages are read rarely: under a long-tailed load (Zipf over
//! 100,000 pages, `bench/RESULTS.md`) most misses are pages asked for once in a long while.
//! Keeping such an answer cost gzipping it (a sixth of a miss) and may push out one that is
//! read. An answer built once is therefore sent as built, and kept the next time it is built,
//! as CDNs' "cache on second request" and nginx's `proxy_cache_min_uses 2` do.

use std::sync::atomic::{AtomicU64, Ordering};

/// Keys asked for lately, each by a 64-bit hash in a slot picked by that hash. A key whose slot
/// another key took since is forgotten: the table forgets the rarely asked first.
pub(super) struct Seen {
    slots: Box<[AtomicU64]>,
}

/// A slot per this many bytes of the cache's budget: four per answer it holds at 4 KiB
/// gzipped. With 65,536 slots (64 MiB), half the keys noted are still known after some 45,000
/// other keys were.
const BYTES_PER_SLOT: u64 = 1024;

impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seen").field("slots", &self.slots.len()).finish()
    }
}

impl Seen {
    /// A table for a cache of `max_bytes` (8 bytes a slot: 512 KiB for 64 MiB).
    pub(super) fn new(max_bytes: u64) -> Self {
        let slots = (max_bytes / BYTES_PER_SLOT)
            .clamp(1 << 10, 1 << 20)
            .next_power_of_two();
        Seen {
            slots: (0..slots).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The hash of `key` and its slot. Never 0, which an empty slot holds.
    fn slot(&self, key: &str) -> (u64, &AtomicU64) {
        let hash = xxhash_rust::xxh3::xxh3_64(key.as_bytes()) | 1;
        // The table's length is a power of two; the low bits of the hash pick the slot.
        let index = (hash as usize) & (self.slots.len() - 1);
        (hash, &self.slots[index])
    }

    /// Notes a request for `key`; `true` if it was noted before and not forgotten since.
    pub(super) fn again(&self, key: &str) -> bool {
        let (hash, slot) = self.slot(key);
        slot.swap(hash, Ordering::Relaxed) == hash
    }

    /// Notes a request for `key`, so that its next answer is kept.
    pub(super) fn note(&self, key: &str) {
        let (hash, slot) = self.slot(key);
        slot.store(hash, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_key_is_known_again_until_another_takes_its_slot() {
        let seen = Seen::new(0);
        assert_eq!(seen.slots.len(), 1 << 10);
        assert!(!seen.again("/api/v1/articles/a"));
        assert!(seen.again("/api/v1/articles/a"));
        assert!(seen.again("/api/v1/articles/a"));
        // Another key of the same slot takes it over.
        let (hash, _) = seen.slot("/api/v1/articles/a");
        let rival = (0..)
            .map(|n| format!("/api/v1/articles/b{n}"))
            .find(|k| {
                let (h, _) = seen.slot(k);
                h != hash && (h as usize) & 1023 == (hash as usize) & 1023
            })
            .unwrap();
        assert!(!seen.again(&rival));
        assert!(!seen.again("/api/v1/articles/a"));
        seen.note(&rival);
        assert!(seen.again(&rival));
    }

    #[test]
    fn the_table_grows_with_the_budget_within_bounds() {
        assert_eq!(Seen::new(64 << 20).slots.len(), 1 << 16);
        assert_eq!(Seen::new(100 << 20).slots.len(), 1 << 17);
        assert_eq!(Seen::new(64 << 30).slots.len(), 1 << 20);
    }
}
