//! Files as articles use them: covers, attachments and images in bodies. Articles name files
//! by id; this module checks those ids, records the uses (which keep a used file from being
//! deleted), and gives readers' views of the files.

use std::collections::HashMap;

use diesel::prelude::*;

use super::dto::{Attachment, Cover};
use super::links::Links;
use super::model::{MediaKind, MediaRow, Use};
use crate::db::Db;
use crate::db::ids::IdMap;
use crate::db::schema::{article_media, media};
use crate::error::FieldError;
use crate::i18n::FieldCode;

/// The library files an article names as its cover and attachments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Files {
    pub cover: Option<i64>,
    pub attachments: Vec<i64>,
}

/// Most attachments one article may have.
pub const MAX_ATTACHMENTS: usize = 50;

/// The cover and attachments an article names.
pub fn files_of(conn: &mut Db, article_id: i64) -> QueryResult<Files> {
    let rows: Vec<(String, i64)> = article_media::table
        .filter(article_media::article_id.eq(article_id))
        .filter(article_media::role.ne(Use::Body.as_str()))
        .order((article_media::role, article_media::position))
        .select((article_media::role, article_media::media_id))
        .load(conn)?;
    let mut files = Files::default();
    for (role, id) in rows {
        if role == Use::Cover.as_str() {
            files.cover = Some(id);
        } else {
            files.attachments.push(id);
        }
    }
    Ok(files)
}

/// Checks the ids an article names: each must be in the library, the cover and body images
/// must be images, and no attachment may be named twice.
pub fn check(conn: &mut Db, files: &Files, body_images: &[i64]) -> QueryResult<Vec<FieldError>> {
    let mut ids: Vec<i64> = files.attachments.clone();
    ids.extend(files.cover);
    ids.extend(body_images);
    let kinds: HashMap<i64, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        media::table
            .filter(media::id.eq_any(&ids))
            .select((media::id, media::kind))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    let is_image = |id: &i64| kinds.get(id).map(|k| k == MediaKind::Image.as_str());
    let mut errors = Vec::new();
    match files.cover.as_ref().map(is_image) {
        Some(None) => errors.push(FieldError::new("cover_media_id", FieldCode::UnknownReference)),
        Some(Some(false)) => errors.push(FieldError::new("cover_media_id", FieldCode::NotAnImage)),
        _ => {}
    }
    if files.attachments.len() > MAX_ATTACHMENTS {
        errors.push(
            FieldError::new("attachment_ids", FieldCode::OutOfRange)
                .arg("min", 0)
                .arg("max", MAX_ATTACHMENTS),
        );
    }
    if files.attachments.iter().any(|id| !kinds.contains_key(id)) {
        errors.push(FieldError::new("attachment_ids", FieldCode::UnknownReference));
    }
    let mut unique = files.attachments.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != files.attachments.len() {
        errors.push(FieldError::new("attachment_ids", FieldCode::Duplicate));
    }
    if body_images.iter().any(|id| is_image(id) != Some(true)) {
        errors.push(FieldError::new("body", FieldCode::UnknownReference));
    }
    Ok(errors)
}

