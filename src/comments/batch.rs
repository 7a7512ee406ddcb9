//! Public comments on PostgreSQL, written in batches.
//!
//! One comment costs a transaction of five statements: begin, the client's advisory lock, the
//! insert, the check of the client's recent comments, commit. Under a crowd of readers that
//! per-transaction work, not the rows, is what PostgreSQL spends its time on. So submissions
//! queue for one writer thread per process, which takes everything waiting (up to
//! [`BATCH_MAX`]) and writes it in one transaction of a fixed number of statements:
//!
//! 1. the advisory locks of every client in the batch, in one statement, in sorted order;
//! 2. the articles named, and the parents of replies;
//! 3. the recent comments of every client in the batch (read after the locks, so comments
//!    other processes committed under the same locks are seen);
//! 4. the decisions, in arrival order, in memory: 404/409/422/429 exactly as one at a time,
//!    counting the comments accepted earlier in the batch;
//! 5. the captcha nonces, one insert that reports which were already spent;
//! 6. the comments, one insert; the history of automatic spam, one insert;
//! 7. the `comment.created` webhook event of every pending comment, one call of
//!    [`webhooks::emit`]: one query when nobody subscribes.
//!
//! If the batch's transaction fails as a whole, each submission is retried on its own
//! through [`submit::submit`], so one bad row cannot sink the others. SQLite has one writer
//! at a time anyway and keeps the one-at-a-time path.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::mpsc;

use diesel::pg::PgConnection;
use diesel::prelude::*;
use tokio::sync::oneshot;

use super::captcha::Refusal;
use super::dto::CommentEvent;
use super::model::CommentStatus;
use super::submit::{self, DUPLICATE_WINDOW_SECS, RATE_WINDOW_SECS, Submission};
use crate::articles::published::live_at;
use crate::db::schema::{articles, captcha_spent, comment_moderations, comments};
use crate::db::{Database, Db, now};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::webhooks::{self, Event};

/// Most submissions written in one transaction.
pub const BATCH_MAX: usize = 128;

struct Job {
    slug: String,
    submission: Submission,
    reply: oneshot::Sender<Result<i64, ApiError>>,
}

/// The queue of one process's public comments, and the thread that writes them.
pub struct BatchWriter {
    jobs: mpsc::Sender<Job>,
}

impl BatchWriter {
    /// Starts the writer thread; it ends when the last handle to the queue is dropped.
    pub fn start(db: Database) -> std::io::Result<BatchWriter> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("comment-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < BATCH_MAX {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    // A bug in one batch must not stop the writer: its requesters get an
                    // error (their reply channels drop) and the next batch goes on.
                    let written =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(&db, batch)));
                    if written.is_err() {
                        tracing::error!("writing a comment batch panicked");
                    }
                }
            })?;
        Ok(BatchWriter { jobs })
    }

    /// Queues a submission and waits for its outcome.
    pub async fn submit(&self, slug: String, submission: Submission) -> Result<i64, ApiError> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job {
                slug,
                submission,
                reply,
            })
            .map_err(|_| ApiError::internal("the comment writer has stopped"))?;
        outcome
            .await
            .map_err(|_| ApiError::internal("the comment writer dropped a submission"))?
    }
}

fn write(db: &Database, batch: Vec<Job>) {
    tracing::debug!(size = batch.len(), "writing a comment batch");
    let (work, replies): (Vec<(String, Submission)>, Vec<_>) = batch
        .into_iter()
        .map(|job| ((job.slug, job.submission), job.reply))
        .unzip();
    // `run_here` wakes the webhook worker after the commit when the batch wrote deliveries.
    let written = db.run_here(|conn| {
        conn.transaction(|conn| {
            let Db::Pg(pg) = conn else {
                return Err(ApiError::internal("batched comments are for PostgreSQL"));
            };
            let (outcomes, created) = write_batch(pg, &work)?;
            webhooks::emit(conn, Event::CommentCreated, &created)?;
            Ok(outcomes)
        })
    });
    match written {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // The requester may have gone away; its comment is stored all the same.
                let _ = reply.send(outcome);
            }
        }
        Err(ApiError::Unavailable(cause)) => {
            for reply in replies {
                let _ = reply.send(Err(ApiError::Unavailable(cause.clone())));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, size = work.len(), "comment batch failed; writing one at a time");
            for ((slug, submission), reply) in work.into_iter().zip(replies) {
                let _ = reply.send(db.run_here(|conn| submit::submit(conn, &slug, submission)));
            }
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = comments)]
struct NewComment<'a> {
    article_id: i64,
    parent_id: Option<i64>,
    root_id: Option<i64>,
    name: &'a str,
    phone: Option<&'a str>,
    email: Option<&'a str>,
    title: &'a str,
    content: &'a str,
    status: &'static str,
    is_staff: bool,
    client_hash: &'a str,
    user_agent: Option<&'a str>,
    content_hash: &'a str,
    flags: Option<String>,
    search_text: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// The outcome of each submission, and the `comment.created` data of the pending comments
