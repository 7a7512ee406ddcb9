//! The response cache of public GETs: article lists and pages, comment threads, feeds.
//!
//! Entries are whole response bodies with their ETag, in memory, bounded in bytes, keyed by
//! path and normalised query. They are invalidated exactly, not by guessing a lifetime:
//!
//! - Every write that changes what readers see calls [`changed`] inside its transaction, naming
//!   a [`Scope`]: all public content, or the comment thread of one article.
//! - Each scope has a generation number per process. An entry remembers the generations it
//!   was built under, read *before* the database was; it is served only while they are
//!   unchanged. A response built from data older than a change can therefore never outlive
//!   the change, however the requests interleave.
//! - Generations move once the database call whose writes committed the change has returned
//!   (the scopes are after-commit effects, see [`crate::db::effects`] and [`follow`]), and on
//!   PostgreSQL every process also hears of the change through `NOTIFY` at commit (see
//!   [`listener`]), so another process serves the change within a fraction of a second.
//! - With read replicas, answers may be built on a standby; one that has not replayed a change
//!   this process knows of never builds an answer under the generation after it (see
//!   [`crate::db::replicas`]).
//!
//! View counts are the one thing that changes without invalidating: they are written every few
//! seconds in batches, and entries live at most `NEWSDESK_CACHE_TTL` seconds, which bounds how
//! old a count in a cached answer can be.

mod admission;
mod generations;
pub mod listener;
pub mod packed;

pub use generations::{CHANNEL, Generations, Scope, Stamp, changed, follow};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};

/// One cached answer.
#[derive(Debug)]
pub struct Entry {
    stamp: Stamp,
    /// When it was built: an answer is served at most the cache's lifetime after that, plain
    /// copies made later included.
    built: Instant,
    content_type: &'static str,
    /// Of the plain body.
    etag: String,
    /// Of the gzipped body, when there is one.
    gzip_etag: Option<String>,
    kept: Kept,
}

/// An answer's body as the cache holds it.
#[derive(Debug)]
enum Kept {
    /// Short or incompressible, or a plain copy of a gzipped answer (see
    /// [`ResponseCache::answer`]).
    Plain(Bytes),
    Gzip {
        packed: Bytes,
        /// The plain body's length.
        len: usize,
    },
}

impl Entry {
    /// The answer for `req`, whose client takes gzip or not: 304 when it already holds either
    /// form's ETag. `None` when only the gzipped form is kept and the client needs the plain.
    fn respond(&self, req: &HttpRequest, gzip: bool) -> Option<HttpResponse> {
        let other = self.gzip_etag.as_deref().unwrap_or(&self.etag);
        match &self.kept {
            Kept::Plain(body) => Some(crate::http::respond_kept(
                req,
                self.content_type,
                [&self.etag, other],
                body.clone(),
                Some(false),
            )),
            Kept::Gzip { packed, .. } if gzip => Some(crate::http::respond_kept(
                req,
                self.content_type,
                [other, &self.etag],
                packed.clone(),
                Some(true),
            )),
            Kept::Gzip { .. } => None,
        }
    }

    /// Bytes it is counted as against the cache's budget: body, ETags and the bookkeeping
    /// around them.
    fn weight(&self) -> usize {
        let kept = match &self.kept {
            Kept::Plain(body) => body.len(),
            Kept::Gzip { packed, .. } => packed.len(),
        };
        kept + self.etag.len() + self.gzip_etag.as_ref().map_or(0, String::len) + 160
    }
}

/// How long a request waits for another one building the same answer.
const WAIT_FOR_BUILDER: Duration = Duration::from_secs(5);

enum Claim<'a> {
    /// Build the answer; dropping the guard wakes the waiters.
    Build(Building<'a>),
    /// Another request is building it.
    Wait(std::pin::Pin<Box<tokio::sync::futures::OwnedNotified>>),
}

/// The claim of the request building an answer.
struct Building<'a> {
    cache: &'a ResponseCache,
    key: String,
    notify: Arc<tokio::sync::Notify>,
}

impl Drop for Building<'_> {
    fn drop(&mut self) {
        let mut building = self.cache.building.lock().unwrap_or_else(|p| p.into_inner());
        building.remove(&self.key);
        self.notify.notify_waiters();
    }
}

