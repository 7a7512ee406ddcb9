use std::time::{Duration, Instant};

use newsdesk::db::DbUrl;

use crate::common::TestAppBuilder;
use crate::common::pg::{self, PgCluster};

/// Its own cluster: stopping the run's shared one would break the tests running beside it.
#[actix_web::test]
async fn postgres_going_away_gives_503_and_service_resumes_by_itself() {
    let cluster = match PgCluster::start() {
        Ok(cluster) => cluster,
        Err(why) => return pg::unavailable::<()>(&why).unwrap_or(()),
    };
    let url = DbUrl::parse(&cluster.url("postgres")).unwrap();
    let app = TestAppBuilder::new(crate::common::Backend::Postgres)
        .database(url)
        .config(|c| c.db_timeout = Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    app.get("/readyz").await.expect(200);

    cluster.stop().unwrap();
    let res = app.get("/readyz").await;
    let problem = res.problem(503);
    assert_eq!(res.header("retry-after"), Some("5"));
    assert_eq!(problem["type"], "urn:newsdesk:problem:unavailable");
    assert!(problem["request_id"].is_string());
    // The process itself stays healthy while its database is away.
    app.get("/healthz").await.expect(200);

    cluster.resume().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = app.get("/readyz").await;
        if res.status == 200 {
            break;
        }
        assert_eq!(res.status, 503, "only 503 while recovering: {}", res.text());
        assert!(Instant::now() < deadline, "no recovery within 30 s");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}