/// Rewrites the uses of an article whose content is being saved.
pub fn write(conn: &mut Db, article_id: i64, files: &Files, body_images: &[i64]) -> QueryResult<()> {
    diesel::delete(article_media::table.filter(article_media::article_id.eq(article_id))).execute(conn)?;
    let mut body = body_images.to_vec();
    body.sort_unstable();
    body.dedup();
    let uses = files
        .cover
        .iter()
        .map(|id| (Use::Cover, 0, *id))
        .chain(
            files
                .attachments
                .iter()
                .enumerate()
                .map(|(i, id)| (Use::Attachment, i, *id)),
        )
        .chain(body.iter().enumerate().map(|(i, id)| (Use::Body, i, *id)));
    for (role, position, media_id) in uses {
        diesel::insert_into(article_media::table)
            .values((
                article_media::article_id.eq(article_id),
                article_media::media_id.eq(media_id),
                article_media::role.eq(role.as_str()),
                article_media::position.eq(position as i64),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn cover_of(links: &Links, row: MediaRow) -> Option<Cover> {
    Some(Cover {
        url: links.url(&row.storage_key),
        variants: links.variants(&row.stored_variants().ok()?),
        width: row.width?,
        height: row.height?,
        alt: row.alt,
        caption: row.caption,
        credit: row.credit,
    })
}

/// The covers of articles, by article id, given as `(article id, cover's file id)`.
pub fn covers_of(conn: &mut Db, links: &Links, uses: &[(i64, i64)]) -> QueryResult<IdMap<Cover>> {
    if uses.is_empty() {
        return Ok(IdMap::default());
    }
    let mut ids: Vec<i64> = uses.iter().map(|(_, file)| *file).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<MediaRow> = crate::db::direct::load!(
        conn,
        media::table
            .filter(crate::db::ids::in_ids(media::id, &ids))
            .select(MediaRow::as_select()),
    )?;
    let files: IdMap<MediaRow> = rows.into_iter().map(|row| (row.id, row)).collect();
    // A file deleted since its use was read is left out, as the join it replaces left it.
    Ok(uses
        .iter()
        .filter_map(|(article, file)| Some((*article, cover_of(links, files.get(file)?.clone())?)))
        .collect())
}

/// An article's attachments, in order.
pub fn attachments(conn: &mut Db, links: &Links, article_id: i64) -> QueryResult<Vec<Attachment>> {
    let rows: Vec<MediaRow> = article_media::table
        .inner_join(media::table)
        .filter(article_media::article_id.eq(article_id))
        .filter(article_media::role.eq(Use::Attachment.as_str()))
        .order(article_media::position)
        .select(MediaRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|row| attachment_of(links, row)).collect())
}

/// The `<img>` a body shows for a library image: every rendition in its own format in
/// `srcset`, its size (so the page does not jump as it loads), and lazy loading. `alt`
/// written in the body wins over the library's.
#[derive(Debug, Clone)]
pub struct BodyImage {
    src: String,
    srcset: String,
    width: i64,
    height: i64,
    alt: String,
}

/// Widest rendition used as `src`, for browsers that ignore `srcset`.
const FALLBACK_WIDTH: u32 = 1024;

impl BodyImage {
    fn of(links: &Links, row: &MediaRow) -> Option<BodyImage> {
        let (width, height) = (row.width?, row.height?);
        let own_format = row.content_type.strip_prefix("image/").unwrap_or("jpeg");
        let mut sized: Vec<(u32, String)> = row
            .stored_variants()
            .ok()?
            .into_iter()
            .filter(|v| v.format == own_format)
            .map(|v| (v.width, links.url(&v.key)))
            .collect();
        sized.push((u32::try_from(width).ok()?, links.url(&row.storage_key)));
        sized.sort_by_key(|(w, _)| *w);
        sized.dedup_by_key(|(w, _)| *w);
        let src = sized
            .iter()
            .rev()
            .find(|(w, _)| *w <= FALLBACK_WIDTH)
            .or(sized.first())
            .map(|(_, url)| url.clone())?;
        let srcset = sized
            .iter()
            .map(|(w, url)| format!("{url} {w}w"))
            .collect::<Vec<_>>()
            .join(", ");
        Some(BodyImage {
            src,
            srcset,
            width,
            height,
            alt: row.alt.clone().unwrap_or_default(),
        })
    }

    /// The element, with `alt` from the body when it gives one.
    pub fn html(&self, alt: &str) -> String {
        let alt = if alt.trim().is_empty() { &self.alt } else { alt };
        format!(
            r#"<img src="{}" srcset="{}" sizes="(max-width: {FALLBACK_WIDTH}px) 100vw, {FALLBACK_WIDTH}px" width="{}" height="{}" alt="{}" loading="lazy">"#,
            escape(&self.src),
            escape(&self.srcset),
            self.width,
            self.height,
            escape(alt)
        )
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The library images of a body, by id and by content hash.
#[derive(Debug, Default)]
pub struct BodyImages {
    images: HashMap<i64, BodyImage>,
    hashes: HashMap<String, i64>,
}

impl BodyImages {
    pub fn by_id(&self, id: i64) -> Option<&BodyImage> {
        self.images.get(&id)
    }

    pub fn by_hash(&self, hash: &str) -> Option<&BodyImage> {
        self.hashes.get(hash).and_then(|id| self.images.get(id))
    }

    /// The ids of the images shown, for the article's uses.
    pub fn ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.images.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

/// The library images a body names by id or by the content hash of one of their URLs.
pub fn body_images(conn: &mut Db, links: &Links, ids: &[i64], hashes: &[String]) -> QueryResult<BodyImages> {
    let mut found = BodyImages::default();
    if ids.is_empty() && hashes.is_empty() {
        return Ok(found);
    }
    let rows: Vec<MediaRow> = media::table
        .filter(media::id.eq_any(ids).or(media::sha256.eq_any(hashes)))
        .filter(media::kind.eq(MediaKind::Image.as_str()))
        .order(media::id)
        .select(MediaRow::as_select())
        .load(conn)?;
    for row in &rows {
        let Some(image) = BodyImage::of(links, row) else {
            continue;
        };
        // The first entry of a hash stands for every upload of the same bytes.
        if hashes.contains(&row.sha256) {
            found.hashes.entry(row.sha256.clone()).or_insert(row.id);
        }
        if ids.contains(&row.id) || found.hashes.get(&row.sha256) == Some(&row.id) {
            found.images.insert(row.id, image);
        }
    }
    Ok(found)
}

/// `media:ID` written as an image source.
pub fn media_ref(url: &str) -> Option<i64> {
    url.strip_prefix("media:")?.parse().ok().filter(|id| *id > 0)
}

/// What editors see of the files an article names: ids as written, and the files.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub cover_id: Option<i64>,
    pub cover: Option<Cover>,
    pub attachment_ids: Vec<i64>,
    pub attachments: Vec<Attachment>,
}

/// The covers and attachments of many articles at once, by article id.
pub fn shown(conn: &mut Db, links: &Links, article_ids: &[i64]) -> QueryResult<IdMap<Shown>> {
    let mut map: IdMap<Shown> = IdMap::default();
    if article_ids.is_empty() {
        return Ok(map);
    }
    let rows: Vec<(i64, String, MediaRow)> = crate::db::direct::load!(
        conn,
        article_media::table
            .inner_join(media::table)
            .filter(crate::db::ids::in_ids(article_media::article_id, article_ids))
            .filter(article_media::role.ne(Use::Body.as_str()))
            .order((article_media::article_id, article_media::position))
            .select((
                article_media::article_id,
                article_media::role,
                MediaRow::as_select(),
            )),
    )?;
    for (article, role, row) in rows {
        let entry = map.entry(article).or_default();
        if role == Use::Cover.as_str() {
            entry.cover_id = Some(row.id);
            entry.cover = cover_of(links, row);
        } else {
            entry.attachment_ids.push(row.id);
            entry.attachments.push(attachment_of(links, row));
        }
    }
    Ok(map)
}

fn attachment_of(links: &Links, row: MediaRow) -> Attachment {
    Attachment {
        url: links.url(&row.storage_key),
        filename: row.filename,
        title: row.title,
        content_type: row.content_type,
        size: row.size,
    }
}