/// The response cache of one process.
#[derive(Debug)]
pub struct ResponseCache {
    /// `None` when switched off (`NEWSDESK_CACHE_MB=0`).
    entries: Option<moka::sync::Cache<String, Arc<Entry>>>,
    /// The longest an answer is served after it was built (`NEWSDESK_CACHE_TTL`).
    ttl: Duration,
    changes: Arc<Generations>,
    /// Answers being built, by key (see [`ResponseCache::serve`]).
    building: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Notify>>>,
    /// Cacheable requests by how they were answered: `hit`, `miss` (built here) or `shared`
    /// (waited for another request building the same answer).
    answered: prometheus::IntCounterVec,
    /// Keys asked for lately: an answer is kept from its second request (see [`admission`]).
    seen: admission::Seen,
}

impl ResponseCache {
    pub fn new(max_bytes: u64, ttl: Duration, changes: Arc<Generations>) -> Self {
        let entries = (max_bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, entry: &Arc<Entry>| {
                    u32::try_from(key.len() + entry.weight()).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build()
        });
        let answered = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                "newsdesk_cache_requests_total",
                "Requests the response cache could answer, by how they were answered: hit, miss (built from the database) or shared (waited for the same answer being built).",
            ),
            &["result"],
        )
        .unwrap_or_else(|e| unreachable!("a fixed, valid metric: {e}"));
        for result in ["hit", "miss", "shared"] {
            answered.with_label_values(&[result]);
        }
        ResponseCache {
            entries,
            ttl,
            changes,
            building: Default::default(),
            answered,
            seen: admission::Seen::new(max_bytes),
        }
    }

    /// The cache's metrics, for the process's registry: its requests by result, and the
    /// entries and bytes it holds, read when scraped.
    pub fn collector(&self) -> CacheCollector {
        let gauge = |name: &str, help: &str| {
            prometheus::IntGauge::new(name, help)
                .unwrap_or_else(|e| unreachable!("a fixed, valid metric: {e}"))
        };
        CacheCollector {
            entries: self.entries.clone(),
            answered: self.answered.clone(),
            count: gauge("newsdesk_cache_entries", "Answers held by the response cache."),
            bytes: gauge(
                "newsdesk_cache_bytes",
                "Bytes held by the response cache, as counted against NEWSDESK_CACHE_MB.",
            ),
        }
    }

    fn count(&self, result: &str) {
        self.answered.with_label_values(&[result]).inc();
    }

    pub fn changes(&self) -> &Arc<Generations> {
        &self.changes
    }

    /// The cache key of a request: its path and its query parameters in sorted order, so
    /// `?a=1&b=2` and `?b=2&a=1` share an entry.
    pub fn key(req: &HttpRequest) -> String {
        let query = req.query_string();
        if query.is_empty() {
            return req.path().to_owned();
        }
        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        let mut key = String::with_capacity(req.path().len() + query.len() + 1);
        key.push_str(req.path());
        key.push('?');
        key.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish(),
        );
        key
    }

    /// A current entry for `key`.
    pub fn get(&self, key: &str) -> Option<Arc<Entry>> {
        let entries = self.entries.as_ref()?;
        let entry = entries.get(key)?;
        if self.changes.is_current(&entry.stamp) && entry.built.elapsed() < self.ttl {
            Some(entry)
        } else {
            entries.invalidate(key);
            // It was kept, so it was asked for more than once: its next answer is kept at once.
            self.seen.note(key);
            None
        }
    }

    /// Stores an answer built under `stamp` (taken before the database was read), gzipped
    /// when that pays, and answers `req` with it. An answer that a change has already
    /// overtaken is sent but not kept.
    fn put(
        &self,
        req: &HttpRequest,
        gzip: bool,
        key: String,
        stamp: Stamp,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> HttpResponse {
        let built = Instant::now();
        let etag = crate::http::etag_of(&body);
        let mut body = body;
        // A body written by a serializer has up to twice its length in capacity, which a kept
        // plain body would hold on to beyond what the cache counts.
        body.shrink_to_fit();
        let body = Bytes::from(body);
        let (kept, gzip_etag) = match packed::pack(&body) {
            Some(packed) => (
                Kept::Gzip {
                    packed,
                    len: body.len(),
                },
                Some(packed::gzip_etag(&etag)),
            ),
            None => (Kept::Plain(body.clone()), None),
        };
        let entry = Arc::new(Entry {
            stamp,
            built,
            content_type,
            etag,
            gzip_etag,
            kept,
        });
        if let Some(entries) = &self.entries
            && self.changes.is_current(&stamp)
        {
            entries.insert(key, entry.clone());
        }
        entry.respond(req, gzip).unwrap_or_else(|| {
            let other = entry.gzip_etag.as_deref().unwrap_or(&entry.etag);
            crate::http::respond_kept(req, content_type, [&entry.etag, other], body, Some(false))
        })
    }

    /// Answers `req` with a body the cache does not keep: plain, with the ETags a kept answer
    /// would have, so that a client holding either form of an earlier one gets a 304.
    fn pass(req: &HttpRequest, content_type: &'static str, body: Vec<u8>) -> HttpResponse {
        let etag = crate::http::etag_of(&body);
        let gzip_etag = packed::gzip_etag(&etag);
        crate::http::respond_kept(req, content_type, [&etag, &gzip_etag], body.into(), Some(false))
    }

    /// The key of the plain copy of a gzipped answer. Request keys never hold a NUL: paths
    /// and queries are kept percent-encoded.
    fn plain_key(key: &str) -> String {
        format!("{key}\0plain")
    }

    /// Answers `req` from the cache, if it holds a current answer.
    ///
    /// A client that takes no gzip gets a gzipped answer unpacked, and the plain copy is
    /// offered to the cache under its own key: the cache's admission keeps it only if it is
    /// asked for often enough to earn its bytes, so hot pages are served plain without
    /// unpacking, and the long tail stays gzipped. The copy shares the answer's stamp and
    /// build time, so it is retired with it.
    fn answer(&self, req: &HttpRequest, gzip: bool, key: &str) -> Option<HttpResponse> {
        if gzip {
            return self.get(key)?.respond(req, true);
        }
        let plain_key = Self::plain_key(key);
        if let Some(copy) = self.get(&plain_key) {
            return copy.respond(req, false);
        }
        let entry = self.get(key)?;
        if let Some(res) = entry.respond(req, false) {
            return Some(res);
        }
        let copy = self.plain_copy(&entry)?;
        let res = copy.respond(req, false);
        if let Some(entries) = &self.entries {
            entries.insert(plain_key, copy);
        }
        res
    }

    /// The plain form of a gzipped entry. `None` if it does not unpack, which would take a
    /// defect; the answer is then built again.
    fn plain_copy(&self, entry: &Entry) -> Option<Arc<Entry>> {
        let Kept::Gzip { packed, len } = &entry.kept else {
            return None;
        };
        match packed::unpack(packed, *len) {
            Ok(body) => Some(Arc::new(Entry {
                stamp: entry.stamp,
                built: entry.built,
                content_type: entry.content_type,
                etag: entry.etag.clone(),
                gzip_etag: entry.gzip_etag.clone(),
                kept: Kept::Plain(body),
            })),
            Err(e) => {
                tracing::error!(error = %e, "a gzipped answer in the response cache does not unpack");
                None
            }
        }
    }

    /// Answers `req` from the cache, or with the body that `build` makes, which is kept when
    /// the key was asked for lately (see [`admission`]): when it was built shortly before,
    /// asked for while being built, or its kept answer had gone stale.
    /// `build` gets the stamp to build under and returns it, refined with
    /// [`Generations::with_comments`] when the answer depends on a comment thread.
    pub async fn serve<F, Fut>(
        &self,
        req: &HttpRequest,
        content_type: &'static str,
        build: F,
    ) -> Result<HttpResponse, crate::error::ApiError>
    where
        F: FnOnce(Stamp) -> Fut,
        Fut: std::future::Future<Output = Result<(Stamp, Vec<u8>), crate::error::ApiError>>,
    {
        if self.entries.is_none() {
            let (_, body) = build(self.changes.stamp()).await?;
            return Ok(crate::http::cached_body(req, content_type, body));
        }
        let key = Self::key(req);
        let gzip = packed::accepts_gzip(req);
        if let Some(res) = self.answer(req, gzip, &key) {
            self.count("hit");
            return Ok(res);
        }
        // One request builds a missing answer while the others asking for it wait: when a
        // popular page is retired or expires, the burst of readers behind it costs one
        // database read, not one each. A waiter whose builder failed, or built an answer
        // already overtaken, builds its own.
        let _building = match self.claim(&key) {
            Claim::Build(guard) => Some(guard),
            Claim::Wait(notified) => {
                // Asked for again while being built: the builder keeps the answer.
                self.seen.note(&key);
                // A builder stuck on the database must not hold its waiters beyond reason.
                let _ = tokio::time::timeout(WAIT_FOR_BUILDER, notified).await;
                if let Some(res) = self.answer(req, gzip, &key) {
                    self.count("shared");
                    return Ok(res);
                }
                None
            }
        };
        self.count("miss");
        let (stamp, body) = build(self.changes.stamp()).await?;
        if !self.seen.again(&key) {
            return Ok(Self::pass(req, content_type, body));
        }
        Ok(self.put(req, gzip, key, stamp, content_type, body))
    }

    fn claim(&self, key: &str) -> Claim<'_> {
        let mut building = self.building.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notify) = building.get(key) {
            let mut notified = Box::pin(notify.clone().notified_owned());
            // Registered before the lock is released, so the builder's wake-up cannot slip
            // between this check and the wait.
            notified.as_mut().enable();
            return Claim::Wait(notified);
        }
        let notify = Arc::new(tokio::sync::Notify::new());
        building.insert(key.to_owned(), notify.clone());
        Claim::Build(Building {
            cache: self,
            key: key.to_owned(),
            notify,
        })
    }

    /// Bytes held (weighted). Pending evictions may lag a little.
    #[cfg(test)]
    fn weighted_size(&self) -> u64 {
        self.entries.as_ref().map_or(0, |e| {
            e.run_pending_tasks();
            e.weighted_size()
        })
    }
}

