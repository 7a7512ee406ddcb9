//! The `newsdesk` binary itself: subcommands, start-up checks and shutdown.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::binary::{newsdesk, serve, stop};

#[test]
fn openapi_prints_the_committed_spec() {
    let dir = tempfile::tempdir().unwrap();
    let out = newsdesk(dir.path()).arg("openapi").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        include_str!("../../openapi/openapi.json")
    );
}

#[test]
fn migrate_applies_once_then_reports_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let first = newsdesk(dir.path()).arg("migrate").output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("applied 20261127000001"));
    assert!(
        dir.path().join("newsdesk.db").is_file(),
        "the default database is ./newsdesk.db"
    );
    let second = newsdesk(dir.path()).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
}

#[test]
fn an_invalid_setting_stops_the_start_naming_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = newsdesk(dir.path())
        .env("NEWSDESK_DATABASE_URL", "mysql://root@localhost/news")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEWSDESK_DATABASE_URL"));

    let out = newsdesk(dir.path())
        .env("NEWSDESK_PUBLIC_URL", "not a url")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEWSDESK_PUBLIC_URL"));

    let out = newsdesk(dir.path())
        .env("NEWSDESK_TRUSTED_PROXIES", "10.0.0.0/8,nginx")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NEWSDESK_TRUSTED_PROXIES") && stderr.contains("nginx"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_postgres_url_fails_loudly_instead_of_opening_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = newsdesk(dir.path())
        .env(
            "NEWSDESK_DATABASE_URL",
            "postgres://newsdesk:secretpw@127.0.0.1:1/newsdesk",
        )
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot connect to postgres://"), "{stderr}");
    assert!(
        !stderr.contains("secretpw"),
        "passwords never reach the log: {stderr}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no stray SQLite file"
    );
}

fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http(port, "GET", path, None)
}

fn http(port: u16, method: &str, path: &str, json: Option<&str>) -> Option<(u16, String)> {
    crate::common::receiver::http(port, method, path, None, json)
}

#[test]
fn serve_starts_on_the_embedded_database_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stdout = std::fs::File::create(dir.path().join("stdout")).unwrap();
    let mut child = newsdesk(dir.path())
        .env("NEWSDESK_BIND", format!("127.0.0.1:{port}"))
        .env_remove("NEWSDESK_ADMIN_EMAIL")
        .env_remove("NEWSDESK_ADMIN_PASSWORD")
        .arg("serve")
        .stdout(stdout)
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, body) = loop {
        if let Some(answer) = http_get(port, "/readyz") {
            break answer;
        }
        assert!(Instant::now() < deadline, "server did not come up");
        assert!(child.try_wait().unwrap().is_none(), "server exited early");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("sqlite"));
    assert!(dir.path().join("newsdesk.db").is_file());
    assert_eq!(http_get(port, "/docs/").map(|(s, _)| s), Some(200));

    // The first start printed how to sign in as admin, and that works.
    let printed = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
    assert!(printed.contains("admin@localhost"), "{printed}");
    let password = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no password in {printed}"));
    let login = format!(r#"{{"email":"admin@localhost","password":"{password}"}}"#);
    let (status, body) = http(port, "POST", "/api/v1/auth/login", Some(&login)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"role\":\"admin\""));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
}

#[test]
fn the_first_admin_can_come_from_the_environment_and_is_created_once() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = newsdesk(dir.path())
            .env("NEWSDESK_BIND", format!("127.0.0.1:{port}"))
            .env("NEWSDESK_ADMIN_EMAIL", "chief@example.vn")
            .env("NEWSDESK_ADMIN_PASSWORD", "tổng biên tập 2026")
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_get(port, "/readyz").is_none() {
            assert!(Instant::now() < deadline, "server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        let login = r#"{"email":"CHIEF@example.vn","password":"tổng biên tập 2026"}"#;
        let (status, body) = http(port, "POST", "/api/v1/auth/login", Some(login)).unwrap();
        assert_eq!(status, 200, "{body}");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("tổng biên tập 2026"),
            "the password is never printed"
        );
    }
}

#[test]
fn user_create_reads_the_password_from_stdin_never_argv() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = newsdesk(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "bt@example.vn",
            "--name",
            "Biên Tập",
            "--role",
            "editor",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("mật khẩu của biên tập\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created editor account"));

    let mut weak = newsdesk(dir.path())
        .args(["user", "create", "--email", "x@example.vn", "--name", "X"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    weak.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = weak.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let bad_role = newsdesk(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "y@example.vn",
            "--name",
            "Y",
            "--role",
            "boss",
        ])
        .output()
        .unwrap();
    assert_eq!(bad_role.status.code(), Some(2));
}

