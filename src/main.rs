use std::process::ExitCode;

use clap::Parser;
use newsdesk::config::{Cli, Command};

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