/// The response cache's metrics (see [`ResponseCache::collector`]).
pub struct CacheCollector {
    entries: Option<moka::sync::Cache<String, Arc<Entry>>>,
    answered: prometheus::IntCounterVec,
    count: prometheus::IntGauge,
    bytes: prometheus::IntGauge,
}

impl prometheus::core::Collector for CacheCollector {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        let mut desc = self.answered.desc();
        desc.extend(self.count.desc());
        desc.extend(self.bytes.desc());
        desc
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        // Moka counts lazily; its pending bookkeeping is done first so a scrape is exact.
        let (count, bytes) = self.entries.as_ref().map_or((0, 0), |e| {
            e.run_pending_tasks();
            (e.entry_count(), e.weighted_size())
        });
        self.count.set(i64::try_from(count).unwrap_or(i64::MAX));
        self.bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        let mut families = self.answered.collect();
        families.extend(self.count.collect());
        families.extend(self.bytes.collect());
        families
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    fn keep(cache: &ResponseCache, key: &str, stamp: Stamp, body: Vec<u8>) {
        let req = actix_web::test::TestRequest::get().uri(key).to_http_request();
        cache.put(&req, false, key.into(), stamp, "application/json", body);
    }

    /// Bytes gzip cannot shrink (a xorshift sequence).
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn answers_overtaken_by_a_change_are_not_kept() {
        let changes = Arc::new(Generations::new(1));
        let cache = ResponseCache::new(1 << 20, Duration::from_secs(60), changes.clone());
        let stamp = changes.stamp();
        changes.bump(Scope::Content);
        keep(&cache, "/a", stamp, b"{}".to_vec());
        assert!(cache.get("/a").is_none());
        keep(&cache, "/a", changes.stamp(), b"{}".to_vec());
        assert!(cache.get("/a").is_some());
        changes.bump(Scope::Content);
        assert!(cache.get("/a").is_none());
    }

