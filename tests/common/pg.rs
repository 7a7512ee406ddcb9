//! Throwaway PostgreSQL clusters for the tests.
//!
//! `NEWSDESK_TEST_PG_URL` (a URL to any database on a server where the user may create
//! databases) is used when set. Otherwise one cluster is created for the whole test run from
//! the local PostgreSQL binaries and removed when the run ends. Each test gets its own
//! database, copied from a template that was migrated once (as crates.io does), so a test
//! costs one `CREATE DATABASE` instead of a full migration.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// A PostgreSQL cluster in a temporary directory, owned by this test process.
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PgCluster {
    /// initdb + start on a free loopback port. Several seconds at most.
    pub fn start() -> Result<Self, String> {
        let bin = find_pg_bin()
            .ok_or("no PostgreSQL binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql")?;
        let cluster = PgCluster::empty(bin)?;
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        )?;
        cluster.resume()?;
        Ok(cluster)
    }

    /// A cluster directory without data yet, owned by whoever will run the server, on a free
    /// port, removed once this process is gone.
    fn empty(bin: PathBuf) -> Result<Self, String> {
        let as_postgres = running_as_root();
        let dir = std::env::temp_dir().join(format!(
            "newsdesk-pg-{}-{}",
            std::process::id(),
            NEXT_CLUSTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        if as_postgres {
            // initdb refuses to run as root; the cluster belongs to the `postgres` user.
            let (uid, gid) = postgres_ids()?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", dir.display()))?;
        }
        let cluster = PgCluster {
            port: free_port()?,
            dir,
            bin,
            as_postgres,
        };
        cluster.spawn_reaper();
        Ok(cluster)
    }

    /// A streaming standby of this cluster, started on a port of its own: a copy taken with
    /// `pg_basebackup -R`, which also writes the settings that make it follow this one. The
    /// defaults of `initdb` allow it (`wal_level = replica`, WAL senders, and `trust` for
    /// replication connections from 127.0.0.1).
    pub fn replica(&self) -> Result<PgCluster, String> {
        let replica = PgCluster::empty(self.bin.clone())?;
        let data = replica.data_dir();
        let port = self.port.to_string();
        self.run(
            "pg_basebackup",
            &[
                "-D",
                path_str(&data)?,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
            ],
        )?;
        replica.resume()?;
        Ok(replica)
    }

    /// Stops the server without letting it finish anything, as a crash or a pulled cable
    /// would look to its clients; [`resume`](Self::resume) starts it again.
    pub fn crash(&self) -> Result<(), String> {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &["-D", path_str(&data)?, "-m", "immediate", "-w", "stop"],
        )
    }

    /// Runs `sql` on `database` as the superuser.
    pub fn execute(&self, database: &str, sql: &str) -> Result<(), String> {
        let url = self.url(database);
        PgConnection::establish(&url)
            .map_err(|e| format!("{url}: {e}"))?
            .batch_execute(sql)
            .map_err(|e| format!("{sql}: {e}"))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server, keeping its data: the database "goes away".
    pub fn stop(&self) -> Result<(), String> {
        let data = self.data_dir();
        self.run("pg_ctl", &["-D", path_str(&data)?, "-m", "fast", "-w", "stop"])
    }

    /// Starts (again) on the same port and data.
    pub fn resume(&self) -> Result<(), String> {
        let data = self.data_dir();
        let log = self.dir.join("server.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300",
            self.port,
            path_str(&self.dir)?
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data)?,
                "-l",
                path_str(&log)?,
                "-w",
                "-o",
                &options,
                "start",
            ],
        )
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {args:?} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Static clusters are never dropped, and a test process may be killed: a small shell
    /// watches this process and stops and removes the cluster once it is gone.
    fn spawn_reaper(&self) {
        let data = self.data_dir();
        let stop = format!(
            "{} {} -D '{}' -m immediate stop",
            if self.as_postgres {
                "runuser -u postgres --"
            } else {
                ""
            },
            self.bin.join("pg_ctl").display(),
            data.display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data_dir()) {
            let _ = self.run("pg_ctl", &["-D", data, "-m", "immediate", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static NEXT_CLUSTER: AtomicUsize = AtomicUsize::new(0);
static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn postgres_ids() -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| format!("id: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "running as root, but there is no `postgres` user to own the cluster".to_string())
    };
    Ok((id("-u")?, id("-g")?))
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// The directory of `pg_ctl` on PATH (links followed), else the newest
/// /usr/lib/postgresql/N/bin.
fn find_pg_bin() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("pg_ctl").is_file() && dir.join("initdb").is_file() {
                // Where the binaries really are: PATH may hold links to just a few of them,
                // and the replicas need `pg_basebackup` too.
                return std::fs::canonicalize(dir.join("pg_ctl"))
                    .ok()
                    .and_then(|pg_ctl| pg_ctl.parent().map(Path::to_path_buf))
                    .or(Some(dir));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Where test databases are created: a server URL and a migrated template database.
pub struct PgServer {
    admin_url: String,
    template: String,
    _cluster: Option<PgCluster>,
}

impl PgServer {
    fn connect() -> Result<Self, String> {
        let (admin_url, cluster) = match std::env::var("NEWSDESK_TEST_PG_URL") {
            Ok(url) if !url.is_empty() => (url, None),
            _ => {
                let cluster = PgCluster::start()?;
                (cluster.url("postgres"), Some(cluster))
            }
        };
        let template = format!("newsdesk_template_{}", std::process::id());
        let mut admin = PgConnection::establish(&admin_url).map_err(|e| format!("{admin_url}: {e}"))?;
        // Separate statements: PostgreSQL runs a multi-statement string in one transaction,
        // where CREATE DATABASE is not allowed.
        for sql in [
            format!("DROP DATABASE IF EXISTS {template}"),
            format!("CREATE DATABASE {template}"),
        ] {
            admin
                .batch_execute(&sql)
                .map_err(|e| format!("creating the template database: {e}"))?;
        }
        let template_url = with_database(&admin_url, &template)?;
        let mut conn = newsdesk::db::DbUrl::parse(&template_url)
            .map_err(|e| e.to_string())?
            .connect()
            .map_err(|e| format!("{template_url}: {e}"))?;
        // A server that is there but refuses the migrations is a fault of the code under test,
        // not a missing part of the environment: every PostgreSQL test fails, here or in CI.
        if let Err(e) = newsdesk::db::migrate::run_pending(&mut conn) {
            panic!("the PostgreSQL migrations fail on a fresh database: {e}");
        }
        Ok(PgServer {
            admin_url,
            template,
            _cluster: cluster,
        })
    }

    /// A fresh, migrated database for one test; dropped with the returned guard.
    pub fn create_database(&'static self) -> Result<TestPgDatabase, String> {
        let name = format!(
            "newsdesk_test_{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::establish(&self.admin_url).map_err(|e| e.to_string())?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {}", self.template))
            .map_err(|e| format!("creating {name}: {e}"))?;
        Ok(TestPgDatabase {
            url: with_database(&self.admin_url, &name)?,
            name,
            server: self,
        })
    }
}

pub struct TestPgDatabase {
    pub url: String,
    name: String,
    server: &'static PgServer,
}

impl Drop for TestPgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.server.admin_url) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn with_database(url: &str, database: &str) -> Result<String, String> {
    let mut parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    parsed.set_path(database);
    Ok(parsed.to_string())
}

/// Applies the run's policy to a PostgreSQL that could not be had (see [`super::skipped`]).
pub fn unavailable<T>(why: &str) -> Option<T> {
    super::skipped(
        "PostgreSQL",
        why,
        "Set NEWSDESK_TEST_PG_URL or install PostgreSQL to run it",
    )
}

/// The run's PostgreSQL server, started on first use. `None` (with a loud note) when there is
/// none and this is not CI; under `CI=true` a missing PostgreSQL fails the test.
pub fn server() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
    match SERVER.get_or_init(PgServer::connect) {
        Ok(server) => Some(server),
        Err(why) => unavailable(why),
    }
}
