use std::process::ExitCode;

use clap::Parser;
use newsdesk::cli::{Cli, Command, UserCommand};

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.clone().unwrap_or(Command::Serve { demo: false });

    if let Command::Openapi = command {
        print!("{}", newsdesk::openapi::spec_json());
        return ExitCode::SUCCESS;
    }

    let config = match cli.settings.validate() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("newsdesk: invalid setting {e}");
            return ExitCode::from(2);
        }
    };
    let _log_guard = newsdesk::telemetry::init(&cli.settings.log, cli.settings.log_format);

    let result = match command {
        Command::Serve { demo } => newsdesk::server::serve(config, demo).await,
        Command::Migrate => migrate(&config),
        Command::User {
            action: UserCommand::Create { email, name, role },
        } => create_user(config, &email, &name, role).await,
        Command::Import { files } => import(config, files).await,
        Command::Backup { path, force } => {
            newsdesk::backup::backup(&config.database, &path, force).map(|_| ())
        }
        Command::Restore { path } => newsdesk::backup::restore(&config.database, &path).map(|restored| {
            if let Some(kept) = restored.kept {
                println!("the database it replaced is kept as {}", kept.display());
            }
        }),
        Command::Openapi => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("newsdesk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(config: &newsdesk::config::Config) -> anyhow::Result<()> {
    let mut conn = config
        .database
        .connect()
        .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", config.database))?;
    let applied = newsdesk::db::migrate::run_pending(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    if applied.is_empty() {
        println!("database {} is up to date", config.database);
    } else {
        for version in applied {
            println!("applied {version}");
        }
    }
    Ok(())
}

async fn create_user(
    config: newsdesk::config::Config,
    email: &str,
    name: &str,
    role: newsdesk::auth::Role,
) -> anyhow::Result<()> {
    let password = newsdesk::accounts_cli::read_password()?;
    let state = actix_web::web::block(move || newsdesk::AppState::prepare(config)).await??;
    let row = newsdesk::accounts_cli::create(&state, email, name, role, password)
        .await
        .map_err(|e| anyhow::anyhow!("{}", newsdesk::accounts_cli::describe(&e)))?;
    println!("created {} account {} ({})", role, row.id, row.slug);
    Ok(())
}

async fn import(config: newsdesk::config::Config, files: Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    use newsdesk::articles::import;
    let state = actix_web::web::block(move || newsdesk::AppState::prepare(config)).await??;
    let mut failures = 0;
    for file in files {
        let name = file.display().to_string();
        let opened = std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let size = opened.metadata().map(|m| m.len()).unwrap_or(0);
        let reader = std::io::BufReader::with_capacity(1 << 20, opened);
        let started = std::time::Instant::now();
        let dir = file
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let tally = std::sync::Arc::new(import::Tally::default());
        let progress = import::Progress::start(name.clone(), size, tally.clone());
        let report = import::import_counting(&state, &dir, reader, tally).await;
        progress.stop();
        let report = report.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        for (line, message) in &report.failed {
            eprintln!("{name}:{line}: {message}");
        }
        println!(
            "{name}: {} imported, {} skipped (slug exists), {} failed, in {:.1} s",
            report.imported,
            report.skipped,
            report.failed.len(),
            started.elapsed().as_secs_f64()
        );
        failures += report.failed.len();
    }
    anyhow::ensure!(failures == 0, "{failures} line(s) failed");
    Ok(())
}