    #[actix_web::test]
    async fn a_burst_of_misses_for_one_answer_builds_it_once() {
        let changes = Arc::new(Generations::new(1));
        let cache = Arc::new(ResponseCache::new(1 << 20, Duration::from_secs(60), changes));
        let builds = Arc::new(AtomicU64::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let requests: Vec<_> = (0..8)
            .map(|_| {
                let (cache, builds, gate) = (cache.clone(), builds.clone(), gate.clone());
                actix_web::rt::spawn(async move {
                    let req = actix_web::test::TestRequest::get()
                        .uri("/a?x=1")
                        .to_http_request();
                    cache
                        .serve(&req, "application/json", |stamp| async move {
                            builds.fetch_add(1, Ordering::SeqCst);
                            gate.notified().await;
                            Ok((stamp, b"{}".to_vec()))
                        })
                        .await
                        .map(|res| res.status().as_u16())
                })
            })
            .collect();
        // Every request reaches the cache and the builder waits at the gate.
        while builds.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
        gate.notify_waiters();
        for request in requests {
            assert_eq!(request.await.unwrap().unwrap(), 200);
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert!(cache.get("/a?x=1").is_some(), "asked for while built: kept");
    }

    #[actix_web::test]
    async fn an_answer_is_kept_from_its_second_request() {
        let changes = Arc::new(Generations::new(1));
        let cache = ResponseCache::new(1 << 20, Duration::from_secs(60), changes);
        let fetch = |path: &'static str| {
            let req = actix_web::test::TestRequest::get().uri(path).to_http_request();
            let cache = &cache;
            async move {
                let res = cache
                    .serve(&req, "application/json", |stamp| async move {
                        Ok((stamp, path.as_bytes().to_vec()))
                    })
                    .await
                    .unwrap();
                (
                    res.headers().get("etag").cloned(),
                    res.headers().get("vary").cloned(),
                )
            }
        };
        let (etag, vary) = fetch("/a").await;
        assert!(cache.get("/a").is_none(), "built once: not kept");
        assert_eq!(
            vary.unwrap(),
            "Accept-Encoding",
            "the same URL may be gzipped later"
        );
        fetch("/b").await;
        assert_eq!(fetch("/a").await.0, etag, "the same ETag whether kept or not");
        assert!(cache.get("/a").is_some(), "built twice: kept");
        assert!(cache.get("/b").is_none());
    }

    #[actix_web::test]
    async fn plain_copies_of_gzipped_answers_are_retired_with_them() {
        let changes = Arc::new(Generations::new(1));
        let cache = ResponseCache::new(1 << 20, Duration::from_secs(60), changes.clone());
        let page = "{\"title\":\"Cầu Long Biên\",\"n\":1}".repeat(100).into_bytes();
        let builds = AtomicU64::new(0);
        let fetch = |gzip: bool| {
            let mut req = actix_web::test::TestRequest::get().uri("/a");
            if gzip {
                req = req.insert_header(("Accept-Encoding", "gzip"));
            }
            let req = req.to_http_request();
            let (cache, builds, page) = (&cache, &builds, page.clone());
            async move {
                let res = cache
                    .serve(&req, "application/json", |stamp| async move {
                        builds.fetch_add(1, Ordering::SeqCst);
                        Ok((stamp, page))
                    })
                    .await
                    .unwrap();
                let coding = res
                    .headers()
                    .get("content-encoding")
                    .map(|v| v.to_str().unwrap().to_owned());
                let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
                (coding, body)
            }
        };
        let (coding, first) = fetch(true).await;
        assert_eq!(
            (coding, &first[..]),
            (None, &page[..]),
            "built once: sent as built"
        );
        let (coding, packed) = fetch(true).await;
        assert_eq!(coding.as_deref(), Some("gzip"), "built again: kept, gzipped");
        assert!(packed.len() < page.len() / 4);
        for _ in 0..3 {
            let (coding, plain) = fetch(false).await;
            assert_eq!((coding, &plain[..]), (None, &page[..]));
        }
        assert!(
            cache.get(&ResponseCache::plain_key("/a")).is_some(),
            "a plain copy is kept"
        );
        assert_eq!(builds.load(Ordering::SeqCst), 2);
        changes.bump(Scope::Content);
        assert!(cache.get(&ResponseCache::plain_key("/a")).is_none());
        assert_eq!(fetch(false).await.1, page);
        assert_eq!(builds.load(Ordering::SeqCst), 3, "built again after the change");
        assert!(cache.get("/a").is_some(), "and kept at once: it was kept before");
    }

    #[test]
    fn the_cache_holds_no_more_bytes_than_allowed() {
        let changes = Arc::new(Generations::new(1));
        let cache = ResponseCache::new(100_000, Duration::from_secs(60), changes.clone());
        for i in 0..100 {
            keep(&cache, &format!("/a/{i}"), changes.stamp(), noise(10_000, i));
        }
        assert!(cache.weighted_size() <= 100_000, "{}", cache.weighted_size());
    }

    #[test]
    fn gzipped_answers_take_a_fraction_of_the_budget() {
        let changes = Arc::new(Generations::new(1));
        let cache = ResponseCache::new(100_000, Duration::from_secs(60), changes.clone());
        let page = "{\"title\":\"Hà Nội: phát động phong trào thi đua\",\"n\":0}".repeat(200);
        for i in 0..20 {
            keep(
                &cache,
                &format!("/a/{i}"),
                changes.stamp(),
                page.clone().into_bytes(),
            );
        }
        assert!(page.len() * 20 > 200_000);
        assert_eq!(
            (0..20)
                .filter(|i| cache.get(&format!("/a/{i}")).is_some())
                .count(),
            20
        );
    }
}
