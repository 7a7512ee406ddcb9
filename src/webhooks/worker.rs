//! Sends due deliveries: claims a batch, posts each signed body, records the outcome.
//!
//! Claiming is safe with any number of processes: on PostgreSQL a batch is taken with
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint batches without waiting; on
//! SQLite the claim is one immediate transaction, which writers take in turns. A claim pushes
//! `next_attempt_at` past the longest an attempt can take and stamps a random token; the
//! outcome is written only while the token still matches. A process that dies mid-attempt
//! therefore delays that delivery by the lease and loses nothing, and a late outcome never
//! overwrites a newer one. Receivers may see a delivery twice in that case (at least once);
//! `X-Newsdesk-Delivery` stays the same across attempts so they can drop the repeat.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::app::AppState;
use crate::config::Config;
use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_events, webhooks};
use crate::db::{Db, now};
use crate::error::ApiError;

/// Deliveries claimed at a time, and sent concurrently: the most requests one process has
/// open to receivers. A batch is recorded when its slowest request ends, so one receiver that
/// takes the whole timeout holds back the others' next batch by that much.
pub const BATCH: i64 = 64;
/// Attempts before a delivery is given up: with [`FIRST_RETRY`] doubling, the last one comes
/// about 23 hours after the first.
pub const MAX_ATTEMPTS: i64 = 13;
/// Wait before the first retry; each further one waits twice as long.
pub const FIRST_RETRY: Duration = Duration::from_secs(20);
/// A claim lasts the request timeout plus this, for recording the outcome.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// Longest error text kept per attempt.
const MAX_ERROR: usize = 500;
/// Delivered and failed events are forgotten after this many days.
pub const KEEP_DAYS: i64 = 30;

/// The HTTP client that sends deliveries.
pub struct Sender {
    client: reqwest::Client,
    timeout: Duration,
    allow_private: bool,
    /// Wakes the worker when this process has committed deliveries (see
    /// [`super::wake_on_commit`]).
    outbox: Arc<tokio::sync::Notify>,
}

impl Sender {
    pub fn new(config: &Config) -> Result<Sender, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            // The address checked is the address connected to: no redirects, no proxies.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(config.webhook_timeout)
            .connect_timeout(config.webhook_timeout)
            .user_agent(concat!("newsdesk-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(2);
        if !config.webhook_allow_private {
            builder = builder.dns_resolver(super::target::resolver());
        }
        Ok(Sender {
            client: builder.build()?,
            timeout: config.webhook_timeout,
            allow_private: config.webhook_allow_private,
            outbox: Default::default(),
        })
    }

    /// Notified when this process has committed deliveries.
    pub fn outbox(&self) -> &Arc<tokio::sync::Notify> {
        &self.outbox
    }
}

/// A claimed delivery with what sending it needs.
struct Job {
    id: i64,
    url: String,
    secret: String,
    event: String,
    payload: String,
    attempts: i64,
}

/// What one attempt came to.
struct Outcome {
    started_at: NaiveDateTime,
    status_code: Option<u16>,
    error: Option<String>,
    duration_ms: i64,
}

impl Outcome {
    fn delivered(&self) -> bool {
        self.error.is_none() && self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// `sha256=<hex HMAC-SHA256 of the body under the webhook's secret>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Wait after the `attempts`-th failure: doubling from [`FIRST_RETRY`], plus up to a tenth
/// more, varied by delivery so that deliveries failed together do not retry together.
fn backoff(id: i64, attempts: i64) -> chrono::Duration {
    let exponent = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(0);
    let base = FIRST_RETRY.as_secs() as i64 * (1i64 << exponent);
    let spread = base * id.rem_euclid(11) / 100;
    chrono::Duration::seconds(base + spread)
}

fn random_token() -> Result<i64, ApiError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("OS random generator: {e}")))?;
    Ok(i64::from_le_bytes(bytes))
}

/// Deliveries due at `at`, oldest due first. Deliveries of an inactive webhook are never due:
/// they wait until it is active again.
#[diesel::dsl::auto_type]
fn due(at: NaiveDateTime) -> _ {
    let active = webhooks::table
        .filter(webhooks::active.eq(true))
        .select(webhooks::id);
    webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(at))
        .filter(webhook_deliveries::webhook_id.eq_any(active))
        .order((webhook_deliveries::next_attempt_at, webhook_deliveries::id))
        .select(webhook_deliveries::id)
}

