//! Checking and normalising what an editor writes before it is saved.

use diesel::prelude::*;

use super::model::{ArticleState, Content};
use super::render;
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action, ArticleFacts};
use crate::db::Db;
use crate::db::schema::authors;
use crate::error::{ApiError, FieldError};
use crate::i18n::FieldCode;
use crate::media::uses;
use crate::taxonomy::service as taxonomy;
use crate::text;

const TITLE_MAX: usize = 300;
const SUMMARY_MAX: usize = 2000;
const SOURCE_MAX: usize = 100;
const META_TITLE_MAX: usize = 300;
const META_DESCRIPTION_MAX: usize = 500;
const URL_MAX: usize = 2048;
const FEATURED_RANK_MAX: i64 = 1_000_000;

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
    c: Content,
    tag_names: Option<Vec<String>>,
) -> Result<Content, ApiError> {
    let mut errors = Vec::new();
    let mut c = check_text(c, &mut errors);
    check_references(conn, user, &c, &mut errors)?;
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

/// The checks that need no database, normalising as they go; the importer makes them away
/// from the connection, on its preparing thread.
pub(crate) fn check_text(mut c: Content, errors: &mut Vec<FieldError>) -> Content {
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
    c.summary = optional_text(c.summary, "summary", SUMMARY_MAX, errors);
    c.source = optional_text(c.source, "source", SOURCE_MAX, errors);
    c.meta_title = optional_text(c.meta_title, "meta_title", META_TITLE_MAX, errors);
    c.meta_description = optional_text(
        c.meta_description,
        "meta_description",
        META_DESCRIPTION_MAX,
        errors,
    );
    c.cover_image_url = optional_url(c.cover_image_url, "cover_image_url", errors);
    c.canonical_url = optional_url(c.canonical_url, "canonical_url", errors);
    if !(0..=FEATURED_RANK_MAX).contains(&c.featured_rank) {
        errors.push(
            FieldError::new("featured_rank", FieldCode::NumberOutOfRange)
                .arg("min", 0)
                .arg("max", FEATURED_RANK_MAX),
        );
    }
    c
}

/// The checks of ids against the database, in the order the API reports them.
fn check_references(
    conn: &mut Db,
    user: &AuthUser,
    c: &Content,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
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
    let body_images = render::image_refs(&c.body, c.body_format).ids;
    errors.extend(uses::check(conn, &c.files(), &body_images)?);
    Ok(())
}