/// written (spam is not announced; see [`submit::submit`]).
type Written = (Vec<Result<i64, ApiError>>, Vec<serde_json::Value>);

fn write_batch(pg: &mut PgConnection, work: &[(String, Submission)]) -> Result<Written, ApiError> {
    // Prepared statements keep the generic plan made when they were first run. On a comments
    // table that started empty and has had no statistics yet, that plan is a sequential scan,
    // which gets slower with every row until autovacuum's first ANALYZE (seen: 2,500 → 700
    // comments/s within a minute of a fresh start). Planning this batch's few statements for
    // the table as it is now costs little per batch and never goes stale.
    diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(pg)?;
    let at = now();
    let clients: BTreeSet<&str> = work.iter().map(|(_, s)| s.client_hash.as_str()).collect();
    let clients: Vec<&str> = clients.into_iter().collect();
    // Sorted, so two batches that share clients cannot each hold a lock the other waits for.
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtext(c)) FROM (SELECT unnest($1::text[]) AS c ORDER BY 1) AS sorted",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&clients)
    .execute(pg)?;

    let slugs: BTreeSet<&str> = work
        .iter()
        .map(|(slug, _)| slug.as_str())
        .filter(|slug| crate::text::is_valid_slug(slug))
        .collect();
    let open: HashMap<String, (i64, bool)> = articles::table
        .filter(articles::slug.eq_any(&slugs))
        .filter(live_at(at))
        .select((articles::slug, articles::id, articles::comments_enabled))
        .load::<(String, i64, bool)>(pg)?
        .into_iter()
        .map(|(slug, id, enabled)| (slug, (id, enabled)))
        .collect();
    let parent_ids: Vec<i64> = work.iter().filter_map(|(_, s)| s.form.parent_id).collect();
    let parents: HashMap<i64, submit::ParentFacts> = if parent_ids.is_empty() {
        HashMap::new()
    } else {
        comments::table
            .filter(comments::id.eq_any(&parent_ids))
            .select((
                comments::id,
                comments::article_id,
                comments::status,
                comments::root_id,
            ))
            .load::<(i64, i64, String, Option<i64>)>(pg)?
            .into_iter()
            .map(|(id, article, status, root)| (id, (article, status, root)))
            .collect()
    };
    // Read after the locks: what other processes committed under them is seen. The rate
    // window holds at most the limit per client (older rows age out), and the duplicate check
    // asks for this batch's texts only, so neither read grows with a client's history.
    let mut recent: HashMap<String, Vec<chrono::NaiveDateTime>> = HashMap::new();
    if work.iter().any(|(_, s)| s.rate_per_min > 0) {
        for (client, created) in comments::table
            .filter(comments::client_hash.eq_any(&clients))
            .filter(comments::created_at.gt(at - chrono::Duration::seconds(RATE_WINDOW_SECS)))
            .select((comments::client_hash, comments::created_at))
            .load::<(String, chrono::NaiveDateTime)>(pg)?
        {
            recent.entry(client).or_default().push(created);
        }
    }
    let hashes: Vec<&str> = work.iter().map(|(_, s)| s.form.content_hash.as_str()).collect();
    let mut sent: HashSet<(String, String)> = comments::table
        .filter(comments::content_hash.eq_any(&hashes))
        .filter(comments::client_hash.eq_any(&clients))
        .filter(comments::created_at.gt(at - chrono::Duration::seconds(DUPLICATE_WINDOW_SECS)))
        .select((comments::client_hash, comments::content_hash))
        .load::<(String, String)>(pg)?
        .into_iter()
        .collect();

    // The decisions, in arrival order. A submission accepted here counts for the ones after
    // it; one refused later for its captcha has still counted, which can only refuse more.
    let rate_since = at - chrono::Duration::seconds(RATE_WINDOW_SECS);
    let mut outcomes: Vec<Result<(i64, Option<i64>), ApiError>> = Vec::with_capacity(work.len());
    let mut nonces_seen: HashSet<&str> = HashSet::new();
    for (slug, sub) in work {
        let outcome = (|| {
            let (article_id, enabled) = *open
                .get(slug.as_str())
                .ok_or_else(|| ApiError::not_found(Code::ArticleNotFound))?;
            if !enabled {
                return Err(submit::closed());
            }
            let root = match sub.form.parent_id {
                None => None,
                Some(parent) => Some(submit::root_of_reply(article_id, parent, parents.get(&parent))?),
            };
            let mine = recent.entry(sub.client_hash.clone()).or_default();
            if sub.rate_per_min > 0 {
                let in_window: Vec<chrono::NaiveDateTime> =
                    mine.iter().copied().filter(|t| *t > rate_since).collect();
                if in_window.len() >= sub.rate_per_min as usize {
                    return Err(submit::rate_limited(
                        in_window.iter().min().copied().unwrap_or(at),
                        at,
                    ));
                }
            }
            let text = (sub.client_hash.clone(), sub.form.content_hash.clone());
            if sent.contains(&text) {
                return Err(submit::duplicate_comment());
            }
            if let Some(token) = &sub.captcha
                && !nonces_seen.insert(token.nonce.as_str())
            {
                return Err(Refusal::Used.error());
            }
            mine.push(at);
            sent.insert(text);
            Ok((article_id, root))
        })();
        outcomes.push(outcome);
    }

    // Tokens spent by anyone before (another process, an earlier batch) come back missing.
    let tokens: Vec<(&str, chrono::NaiveDateTime)> = work
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.is_ok())
        .filter_map(|((_, s), _)| s.captcha.as_ref())
        .map(|t| (t.nonce.as_str(), t.expires_at.naive_utc()))
        .collect();
    let spent_now: HashSet<String> = if tokens.is_empty() {
        HashSet::new()
    } else {
        let rows: Vec<_> = tokens
            .iter()
            .map(|(nonce, expires)| {
                (
                    captcha_spent::nonce.eq(*nonce),
                    captcha_spent::expires_at.eq(*expires),
                )
            })
            .collect();
        diesel::insert_into(captcha_spent::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .returning(captcha_spent::nonce)
            .get_results::<String>(pg)?
            .into_iter()
            .collect()
    };

    let mut rows = Vec::new();
    let mut finals: Vec<Result<(), ApiError>> = Vec::with_capacity(work.len());
    for ((_, sub), outcome) in work.iter().zip(outcomes) {
        let decided = outcome.and_then(|(article_id, root_id)| {
            if let Some(token) = &sub.captcha
                && !spent_now.contains(&token.nonce)
            {
                return Err(Refusal::Used.error());
            }
            rows.push(NewComment {
                article_id,
                parent_id: sub.form.parent_id,
                root_id,
                name: &sub.form.name,
                phone: sub.form.phone.as_deref(),
                email: sub.form.email.as_deref(),
                title: &sub.form.title,
                content: &sub.form.content,
                status: sub.status().as_str(),
                is_staff: false,
                client_hash: &sub.client_hash,
                user_agent: sub.user_agent.as_deref(),
                content_hash: &sub.form.content_hash,
                flags: sub.flags(),
                search_text: sub.form.search_text(),
                created_at: at,
                updated_at: at,
            });
            Ok(())
        });
        finals.push(decided);
    }

    // A client's comment in a batch is known by its text, which the duplicate check made
    // unique, so ids are matched by (client, content hash), not by row order.
    let ids: HashMap<(String, String), i64> = if rows.is_empty() {
        HashMap::new()
    } else {
        diesel::insert_into(comments::table)
            .values(&rows)
            .returning((comments::client_hash, comments::content_hash, comments::id))
            .get_results::<(String, String, i64)>(pg)?
            .into_iter()
            .map(|(client, hash, id)| ((client, hash), id))
            .collect()
    };
    let mut results = Vec::with_capacity(work.len());
    let mut spam_history = Vec::new();
    let mut created = Vec::new();
    for ((slug, sub), decided) in work.iter().zip(finals) {
        results.push(decided.and_then(|()| {
            let id = *ids
                .get(&(sub.client_hash.clone(), sub.form.content_hash.clone()))
                .ok_or_else(|| ApiError::internal("an inserted comment came back without its id"))?;
            if sub.verdict.spam {
                spam_history.push((
                    comment_moderations::comment_id.eq(id),
                    comment_moderations::to_status.eq(CommentStatus::Spam.as_str()),
                    comment_moderations::note.eq(Some(sub.verdict.note())),
                    comment_moderations::created_at.eq(at),
                ));
            } else if let Some((article_id, _)) = open.get(slug.as_str()) {
                created.push(
                    CommentEvent {
                        id,
                        article_id: *article_id,
                        article_slug: slug,
                        parent_id: sub.form.parent_id,
                        status: sub.status(),
                        is_staff: false,
                        name: &sub.form.name,
                        title: &sub.form.title,
                        content: &sub.form.content,
                        created_at: at,
                    }
                    .data(),
                );
            }
            Ok(id)
        }));
    }
    if !spam_history.is_empty() {
        diesel::insert_into(comment_moderations::table)
            .values(&spam_history)
            .execute(pg)?;
    }
    Ok((results, created))
}
