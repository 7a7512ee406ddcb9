//! Copies of the embedded SQLite database: `newsdesk backup` takes one while the server runs,
//! `newsdesk restore` puts one back while it is stopped. PostgreSQL has its own tools
//! (`pg_dump`, `pg_restore`), which these commands point at instead of imitating.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbUrl;

const POSTGRES_BACKUP: &str = "this database is PostgreSQL: back it up with pg_dump, e.g. \
     `pg_dump --format=custom --file=newsdesk.dump \"$NEWSDESK_DATABASE_URL\"` (see README, Backups)";
const POSTGRES_RESTORE: &str = "this database is PostgreSQL: restore a pg_dump archive with pg_restore, e.g. \
     `pg_restore --clean --if-exists --no-owner --dbname=\"$NEWSDESK_DATABASE_URL\" newsdesk.dump` \
     (see README, Backups)";

/// Tables at the heart of every newsdesk database; a file without them is some other
/// application's database, even if it keeps diesel's migration table too.
const NEWSDESK_TABLES: [&str; 3] = ["articles", "authors", "comments"];

/// What the operator sees while a command works: on a terminal a spinner with the elapsed
/// time and the bytes written so far; otherwise a line at the start, one every ten seconds
/// and one at the end, which is what a log collector wants.
struct Progress {
    done: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
}

impl Progress {
    /// Starts showing `what`; `watched` is the file whose size tells how far the work is.
    fn start(what: String, watched: PathBuf) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]")
            {
                bar.set_style(style);
            }
            bar.set_message(what.clone());
            bar
        });
        if bar.is_none() {
            eprintln!("{what}: started");
        }
        let ticker = {
            let (done, bar) = (done.clone(), bar.clone());
            std::thread::spawn(move || {
                let mut last_line = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    let size = std::fs::metadata(&watched).map(|m| m.len()).unwrap_or(0);
                    match &bar {
                        Some(bar) => {
                            bar.set_message(format!("{what}: {} written", indicatif::HumanBytes(size)));
                            bar.tick();
                        }
                        None if last_line.elapsed() >= Duration::from_secs(10) => {
                            last_line = Instant::now();
                            eprintln!(
                                "{what}: {} written, {} s",
                                indicatif::HumanBytes(size),
                                started.elapsed().as_secs()
                            );
                        }
                        None => {}
                    }
                }
            })
        };
        Progress {
            done,
            ticker: Some(ticker),
            bar,
            started,
        }
    }

    fn stop(mut self) -> Duration {
        self.done.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.started.elapsed()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn sqlite_path(url: &DbUrl, postgres: &str) -> anyhow::Result<PathBuf> {
    match url {
        DbUrl::Sqlite(path) => Ok(path.clone()),
        DbUrl::Postgres(_) => bail!("{postgres}"),
    }
}

fn utf8(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .ok_or_else(|| anyhow!("{}: the path is not UTF-8", path.display()))
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes a consistent copy of the SQLite database to `target` and returns its size.
///
/// `VACUUM INTO` reads the database in one read transaction, so the copy is the database as
/// of one moment even while the server keeps writing (WAL readers do not block writers). It
/// is written under a temporary name and renamed at the end, so `target` is never a half copy.
pub fn backup(url: &DbUrl, target: &Path, force: bool) -> anyhow::Result<u64> {
    let source = sqlite_path(url, POSTGRES_BACKUP)?;
    ensure!(source.is_file(), "there is no database at {}", source.display());
    if target.exists() && !force {
        bail!("{} exists; pass --force to replace it", target.display());
    }
    let partial = beside(target, ".partial");
    if partial.exists() {
        std::fs::remove_file(&partial).with_context(|| format!("removing {}", partial.display()))?;
    }
    let mut conn = SqliteConnection::establish(utf8(&source)?)
        .with_context(|| format!("opening {}", source.display()))?;
    // The server may hold the write lock for a moment; the copy waits for it like a server
    // connection would.
    conn.batch_execute("PRAGMA busy_timeout = 5000;")?;
    let progress = Progress::start(
        format!("backup of {} to {}", source.display(), target.display()),
        partial.clone(),
    );
    let copied = diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(utf8(&partial)?)
        .execute(&mut conn);
    let took = progress.stop();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(anyhow!("copying {}: {e}", source.display()));
    }
    std::fs::rename(&partial, target)
        .with_context(|| format!("renaming {} to {}", partial.display(), target.display()))?;
    let size = std::fs::metadata(target)?.len();
    eprintln!(
        "backup of {} to {}: done, {} in {:.1} s",
        source.display(),
        target.display(),
        indicatif::HumanBytes(size),
        took.as_secs_f64()
    );
    Ok(size)
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Checks that `file` (a copy of the backup `named`) is an intact newsdesk database this
/// binary can run; returns the newest migration applied to it.
fn check(file: &Path, named: &Path) -> anyhow::Result<String> {
    let what = named.display();
    let mut conn = SqliteConnection::establish(utf8(file)?)
        .map_err(|e| anyhow!("{what} is not a usable SQLite database: {e}"))?;
    let report = diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check")
        .load::<Line>(&mut conn)
        .map_err(|e| anyhow!("{what} is not a usable SQLite database: {e}"))?;
    if report.len() != 1 || report[0].line != "ok" {
        let found: Vec<String> = report.into_iter().take(5).map(|l| l.line).collect();
        bail!("{what} fails the integrity check: {}", found.join("; "));
    }
    let names = NEWSDESK_TABLES.map(|t| format!("'{t}'")).join(",");
    let tables = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ({names}, '__diesel_schema_migrations')"
    ))
    .get_result::<Count>(&mut conn)?;
    ensure!(
        tables.n == NEWSDESK_TABLES.len() as i64 + 1,
        "{what} is not a newsdesk database"
    );
    let applied =
        diesel::sql_query("SELECT version AS line FROM __diesel_schema_migrations ORDER BY version")
            .load::<Line>(&mut conn)?;
    let known = crate::db::migrate::known_sqlite().map_err(|e| anyhow!("{e}"))?;
    if let Some(unknown) = applied.iter().find(|v| !known.contains(&v.line)) {
        bail!(
            "{what} has migration {} that this newsdesk does not know; restore it with the newsdesk version that wrote it",
            unknown.line
        );
    }
    applied
        .last()
        .map(|v| v.line.clone())
        .ok_or_else(|| anyhow!("{what} is not a newsdesk database"))
}

