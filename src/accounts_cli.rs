//! Account set-up outside HTTP: the first admin at start, and `newsdesk user create`.

use std::io::{BufRead, IsTerminal};

use crate::app::AppState;
use crate::auth::{Role, password, sessions};
use crate::authors::dto::CreateAuthor;
use crate::authors::service;
use crate::error::ApiError;

/// When no account can sign in, creates the first admin: from `NEWSDESK_ADMIN_EMAIL` and
/// `NEWSDESK_ADMIN_PASSWORD` when set, otherwise `admin@localhost` with a random password
/// printed once. Several processes starting together create it once.
pub async fn bootstrap_admin(state: &AppState) -> anyhow::Result<()> {
    if state.db.run(|conn| Ok(service::any_account(conn)?)).await? {
        return Ok(());
    }
    let (email, given) = match (&state.config.admin_email, &state.config.admin_password) {
        (Some(email), Some(password)) => (email.clone(), Some(password.clone())),
        _ => ("admin@localhost".to_owned(), None),
    };
    let password = match &given {
        Some(password) => password.clone(),
        None => sessions::random_token(15)?,
    };
    match create(state, &email, "Administrator", Role::Admin, password.clone()).await {
        Ok(_) => {}
        // Another process won the race and created it.
        Err(ApiError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(anyhow::anyhow!("creating the first admin: {}", describe(&e))),
    }
    if given.is_some() {
        tracing::info!("created the first admin account from NEWSDESK_ADMIN_EMAIL");
    } else {
        // Printed, not logged: it must not end up in a log collector.
        println!(
            "\n  First start: created the admin account\n\n      email:    {email}\n      password: {password}\n\n  \
             Sign in with POST /api/v1/auth/login and change the password \
             (POST /api/v1/auth/me/password). It is not shown again.\n"
        );
    }
    Ok(())
}

/// Creates an account that can sign in.
pub async fn create(
    state: &AppState,
    email: &str,
    name: &str,
    role: Role,
    password: String,
) -> Result<crate::authors::model::AuthorRow, ApiError> {
    let input = service::validate_new(CreateAuthor {
        name: name.to_owned(),
        slug: None,
        bio: None,
        avatar_url: None,
        email: Some(email.to_owned()),
        password: Some(password),
        role: Some(role),
    })?;
    let clear = input.password.clone().unwrap_or_default();
    let hash = actix_web::web::block(move || password::hash(&clear))
        .await
        .map_err(crate::auth::password::blocking)??;
    state
        .db
        .run(move |conn| service::create(conn, None, input, Some(hash)))
        .await
}

/// Reads the password for `user create`: a prompt without echo on a terminal, else the first
/// line of standard input.
pub fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat: ")?;
        anyhow::ensure!(first == second, "the passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// An error as one line for the terminal. The operator sees what went wrong in the database
/// (a full disk, a lost server), which an HTTP client is never told.
pub fn describe(e: &ApiError) -> String {
    match e {
        ApiError::Internal(cause) => format!("internal error: {cause}"),
        ApiError::Unavailable(cause) => format!("{} ({cause})", e.problem_in(crate::i18n::Lang::En).detail),
        ApiError::Validation(errors) => errors
            .iter()
            .map(|f| {
                let field = f.render(crate::i18n::Lang::En);
                format!("{}: {}", field.field, field.message)
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.problem_in(crate::i18n::Lang::En).detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_is_told_what_failed_in_the_database() {
        let full = ApiError::from(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new(String::from("could not extend file: No space left on device")),
        ));
        assert_eq!(
            describe(&full),
            "internal error: could not extend file: No space left on device"
        );
        let down = describe(&ApiError::Unavailable("connection refused".into()));
        assert!(down.ends_with(" (connection refused)"), "{down}");
    }
}
