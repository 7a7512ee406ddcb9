//! Rules for author profiles and accounts.

use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::dto::{Account, CreateAuthor, PublicAuthor, UpdateAuthor};
use super::model::{AuthorInsertForm, AuthorRow, AuthorUpdateForm};
use crate::app::AppState;
use crate::audit::{Entry, Resource};
use crate::auth::policy::{self, Action};
use crate::auth::{AuthUser, Role, password, sessions};
use crate::db::schema::authors;
use crate::db::{Db, now};
use crate::envelope::{List, Page, PageQuery};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode};
use crate::text;

pub const NAME_MAX: usize = 100;
pub const BIO_MAX: usize = 2000;
pub const URL_MAX: usize = 2048;
pub const EMAIL_MAX: usize = 254;

/// Lower-cased, trimmed email: the key that makes addresses unique regardless of case.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn check_name(name: &str, errors: &mut Vec<FieldError>) -> String {
    let name = text::clean(name);
    if !text::storable(&name) {
        errors.push(FieldError::new("name", FieldCode::InvalidCharacter));
    }
    errors.extend(FieldError::length("name", text::char_len(&name), 1, NAME_MAX));
    name
}

fn check_slug(slug: &str, errors: &mut Vec<FieldError>) {
    if !text::is_valid_slug(slug) {
        errors.push(FieldError::new("slug", FieldCode::InvalidFormat).arg("max", text::SLUG_MAX));
    }
}

fn check_bio(bio: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let bio = bio.map(|b| text::clean(&b)).filter(|b| !b.is_empty());
    if bio.as_deref().is_some_and(|b| !text::storable(b)) {
        errors.push(FieldError::new("bio", FieldCode::InvalidCharacter));
    }
    if bio.as_deref().is_some_and(|b| text::char_len(b) > BIO_MAX) {
        errors.push(FieldError::new("bio", FieldCode::TooLong).arg("max", BIO_MAX));
    }
    bio
}

fn check_avatar(url: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let url = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    if let Some(u) = &url {
        let ok = u.len() <= URL_MAX
            && url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
        if !ok {
            errors.push(FieldError::new("avatar_url", FieldCode::InvalidUrl).arg("max", URL_MAX));
        }
    }
    url
}

fn check_email(email: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let email = email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    if let Some(e) = &email {
        let ok = e.len() <= EMAIL_MAX
            && email_address::EmailAddress::parse_with_options(e, Default::default()).is_ok();
        if !ok {
            errors.push(FieldError::new("email", FieldCode::InvalidEmail));
        }
    }
    email
}

/// A `CreateAuthor` that passed validation; the password still in clear until hashed.
pub struct ValidNewAuthor {
    pub name: String,
    pub slug: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub role: Role,
}

