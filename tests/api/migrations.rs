use diesel::prelude::*;
use newsdesk::db::migrate;
use newsdesk::db::schema::settings;

use crate::backend_test;

backend_test!(
    async fn migrations_go_up_all_the_way_down_and_up_again(app: TestApp) {
        let (before, reverted, after) = app
            .state
            .db
            .run(|conn| {
                let before = migrate::applied(conn).unwrap();
                let reverted = migrate::revert_all(conn).unwrap();
                assert!(
                    settings::table.count().get_result::<i64>(conn).is_err(),
                    "the settings table is gone after reverting everything"
                );
                assert!(migrate::applied(conn).unwrap().is_empty());
                migrate::run_pending(conn).unwrap();
                let after = migrate::applied(conn).unwrap();
                assert_eq!(settings::table.count().get_result::<i64>(conn).unwrap(), 0);
                Ok((before, reverted, after))
            })
            .await
            .unwrap();
        assert!(!before.is_empty());
        assert_eq!(reverted.len(), before.len());
        let mut sorted_before = before.clone();
        sorted_before.sort();
        let mut sorted_after = after.clone();
        sorted_after.sort();
        assert_eq!(sorted_before, sorted_after);
    }
);

#[test]
fn both_backends_have_the_same_migration_versions() {
    let list = |backend: &str| {
        let mut names: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
        names.sort();
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
}

backend_test!(
    async fn the_generated_jwt_secret_is_kept_across_restarts(app: TestApp) {
        let first = app.state.secrets.jwt.clone();
        assert!(first.len() >= 43, "256 bits, base64: {first}");
        // A second process on the same database (or a restart) reads the same secret.
        let config = (*app.state.config).clone();
        let second = newsdesk::AppState::prepare(config).unwrap();
        assert_eq!(second.secrets.jwt, first);
        let stored: String = app
            .state
            .db
            .run(|conn| {
                Ok(settings::table
                    .find("jwt_secret")
                    .select(settings::value)
                    .first(conn)
                    .unwrap())
            })
            .await
            .unwrap();
        assert_eq!(stored, first);
    }
);
