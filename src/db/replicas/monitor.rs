//! The watcher of each replica: its reachability, its replay position and its lag, measured
//! against the primary's (see the parent module's documentation), and the limits its
//! connections and the replicas' pools put on a server that goes silent.

use std::collections::VecDeque;
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Instant;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable};

use super::{INSERT_POSITION, MONITOR_EVERY, Replicas, UNKNOWN, position};
use crate::db::DbUrl;

/// The primary's written and inserted WAL positions.
fn primary_positions(conn: &mut PgConnection) -> QueryResult<(u64, u64)> {
    diesel::select((
        sql::<BigInt>("pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"),
        sql::<BigInt>(INSERT_POSITION),
    ))
    .get_result::<(i64, i64)>(conn)
    .map(|(written, inserted)| (position(written), position(inserted)))
}

/// Whether the server is a standby, and how far it has replayed.
fn replica_position(conn: &mut PgConnection) -> QueryResult<(bool, Option<u64>)> {
    diesel::select((
        sql::<Bool>("pg_is_in_recovery()"),
        sql::<Nullable<BigInt>>("pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"),
    ))
    .get_result::<(bool, Option<i64>)>(conn)
    .map(|(standby, replayed)| (standby, replayed.map(position)))
}

/// `url` with limits on how long its connections may wait on a silent server: a replica cut
/// off without a reset (a partition, a powered-off host) would otherwise hold a connection
/// attempt for minutes and a read for hours, TCP's own limits. A monitor's short queries also
/// get a statement timeout, so that a replica that accepts but never answers still counts as
/// down. Settings the URL already names are left as they are; a URL that does not parse
/// is left whole (libpq then reports it).
pub(super) fn watched(url: &DbUrl, monitor: bool) -> DbUrl {
    let DbUrl::Postgres(raw) = url else {
        return url.clone();
    };
    let Ok(mut parsed) = url::Url::parse(raw) else {
        return url.clone();
    };
    let named: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    // Written already escaped: libpq decodes `%XX` but reads `+` as itself, not as a space.
    let mut limits = vec![
        ("connect_timeout", "5"),
        ("keepalives", "1"),
        ("keepalives_idle", "5"),
        ("keepalives_interval", "2"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
    ];
    if monitor {
        limits.push(("options", "-c%20statement_timeout%3D5000"));
    }
    let mut query = parsed.query().unwrap_or_default().to_owned();
    for (key, value) in limits {
        if !named.iter().any(|n| n == key) {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&format!("{key}={value}"));
        }
    }
    parsed.set_query(Some(&query));
    DbUrl::Postgres(parsed.into())
}

/// Connects on first use and after a failure, which drops the connection.
fn ask<T>(
    conn: &mut Option<PgConnection>,
    url: &DbUrl,
    query: impl FnOnce(&mut PgConnection) -> QueryResult<T>,
) -> Result<T, String> {
    if conn.is_none() {
        let DbUrl::Postgres(watched) = watched(url, true) else {
            return Err("not a PostgreSQL URL".into());
        };
        *conn = Some(PgConnection::establish(&watched).map_err(|e| e.to_string())?);
    }
    let Some(open) = conn.as_mut() else {
        return Err("no connection".into());
    };
    query(open).map_err(|e| {
        *conn = None;
        e.to_string()
    })
}

/// Watches replica `index`: its reachability, its replay position and its lag, and moves the
/// fence on after failures (see the module documentation).
pub(super) fn monitor(replicas: &Weak<Replicas>, index: usize) {
    let mut primary_conn = None;
    let mut replica_conn = None;
    // The primary's written positions of the last moments, oldest first, with when each was
    // seen.
    let mut history: VecDeque<(Instant, u64)> = VecDeque::new();
    loop {
        std::thread::sleep(MONITOR_EVERY);
        let Some(replicas) = replicas.upgrade() else {
            return;
        };
        let Some(replica) = replicas.replicas.get(index) else {
            return;
        };
        // The primary first, so the replica is compared with where the primary was before
        // the replica was asked.
        let lost = replicas.fence.lost.load(Ordering::SeqCst);
        match ask(&mut primary_conn, &replicas.primary, primary_positions) {
            Ok((written, inserted)) => {
                history.push_back((Instant::now(), written));
                replicas.fence.regain(lost, inserted);
            }
            Err(e) => tracing::debug!(error = %e, "a replica monitor cannot reach the primary"),
        }
        // Positions older than any allowed lag cannot make a replica usable; without them the
        // lag of a replica behind all that remain is unknown.
        let keep = replicas.max_lag + MONITOR_EVERY * 5;
        while history.front().is_some_and(|(seen, _)| seen.elapsed() > keep) {
            history.pop_front();
        }
        let name = replica.name.as_str();
        match ask(&mut replica_conn, &replica.url, replica_position) {
            Ok((true, Some(replayed))) => {
                let lag = history
                    .iter()
                    .rev()
                    .find(|(_, written)| *written <= replayed)
                    .map(|(seen, _)| seen.elapsed());
                replica.replayed.fetch_max(replayed, Ordering::SeqCst);
                let lag_ms = lag.map_or(UNKNOWN, |l| u64::try_from(l.as_millis()).unwrap_or(UNKNOWN));
                replica.lag_ms.store(lag_ms, Ordering::SeqCst);
                replica.observed_ms.store(replicas.now_ms(), Ordering::SeqCst);
                replicas
                    .metrics
                    .lag
                    .with_label_values(&[name])
                    .set(lag.map_or(f64::NAN, |l| l.as_secs_f64()));
                let lagging = lag.is_none_or(|l| l > replicas.max_lag);
                if replica.lagging.swap(lagging, Ordering::Relaxed) != lagging {
                    if lagging {
                        tracing::warn!(
                            replica = name,
                            lag_ms,
                            "read replica is too far behind; reading from the primary"
                        );
                    } else {
                        tracing::info!(replica = name, lag_ms, "read replica has caught up");
                    }
                }
                if replica.down.is_open() {
                    tracing::info!(replica = name, "read replica answers again");
                    replica.down.close();
                }
                replicas.metrics.up.with_label_values(&[name]).set(1);
            }
            Ok(_) => {
                if !replica.down.is_open() {
                    tracing::warn!(replica = name, url = %replica.url,
                        "read replica is not a standby (promoted, or not a replica at all); not reading from it");
                }
                replica.down.trip();
                replicas.metrics.up.with_label_values(&[name]).set(0);
            }
            Err(e) => {
                replica.mark_down(&e);
                replicas.metrics.up.with_label_values(&[name]).set(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_and_monitor_connections_give_up_on_a_silent_server() {
        let DbUrl::Postgres(pooled) = watched(&DbUrl::Postgres("postgres://u:p@r1:5433/news".into()), false)
        else {
            panic!("a PostgreSQL URL stays one");
        };
        assert!(
            pooled.starts_with("postgres://u:p@r1:5433/news?connect_timeout=5&"),
            "{pooled}"
        );
        assert!(pooled.contains("tcp_user_timeout=10000") && !pooled.contains("statement_timeout"));
        let DbUrl::Postgres(monitor) = watched(
            &DbUrl::Postgres("postgres://r1/news?connect_timeout=30&sslmode=require".into()),
            true,
        ) else {
            panic!("a PostgreSQL URL stays one");
        };
        assert!(
            monitor.contains("connect_timeout=30&sslmode=require&keepalives=1"),
            "{monitor}"
        );
        assert_eq!(monitor.matches("connect_timeout").count(), 1, "{monitor}");
        assert!(
            monitor.ends_with("&options=-c%20statement_timeout%3D5000"),
            "{monitor}"
        );
    }
}