/// Takes up to [`BATCH`] deliveries due at `at` for this worker until `until`.
fn claim(conn: &mut Db, token: i64, at: NaiveDateTime, until: NaiveDateTime) -> QueryResult<Vec<Job>> {
    use webhook_deliveries as d;
    let mark = |ids: &[i64]| {
        diesel::update(d::table.filter(d::id.eq_any(ids.to_vec()))).set((
            d::claim.eq(token),
            d::next_attempt_at.eq(until),
            d::updated_at.eq(now()),
        ))
    };
    // A plain read first: with nothing due (nearly always), no transaction, no lock.
    if due(at).first::<i64>(conn).optional()?.is_none() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = match conn {
        Db::Pg(pg) => pg.transaction(|pg| {
            let ids: Vec<i64> = due(at).limit(BATCH).for_update().skip_locked().load(pg)?;
            mark(&ids).execute(pg)?;
            Ok::<_, diesel::result::Error>(ids)
        })?,
        // Immediate: the write lock is taken before the read, so no other writer can claim
        // the same rows in between (nor make this transaction fail to upgrade its lock).
        Db::Sqlite(sqlite) => sqlite.immediate_transaction(|sqlite| {
            let ids: Vec<i64> = due(at).limit(BATCH).load(sqlite)?;
            mark(&ids).execute(sqlite)?;
            Ok::<_, diesel::result::Error>(ids)
        })?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String, String, String, String, i64)> = d::table
        .inner_join(webhooks::table)
        .inner_join(webhook_events::table)
        .filter(d::id.eq_any(&ids))
        .filter(d::claim.eq(token))
        .order(d::id)
        .select((
            d::id,
            webhooks::url,
            webhooks::secret,
            webhook_events::event,
            webhook_events::payload,
            d::attempts,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, url, secret, event, payload, attempts)| Job {
            id,
            url,
            secret,
            event,
            payload,
            attempts,
        })
        .collect())
}

/// Posts one delivery.
async fn attempt(sender: &Sender, job: &Job) -> Outcome {
    let started_at = now();
    let started = Instant::now();
    let result = send(sender, job).await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match result {
        Ok(code) if (200..300).contains(&code) => Outcome {
            started_at,
            status_code: Some(code),
            error: None,
            duration_ms,
        },
        Ok(code) => Outcome {
            started_at,
            status_code: Some(code),
            error: Some(if (300..400).contains(&code) {
                format!("the receiver answered {code}; redirects are not followed")
            } else {
                format!("the receiver answered {code}")
            }),
            duration_ms,
        },
        Err(error) => Outcome {
            started_at,
            status_code: None,
            error: Some(error.chars().take(MAX_ERROR).collect()),
            duration_ms,
        },
    }
}

async fn send(sender: &Sender, job: &Job) -> Result<u16, String> {
    let url =
        super::target::parse_url(&job.url).map_err(|_| "the URL is not a valid webhook URL".to_owned())?;
    // Names are checked by the client's resolver; addresses in the URL never reach it.
    if !sender.allow_private
        && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host()
        && let Some(address) = super::target::refused(&url, false).await
    {
        return Err(format!("the target {address} is not a public address"));
    }
    let response = sender
        .client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Newsdesk-Event", &job.event)
        .header("X-Newsdesk-Delivery", job.id.to_string())
        .header("X-Newsdesk-Timestamp", chrono::Utc::now().timestamp().to_string())
        .header(
            "X-Newsdesk-Signature",
            signature(&job.secret, job.payload.as_bytes()),
        )
        .body(job.payload.clone())
        .timeout(sender.timeout)
        .send()
        .await
        .map_err(describe)?;
    Ok(response.status().as_u16())
}

/// The error with its causes, which hold the useful part ("connection refused").
fn describe(error: reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "no answer within the timeout".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The state a delivery is left in after this attempt.
fn after(job: &Job, outcome: &Outcome) -> &'static str {
    if outcome.delivered() {
        "delivered"
    } else if job.attempts + 1 >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    }
}

