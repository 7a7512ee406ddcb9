//! The media library in the database: listing, describing and deleting files, and the rows
//! an upload writes once its files are stored.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::json;

use super::dto::{Media, MediaFilter, MediaPatch, Uploader};
use super::links::Links;
use super::model::{MediaChanges, MediaKind, MediaRow, NewMedia, StoredVariant};
use crate::audit::{Entry, Resource};
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action, MediaFacts};
use crate::cache::{self, Scope};
use crate::db::schema::{article_media, articles, authors, media};
use crate::db::{Db, now};
use crate::envelope::{List, PageQuery};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode, Msg};
use crate::text;
use crate::webhooks::{self, Event};

pub const MAX_ALT: usize = 500;
pub const MAX_CAPTION: usize = 1000;
pub const MAX_CREDIT: usize = 300;
pub const MAX_TITLE: usize = 300;
pub const MAX_QUERY: usize = 200;

/// Articles named in a refused deletion, at most.
const NAMED_ARTICLES: i64 = 10;

/// The describing fields of a file, checked: trimmed, empty as none, within their limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Description {
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub title: Option<String>,
}

impl Description {
    /// Checks raw values; an image must have alt text.
    pub fn check(
        kind: MediaKind,
        alt: Option<String>,
        caption: Option<String>,
        credit: Option<String>,
        title: Option<String>,
    ) -> Result<Description, ApiError> {
        let mut errors = Vec::new();
        let mut field = |name: &str, value: Option<String>, max: usize| {
            let value = value.map(|v| text::clean(&v)).filter(|v| !v.is_empty());
            if let Some(e) = value
                .as_deref()
                .and_then(|v| FieldError::length(name, text::char_len(v), 1, max))
            {
                errors.push(e);
            }
            value
        };
        let description = Description {
            alt: field("alt", alt, MAX_ALT),
            caption: field("caption", caption, MAX_CAPTION),
            credit: field("credit", credit, MAX_CREDIT),
            title: field("title", title, MAX_TITLE),
        };
        if kind == MediaKind::Image && description.alt.is_none() {
            errors.push(FieldError::new("alt", FieldCode::Required));
        }
        if errors.is_empty() {
            Ok(description)
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    /// What search matches: the filename and every describing text, folded.
    pub fn folded(&self, filename: &str) -> String {
        let parts = [
            Some(filename),
            self.alt.as_deref(),
            self.caption.as_deref(),
            self.credit.as_deref(),
            self.title.as_deref(),
        ];
        text::fold(&parts.into_iter().flatten().collect::<Vec<_>>().join(" "))
    }
}

/// A stored upload, ready to become a row.
#[derive(Debug, Clone)]
pub struct Stored {
    pub kind: MediaKind,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub dimensions: Option<(u32, u32)>,
    pub key: String,
    pub variants: Vec<StoredVariant>,
}

/// Writes the row of an upload whose files are in the store, with its audit entry and event.
/// Who may upload is asked before the upload is read (see [`super::upload::receive`]).
pub fn insert(
    conn: &mut Db,
    uploaded_by: Option<i64>,
    links: &Links,
    stored: &Stored,
    description: &Description,
) -> Result<Media, ApiError> {
    let at = now();
    let variants = serde_json::to_string(&stored.variants)
        .map_err(|e| ApiError::internal(format!("variants of an upload: {e}")))?;
    let row = NewMedia {
        kind: stored.kind.as_str(),
        filename: &stored.filename,
        content_type: &stored.content_type,
        size: stored.size,
        sha256: &stored.sha256,
        width: stored.dimensions.map(|(w, _)| i64::from(w)),
        height: stored.dimensions.map(|(_, h)| i64::from(h)),
        alt: description.alt.as_deref(),
        caption: description.caption.as_deref(),
        credit: description.credit.as_deref(),
        title: description.title.as_deref(),
        storage_key: &stored.key,
        variants,
        folded: description.folded(&stored.filename),
        uploaded_by,
        created_at: at,
        updated_at: at,
    };
    conn.transaction(|conn| {
        let id: i64 = diesel::insert_into(media::table)
            .values(row)
            .returning(media::id)
            .get_result(conn)?;
        let shown = one(conn, links, id)?;
        Entry::new(uploaded_by, "media.upload", Resource::Media, Some(id))
            .detail(json!({"filename": stored.filename, "kind": stored.kind, "sha256": stored.sha256}))
            .record(conn)?;
        webhooks::emit(conn, Event::MediaCreated, &[event_body(&shown)?])?;
        Ok(shown)
    })
}

fn event_body(media: &Media) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(media).map_err(|e| ApiError::internal(format!("media event: {e}")))
}

pub fn find(conn: &mut Db, id: i64) -> Result<MediaRow, ApiError> {
    media::table
        .find(id)
        .select(MediaRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::MediaNotFound))
}

