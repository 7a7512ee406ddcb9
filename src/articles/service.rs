//! The editorial side of articles: writing, the workflow, revisions. Permission checks are
//! made here, against facts read in the same call, through `auth::policy`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::dto::{ArticleInput, ArticlePatch, Byline, EditorialArticle};
use super::model::{ArticleRow, ArticleState, Content};
use super::render::{self, BodyFormat};
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action, ArticleFacts};
use crate::cache::{self, Scope};
use crate::db::schema::{article_authors, article_revisions, article_tags, articles, authors};
use crate::db::{Db, now};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode, Msg};
use crate::taxonomy::service as taxonomy;
use crate::text;
use crate::webhooks::{self, Event};

pub const TITLE_MAX: usize = 300;
pub const SUMMARY_MAX: usize = 2000;
pub const SOURCE_MAX: usize = 100;
pub const META_TITLE_MAX: usize = 300;
pub const META_DESCRIPTION_MAX: usize = 500;
pub const URL_MAX: usize = 2048;

/// Bylines of many articles at once, in byline order.
pub fn bylines(conn: &mut Db, article_ids: &[i64]) -> QueryResult<HashMap<i64, Vec<Byline>>> {
    let mut map: HashMap<i64, Vec<Byline>> = HashMap::new();
    if article_ids.is_empty() {
        return Ok(map);
    }
    let rows: Vec<(i64, Byline)> = article_authors::table
        .inner_join(authors::table)
        .filter(article_authors::article_id.eq_any(article_ids))
        .order((article_authors::article_id, article_authors::position))
        .select((article_authors::article_id, Byline::as_select()))
        .load(conn)?;
    for (article, byline) in rows {
        map.entry(article).or_default().push(byline);
    }
    Ok(map)
}

fn author_ids_of(conn: &mut Db, article_id: i64) -> QueryResult<Vec<i64>> {
    article_authors::table
        .filter(article_authors::article_id.eq(article_id))
        .order(article_authors::position)
        .select(article_authors::author_id)
        .load(conn)
}

fn tag_ids_of(conn: &mut Db, article_id: i64) -> QueryResult<Vec<i64>> {
    article_tags::table
        .filter(article_tags::article_id.eq(article_id))
        .order(article_tags::tag_id)
        .select(article_tags::tag_id)
        .load(conn)
}

/// What webhook subscribers receive about an article, read inside the transaction of the
/// change so it shows the change.
fn event_data(conn: &mut Db, id: i64) -> Result<serde_json::Value, ApiError> {
    let row = find_row(conn, id)?;
    Ok(serde_json::json!({
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "summary": row.summary,
        "status": row.status,
        "category_id": row.category_id,
        "version": row.version,
        "published_at": row.published_at.map(|t| crate::time::format(&t.and_utc())),
        "updated_at": crate::time::format(&row.updated_at.and_utc()),
    }))
}

fn find_row(conn: &mut Db, id: i64) -> Result<ArticleRow, ApiError> {
    articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::ArticleNotFound))
}