pub fn validate_new(input: CreateAuthor) -> Result<ValidNewAuthor, ApiError> {
    let mut errors = Vec::new();
    let name = check_name(&input.name, &mut errors);
    if let Some(slug) = &input.slug {
        check_slug(slug, &mut errors);
    }
    let bio = check_bio(input.bio, &mut errors);
    let avatar_url = check_avatar(input.avatar_url, &mut errors);
    let email = check_email(input.email, &mut errors);
    if let Some(password) = &input.password {
        if let Err(e) = crate::auth::password::check_new(password, email.as_deref(), "password") {
            errors.push(e);
        }
        if email.is_none() {
            errors.push(FieldError::new("email", FieldCode::EmailRequired));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(ValidNewAuthor {
        name,
        slug: input.slug,
        bio,
        avatar_url,
        email,
        password: input.password,
        role: input.role.unwrap_or(Role::Author),
    })
}

/// Validates a PATCH into the columns it changes; `password_hash` is filled by the caller.
pub fn validate_update(input: UpdateAuthor) -> Result<(AuthorUpdateForm, Option<String>), ApiError> {
    let mut errors = Vec::new();
    let mut form = AuthorUpdateForm::default();
    if let Some(name) = &input.name {
        form.name = Some(check_name(name, &mut errors));
    }
    if let Some(slug) = input.slug {
        check_slug(&slug, &mut errors);
        form.slug = Some(slug);
    }
    if let Some(bio) = input.bio {
        form.bio = Some(check_bio(bio, &mut errors));
    }
    if let Some(url) = input.avatar_url {
        form.avatar_url = Some(check_avatar(url, &mut errors));
    }
    if let Some(email) = input.email {
        let email = check_email(email, &mut errors);
        form.email_key = Some(email.as_deref().map(email_key));
        form.email = Some(email);
    }
    if let Some(password) = &input.password
        && let Err(e) =
            crate::auth::password::check_new(password, form.email.clone().flatten().as_deref(), "password")
    {
        errors.push(e);
    }
    form.role = input.role.map(|r| r.as_str().to_owned());
    form.active = input.active;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok((form, input.password))
}

fn conflict(e: DieselError) -> ApiError {
    crate::error::unique_conflict(
        e,
        &[
            ("email", Code::AccountEmailTaken),
            ("slug", Code::AuthorSlugTaken),
        ],
    )
}

fn slug_taken(conn: &mut Db, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut query = authors::table.filter(authors::slug.eq(slug)).into_boxed();
    if let Some(id) = except {
        query = query.filter(authors::id.ne(id));
    }
    query.count().get_result::<i64>(conn).map(|n| n > 0)
}

/// The name's slug, or the first of `slug-2`, `slug-3`, … that is free.
fn unique_slug(conn: &mut Db, name: &str) -> Result<String, ApiError> {
    for candidate in text::slug_candidates(name, "author", 999) {
        if !slug_taken(conn, &candidate, None)? {
            return Ok(candidate);
        }
    }
    Err(ApiError::conflict(Code::AuthorSlugExhausted))
}

/// Creates an account; `actor` is the administrator who asked, `None` for the command line
/// and the first admin at start.
pub fn create(
    conn: &mut Db,
    actor: Option<i64>,
    input: ValidNewAuthor,
    password_hash: Option<String>,
) -> Result<AuthorRow, ApiError> {
    let slug = match input.slug {
        Some(slug) => {
            if slug_taken(conn, &slug, None)? {
                return Err(ApiError::conflict(Code::AuthorSlugTaken));
            }
            slug
        }
        None => unique_slug(conn, &input.name)?,
    };
    let at = now();
    let form = AuthorInsertForm {
        slug,
        name: input.name,
        bio: input.bio,
        avatar_url: input.avatar_url,
        email_key: input.email.as_deref().map(email_key),
        email: input.email,
        password_hash,
        role: input.role.as_str().to_owned(),
        active: true,
        created_at: at,
        updated_at: at,
    };
    let detail = serde_json::json!({
        "slug": form.slug,
        "role": form.role,
        "can_sign_in": form.email.is_some() && form.password_hash.is_some(),
    });
    conn.transaction::<_, ApiError, _>(|conn| {
        let id: i64 = diesel::insert_into(authors::table)
            .values(&form)
            .returning(authors::id)
            .get_result(conn)
            .map_err(conflict)?;
        Entry::new(actor, "account.create", Resource::Account, Some(id))
            .detail(detail)
            .record(conn)?;
        find(conn, id)
    })
}

pub fn find(conn: &mut Db, id: i64) -> Result<AuthorRow, ApiError> {
    authors::table
        .find(id)
        .select(AuthorRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::AuthorNotFound))
}

pub fn find_by_slug(conn: &mut Db, slug: &str) -> Result<AuthorRow, ApiError> {
    if !text::is_valid_slug(slug) {
        return Err(ApiError::not_found(Code::AuthorNotFound));
    }
    authors::table
        .filter(authors::slug.eq(slug))
        .select(AuthorRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::AuthorNotFound))
}

pub fn find_by_email(conn: &mut Db, email: &str) -> QueryResult<Option<AuthorRow>> {
    authors::table
        .filter(authors::email_key.eq(email_key(email)))
        .select(AuthorRow::as_select())
        .first(conn)
        .optional()
}

/// Applies a validated change by `actor` (an administrator, or the account itself).
/// Deactivation, a new password or a new role end the account's sessions (refresh tokens);
/// their access tokens stop working at once because every request re-reads the account and
/// its session.
pub fn update(
    conn: &mut Db,
    actor: Option<i64>,
    id: i64,
    form: AuthorUpdateForm,
) -> Result<AuthorRow, ApiError> {
    change(conn, actor, id, form, "account.update")
}

