//! The command line: `newsdesk [SUBCOMMAND]` and each subcommand's arguments. The settings
//! every subcommand shares are [`crate::config::Settings`].

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(name = "newsdesk", version, about = "Headless CMS JSON API for news portals")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default when no subcommand is given).
    Serve {
        /// Load the sample Vietnamese article and its author when the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document to standard output.
    Openapi,
    /// Import articles from JSON-lines files (format in README); idempotent by slug.
    Import {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Write a consistent copy of the SQLite database to PATH while the server keeps running.
    /// PostgreSQL databases are backed up with `pg_dump` instead.
    Backup {
        path: std::path::PathBuf,
        /// Replace PATH if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Put a backup back in place of the SQLite database, with the server stopped. The backup
    /// is checked first; the database it replaces is kept as `<file>.before-restore`.
    Restore { path: std::path::PathBuf },
    /// Manage accounts from the command line.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create an account that can sign in. The password is read from standard input (first
    /// line) or asked for at a prompt; never from the command line, where other users of the
    /// machine could read it.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role, default_value = "author")]
        role: crate::auth::Role,
    },
}

fn parse_role(s: &str) -> Result<crate::auth::Role, String> {
    crate::auth::Role::parse(s).ok_or_else(|| "one of admin, editor, author, contributor, moderator".into())
}