/// The article and what the policy needs to know about it for this caller. An article the
/// caller may not even see is a 404, so its existence is not revealed.
fn load_for(conn: &mut Db, user: &AuthUser, id: i64) -> Result<(ArticleRow, ArticleFacts), ApiError> {
    let row = find_row(conn, id)?;
    let own = article_authors::table
        .filter(article_authors::article_id.eq(id))
        .filter(article_authors::author_id.eq(user.id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    let facts = ArticleFacts {
        own,
        state: row.state()?,
    };
    if !policy::allows(user.role, Action::ViewArticle(facts)) {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    Ok((row, facts))
}

/// The article as editors see it.
/// What list items show besides their own row: bylines, tags and categories, read in three
/// batch queries whatever the number of articles.
pub struct Relations {
    authors: HashMap<i64, Vec<Byline>>,
    tags: HashMap<i64, Vec<crate::taxonomy::service::Tag>>,
    categories: HashMap<i64, crate::taxonomy::service::CategoryRef>,
}

impl Relations {
    /// For articles given as `(id, category_id)`.
    pub fn load(conn: &mut Db, articles: &[(i64, Option<i64>)]) -> QueryResult<Self> {
        let ids: Vec<i64> = articles.iter().map(|(id, _)| *id).collect();
        let category_ids: Vec<i64> = articles.iter().filter_map(|(_, c)| *c).collect();
        Ok(Relations {
            authors: bylines(conn, &ids)?,
            tags: taxonomy::tags_of(conn, &ids)?,
            categories: taxonomy::category_refs(conn, &category_ids)?,
        })
    }

    /// The category, tags and byline of one article, taken out of the batch.
    pub fn take(
        &mut self,
        id: i64,
        category: Option<i64>,
    ) -> (
        Option<crate::taxonomy::service::CategoryRef>,
        Vec<crate::taxonomy::service::Tag>,
        Vec<Byline>,
    ) {
        (
            category.and_then(|c| self.categories.get(&c).cloned()),
            self.tags.remove(&id).unwrap_or_default(),
            self.authors.remove(&id).unwrap_or_default(),
        )
    }
}

/// Articles as editors see them.
pub fn editorial_many(conn: &mut Db, rows: Vec<ArticleRow>) -> Result<Vec<EditorialArticle>, ApiError> {
    let keys: Vec<(i64, Option<i64>)> = rows.iter().map(|r| (r.id, r.category_id)).collect();
    let mut relations = Relations::load(conn, &keys)?;
    rows.into_iter()
        .map(|row| {
            let (category, tags, authors) = relations.take(row.id, row.category_id);
            editorial_from(row, category, tags, authors)
        })
        .collect()
}

/// One article as editors see it.
pub fn editorial(conn: &mut Db, row: ArticleRow) -> Result<EditorialArticle, ApiError> {
    editorial_many(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("an editorial view of a loaded row is missing"))
}

fn editorial_from(
    row: ArticleRow,
    category: Option<crate::taxonomy::service::CategoryRef>,
    tags: Vec<crate::taxonomy::service::Tag>,
    authors: Vec<Byline>,
) -> Result<EditorialArticle, ApiError> {
    Ok(EditorialArticle {
        status: row.state()?,
        body_format: BodyFormat::parse(&row.body_format),
        id: row.id,
        slug: row.slug,
        title: row.title,
        summary: row.summary,
        source: row.source,
        body: row.body,
        body_html: row.body_html,
        cover_image_url: row.cover_image_url,
        category,
        tags,
        authors,
        meta_title: row.meta_title,
        meta_description: row.meta_description,
        comments_enabled: row.comments_enabled,
        version: row.version,
        publish_at: row.publish_at.map(|t| t.and_utc()),
        published_at: row.published_at.map(|t| t.and_utc()),
        view_count: row.view_count,
        comment_count: row.comment_count,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn reload(conn: &mut Db, id: i64) -> Result<EditorialArticle, ApiError> {
    let row = find_row(conn, id)?;
    editorial(conn, row)
}

pub fn get(conn: &mut Db, user: &AuthUser, id: i64) -> Result<EditorialArticle, ApiError> {
    let (row, _) = load_for(conn, user, id)?;
    editorial(conn, row)
}

fn optional_text(
    value: Option<String>,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value.map(|v| text::clean(&v)).filter(|v| !v.is_empty());
    if value.as_deref().is_some_and(|v| !text::storable(v)) {
        errors.push(FieldError::new(field, FieldCode::InvalidCharacter));
    }
    if value.as_deref().is_some_and(|v| text::char_len(v) > max) {
        errors.push(FieldError::new(field, FieldCode::TooLong).arg("max", max));
    }
    value
}

fn optional_url(value: Option<String>, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(v) = &value {
        let ok = v.len() <= URL_MAX
            && url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            errors.push(FieldError::new(field, FieldCode::InvalidUrl).arg("max", URL_MAX));
        }
    }
    value
}

/// Checks and normalises content; ids that must exist are checked against the database.
pub(crate) fn check_content(
    conn: &mut Db,
    user: &AuthUser,
    mut c: Content,
    tag_names: Option<Vec<String>>,
) -> Result<Content, ApiError> {
    let mut errors = Vec::new();
    c.title = text::clean(&c.title);
    for (field, value) in [("title", &c.title), ("body", &c.body)] {
        if !text::storable(value) {
            errors.push(FieldError::new(field, FieldCode::InvalidCharacter));
        }
    }
    errors.extend(FieldError::length(
        "title",
        text::char_len(&c.title),
        1,
        TITLE_MAX,
    ));
    if !text::is_valid_slug(&c.slug) {
        errors.push(FieldError::new("slug", FieldCode::InvalidFormat).arg("max", text::SLUG_MAX));
    }
    c.summary = optional_text(c.summary, "summary", SUMMARY_MAX, &mut errors);
    c.source = optional_text(c.source, "source", SOURCE_MAX, &mut errors);
    c.meta_title = optional_text(c.meta_title, "meta_title", META_TITLE_MAX, &mut errors);
    c.meta_description = optional_text(
        c.meta_description,
        "meta_description",
        META_DESCRIPTION_MAX,
        &mut errors,
    );
    c.cover_image_url = optional_url(c.cover_image_url, "cover_image_url", &mut errors);
    if let Some(category) = c.category_id
        && !taxonomy::category_exists(conn, category)?
    {
        errors.push(FieldError::new("category_id", FieldCode::UnknownReference));
    }
    if c.author_ids.is_empty() {
        errors.push(FieldError::new("author_ids", FieldCode::Required));
    } else {
        let mut unique = c.author_ids.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != c.author_ids.len() {
            errors.push(FieldError::new("author_ids", FieldCode::Duplicate));
        }
        let found: i64 = authors::table
            .filter(authors::id.eq_any(&unique))
            .count()
            .get_result(conn)?;
        if found != unique.len() as i64 {
            errors.push(FieldError::new("author_ids", FieldCode::UnknownReference));
        }
        // Whoever may edit only their own articles must stay in the byline, or they would lock
        // themselves out of their own work.
        let edits_any = policy::allows(
            user.role,
            Action::EditArticle(ArticleFacts {
                own: false,
                state: ArticleState::Draft,
            }),
        );
        if !edits_any && !c.author_ids.contains(&user.id) {
            errors.push(FieldError::new("author_ids", FieldCode::MustIncludeSelf));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if !c.tag_ids.is_empty() {
        taxonomy::existing_tag_ids(conn, &c.tag_ids)?;
    }
    if let Some(names) = tag_names {
        for id in taxonomy::tag_ids_for_names(conn, user.id, &names)? {
            if !c.tag_ids.contains(&id) {
                c.tag_ids.push(id);
            }
        }
    }
    c.tag_ids.sort_unstable();
    c.tag_ids.dedup();
    Ok(c)
}

fn slug_taken(conn: &mut Db, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut q = articles::table.filter(articles::slug.eq(slug)).into_boxed();
    if let Some(id) = except {
        q = q.filter(articles::id.ne(id));
    }
    q.count().get_result::<i64>(conn).map(|n| n > 0)
}

/// The title's slug, or the first free `slug-2`, `slug-3`, …
pub fn unique_slug(conn: &mut Db, title: &str) -> Result<String, ApiError> {
    for candidate in text::slug_candidates(title, "bai-viet", 9_999) {
        if !slug_taken(conn, &candidate, None)? {
            return Ok(candidate);
        }
    }
    Err(ApiError::conflict(Code::ArticleSlugExhausted))
}

fn slug_conflict(e: DieselError) -> ApiError {
    crate::error::unique_conflict(e, &[("slug", Code::ArticleSlugTaken)])
}

fn write_relations(conn: &mut Db, id: i64, c: &Content) -> QueryResult<()> {
    diesel::delete(article_authors::table.filter(article_authors::article_id.eq(id))).execute(conn)?;
    for (position, author) in c.author_ids.iter().enumerate() {
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(id),
                article_authors::author_id.eq(author),
                article_authors::position.eq(position as i64),
            ))
            .execute(conn)?;
    }
    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(id))).execute(conn)?;
    for tag in &c.tag_ids {
        diesel::insert_into(article_tags::table)
            .values((article_tags::article_id.eq(id), article_tags::tag_id.eq(tag)))
            .execute(conn)?;
    }
    Ok(())
}

fn write_revision(
    conn: &mut Db,
    id: i64,
    version: i64,
    c: &Content,
    editor: Option<i64>,
) -> Result<(), ApiError> {
    let content = serde_json::to_string(c).map_err(|e| ApiError::internal(e.to_string()))?;
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(id),
            article_revisions::version.eq(version),
            article_revisions::content.eq(content),
            article_revisions::edited_by.eq(editor),
            article_revisions::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Initial workflow state of an imported or demo article.
pub struct Placement {
    pub status: ArticleState,
    pub published_at: Option<NaiveDateTime>,
}

/// Inserts a validated article with its relations and first revision, in one transaction.
pub fn insert(
    conn: &mut Db,
    c: &Content,
    created_by: Option<i64>,
    placement: Placement,
) -> Result<i64, ApiError> {
    let body_html = render::to_html(&c.body, c.body_format);
    let at = now();
    conn.transaction::<_, ApiError, _>(|conn| {
        let id: i64 = diesel::insert_into(articles::table)
            .values((
                articles::slug.eq(&c.slug),
                articles::title.eq(&c.title),
                articles::summary.eq(&c.summary),
                articles::source.eq(&c.source),
                articles::body.eq(&c.body),
                articles::body_format.eq(c.body_format.as_str()),
                articles::body_html.eq(&body_html),
                articles::cover_image_url.eq(&c.cover_image_url),
                articles::category_id.eq(c.category_id),
                articles::meta_title.eq(&c.meta_title),
                articles::meta_description.eq(&c.meta_description),
                articles::comments_enabled.eq(c.comments_enabled),
                articles::status.eq(placement.status.as_str()),
                articles::version.eq(1),
                articles::published_at.eq(placement.published_at),
                articles::created_by.eq(created_by),
                articles::created_at.eq(at),
                articles::updated_at.eq(at),
            ))
            .returning(articles::id)
            .get_result(conn)
            .map_err(slug_conflict)?;
        write_relations(conn, id, c)?;
        write_revision(conn, id, 1, c, created_by)?;
        let live = placement
            .published_at
            .filter(|_| placement.status == ArticleState::Published);
        crate::search::index(conn, id, live, &c.title, c.summary.as_deref(), &body_html)?;
        if placement.status == ArticleState::Published {
            cache::changed(conn, Scope::Content)?;
            let data = event_data(conn, id)?;
            webhooks::emit(conn, Event::ArticlePublished, &[data])?;
        }
        Entry::new(created_by, "article.create", Resource::Article, Some(id))
            .detail(serde_json::json!({ "status": placement.status }))
            .record(conn)?;
        Ok(id)
    })
}

pub fn create(conn: &mut Db, user: &AuthUser, input: ArticleInput) -> Result<EditorialArticle, ApiError> {
    policy::require(user, Action::CreateArticle)?;
    let slug = match input.slug {
        Some(slug) => {
            if text::is_valid_slug(&slug) && slug_taken(conn, &slug, None)? {
                return Err(ApiError::conflict(Code::ArticleSlugTaken));
            }
            slug
        }
        None => unique_slug(conn, &input.title)?,
    };
    let content = Content {
        title: input.title,
        slug,
        summary: input.summary,
        source: input.source,
        body: input.body,
        body_format: input.body_format.unwrap_or(BodyFormat::Markdown),
        cover_image_url: input.cover_image_url,
        category_id: input.category_id,
        meta_title: input.meta_title,
        meta_description: input.meta_description,
        comments_enabled: input.comments_enabled.unwrap_or(true),
        tag_ids: input.tag_ids.unwrap_or_default(),
        author_ids: input.author_ids.unwrap_or_else(|| vec![user.id]),
    };
    let content = check_content(conn, user, content, input.tags)?;
    // The answer is read in the transaction that wrote it, like every other write's.
    conn.transaction(|conn| {
        let id = insert(
            conn,
            &content,
            Some(user.id),
            Placement {
                status: ArticleState::Draft,
                published_at: None,
            },
        )?;
        reload(conn, id)
    })
}

/// Saves new content if the article is still at `expected`; returns the article as this
/// transaction wrote it, read before the commit so a later edit cannot show through.
///
/// The version check is the UPDATE's own WHERE clause, and it is the transaction's first
/// statement: of concurrent edits based on one version exactly one matches, the others change
/// nothing and get 409. Writing first also makes SQLite take its write lock at once instead
/// of failing to upgrade a read lock.
fn save(
    conn: &mut Db,
    id: i64,
    expected: i64,
    c: &Content,
    editor: i64,
    audit: Entry,
) -> Result<EditorialArticle, ApiError> {
    let body_html = render::to_html(&c.body, c.body_format);
    let next = expected + 1;
    conn.transaction::<_, ApiError, _>(|conn| {
        let changed = diesel::update(
            articles::table
                .filter(articles::id.eq(id))
                .filter(articles::version.eq(expected)),
        )
        .set((
            articles::slug.eq(&c.slug),
            articles::title.eq(&c.title),
            articles::summary.eq(&c.summary),
            articles::source.eq(&c.source),
            articles::body.eq(&c.body),
            articles::body_format.eq(c.body_format.as_str()),
            articles::body_html.eq(&body_html),
            articles::cover_image_url.eq(&c.cover_image_url),
            articles::category_id.eq(c.category_id),
            articles::meta_title.eq(&c.meta_title),
            articles::meta_description.eq(&c.meta_description),
            articles::comments_enabled.eq(c.comments_enabled),
            articles::version.eq(next),
            articles::updated_at.eq(now()),
        ))
        .returning((articles::status, articles::published_at))
        .get_results::<(String, Option<NaiveDateTime>)>(conn)
        .map_err(slug_conflict)?;
        // Read under the row lock this UPDATE holds: a publish racing the edit cannot slip
        // between the status read here and the commit.
        let Some((status, published_at)) = changed.into_iter().next() else {
            return Err(stale(conn, id));
        };
        let state = ArticleState::stored(&status, id)?;
        let live = published_at.filter(|_| state == ArticleState::Published);
        if live.is_some() {
            cache::changed(conn, Scope::Content)?;
        }
        write_relations(conn, id, c)?;
        write_revision(conn, id, next, c, Some(editor))?;
        crate::search::index(conn, id, live, &c.title, c.summary.as_deref(), &body_html)?;
        if live.is_some() {
            let data = event_data(conn, id)?;
            webhooks::emit(conn, Event::ArticleUpdated, &[data])?;
        }
        audit.record(conn)?;
        reload(conn, id)
    })
}

fn stale(conn: &mut Db, id: i64) -> ApiError {
    match articles::table
        .find(id)
        .select(articles::version)
        .first::<i64>(conn)
    {
        Ok(current) => ApiError::Conflict(Msg::new(Code::ArticleVersionConflict).arg("current", current)),
        Err(e) => ApiError::from(e),
    }
}

pub fn update(
    conn: &mut Db,
    user: &AuthUser,
    id: i64,
    expected: i64,
    patch: ArticlePatch,
) -> Result<EditorialArticle, ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::EditArticle(facts))?;
    if row.version != expected {
        return Err(stale(conn, id));
    }
    let mut c = row.content(tag_ids_of(conn, id)?, author_ids_of(conn, id)?);
    if let Some(v) = patch.title {
        c.title = v;
    }
    if let Some(v) = patch.slug {
        if text::is_valid_slug(&v) && v != c.slug && slug_taken(conn, &v, Some(id))? {
            return Err(ApiError::conflict(Code::ArticleSlugTaken));
        }
        c.slug = v;
    }
    if let Some(v) = patch.summary {
        c.summary = v;
    }
    if let Some(v) = patch.body {
        c.body = v;
    }
    if let Some(v) = patch.body_format {
        c.body_format = v;
    }
    if let Some(v) = patch.source {
        c.source = v;
    }
    if let Some(v) = patch.cover_image_url {
        c.cover_image_url = v;
    }
    if let Some(v) = patch.category_id {
        c.category_id = v;
    }
    if let Some(v) = patch.meta_title {
        c.meta_title = v;
    }
    if let Some(v) = patch.meta_description {
        c.meta_description = v;
    }
    if let Some(v) = patch.comments_enabled {
        c.comments_enabled = v;
    }
    if let Some(v) = patch.author_ids {
        c.author_ids = v;
    }
    if patch.tag_ids.is_some() || patch.tags.is_some() {
        c.tag_ids = patch.tag_ids.unwrap_or_default();
    }
    let c = check_content(conn, user, c, patch.tags)?;
    let audit = Entry::new(Some(user.id), "article.update", Resource::Article, Some(id))
        .detail(serde_json::json!({ "version": expected + 1 }));
    save(conn, id, expected, &c, user.id, audit)
}

/// Who asks for a workflow move, as the audit log names it.
struct Move {
    actor: Option<i64>,
    action: &'static str,
}

/// [`move_state`] in a transaction of its own, answering with the article as the move left
/// it, read before the commit.
fn transition(
    conn: &mut Db,
    id: i64,
    from: &[ArticleState],
    to: ArticleState,
    publish_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
    by: Move,
) -> Result<EditorialArticle, ApiError> {
    conn.transaction(|conn| {
        move_state(conn, id, from, to, publish_at, published_at, by)?;
        reload(conn, id)
    })
}

/// Moves the article from one of `from` to `to`; anything else is a 409 naming the state it
/// is in. Reports the move to webhook subscribers when it changes what readers see, and to
/// the audit log. Call it inside a transaction.
fn move_state(
    conn: &mut Db,
    id: i64,
    from: &[ArticleState],
    to: ArticleState,
    publish_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
    by: Move,
) -> Result<(), ApiError> {
    // Written first: the row stays locked (SQLite: the write lock is taken) until the
    // commit, so the state read next is the state moved from.
    let found = diesel::update(articles::table.find(id))
        .set(articles::version.eq(articles::version))
        .execute(conn)?;
    if found == 0 {
        return Err(ApiError::not_found(Code::ArticleNotFound));
    }
    let current = find_row(conn, id)?.state()?;
    if !from.contains(&current) {
        return Err(ApiError::Conflict(
            Msg::new(Code::ArticleIllegalTransition)
                .arg("from", current.as_str())
                .arg("to", to.as_str()),
        ));
    }
    diesel::update(articles::table.find(id))
        .set((
            articles::status.eq(to.as_str()),
            articles::publish_at.eq(publish_at),
            articles::published_at.eq(published_at),
            articles::updated_at.eq(now()),
        ))
        .execute(conn)?;
    let live = published_at.filter(|_| to == ArticleState::Published);
    crate::search::rekey(conn, id, live)?;
    let was_public = current == ArticleState::Published;
    let public = to == ArticleState::Published;
    if was_public || public {
        cache::changed(conn, Scope::Content)?;
        let data = event_data(conn, id)?;
        let event = if public {
            Event::ArticlePublished
        } else {
            Event::ArticleUnpublished
        };
        webhooks::emit(conn, event, &[data])?;
    }
    let mut detail = serde_json::json!({ "from": current, "to": to });
    if let Some(at) = publish_at {
        detail["publish_at"] = serde_json::json!(crate::time::format(&at.and_utc()));
    }
    Entry::new(by.actor, by.action, Resource::Article, Some(id))
        .detail(detail)
        .record(conn)?;
    Ok(())
}

pub fn submit(conn: &mut Db, user: &AuthUser, id: i64) -> Result<EditorialArticle, ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::EditArticle(facts))?;
    transition(
        conn,
        id,
        &[ArticleState::Draft],
        ArticleState::InReview,
        None,
        row.published_at,
        Move {
            actor: Some(user.id),
            action: "article.submit",
        },
    )
}

