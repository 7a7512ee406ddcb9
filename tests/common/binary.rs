//! The real `newsdesk` binary, for what only a process shows: subcommands, start-up,
//! shutdown, and the bytes on the wire.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `newsdesk` run in `dir`, quiet, with no database, address, reader or media setting inherited
/// from the environment of the test run.
pub fn newsdesk(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    cmd.current_dir(dir)
        .env("NEWSDESK_LOG", "warn")
        .env_remove("NEWSDESK_DATABASE_URL")
        .env_remove("NEWSDESK_BIND")
        .env_remove("NEWSDESK_READER")
        .env_remove("NEWSDESK_MEDIA_STORE")
        .env_remove("NEWSDESK_S3_ENDPOINT")
        .env_remove("NEWSDESK_MEDIA_PUBLIC_URL")
        .stdin(Stdio::null());
    cmd
}

/// `newsdesk serve ARGS` on a free loopback port, its database in `dir` unless `envs` names
/// another, returned once `/readyz` answers.
pub fn serve(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut child = newsdesk(dir)
        .env("NEWSDESK_BIND", format!("127.0.0.1:{port}"))
        .envs(envs.iter().copied())
        .arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .expect("start newsdesk serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while super::receiver::http(port, "GET", "/readyz", None, None).is_none() {
        assert!(Instant::now() < deadline, "server did not come up");
        assert!(
            child.try_wait().expect("server status").is_none(),
            "server exited early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// Stops a server as an orchestrator would (SIGTERM) and checks it shut down cleanly.
pub fn stop(child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    let out = child.wait_with_output().expect("server exit");
    assert!(
        out.status.success(),
        "graceful shutdown exits 0, got {}",
        out.status
    );
}