/// What a change does to an account, for the audit log: the names of the fields it sets to
/// something new, and the old and new role and active flag. Never the values of the email
/// or password.
fn changes(current: &AuthorRow, form: &AuthorUpdateForm) -> serde_json::Value {
    let mut fields = Vec::new();
    let mut detail = serde_json::Map::new();
    if form.name.as_ref().is_some_and(|n| n != &current.name) {
        fields.push("name");
    }
    if form.slug.as_ref().is_some_and(|s| s != &current.slug) {
        fields.push("slug");
    }
    if form.bio.as_ref().is_some_and(|b| b != &current.bio) {
        fields.push("bio");
    }
    if form.avatar_url.as_ref().is_some_and(|a| a != &current.avatar_url) {
        fields.push("avatar_url");
    }
    if form.email.as_ref().is_some_and(|e| e != &current.email) {
        fields.push("email");
    }
    if form.password_hash.is_some() {
        fields.push("password");
    }
    if let Some(role) = form.role.as_ref().filter(|r| *r != &current.role) {
        fields.push("role");
        detail.insert(
            "role".into(),
            serde_json::json!({ "from": current.role, "to": role }),
        );
    }
    if let Some(active) = form.active.filter(|a| *a != current.active) {
        fields.push("active");
        detail.insert(
            "active".into(),
            serde_json::json!({ "from": current.active, "to": active }),
        );
    }
    detail.insert("fields".into(), serde_json::json!(fields));
    serde_json::Value::Object(detail)
}

fn change(
    conn: &mut Db,
    actor: Option<i64>,
    id: i64,
    mut form: AuthorUpdateForm,
    action: &'static str,
) -> Result<AuthorRow, ApiError> {
    let current = find(conn, id)?;
    if let Some(slug) = &form.slug
        && slug != &current.slug
        && slug_taken(conn, slug, Some(id))?
    {
        return Err(ApiError::conflict(Code::AuthorSlugTaken));
    }
    let email_after = form.email.clone().unwrap_or(current.email.clone());
    let password_after = form
        .password_hash
        .clone()
        .unwrap_or(current.password_hash.clone());
    if password_after.is_some() && email_after.is_none() {
        return Err(ApiError::validation("email", FieldCode::EmailRequired));
    }
    let ends_sessions = form.active == Some(false)
        || form.password_hash.is_some()
        || form.role.as_deref().is_some_and(|r| r != current.role)
        || form.email.is_some();
    form.updated_at = Some(now());
    let detail = changes(&current, &form);
    conn.transaction::<_, ApiError, _>(|conn| {
        diesel::update(authors::table.find(id))
            .set(&form)
            .execute(conn)
            .map_err(conflict)?;
        if ends_sessions {
            sessions::revoke_all(conn, id, None)?;
        }
        Entry::new(actor, action, Resource::Account, Some(id))
            .detail(detail)
            .record(conn)?;
        // Bylines show the public profile; lists of authors show who is active.
        crate::cache::changed(conn, crate::cache::Scope::Content)?;
        find(conn, id)
    })
}

pub fn deactivate(conn: &mut Db, actor: Option<i64>, id: i64) -> Result<AuthorRow, ApiError> {
    change(
        conn,
        actor,
        id,
        AuthorUpdateForm {
            active: Some(false),
            ..AuthorUpdateForm::default()
        },
        "account.deactivate",
    )
}

/// Filters of the administrators' list.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    /// Only accounts with this role.
    pub role: Option<Role>,
    /// Only active (`true`) or deactivated (`false`) accounts.
    pub active: Option<bool>,
}

