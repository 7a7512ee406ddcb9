//! A real S3-compatible server for the tests: moto's server mode on loopback.
//!
//! One `moto_server` is started per test process, on a free port, the first time a test asks
//! for it; each test gets its own bucket. moto (PyPI `moto[server]`, the version `.ci/run`
//! pins) is found at `$NEWSDESK_TEST_MOTO`, `/var/tmp/newsdesk-venv/bin/moto_server`, or on
//! `PATH`. Without it the S3 pass is skipped loudly, and under `CI=true` it fails.
//!
//! moto keeps everything in memory and accepts any credentials, so nothing outlives the
//! server: a shell reaper kills it once the test process is gone, however that ends.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use newsdesk::storage::{S3Credentials, StoreLocation, StoreSettings};

/// Where the venv that `.ci/run` and the README set up keeps moto.
const VENV_MOTO: &str = "/var/tmp/newsdesk-venv/bin/moto_server";

/// moto_server imports a good part of boto; on a loaded machine that takes a while.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server owned by this test process.
pub struct MotoServer {
    port: u16,
    pid: u32,
}

impl MotoServer {
    fn start() -> Result<Self, String> {
        let program = find_moto()
            .ok_or("no moto_server ($NEWSDESK_TEST_MOTO, /var/tmp/newsdesk-venv/bin/moto_server or PATH)")?;
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!("newsdesk-moto-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err_file = log_file
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", program.display()))?;
        let server = MotoServer {
            port,
            pid: child.id(),
        };
        server.spawn_reaper(&log);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if super::receiver::http(port, "GET", "/", None, None).is_some() {
                return Ok(server);
            }
            if let Ok(Some(status)) = child.try_wait() {
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("{} exited with {status}: {output}", program.display()));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!(
                    "{} did not answer on port {port} within {START_TIMEOUT:?}",
                    program.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server is a static, never dropped, and a test process may be killed: a small shell
    /// watches this process and kills moto (and removes its log) once it is gone.
    fn spawn_reaper(&self, log: &std::path::Path) {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; kill {moto} 2>/dev/null; \
             sleep 2; kill -9 {moto} 2>/dev/null; rm -f '{log}'",
            pid = std::process::id(),
            moto = self.pid,
            log = log.display()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new, empty bucket with a name unique to this process and test.
    pub fn create_bucket(&self) -> Result<String, String> {
        let name = format!(
            "newsdesk-test-{}-{}",
            std::process::id(),
            NEXT_BUCKET.fetch_add(1, Ordering::Relaxed)
        );
        match super::receiver::http(self.port, "PUT", &format!("/{name}"), None, None) {
            Some((200, _)) => Ok(name),
            Some((status, body)) => Err(format!("creating bucket {name}: {status} {body}")),
            None => Err(format!("creating bucket {name}: moto does not answer")),
        }
    }

    /// Settings for a store on `bucket` of this server, under `prefix` if given.
    pub fn settings(&self, bucket: &str, prefix: Option<&str>) -> StoreSettings {
        let mut settings = StoreSettings::new(StoreLocation::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.map(str::to_owned),
        });
        settings.s3_endpoint = url::Url::parse(&self.endpoint()).ok();
        // moto accepts any keys; explicit ones keep the AWS chain (and the metadata service
        // it would try) out of the tests.
        settings.s3_credentials = Some(S3Credentials {
            access_key_id: "newsdesk-test".into(),
            secret_access_key: "newsdesk-test-secret".into(),
        });
        settings
    }
}

static NEXT_BUCKET: AtomicUsize = AtomicUsize::new(0);

fn find_moto() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NEWSDESK_TEST_MOTO").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let venv = PathBuf::from(VENV_MOTO);
    if venv.is_file() {
        return Some(venv);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file())
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// Applies the run's policy to an S3 server that could not be had (see [`super::skipped`]).
pub fn unavailable<T>(why: &str) -> Option<T> {
    super::skipped(
        "S3",
        why,
        "Install it with /var/tmp/newsdesk-venv/bin/pip install 'moto[server]==VERSION' (the \
         version .ci/run pins) or set NEWSDESK_TEST_MOTO",
    )
}

/// The run's moto server, started on first use. `None` (with a loud note) when there is none
/// and this is not CI; under `CI=true` a missing moto fails the test.
pub fn server() -> Option<&'static MotoServer> {
    static SERVER: OnceLock<Result<MotoServer, String>> = OnceLock::new();
    match SERVER.get_or_init(MotoServer::start) {
        Ok(server) => Some(server),
        Err(why) => unavailable(why),
    }
}

/// Settings for a fresh bucket on the run's moto server, or `None` after the skip policy.
pub fn fresh_bucket(prefix: Option<&str>) -> Option<(String, StoreSettings)> {
    let server = server()?;
    match server.create_bucket() {
        Ok(bucket) => {
            let settings = server.settings(&bucket, prefix);
            Some((bucket, settings))
        }
        // The server runs, yet refuses: a real failure, not a missing tool.
        Err(why) => panic!("{why}"),
    }
}