/// Takes the database away from every other connection and folds its write-ahead log into
/// the file, so the file alone is the whole database. Fails when a server has it open.
fn settle(live: &Path) -> anyhow::Result<()> {
    let mut conn =
        SqliteConnection::establish(utf8(live)?).with_context(|| format!("opening {}", live.display()))?;
    // Leaving WAL mode needs the only connection; a running server holds its own, so this
    // fails at once instead of pulling the file from under it.
    conn.batch_execute(
        "PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = DELETE;",
    )
    .map_err(|_| {
        anyhow!(
            "{} is in use: stop the server (and any other newsdesk process using it) before restoring",
            live.display()
        )
    })?;
    let mode = diesel::sql_query("PRAGMA journal_mode")
        .load::<JournalMode>(&mut conn)?
        .pop()
        .map(|m| m.journal_mode)
        .unwrap_or_default();
    ensure!(
        mode.eq_ignore_ascii_case("delete"),
        "{} is in use: stop the server (and any other newsdesk process using it) before restoring",
        live.display()
    );
    drop(conn);
    for suffix in ["-wal", "-shm", "-journal"] {
        let side = beside(live, suffix);
        ensure!(
            !side.exists() || std::fs::metadata(&side)?.len() == 0,
            "{} is in use: stop the server before restoring",
            live.display()
        );
    }
    Ok(())
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

/// A name for the database being replaced that no earlier restore has taken.
fn kept_name(live: &Path) -> PathBuf {
    let first = beside(live, ".before-restore");
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| beside(live, &format!(".before-restore.{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// What a restore did.
pub struct Restored {
    pub migration: String,
    /// Where the database it replaced now is, when there was one.
    pub kept: Option<PathBuf>,
}

/// Puts the backup at `from` in place of the SQLite database. The backup is copied next to
/// the database and checked there, so what is checked is exactly what is installed; the
/// database it replaces is kept as `<name>.before-restore`.
pub fn restore(url: &DbUrl, from: &Path) -> anyhow::Result<Restored> {
    let live = sqlite_path(url, POSTGRES_RESTORE)?;
    ensure!(from.is_file(), "there is no backup at {}", from.display());
    let staged = beside(&live, ".restoring");
    let progress = Progress::start(
        format!("restore of {} to {}", from.display(), live.display()),
        staged.clone(),
    );
    let checked = (|| {
        std::fs::copy(from, &staged)
            .with_context(|| format!("copying {} to {}", from.display(), staged.display()))?;
        check(&staged, from)
    })();
    let took = progress.stop();
    let migration = match checked {
        Ok(migration) => migration,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    let kept = if live.exists() {
        if let Err(e) = settle(&live) {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
        let kept = kept_name(&live);
        std::fs::rename(&live, &kept)
            .with_context(|| format!("moving {} to {}", live.display(), kept.display()))?;
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&staged, &live)
        .with_context(|| format!("moving {} to {}", staged.display(), live.display()))?;
    eprintln!(
        "restore of {} to {}: done, migration {migration}, in {:.1} s",
        from.display(),
        live.display(),
        took.as_secs_f64()
    );
    Ok(Restored { migration, kept })
}
