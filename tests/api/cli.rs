//! The `newsdesk` binary itself: subcommands, start-up checks and shutdown.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn newsdesk(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    cmd.current_dir(dir)
        .env("NEWSDESK_LOG", "warn")
        .env_remove("NEWSDESK_DATABASE_URL")
        .env_remove("NEWSDESK_BIND")
        .stdin(Stdio::null());
    cmd
}

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

fn start(dir: &std::path::Path, demo: bool) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = newsdesk(dir);
    cmd.env("NEWSDESK_BIND", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::null());
    if demo {
        cmd.arg("--demo");
    }
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(port, "/readyz").is_none() {
        assert!(Instant::now() < deadline, "server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

fn stop(child: std::process::Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "graceful shutdown exits 0, got {}",
        out.status
    );
}

#[test]
fn views_counted_just_before_a_clean_shutdown_are_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = start(dir.path(), true);
    let (_, list) = http_get(port, "/api/v1/articles?per_page=1").unwrap();
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let slug = list["data"][0]["slug"].as_str().unwrap().to_owned();
    for _ in 0..25 {
        let (status, _) = http(port, "POST", &format!("/api/v1/articles/{slug}/views"), None).unwrap();
        assert_eq!(status, 204);
    }
    // Stopped at once: most or all of these are still in memory, written only on the way out.
    stop(server);

    let (server, port) = start(dir.path(), false);
    let (_, body) = http_get(port, &format!("/api/v1/articles/{slug}")).unwrap();
    let article: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(article["data"]["view_count"], 25);
    stop(server);
}