/// Publishes now, or schedules when `publish_at` is in the future.
pub fn publish(
    conn: &mut Db,
    user: &AuthUser,
    id: i64,
    publish_at: Option<DateTime<Utc>>,
) -> Result<EditorialArticle, ApiError> {
    let (_, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::PublishArticle(facts))?;
    let at = now();
    let from = [
        ArticleState::Draft,
        ArticleState::InReview,
        ArticleState::Scheduled,
    ];
    match publish_at.map(|t| t.naive_utc()) {
        Some(when) if when > at => {
            let when = crate::db::truncate(when);
            let by = Move {
                actor: Some(user.id),
                action: "article.schedule",
            };
            transition(conn, id, &from, ArticleState::Scheduled, Some(when), None, by)
        }
        _ => {
            let by = Move {
                actor: Some(user.id),
                action: "article.publish",
            };
            transition(conn, id, &from, ArticleState::Published, None, Some(at), by)
        }
    }
}

pub fn unpublish(conn: &mut Db, user: &AuthUser, id: i64) -> Result<EditorialArticle, ApiError> {
    let (_, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::PublishArticle(facts))?;
    transition(
        conn,
        id,
        &[ArticleState::Published, ArticleState::Scheduled],
        ArticleState::Draft,
        None,
        None,
        Move {
            actor: Some(user.id),
            action: "article.unpublish",
        },
    )
}

