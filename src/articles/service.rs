//! Writing an article's content: creating one, editing it under optimistic locking, and the
//! insert that imports and the demo content share. Permission checks are made here, against
//! facts read in the same call, through `auth::policy`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{ArticleInput, ArticlePatch, EditorialArticle};
use super::editorial::{event_data, load_for, reload};
use super::model::{ArticleRow, ArticleState, Content, ContentColumns};
use super::relations::{author_ids_of, tag_ids_of, write_relations};
use super::render::{self, BodyFormat};
use super::revisions::write_revision;
use super::slug::{claim, keep_former, slug_conflict, slug_taken, unique_slug};
use super::validate::check_content;
use super::workflow::check_unpublish_at;
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action};
use crate::cache::{self, Scope};
use crate::db::schema::articles;
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::{Code, Msg};
use crate::media::links::Links;
use crate::media::uses;
use crate::text;
use crate::webhooks::{self, Event};

/// Initial workflow state of an imported or demo article.
pub struct Placement {
    pub status: ArticleState,
    pub published_at: Option<NaiveDateTime>,
}

/// Inserts a validated article with its relations and first revision, in one transaction.
pub fn insert(
    conn: &mut Db,
    links: &Links,
    c: &Content,
    created_by: Option<i64>,
    placement: Placement,
) -> Result<i64, ApiError> {
    let (body_html, body_images) = rendered(conn, links, c)?;
    let at = now();
    conn.transaction::<_, ApiError, _>(|conn| {
        let id: i64 = diesel::insert_into(articles::table)
            .values((
                ContentColumns::new(c, &body_html),
                articles::status.eq(placement.status.as_str()),
                articles::version.eq(1),
                articles::published_at.eq(placement.published_at),
                articles::was_public.eq(placement.status == ArticleState::Published),
                articles::created_by.eq(created_by),
                articles::created_at.eq(at),
                articles::updated_at.eq(at),
            ))
            .returning(articles::id)
            .get_result(conn)
            .map_err(slug_conflict)?;
        claim(conn, id, &c.slug)?;
        write_relations(conn, id, c, &body_images)?;
        write_revision(conn, id, 1, c, created_by, None)?;
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

/// The body as readers get it, with its library images sized from the library, and the ids
/// of those images.
fn rendered(conn: &mut Db, links: &Links, c: &Content) -> Result<(String, Vec<i64>), ApiError> {
    let refs = render::image_refs(&c.body, c.body_format);
    let images = uses::body_images(conn, links, &refs.ids, &refs.hashes)?;
    Ok((render::to_html(&c.body, c.body_format, &images), images.ids()))
}

pub fn create(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    input: ArticleInput,
) -> Result<EditorialArticle, ApiError> {
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
        cover_media_id: input.cover_media_id,
        attachment_ids: input.attachment_ids.unwrap_or_default(),
        featured: input.featured.unwrap_or(false),
        featured_rank: input.featured_rank.unwrap_or(0),
        noindex: input.noindex.unwrap_or(false),
        canonical_url: input.canonical_url,
    };
    if content.featured || content.featured_rank != 0 {
        policy::require(user, Action::FeatureArticle)?;
    }
    let content = check_content(conn, user, content, input.tags)?;
    // The answer is read in the transaction that wrote it, like every other write's.
    conn.transaction(|conn| {
        let id = insert(
            conn,
            links,
            &content,
            Some(user.id),
            Placement {
                status: ArticleState::Draft,
                published_at: None,
            },
        )?;
        reload(conn, links, id)
    })
}

/// Saves new content over `base`, the row as the edit found it, if the article is still at
/// `base`'s version; returns the article as this transaction wrote it, read before the commit
/// so a later edit cannot show through.
///
/// The version check is the UPDATE's own WHERE clause, and it is the transaction's first
/// statement: of concurrent edits based on one version exactly one matches, the others change
/// nothing and get 409. Writing first also makes SQLite take its write lock at once instead
/// of failing to upgrade a read lock.
pub(super) fn save(
    conn: &mut Db,
    links: &Links,
    base: &ArticleRow,
    c: &Content,
    editor: i64,
    audit: Entry,
) -> Result<EditorialArticle, ApiError> {
    let (body_html, body_images) = rendered(conn, links, c)?;
    let (id, expected) = (base.id, base.version);
    let next = expected + 1;
    conn.transaction::<_, ApiError, _>(|conn| {
        let changed = diesel::update(
            articles::table
                .filter(articles::id.eq(id))
                .filter(articles::version.eq(expected)),
        )
        .set((
            ContentColumns::new(c, &body_html),
            articles::version.eq(next),
            articles::updated_at.eq(now()),
        ))
        .returning((articles::status, articles::published_at, articles::was_public))
        .get_results::<(String, Option<NaiveDateTime>, bool)>(conn)
        .map_err(slug_conflict)?;
        // Read under the row lock this UPDATE holds: a publish racing the edit cannot slip
        // between the status read here and the commit.
        let Some((status, published_at, was_public)) = changed.into_iter().next() else {
            return Err(stale(conn, id));
        };
        // Versions number slug changes too, so `base`'s slug is the one just left.
        if c.slug != base.slug {
            claim(conn, id, &c.slug)?;
            keep_former(conn, id, &base.slug, was_public)?;
        }
        let state = ArticleState::stored(&status, id)?;
        let live = published_at.filter(|_| state == ArticleState::Published);
        if live.is_some() {
            cache::changed(conn, Scope::Content)?;
        }
        write_relations(conn, id, c, &body_images)?;
        write_revision(conn, id, next, c, Some(editor), Some(&base.body))?;
        crate::search::index(conn, id, live, &c.title, c.summary.as_deref(), &body_html)?;
        if live.is_some() {
            let data = event_data(conn, id)?;
            webhooks::emit(conn, Event::ArticleUpdated, &[data])?;
        }
        audit.record(conn)?;
        reload(conn, links, id)
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
    links: &Links,
    id: i64,
    expected: i64,
    patch: ArticlePatch,
) -> Result<EditorialArticle, ApiError> {
    let (row, facts) = load_for(conn, user, id)?;
    policy::require(user, Action::EditArticle(facts))?;
    if row.version != expected {
        return Err(stale(conn, id));
    }
    let mut c = row.content(
        tag_ids_of(conn, id)?,
        author_ids_of(conn, id)?,
        uses::files_of(conn, id)?,
    );
    if let Some(v) = &patch.slug
        && text::is_valid_slug(v)
        && *v != c.slug
        && slug_taken(conn, v, Some(id))?
    {
        return Err(ApiError::conflict(Code::ArticleSlugTaken));
    }
    let unpublish_at = patch
        .unpublish_at
        .map(|t| t.map(|t| crate::db::truncate(t.naive_utc())));
    let placement = (c.featured, c.featured_rank);
    let tag_names = patch.apply(&mut c);
    if (c.featured, c.featured_rank) != placement {
        policy::require(user, Action::FeatureArticle)?;
    }
    if let Some(Some(at)) = unpublish_at {
        let publication = match row.state()? {
            ArticleState::Published => row.published_at,
            ArticleState::Scheduled => row.publish_at,
            _ => None,
        };
        let at_now = now();
        check_unpublish_at(Some(at), publication.map_or(at_now, |p| p.max(at_now)))?;
    }
    let c = check_content(conn, user, c, tag_names)?;
    let audit = Entry::new(Some(user.id), "article.update", Resource::Article, Some(id))
        .detail(serde_json::json!({ "version": expected + 1 }));
    let Some(unpublish_at) = unpublish_at else {
        return save(conn, links, &row, &c, user.id, audit);
    };
    // Written in the save's transaction and under its version check, so the time is set by
    // the edit that wins or by none.
    conn.transaction(|conn| {
        diesel::update(
            articles::table
                .filter(articles::id.eq(id))
                .filter(articles::version.eq(expected)),
        )
        .set(articles::unpublish_at.eq(unpublish_at))
        .execute(conn)?;
        save(conn, links, &row, &c, user.id, audit)
    })
}