fn one(conn: &mut Db, links: &Links, id: i64) -> Result<Media, ApiError> {
    let row = find(conn, id)?;
    shown(conn, links, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("a loaded media row vanished"))
}

/// How many articles use each file.
fn used_by(conn: &mut Db, ids: &[i64]) -> QueryResult<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pairs: Vec<(i64, i64)> = article_media::table
        .filter(article_media::media_id.eq_any(ids))
        .select((article_media::media_id, article_media::article_id))
        .distinct()
        .load(conn)?;
    let mut counts = HashMap::new();
    for (media_id, _) in pairs {
        *counts.entry(media_id).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Rows as editors see them, with uploaders and use counts read in two batch queries.
fn shown(conn: &mut Db, links: &Links, rows: Vec<MediaRow>) -> Result<Vec<Media>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts = used_by(conn, &ids)?;
    let uploader_ids: Vec<i64> = rows.iter().filter_map(|r| r.uploaded_by).collect();
    let uploaders: HashMap<i64, String> = if uploader_ids.is_empty() {
        HashMap::new()
    } else {
        authors::table
            .filter(authors::id.eq_any(&uploader_ids))
            .select((authors::id, authors::name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    rows.into_iter()
        .map(|row| {
            let kind = row.kind()?;
            let variants = links.variants(&row.stored_variants()?);
            Ok(Media {
                id: row.id,
                kind,
                url: links.url(&row.storage_key),
                variants,
                uploaded_by: row.uploaded_by.and_then(|id| {
                    uploaders.get(&id).map(|name| Uploader {
                        id,
                        name: name.clone(),
                    })
                }),
                used_by: counts.get(&row.id).copied().unwrap_or(0),
                created_at: row.created_at.and_utc(),
                updated_at: row.updated_at.and_utc(),
                filename: row.filename,
                content_type: row.content_type,
                size: row.size,
                sha256: row.sha256,
                width: row.width,
                height: row.height,
                alt: row.alt,
                caption: row.caption,
                credit: row.credit,
                title: row.title,
            })
        })
        .collect()
}

/// The library, newest first.
pub fn list(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    page: PageQuery,
    filter: &MediaFilter,
) -> Result<List<Media>, ApiError> {
    policy::require(user, Action::UseMedia)?;
    let page = page.resolve()?;
    let words: Vec<String> = match filter.q.as_deref() {
        Some(q) if text::char_len(q) > MAX_QUERY => {
            return Err(ApiError::BadRequest(
                Msg::new(Code::SearchTooLong).arg("max", MAX_QUERY),
            ));
        }
        Some(q) => text::fold(q)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(text::like_contains)
            .collect(),
        None => Vec::new(),
    };
    let build = || {
        let mut q = media::table.into_boxed();
        if let Some(kind) = filter.kind {
            q = q.filter(media::kind.eq(kind.as_str()));
        }
        if let Some(uploader) = filter.uploaded_by {
            q = q.filter(media::uploaded_by.eq(uploader));
        }
        for word in &words {
            q = q.filter(media::folded.like(word.clone()).escape('\\'));
        }
        q
    };
    let total: i64 = build().count().get_result(conn)?;
    let rows = build()
        .order((media::created_at.desc(), media::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(MediaRow::as_select())
        .load(conn)?;
    Ok(page.list(shown(conn, links, rows)?, total))
}

pub fn get(conn: &mut Db, user: &AuthUser, links: &Links, id: i64) -> Result<Media, ApiError> {
    policy::require(user, Action::UseMedia)?;
    one(conn, links, id)
}

/// The ids and titles of articles using a file, the first few.
fn users_of(conn: &mut Db, id: i64) -> QueryResult<(i64, Vec<(i64, String)>)> {
    let using = article_media::table
        .filter(article_media::media_id.eq(id))
        .select(article_media::article_id);
    let count: i64 = articles::table
        .filter(articles::id.eq_any(using))
        .count()
        .get_result(conn)?;
    let named = articles::table
        .filter(articles::id.eq_any(using))
        .order(articles::id)
        .limit(NAMED_ARTICLES)
        .select((articles::id, articles::title))
        .load(conn)?;
    Ok((count, named))
}

/// Asks the policy about a file, knowing who uploaded it and whether it is used.
fn require_edit(conn: &mut Db, user: &AuthUser, row: &MediaRow) -> Result<(), ApiError> {
    let used = !used_by(conn, &[row.id])?.is_empty();
    let own = row.uploaded_by == Some(user.id);
    policy::require(user, Action::EditMedia(MediaFacts { own, used }))
}

pub fn update(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    id: i64,
    patch: MediaPatch,
) -> Result<Media, ApiError> {
    policy::require(user, Action::UseMedia)?;
    let row = find(conn, id)?;
    require_edit(conn, user, &row)?;
    let pick =
        |sent: Option<Option<String>>, current: &Option<String>| sent.unwrap_or_else(|| current.clone());
    let description = Description::check(
        row.kind()?,
        pick(patch.alt, &row.alt),
        pick(patch.caption, &row.caption),
        pick(patch.credit, &row.credit),
        pick(patch.title, &row.title),
    )?;
    let mut fields = Vec::new();
    for (name, before, after) in [
        ("alt", &row.alt, &description.alt),
        ("caption", &row.caption, &description.caption),
        ("credit", &row.credit, &description.credit),
        ("title", &row.title, &description.title),
    ] {
        if before != after {
            fields.push(name);
        }
    }
    conn.transaction(|conn| {
        diesel::update(media::table.find(id))
            .set(MediaChanges {
                folded: description.folded(&row.filename),
                alt: description.alt,
                caption: description.caption,
                credit: description.credit,
                title: description.title,
                updated_at: now(),
            })
            .execute(conn)?;
        Entry::new(Some(user.id), "media.update", Resource::Media, Some(id))
            .detail(json!({"fields": fields}))
            .record(conn)?;
        // Covers and attachments show these texts to readers.
        cache::changed(conn, Scope::Content)?;
        one(conn, links, id)
    })
}

/// Deletes a file no article uses; answers the store keys no other row names, to remove
/// once the deletion has committed.
pub fn delete(conn: &mut Db, user: &AuthUser, id: i64) -> Result<Vec<String>, ApiError> {
    policy::require(user, Action::UseMedia)?;
    let row = find(conn, id)?;
    require_edit(conn, user, &row)?;
    conn.transaction(|conn| {
        let (count, named) = users_of(conn, id)?;
        if count > 0 {
            let titles: Vec<String> = named.iter().map(|(id, title)| format!("#{id} {title}")).collect();
            return Err(ApiError::Conflict(
                Msg::new(Code::MediaInUse)
                    .arg("count", count)
                    .arg("articles", titles.join("; ")),
            ));
        }
        diesel::delete(media::table.find(id)).execute(conn)?;
        let shared: i64 = media::table
            .filter(media::sha256.eq(&row.sha256))
            .count()
            .get_result(conn)?;
        Entry::new(Some(user.id), "media.delete", Resource::Media, Some(id))
            .detail(json!({"filename": row.filename, "sha256": row.sha256}))
            .record(conn)?;
        webhooks::emit(
            conn,
            Event::MediaDeleted,
            &[json!({"id": id, "kind": row.kind, "filename": row.filename, "sha256": row.sha256})],
        )?;
        if shared > 0 { Ok(Vec::new()) } else { row.keys() }
    })
}

/// Every store key some row names, for the sweeper.
pub fn referenced_keys(conn: &mut Db) -> Result<std::collections::HashSet<String>, ApiError> {
    let rows: Vec<MediaRow> = media::table.select(MediaRow::as_select()).load(conn)?;
    let mut keys = std::collections::HashSet::new();
    for row in rows {
        keys.extend(row.keys()?);
    }
    Ok(keys)
}