#[test]
fn views_counted_just_before_a_clean_shutdown_are_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = serve(dir.path(), &["--demo"], &[]);
    let (_, list) = http_get(port, "/api/v1/articles?per_page=1").unwrap();
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let slug = list["data"][0]["slug"].as_str().unwrap().to_owned();
    for _ in 0..25 {
        let (status, _) = http(port, "POST", &format!("/api/v1/articles/{slug}/views"), None).unwrap();
        assert_eq!(status, 204);
    }
    // Stopped at once: most or all of these are still in memory, written only on the way out.
    stop(server);

    let (server, port) = serve(dir.path(), &[], &[]);
    let (_, body) = http_get(port, &format!("/api/v1/articles/{slug}")).unwrap();
    let article: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(article["data"]["view_count"], 25);
    stop(server);
}

/// The titles of the comments stored in a SQLite database file.
fn stored_comment_titles(db: &std::path::Path) -> std::collections::HashSet<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Title {
        #[diesel(sql_type = diesel::sql_types::Text)]
        title: String,
    }
    let mut conn = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    diesel::sql_query("SELECT title FROM comments")
        .load::<Title>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect()
}

#[test]
fn a_backup_taken_under_comment_load_restores_every_comment_acknowledged_before_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("NEWSDESK_CAPTCHA", "off"),
        ("NEWSDESK_COMMENT_RATE_PER_MIN", "0"),
    ];
    let (server, port) = serve(dir.path(), &["--demo"], &env);
    let (_, list) = http_get(port, "/api/v1/articles?per_page=1").unwrap();
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let slug = list["data"][0]["slug"].as_str().unwrap().to_owned();

    // Comments keep arriving before, during and after the backup; each one acknowledged is
    // noted with the moment its 202 came back.
    let acknowledged: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stop_posting = Arc::new(AtomicBool::new(false));
    let poster = {
        let (acknowledged, stop_posting, slug) = (acknowledged.clone(), stop_posting.clone(), slug.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop_posting.load(Ordering::Relaxed) {
                n += 1;
                let title = format!("Ý kiến số {n}");
                let body = serde_json::json!({
                    "name": "Bạn đọc",
                    "title": title,
                    "content": format!("Nội dung góp ý thứ {n} về bài viết."),
                })
                .to_string();
                let path = format!("/api/v1/articles/{slug}/comments");
                if let Some((status, text)) = http(port, "POST", &path, Some(&body)) {
                    assert_eq!(status, 202, "{text}");
                    acknowledged.lock().unwrap().push((Instant::now(), title));
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 30 {
        assert!(Instant::now() < deadline, "comments are not being accepted");
        std::thread::sleep(Duration::from_millis(20));
    }

    let began = Instant::now();
    let out = newsdesk(dir.path()).args(["backup", "copy.db"]).output().unwrap();
    let ended = Instant::now();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(
        progress.contains("started") && progress.contains("done"),
        "{progress}"
    );
    let during = acknowledged.lock().unwrap().len();
    // The load went on after the copy was taken.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < during + 10 {
        assert!(Instant::now() < deadline, "comments stopped being accepted");
        std::thread::sleep(Duration::from_millis(20));
    }

    // A running server keeps its database: restoring now is refused and changes nothing.
    let refused = newsdesk(dir.path())
        .args(["restore", "copy.db"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!dir.path().join("newsdesk.db.before-restore").exists());

    stop_posting.store(true, Ordering::Relaxed);
    poster.join().unwrap();
    stop(server);
    let everything = acknowledged.lock().unwrap().clone();
    let before: Vec<&String> = everything
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, t)| t)
        .collect();
    let after: Vec<&String> = everything
        .iter()
        .filter(|(at, _)| *at > ended)
        .map(|(_, t)| t)
        .collect();
    assert!(before.len() >= 30 && !after.is_empty());

    let restored = newsdesk(dir.path())
        .args(["restore", "copy.db"])
        .output()
        .unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let titles = stored_comment_titles(&dir.path().join("newsdesk.db"));
    for title in &before {
        assert!(
            titles.contains(*title),
            "{title} was acknowledged before the backup began"
        );
    }
    for title in &after {
        assert!(!titles.contains(*title), "{title} came after the backup ended");
    }
    // Nothing is lost: the database replaced is kept, with every comment in it.
    let kept = stored_comment_titles(&dir.path().join("newsdesk.db.before-restore"));
    assert!(everything.iter().all(|(_, t)| kept.contains(t)));

    // The restored database serves.
    let (server, port) = serve(dir.path(), &[], &env);
    let (status, body) = http_get(port, &format!("/api/v1/articles/{slug}")).unwrap();
    assert_eq!(status, 200, "{body}");
    stop(server);
}

#[test]
fn restore_refuses_a_corrupt_or_foreign_file_and_leaves_the_database_alone() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let out = newsdesk(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success());
    let out = newsdesk(dir.path()).args(["backup", "good.db"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // An existing file is only replaced on request.
    let out = newsdesk(dir.path()).args(["backup", "good.db"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = newsdesk(dir.path())
        .args(["backup", "--force", "good.db"])
        .output()
        .unwrap();
    assert!(out.status.success());

    // Written after the backup: in the database a restore replaces, not in the backup.
    let mut live = diesel::SqliteConnection::establish(path("newsdesk.db").to_str().unwrap()).unwrap();
    live.batch_execute("INSERT INTO tags (slug, name, created_at) VALUES ('moc', 'Mốc', CURRENT_TIMESTAMP);")
        .unwrap();
    drop(live);
    let tag_slugs = |file: &str| {
        #[derive(QueryableByName)]
        struct Slug {
            #[diesel(sql_type = diesel::sql_types::Text)]
            slug: String,
        }
        let mut conn = diesel::SqliteConnection::establish(path(file).to_str().unwrap()).unwrap();
        diesel::sql_query("SELECT slug FROM tags")
            .load::<Slug>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|s| s.slug)
            .collect::<Vec<_>>()
    };

    std::fs::write(path("junk.db"), "không phải cơ sở dữ liệu".repeat(400)).unwrap();

    let mut foreign = diesel::SqliteConnection::establish(path("foreign.db").to_str().unwrap()).unwrap();
    foreign
        .batch_execute(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('x');",
        )
        .unwrap();
    drop(foreign);

    std::fs::copy(path("good.db"), path("future.db")).unwrap();
    let mut future = diesel::SqliteConnection::establish(path("future.db").to_str().unwrap()).unwrap();
    future
        .batch_execute("INSERT INTO __diesel_schema_migrations (version) VALUES ('99991231000000');")
        .unwrap();
    drop(future);

    // Every page after the first overwritten: the header still says SQLite, the tree is gone.
    let mut bytes = std::fs::read(path("good.db")).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    for b in &mut bytes[page..] {
        *b = 0x5a;
    }
    std::fs::write(path("corrupt.db"), bytes).unwrap();

    let original = std::fs::read(path("newsdesk.db")).unwrap();
    for (file, says) in [
        ("junk.db", "not a usable SQLite database"),
        ("corrupt.db", "corrupt.db"),
        ("foreign.db", "not a newsdesk database"),
        ("future.db", "99991231000000"),
        ("missing.db", "no backup"),
    ] {
        let out = newsdesk(dir.path()).args(["restore", file]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        assert!(stderr.contains(says), "{file}: {stderr}");
        assert!(
            std::fs::read(path("newsdesk.db")).unwrap() == original,
            "{file} changed the database"
        );
        assert!(!path("newsdesk.db.before-restore").exists(), "{file}");
        assert!(!path("newsdesk.db.restoring").exists(), "{file}");
    }

    let out = newsdesk(dir.path())
        .args(["restore", "good.db"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        tag_slugs("newsdesk.db"),
        Vec::<String>::new(),
        "the backup's content"
    );
    assert_eq!(
        tag_slugs("newsdesk.db.before-restore"),
        ["moc"],
        "the replaced database is kept"
    );
}

#[test]
fn backup_and_restore_point_postgres_users_at_pg_dump_and_pg_restore() {
    let dir = tempfile::tempdir().unwrap();
    for (command, tool) in [("backup", "pg_dump"), ("restore", "pg_restore")] {
        let out = newsdesk(dir.path())
            .env(
                "NEWSDESK_DATABASE_URL",
                "postgres://newsdesk@127.0.0.1:1/newsdesk",
            )
            .args([command, "newsdesk.dump"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains(tool));
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}