/// `DELETE`: archives. The article leaves every public list; its history stays.
pub fn archive(conn: &mut Db, user: &AuthUser, id: i64) -> Result<(), ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::DeleteArticle(facts))?;
    let from = [
        ArticleState::Draft,
        ArticleState::InReview,
        ArticleState::Scheduled,
        ArticleState::Published,
    ];
    let by = Move {
        actor: Some(user.id),
        action: "article.archive",
    };
    conn.transaction(|conn| {
        move_state(
            conn,
            id,
            &from,
            ArticleState::Archived,
            None,
            row.published_at,
            by,
        )
    })
}

/// Publishes every scheduled article that is due, in one statement: safe with any number of
/// processes, since each row can leave `scheduled` only once. Returns the ids published.
pub fn publish_due(conn: &mut Db) -> Result<Vec<i64>, ApiError> {
    let at = now();
    conn.transaction::<_, ApiError, _>(|conn| {
        let published = diesel::update(
            articles::table
                .filter(articles::status.eq(ArticleState::Scheduled.as_str()))
                .filter(articles::publish_at.le(at)),
        )
        .set((
            articles::status.eq(ArticleState::Published.as_str()),
            articles::published_at.eq(articles::publish_at),
            articles::updated_at.eq(at),
        ))
        .returning((articles::id, articles::published_at))
        .get_results::<(i64, Option<NaiveDateTime>)>(conn)?;
        let mut events = Vec::with_capacity(published.len());
        for (id, published_at) in &published {
            crate::search::rekey(conn, *id, *published_at)?;
            events.push(event_data(conn, *id)?);
            // No actor: the system did it, at the time an editor scheduled.
            Entry::new(None, "article.publish", Resource::Article, Some(*id))
                .detail(serde_json::json!({ "from": ArticleState::Scheduled, "to": ArticleState::Published }))
                .record(conn)?;
        }
        if !published.is_empty() {
            cache::changed(conn, Scope::Content)?;
        }
        webhooks::emit(conn, Event::ArticlePublished, &events)?;
        Ok(published.into_iter().map(|(id, _)| id).collect())
    })
}