/// Writes the outcomes of a batch, each only while this worker's claim on it still holds, and
/// logs the attempts of those written. Deliveries that succeeded with the same status code
/// are written by one statement, so a healthy batch costs three statements, not two per
/// delivery.
fn record(
    conn: &mut Db,
    token: i64,
    jobs: &[Job],
    outcomes: &[Outcome],
    at: NaiveDateTime,
) -> QueryResult<()> {
    use webhook_deliveries as d;
    conn.transaction(|conn| {
        let mut written: Vec<(i64, &Outcome)> = Vec::with_capacity(jobs.len());
        let mut delivered: std::collections::BTreeMap<Option<i64>, Vec<i64>> = Default::default();
        for (job, outcome) in jobs.iter().zip(outcomes) {
            let code = outcome.status_code.map(i64::from);
            let status = after(job, outcome);
            if status == "delivered" {
                delivered.entry(code).or_default().push(job.id);
                continue;
            }
            let attempts = job.attempts + 1;
            let next = if status == "pending" {
                at + backoff(job.id, attempts)
            } else {
                at
            };
            let changed = diesel::update(d::table.filter(d::id.eq(job.id)).filter(d::claim.eq(token)))
                .set((
                    d::status.eq(status),
                    d::attempts.eq(attempts),
                    d::next_attempt_at.eq(next),
                    d::claim.eq(None::<i64>),
                    d::last_status_code.eq(code),
                    d::last_error.eq(&outcome.error),
                    d::updated_at.eq(now()),
                ))
                .execute(conn)?;
            if changed == 1 {
                written.push((job.id, outcome));
            }
        }
        for (code, ids) in delivered {
            let done: Vec<i64> =
                diesel::update(d::table.filter(d::id.eq_any(&ids)).filter(d::claim.eq(token)))
                    .set((
                        d::status.eq("delivered"),
                        d::attempts.eq(d::attempts + 1),
                        d::next_attempt_at.eq(at),
                        d::claim.eq(None::<i64>),
                        d::last_status_code.eq(code),
                        d::last_error.eq(None::<String>),
                        d::delivered_at.eq(Some(now())),
                        d::updated_at.eq(now()),
                    ))
                    .returning(d::id)
                    .get_results(conn)?;
            for (job, outcome) in jobs.iter().zip(outcomes) {
                if done.contains(&job.id) {
                    written.push((job.id, outcome));
                }
            }
        }
        let rows: Vec<_> = written
            .iter()
            .map(|(id, outcome)| {
                (
                    webhook_attempts::delivery_id.eq(*id),
                    webhook_attempts::attempted_at.eq(outcome.started_at),
                    webhook_attempts::status_code.eq(outcome.status_code.map(i64::from)),
                    webhook_attempts::error.eq(outcome.error.clone()),
                    webhook_attempts::duration_ms.eq(outcome.duration_ms),
                )
            })
            .collect();
        match conn {
            Db::Pg(pg) if !rows.is_empty() => {
                diesel::insert_into(webhook_attempts::table)
                    .values(&rows)
                    .execute(pg)?;
            }
            Db::Pg(_) => {}
            Db::Sqlite(sqlite) => {
                for row in rows {
                    diesel::insert_into(webhook_attempts::table)
                        .values(row)
                        .execute(sqlite)?;
                }
            }
        }
        Ok(())
    })
}

/// Sends the deliveries due, batch by batch, until none is left or `stop` says so; `stop` is
/// asked before every batch, so a stop waits for one batch at most. Each batch takes what is
/// due at the time `at` gives then. Returns how many attempts were made.
pub async fn deliver_backlog(
    state: &AppState,
    at: impl Fn() -> NaiveDateTime,
    stop: impl Fn() -> bool,
) -> Result<usize, ApiError> {
    let mut made = 0;
    while !stop() {
        let claimed = deliver_batch(state, at()).await?;
        made += claimed;
        if (claimed as i64) < BATCH {
            break;
        }
    }
    Ok(made)
}

/// Sends every delivery due now, for tests that drive the worker by hand. Returns how many
/// attempts were made.
#[cfg(any(test, feature = "test-support"))]
pub async fn deliver_due(state: &AppState) -> Result<usize, ApiError> {
    deliver_due_at(state, now()).await
}

/// Sends every delivery due at `at`, for tests of the back-off that look ahead in time.
#[cfg(any(test, feature = "test-support"))]
pub async fn deliver_due_at(state: &AppState, at: NaiveDateTime) -> Result<usize, ApiError> {
    deliver_backlog(state, || at, || false).await
}

/// Claims one batch of deliveries due at `at`, sends them and records the outcomes. Returns
/// how many were claimed: [`BATCH`] means more may be due.
async fn deliver_batch(state: &AppState, at: NaiveDateTime) -> Result<usize, ApiError> {
    let lease = state.config.webhook_timeout + LEASE_MARGIN;
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let token = random_token()?;
    let jobs = state
        .db
        .run(move |conn| Ok(claim(conn, token, at, at + lease)?))
        .await?;
    if jobs.is_empty() {
        return Ok(0);
    }
    let outcomes = futures_util::future::join_all(jobs.iter().map(|job| attempt(&state.webhooks, job))).await;
    for (job, outcome) in jobs.iter().zip(&outcomes) {
        let label = match after(job, outcome) {
            "pending" => "retry",
            other => other,
        };
        state.metrics.webhook_attempts.with_label_values(&[label]).inc();
        if outcome.delivered() {
            tracing::debug!(delivery = job.id, event = %job.event, "webhook delivered");
        } else {
            tracing::info!(
                delivery = job.id,
                event = %job.event,
                attempt = job.attempts + 1,
                error = outcome.error.as_deref().unwrap_or(""),
                "webhook delivery failed"
            );
        }
    }
    let claimed = jobs.len();
    state
        .db
        .run(move |conn| {
            record(conn, token, &jobs, &outcomes, at)?;
            Ok(())
        })
        .await?;
    Ok(claimed)
}

/// Forgets events older than [`KEEP_DAYS`] with nothing left to send, with their deliveries.
pub fn purge(conn: &mut Db, at: NaiveDateTime) -> QueryResult<usize> {
    use diesel::dsl::{exists, not};
    let cutoff = at - chrono::Duration::days(KEEP_DAYS);
    diesel::delete(
        webhook_events::table
            .filter(webhook_events::created_at.lt(cutoff))
            .filter(not(exists(
                webhook_deliveries::table
                    .filter(webhook_deliveries::event_id.eq(webhook_events::id))
                    .filter(webhook_deliveries::status.eq("pending")),
            ))),
    )
    .execute(conn)
}
