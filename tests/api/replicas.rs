//! Read replicas (`NEWSDESK_DATABASE_REPLICA_URLS`) on a real streaming standby: public reads
//! go to it, editorial reads and writes to the primary; a replica that is behind a change this
//! process made, too far behind, or gone, is skipped without a reader noticing.
//!
//! Each test has a primary and a standby of its own (`pg_basebackup -R`), since pausing or
//! stopping a shared one would disturb the tests beside it. Where a read was served is told by
//! `/metrics` (`newsdesk_db_public_reads_total`); what the replica holds is told by changing
//! the primary behind the application's back while the standby's replay is paused.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use newsdesk::auth::Role;
use newsdesk::db::DbUrl;
use newsdesk::db::replicas::ReplicaSettings;
use serde_json::json;

use crate::common::pg::{self, PgCluster};
use crate::common::{Backend, TestApp, TestAppBuilder, TestResponse};

/// An app on its own primary with one streaming replica. Fields drop in order: the app (and
/// its connections) before the clusters.
struct Deployment {
    app: TestApp,
    replica: PgCluster,
    _primary: PgCluster,
}

/// `None` (or a failure under `CI=true`) without PostgreSQL binaries. `cache` off makes every
/// public GET read the database.
async fn deployment(max_lag: u64, cache: bool) -> Option<Deployment> {
    let primary = match PgCluster::start() {
        Ok(cluster) => cluster,
        Err(why) => return pg::unavailable(&why),
    };
    let replica = primary
        .replica()
        .unwrap_or_else(|e| panic!("a streaming replica of a fresh cluster: {e}"));
    let replica_url = DbUrl::parse(&replica.url("postgres")).unwrap();
    let app = TestAppBuilder::new(Backend::Postgres)
        .database(DbUrl::parse(&primary.url("postgres")).unwrap())
        .config(move |c| {
            c.replicas = ReplicaSettings {
                urls: vec![replica_url],
                max_lag: Duration::from_secs(max_lag),
            };
            if !cache {
                c.cache_bytes = 0;
            }
        })
        .build()
        .await
        .unwrap();
    Some(Deployment {
        app,
        replica,
        _primary: primary,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    Primary,
    Replica,
    /// Neither: the response cache answered.
    Cache,
}

async fn reads(app: &TestApp, served_by: &str) -> u64 {
    let text = app.get("/metrics").await.expect(200).text();
    let prefix = format!("newsdesk_db_public_reads_total{{served_by=\"{served_by}\"}} ");
    let value = text
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{text}"));
    value.trim().parse().unwrap()
}

/// GETs `path` and tells which database answered it.
async fn get(app: &TestApp, path: &str) -> (TestResponse, Served) {
    let (primary, replica) = (reads(app, "primary").await, reads(app, "replica-1").await);
    let res = app.get(path).await;
    let after = (reads(app, "primary").await, reads(app, "replica-1").await);
    let served = match (after.0 - primary, after.1 - replica) {
        (0, 0) => Served::Cache,
        (1, 0) => Served::Primary,
        (0, 1) => Served::Replica,
        other => panic!("one GET counted as {other:?} reads"),
    };
    (res, served)
}

/// Public reads that always read the database (author profiles are not kept by the cache).
const PROBE: &str = "/api/v1/authors";

/// Polls until `path` is served as `wanted`, every answer a 200, for at most 30 s.
async fn until_served(app: &TestApp, path: &str, wanted: Served) -> TestResponse {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (res, served) = get(app, path).await;
        assert_eq!(res.status.as_u16(), 200, "{path}: {}", res.text());
        if served == wanted {
            return res;
        }
        assert!(
            Instant::now() < deadline,
            "{path} not served by the {wanted:?} within 30 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pause_replay(replica: &PgCluster) {
    replica
        .execute("postgres", "SELECT pg_wal_replay_pause()")
        .unwrap();
}

fn resume_replay(replica: &PgCluster) {
    replica
        .execute("postgres", "SELECT pg_wal_replay_resume()")
        .unwrap();
}

fn slugs_of(res: &TestResponse) -> Vec<String> {
    crate::common::slugs(&res.json())
}

#[actix_web::test]
async fn public_reads_go_to_the_replica_and_editorial_ones_to_the_primary() {
    let Some(deployment) = deployment(600, false).await else {
        return;
    };
    let (app, replica) = (&deployment.app, &deployment.replica);
    let editor = app.user(Role::Editor).await;
    let (id, slug) = app.published_article(&editor, json!({"title": "Bản gốc"})).await;
    let page = format!("/api/v1/articles/{slug}");
    let res = until_served(app, &page, Served::Replica).await;
    assert_eq!(res.data()["title"], "Bản gốc");

    // With replay paused, a change the application is not told of reaches only the primary.
    pause_replay(replica);
    app.retitle_behind_the_back(id, "Chỉ trên primary").await;
    for path in [page.as_str(), "/api/v1/articles", "/feed.xml"] {
        let (res, served) = get(app, path).await;
        assert_eq!(res.status.as_u16(), 200, "{path}: {}", res.text());
        assert_eq!(served, Served::Replica, "{path}");
        assert!(res.text().contains("Bản gốc"), "{path} is read from the replica");
    }
    let before = (reads(app, "primary").await, reads(app, "replica-1").await);
    let editorial = app
        .get_as(&editor.access_token, &format!("/api/v1/admin/articles/{id}"))
        .await
        .expect(200);
    assert_eq!(
        editorial.data()["title"],
        "Chỉ trên primary",
        "editors read the primary"
    );
    let desk = app
        .get_as(&editor.access_token, "/api/v1/admin/articles")
        .await
        .expect(200);
    assert!(desk.text().contains("Chỉ trên primary"));
    let after = (reads(app, "primary").await, reads(app, "replica-1").await);
    assert_eq!(before, after, "editorial reads are not public reads");

    // A write goes to the primary, and the public reads after it too until the replica has it.
    app.as_user(
        &editor.access_token,
        Method::PATCH,
        &format!("/api/v1/admin/articles/{id}"),
        Some(&json!({"title": "Sửa qua API", "version": editorial.data()["version"]})),
    )
    .await
    .expect(200);
    let (res, served) = get(app, &page).await;
    assert_eq!(served, Served::Primary);
    assert_eq!(res.expect(200).data()["title"], "Sửa qua API");
    resume_replay(replica);
    let res = until_served(app, &page, Served::Replica).await;
    assert_eq!(res.data()["title"], "Sửa qua API");
    app.get("/readyz").await.expect(200);
}

/// The case the cache makes subtle: after a change, an answer built from a replica that has
/// not replayed it would be kept as current and served until the next change.
#[actix_web::test]
async fn a_change_is_never_read_from_a_replica_that_has_not_replayed_it() {
    let Some(deployment) = deployment(600, true).await else {
        return;
    };
    let (app, replica) = (&deployment.app, &deployment.replica);
    let editor = app.user(Role::Editor).await;
    let (_, first) = app
        .published_article(&editor, json!({"title": "Tin thứ nhất"}))
        .await;
    until_served(app, PROBE, Served::Replica).await;
    let (list, _) = get(app, "/api/v1/articles").await;
    assert_eq!(slugs_of(&list.expect(200)), [first.as_str()]);

    pause_replay(replica);
    let (_, second) = app
        .published_article(&editor, json!({"title": "Tin thứ hai"}))
        .await;
    // The replica is well within the allowed lag, but has not replayed the publication.
    let (list, served) = get(app, "/api/v1/articles").await;
    assert_eq!(served, Served::Primary);
    assert_eq!(slugs_of(&list.expect(200)), [second.clone(), first.clone()]);
    let (list, served) = get(app, "/api/v1/articles").await;
    assert_eq!(served, Served::Cache, "the fresh answer is kept");
    assert_eq!(slugs_of(&list.expect(200)), [second.clone(), first.clone()]);
    let (page, served) = get(app, &format!("/api/v1/articles/{second}")).await;
    assert_eq!(served, Served::Primary);
    page.expect(200);
    let (_, served) = get(app, PROBE).await;
    assert_eq!(
        served,
        Served::Primary,
        "every public read until the replica has it"
    );

    resume_replay(replica);
    until_served(app, PROBE, Served::Replica).await;
    let (list, served) = get(app, "/api/v1/articles?per_page=5").await;
    assert_eq!(served, Served::Replica);
    assert_eq!(slugs_of(&list.expect(200)), [second, first]);
}

#[actix_web::test]
async fn a_replica_further_behind_than_the_max_lag_is_skipped_until_it_catches_up() {
    let Some(deployment) = deployment(1, false).await else {
        return;
    };
    let (app, replica) = (&deployment.app, &deployment.replica);
    let editor = app.user(Role::Editor).await;
    let (id, slug) = app.published_article(&editor, json!({"title": "Bản gốc"})).await;
    let page = format!("/api/v1/articles/{slug}");
    until_served(app, &page, Served::Replica).await;

    // Behind the application's back, so only the lag can keep readers off the replica.
    pause_replay(replica);
    app.retitle_behind_the_back(id, "Bản mới").await;
    let paused = Instant::now();
    let res = until_served(app, &page, Served::Primary).await;
    assert_eq!(res.data()["title"], "Bản mới");
    let metrics = app.get("/metrics").await.text();
    assert!(
        // The last look before the change was at most a monitor's period before it.
        paused.elapsed() >= Duration::from_millis(500),
        "skipped after {:?}, before the replica was a second behind: {}",
        paused.elapsed(),
        metrics
            .lines()
            .filter(|l| l.contains("replica"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for _ in 0..5 {
        let (res, served) = get(app, &page).await;
        assert_eq!(served, Served::Primary);
        assert_eq!(res.expect(200).data()["title"], "Bản mới");
    }

    resume_replay(replica);
    let res = until_served(app, &page, Served::Replica).await;
    assert_eq!(res.data()["title"], "Bản mới");
}

#[actix_web::test]
async fn a_replica_outage_is_invisible_to_readers_and_the_replica_is_used_again_once_back() {
    let Some(deployment) = deployment(600, false).await else {
        return;
    };
    let (app, replica) = (&deployment.app, &deployment.replica);
    let editor = app.user(Role::Editor).await;
    let (_, slug) = app
        .published_article(&editor, json!({"title": "Vẫn đọc được"}))
        .await;
    let page = format!("/api/v1/articles/{slug}");
    until_served(app, &page, Served::Replica).await;
    until_served(app, PROBE, Served::Replica).await;

    replica.crash().unwrap();
    // The connections the replica's pool holds are dead now; the first read to use one
    // still answers, from the primary.
    let (res, served) = get(app, &page).await;
    assert_eq!(res.expect(200).data()["title"], "Vẫn đọc được");
    assert_eq!(served, Served::Primary);
    let down = Instant::now();
    while !app
        .get("/metrics")
        .await
        .text()
        .contains("newsdesk_db_replica_up{replica=\"replica-1\"} 0")
    {
        assert!(
            down.elapsed() < Duration::from_secs(30),
            "the replica never counted as down"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    for path in [page.as_str(), PROBE, "/api/v1/articles", "/sitemap.xml"] {
        let (res, served) = get(app, path).await;
        assert_eq!(res.status.as_u16(), 200, "{path}: {}", res.text());
        assert_eq!(served, Served::Primary, "{path}");
    }
    app.get("/readyz").await.expect(200);

    replica.resume().unwrap();
    let res = until_served(app, &page, Served::Replica).await;
    assert_eq!(res.data()["title"], "Vẫn đọc được");
    assert!(
        app.get("/metrics")
            .await
            .text()
            .contains("newsdesk_db_replica_up{replica=\"replica-1\"} 1")
    );
}