/// Filters of the editorial list.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EditorialFilter {
    /// Only articles in this state.
    pub status: Option<ArticleState>,
    /// Only articles with this author (slug) in the byline.
    pub author: Option<String>,
    /// Only articles in this category (slug).
    pub category: Option<String>,
    /// Search, as on the public list: every word in the title, summary or body, the last
    /// one as a prefix, quoted phrases in order, case and diacritics ignored.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// Every article the caller may see, newest change first.
pub fn list(
    conn: &mut Db,
    user: &AuthUser,
    page: crate::envelope::Page,
    filter: &EditorialFilter,
) -> Result<(Vec<EditorialArticle>, i64), ApiError> {
    let sees_all = policy::allows(
        user.role,
        Action::ViewArticle(ArticleFacts {
            own: false,
            state: ArticleState::Draft,
        }),
    );
    if !sees_all
        && !policy::allows(
            user.role,
            Action::ViewArticle(ArticleFacts {
                own: true,
                state: ArticleState::Draft,
            }),
        )
    {
        return Err(ApiError::Forbidden(
            Msg::new(Code::ArticleNoAccess).arg("role", user.role.as_str()),
        ));
    }
    let unknown = |slug: &Option<String>| slug.as_deref().is_some_and(|s| !text::is_valid_slug(s));
    if unknown(&filter.author) || unknown(&filter.category) {
        return Ok((Vec::new(), 0));
    }
    let author_id: Option<i64> = match &filter.author {
        Some(slug) => match authors::table
            .filter(authors::slug.eq(slug))
            .select(authors::id)
            .first(conn)
            .optional()?
        {
            Some(id) => Some(id),
            None => return Ok((Vec::new(), 0)),
        },
        None => None,
    };
    let category_ids = match &filter.category {
        Some(slug) => match taxonomy::category_and_descendants(conn, slug)? {
            Some(ids) => Some(ids),
            None => return Ok((Vec::new(), 0)),
        },
        None => None,
    };
    let search = filter
        .q
        .as_deref()
        .map(crate::search::Search::parse)
        .transpose()?
        .flatten();
    if search.as_ref().is_some_and(crate::search::Search::is_empty) {
        return Ok((Vec::new(), 0));
    }
    let backend = conn.backend();
    let user_id = user.id;
    let status = filter.status;
    let build = || {
        let mut q = articles::table.into_boxed();
        if let Some(status) = status {
            q = q.filter(articles::status.eq(status.as_str()));
        }
        if let Some(author) = author_id {
            q = q.filter(
                articles::id.eq_any(
                    article_authors::table
                        .filter(article_authors::author_id.eq(author))
                        .select(article_authors::article_id),
                ),
            );
        }
        if !sees_all {
            q = q.filter(
                articles::id.eq_any(
                    article_authors::table
                        .filter(article_authors::author_id.eq(user_id))
                        .select(article_authors::article_id),
                ),
            );
        }
        if let Some(ids) = &category_ids {
            q = q.filter(articles::category_id.eq_any(ids.clone()));
        }
        if let Some(search) = &search {
            q = q.filter(search.matches(backend));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows: Vec<ArticleRow> = build()
        .order((articles::updated_at.desc(), articles::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(ArticleRow::as_select())
        .load(conn)?;
    Ok((editorial_many(conn, rows)?, total))
}

#[derive(Queryable)]
struct RevisionRow {
    version: i64,
    content: String,
    edited_by: Option<i64>,
    created_at: NaiveDateTime,
}

fn editor_bylines(conn: &mut Db, ids: Vec<i64>) -> QueryResult<HashMap<i64, Byline>> {
    let rows: Vec<Byline> = authors::table
        .filter(authors::id.eq_any(ids))
        .select(Byline::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|b| (b.id, b)).collect())
}

fn parse_content(raw: &str) -> Result<Content, ApiError> {
    serde_json::from_str(raw).map_err(|e| ApiError::internal(format!("unreadable revision: {e}")))
}

pub fn revisions(
    conn: &mut Db,
    user: &AuthUser,
    id: i64,
) -> Result<Vec<super::dto::RevisionSummary>, ApiError> {
    load_for(conn, user, id)?;
    let rows: Vec<RevisionRow> = article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .order(article_revisions::version.desc())
        .select((
            article_revisions::version,
            article_revisions::content,
            article_revisions::edited_by,
            article_revisions::created_at,
        ))
        .load(conn)?;
    let editors = editor_bylines(conn, rows.iter().filter_map(|r| r.edited_by).collect())?;
    rows.into_iter()
        .map(|r| {
            Ok(super::dto::RevisionSummary {
                version: r.version,
                title: parse_content(&r.content)?.title,
                edited_by: r.edited_by.and_then(|e| editors.get(&e).cloned()),
                created_at: r.created_at.and_utc(),
            })
        })
        .collect()
}

fn revision_row(conn: &mut Db, id: i64, version: i64) -> Result<RevisionRow, ApiError> {
    article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .filter(article_revisions::version.eq(version))
        .select((
            article_revisions::version,
            article_revisions::content,
            article_revisions::edited_by,
            article_revisions::created_at,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::RevisionNotFound))
}

pub fn revision(
    conn: &mut Db,
    user: &AuthUser,
    id: i64,
    version: i64,
) -> Result<super::dto::Revision, ApiError> {
    load_for(conn, user, id)?;
    let r = revision_row(conn, id, version)?;
    let editors = editor_bylines(conn, r.edited_by.into_iter().collect())?;
    Ok(super::dto::Revision {
        version: r.version,
        edited_by: r.edited_by.and_then(|e| editors.get(&e).cloned()),
        created_at: r.created_at.and_utc(),
        content: parse_content(&r.content)?,
    })
}

/// Brings back an earlier version's content as a new version. Tags, categories or authors
/// deleted since are dropped from the restored content rather than failing the restore.
pub fn restore(conn: &mut Db, user: &AuthUser, id: i64, version: i64) -> Result<EditorialArticle, ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::EditArticle(facts))?;
    let mut c = parse_content(&revision_row(conn, id, version)?.content)?;
    if slug_taken(conn, &c.slug, Some(id))? {
        c.slug = row.slug.clone();
    }
    if let Some(category) = c.category_id
        && !taxonomy::category_exists(conn, category)?
    {
        c.category_id = None;
    }
    let live_tags: Vec<i64> = crate::db::schema::tags::table
        .filter(crate::db::schema::tags::id.eq_any(&c.tag_ids))
        .select(crate::db::schema::tags::id)
        .load(conn)?;
    c.tag_ids.retain(|t| live_tags.contains(t));
    let live_authors: Vec<i64> = authors::table
        .filter(authors::id.eq_any(&c.author_ids))
        .select(authors::id)
        .load(conn)?;
    c.author_ids.retain(|a| live_authors.contains(a));
    let c = check_content(conn, user, c, None)?;
    let audit = Entry::new(Some(user.id), "article.restore", Resource::Article, Some(id))
        .detail(serde_json::json!({ "restored": version, "version": row.version + 1 }));
    save(conn, id, row.version, &c, user.id, audit)
}