pub fn list(conn: &mut Db, page: Page, filter: &AccountFilter) -> Result<(Vec<AuthorRow>, i64), ApiError> {
    let build = || {
        let mut q = authors::table.into_boxed();
        if let Some(role) = filter.role {
            q = q.filter(authors::role.eq(role.as_str()));
        }
        if let Some(active) = filter.active {
            q = q.filter(authors::active.eq(active));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order((authors::name.asc(), authors::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(AuthorRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Any account that can sign in?
pub fn any_account(conn: &mut Db) -> QueryResult<bool> {
    authors::table
        .filter(authors::password_hash.is_not_null())
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// Stores a new password hash without touching sessions (the caller decides which end).
pub fn set_password(conn: &mut Db, id: i64, hash: &str) -> QueryResult<usize> {
    diesel::update(authors::table.find(id))
        .set((authors::password_hash.eq(hash), authors::updated_at.eq(now())))
        .execute(conn)
}

/// Published articles with each of these authors in the byline.
pub fn published_counts(conn: &mut Db, ids: &[i64]) -> QueryResult<std::collections::HashMap<i64, i64>> {
    use crate::articles::model::ArticleState;
    use crate::db::schema::{article_authors, articles};
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut query = article_authors::table
        .inner_join(articles::table)
        .filter(articles::status.eq(ArticleState::Published.as_str()))
        .filter(articles::published_at.le(now()))
        .group_by(article_authors::author_id)
        .select((article_authors::author_id, diesel::dsl::count_star()))
        .into_boxed();
    // SQLite walks the live articles' index and looks up each one's byline by its key. Given
    // the authors too, it looked up every article once per author asked for (0.21 s at
    // 100,000 articles for 14 authors, against 48 ms counting them all), so it counts every
    // author and the others are dropped here. PostgreSQL plans the filter well.
    if conn.backend() == crate::db::Backend::Postgres {
        query = query.filter(article_authors::author_id.eq_any(ids));
    }
    let rows: Vec<(i64, i64)> = query.load(conn)?;
    Ok(rows.into_iter().filter(|(id, _)| ids.contains(id)).collect())
}

/// Public profiles with their counts of published articles.
fn public(conn: &mut Db, rows: Vec<AuthorRow>) -> QueryResult<Vec<PublicAuthor>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts = published_counts(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let count = counts.get(&row.id).copied().unwrap_or(0);
            PublicAuthor::from_row(row, count)
        })
        .collect())
}

/// The public list of author profiles, by name.
pub fn public_profiles(conn: &mut Db, page: Page) -> Result<List<PublicAuthor>, ApiError> {
    let (rows, total) = list(conn, page, &AccountFilter::default())?;
    Ok(page.list(public(conn, rows)?, total))
}

pub fn public_profile(conn: &mut Db, slug: &str) -> Result<PublicAuthor, ApiError> {
    let row = find_by_slug(conn, slug)?;
    public(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("profile of a loaded author missing"))
}

fn accounts(rows: Vec<AuthorRow>) -> Result<Vec<Account>, ApiError> {
    rows.into_iter().map(Account::try_from).collect()
}

/// Every account with its private fields, for an administrator.
pub fn list_accounts(
    conn: &mut Db,
    user: &AuthUser,
    page: PageQuery,
    filter: &AccountFilter,
) -> Result<List<Account>, ApiError> {
    policy::require(user, Action::ManageAccounts)?;
    let page = page.resolve()?;
    let (rows, total) = list(conn, page, filter)?;
    Ok(page.list(accounts(rows)?, total))
}

pub fn get_account(conn: &mut Db, user: &AuthUser, id: i64) -> Result<Account, ApiError> {
    policy::require(user, Action::ManageAccounts)?;
    Account::try_from(find(conn, id)?)
}

/// An account created by an administrator; the password is hashed off the async workers.
pub async fn create_account(
    state: &AppState,
    user: &AuthUser,
    input: CreateAuthor,
) -> Result<Account, ApiError> {
    policy::require(user, Action::ManageAccounts)?;
    let mut input = validate_new(input)?;
    let hash = match input.password.take() {
        Some(pw) => Some(password::hash_off_thread(pw).await?),
        None => None,
    };
    let actor = user.id;
    let row = state
        .db
        .run(move |conn| create(conn, Some(actor), input, hash))
        .await?;
    Account::try_from(row)
}

/// A change to an account by an administrator, who may not demote or deactivate themself.
pub async fn update_account(
    state: &AppState,
    user: &AuthUser,
    id: i64,
    input: UpdateAuthor,
) -> Result<Account, ApiError> {
    policy::require(user, Action::ManageAccounts)?;
    let (mut form, new_password) = validate_update(input)?;
    if let Some(pw) = new_password {
        form.password_hash = Some(Some(password::hash_off_thread(pw).await?));
    }
    if id == user.id
        && (form.active == Some(false) || form.role.as_deref().is_some_and(|r| r != Role::Admin.as_str()))
    {
        return Err(ApiError::conflict(Code::AccountSelfDemote));
    }
    let actor = user.id;
    let row = state
        .db
        .run(move |conn| update(conn, Some(actor), id, form))
        .await?;
    Account::try_from(row)
}

pub fn deactivate_account(conn: &mut Db, user: &AuthUser, id: i64) -> Result<(), ApiError> {
    policy::require(user, Action::ManageAccounts)?;
    if id == user.id {
        return Err(ApiError::conflict(Code::AccountSelfDeactivate));
    }
    deactivate(conn, Some(user.id), id)?;
    Ok(())
}
