use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{Entry, Resource};
use crate::cache::{self, Scope};
use crate::db::schema::{article_tags, articles, categories, tags};
use crate::db::{Db, now};
use crate::error::{ApiError, FieldError};
use crate::i18n::{Code, FieldCode};
use crate::text;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub position: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tags)]
pub struct TagRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// A category as embedded in other resources.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct CategoryRef {
    pub id: i64,
    #[schema(example = "cai-cach-hanh-chinh")]
    pub slug: String,
    #[schema(example = "Cải cách hành chính")]
    pub name: String,
}

impl From<&CategoryRow> for CategoryRef {
    fn from(row: &CategoryRow) -> Self {
        CategoryRef {
            id: row.id,
            slug: row.slug.clone(),
            name: row.name.clone(),
        }
    }
}

/// A category with its place in the tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    /// Order among siblings, ascending.
    pub position: i64,
    #[schema(required)]
    pub parent: Option<CategoryRef>,
    /// Sub-categories, in order, each with its own children.
    #[schema(no_recursion)]
    pub children: Vec<Category>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Tag {
    pub id: i64,
    #[schema(example = "cai-cach-hanh-chinh")]
    pub slug: String,
    #[schema(example = "cải cách hành chính")]
    pub name: String,
}

impl From<TagRow> for Tag {
    fn from(row: TagRow) -> Self {
        Tag {
            id: row.id,
            slug: row.slug,
            name: row.name,
        }
    }
}

/// The whole tree, roots first, siblings by position then name.
pub fn tree(conn: &mut Db) -> QueryResult<Vec<Category>> {
    let rows: Vec<CategoryRow> = categories::table
        .order((
            categories::position.asc(),
            categories::name.asc(),
            categories::id.asc(),
        ))
        .select(CategoryRow::as_select())
        .load(conn)?;
    Ok(build_tree(&rows, None, &rows))
}

fn build_tree(rows: &[CategoryRow], parent: Option<i64>, all: &[CategoryRow]) -> Vec<Category> {
    rows.iter()
        .filter(|r| r.parent_id == parent)
        .map(|r| Category {
            id: r.id,
            slug: r.slug.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            position: r.position,
            parent: r
                .parent_id
                .and_then(|p| all.iter().find(|c| c.id == p))
                .map(CategoryRef::from),
            children: build_tree(rows, Some(r.id), all),
        })
        .collect()
}

/// One category with its sub-tree.
pub fn category_by_slug(conn: &mut Db, slug: &str) -> Result<Category, ApiError> {
    let all: Vec<CategoryRow> = categories::table
        .order((
            categories::position.asc(),
            categories::name.asc(),
            categories::id.asc(),
        ))
        .select(CategoryRow::as_select())
        .load(conn)?;
    let row = all
        .iter()
        .find(|c| c.slug == slug)
        .ok_or_else(|| ApiError::not_found(Code::CategoryNotFound))?;
    Ok(Category {
        id: row.id,
        slug: row.slug.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        position: row.position,
        parent: row
            .parent_id
            .and_then(|p| all.iter().find(|c| c.id == p))
            .map(CategoryRef::from),
        children: build_tree(&all, Some(row.id), &all),
    })
}

/// Ids of a category and all its descendants, so filtering by a section includes its
/// sub-sections.
pub fn category_and_descendants(conn: &mut Db, slug: &str) -> QueryResult<Option<Vec<i64>>> {
    let all: Vec<(i64, String, Option<i64>)> = categories::table
        .select((categories::id, categories::slug, categories::parent_id))
        .load(conn)?;
    let Some(root) = all.iter().find(|(_, s, _)| s == slug).map(|(id, _, _)| *id) else {
        return Ok(None);
    };
    let mut ids = vec![root];
    let mut i = 0;
    while i < ids.len() {
        let parent = ids[i];
        ids.extend(
            all.iter()
                .filter(|(_, _, p)| *p == Some(parent))
                .map(|(id, _, _)| *id),
        );
        i += 1;
    }
    Ok(Some(ids))
}

pub fn category_refs(conn: &mut Db, ids: &[i64]) -> QueryResult<HashMap<i64, CategoryRef>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<CategoryRow> = categories::table
        .filter(categories::id.eq_any(ids))
        .select(CategoryRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(|r| (r.id, CategoryRef::from(r))).collect())
}

/// Tags with at least one article, by name.
pub fn all_tags(conn: &mut Db) -> QueryResult<Vec<Tag>> {
    let rows: Vec<TagRow> = tags::table
        .order((tags::name.asc(), tags::id.asc()))
        .select(TagRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Tag::from).collect())
}

/// Tags of many articles at once, in name order.
pub fn tags_of(conn: &mut Db, article_ids: &[i64]) -> QueryResult<HashMap<i64, Vec<Tag>>> {
    let mut map: HashMap<i64, Vec<Tag>> = HashMap::new();
    if article_ids.is_empty() {
        return Ok(map);
    }
    let rows: Vec<(i64, TagRow)> = article_tags::table
        .inner_join(tags::table)
        .filter(article_tags::article_id.eq_any(article_ids))
        .order(tags::name.asc())
        .select((article_tags::article_id, TagRow::as_select()))
        .load(conn)?;
    for (article, tag) in rows {
        map.entry(article).or_default().push(Tag::from(tag));
    }
    Ok(map)
}

/// The tag ids for names, creating the missing ones (a name's slug identifies the tag, so
/// `Cải cách` and `cai cach` are one tag). A tag created here is audited as `actor`'s.
pub fn tag_ids_for_names(conn: &mut Db, actor: i64, names: &[String]) -> Result<Vec<i64>, ApiError> {
    // Every name is checked before any tag is created, so a refused request creates none.
    let mut checked = Vec::with_capacity(names.len());
    let mut errors = Vec::new();
    for (i, raw) in names.iter().enumerate() {
        let name = text::clean(raw);
        let slug = text::slugify(&name);
        let field = format!("tags[{i}]");
        if !text::storable(&name) {
            errors.push(FieldError::new(field, FieldCode::InvalidCharacter));
        } else if let Some(e) = FieldError::length(&field, text::char_len(&name), 1, 100) {
            errors.push(e);
        } else if slug.is_empty() {
            errors.push(FieldError::new(field, FieldCode::NoLetters));
        }
        checked.push((name, slug));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut ids = Vec::new();
    for (name, slug) in checked {
        let existing: Option<i64> = tags::table
            .filter(tags::slug.eq(&slug))
            .select(tags::id)
            .first(conn)
            .optional()?;
        let id = match existing {
            Some(id) => id,
            None => insert_or_find_tag(conn, actor, &name, &slug)?,
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Creates a tag, or finds the one a concurrent request created first under the same slug.
fn insert_or_find_tag(conn: &mut Db, actor: i64, name: &str, slug: &str) -> Result<i64, ApiError> {
    // In a savepoint of its own, so that the unique violation of a lost race does not abort a
    // surrounding PostgreSQL transaction.
    let inserted = conn.transaction(|conn| {
        let id = diesel::insert_into(tags::table)
            .values((
                tags::slug.eq(slug),
                tags::name.eq(name),
                tags::created_at.eq(now()),
            ))
            .returning(tags::id)
            .get_result::<i64>(conn)?;
        Entry::new(Some(actor), "tag.create", Resource::Tag, Some(id))
            .detail(serde_json::json!({ "slug": slug, "name": name, "via": "article" }))
            .record(conn)?;
        Ok::<_, DieselError>(id)
    });
    match inserted {
        Ok(id) => Ok(id),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(tags::table
            .filter(tags::slug.eq(slug))
            .select(tags::id)
            .first(conn)?),
        Err(e) => Err(e.into()),
    }
}

pub fn existing_tag_ids(conn: &mut Db, ids: &[i64]) -> Result<(), ApiError> {
    let found: i64 = tags::table
        .filter(tags::id.eq_any(ids))
        .count()
        .get_result(conn)?;
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if found != unique.len() as i64 {
        return Err(ApiError::validation("tag_ids", FieldCode::UnknownReference));
    }
    Ok(())
}

pub fn category_exists(conn: &mut Db, id: i64) -> QueryResult<bool> {
    categories::table
        .find(id)
        .count()
        .get_result::<i64>(conn)
        .map(|n| n > 0)
}

/// `POST /admin/categories`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[schema(example = "Cải cách hành chính", min_length = 1, max_length = 100)]
    pub name: String,
    /// Generated from the name when absent.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub position: Option<i64>,
}

/// `PATCH /admin/categories/{id}`; `parent_id: null` makes it a root.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
    pub position: Option<i64>,
}

/// `POST /admin/tags` and `PATCH /admin/tags/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagInput {
    #[schema(example = "cải cách hành chính", min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
}

fn conflict(e: DieselError) -> ApiError {
    crate::error::unique_conflict(e, &[("slug", Code::TaxonomySlugTaken)])
}

fn check_name_slug(name: &str, slug: Option<&str>) -> Result<(String, String), ApiError> {
    let name = text::clean(name);
    let mut errors = Vec::new();
    errors.extend(FieldError::length("name", text::char_len(&name), 1, 100));
    if !text::storable(&name) {
        errors.push(FieldError::new("name", FieldCode::InvalidCharacter));
    }
    let slug = match slug {
        Some(s) if text::is_valid_slug(s) => s.to_owned(),
        Some(_) => {
            errors.push(FieldError::new("slug", FieldCode::InvalidFormat).arg("max", text::SLUG_MAX));
            String::new()
        }
        None => text::slugify(&name),
    };
    if slug.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("name", FieldCode::NoLetters));
    }
    if errors.is_empty() {
        Ok((name, slug))
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn check_description(description: Option<String>) -> Result<Option<String>, ApiError> {
    let description = description.map(|d| text::clean(&d)).filter(|d| !d.is_empty());
    match &description {
        Some(d) if !text::storable(d) => {
            Err(ApiError::validation("description", FieldCode::InvalidCharacter))
        }
        Some(d) if text::char_len(d) > 2000 => Err(ApiError::invalid(
            FieldError::new("description", FieldCode::TooLong).arg("max", 2000i64),
        )),
        _ => Ok(description),
    }
}

fn check_parent(conn: &mut Db, id: Option<i64>, parent: Option<i64>) -> Result<(), ApiError> {
    let Some(mut cursor) = parent else { return Ok(()) };
    // Walk up from the new parent: reaching the category itself would make a cycle.
    for _ in 0..1000 {
        if Some(cursor) == id {
            return Err(ApiError::validation("parent_id", FieldCode::TreeCycle));
        }
        let up: Option<Option<i64>> = categories::table
            .find(cursor)
            .select(categories::parent_id)
            .first(conn)
            .optional()?;
        match up {
            None => {
                return Err(ApiError::validation("parent_id", FieldCode::UnknownReference));
            }
            Some(None) => return Ok(()),
            Some(Some(next)) => cursor = next,
        }
    }
    Err(ApiError::validation("parent_id", FieldCode::TreeTooDeep))
}

/// What the log says of a category or tag: enough to recognise it once it is gone.
fn named(slug: &str, name: &str) -> serde_json::Value {
    serde_json::json!({ "slug": slug, "name": name })
}

pub fn create_category(conn: &mut Db, actor: i64, input: CategoryInput) -> Result<CategoryRow, ApiError> {
    let (name, slug) = check_name_slug(&input.name, input.slug.as_deref())?;
    check_parent(conn, None, input.parent_id)?;
    let description = check_description(input.description)?;
    let at = now();
    let mut detail = named(&slug, &name);
    detail["parent_id"] = serde_json::json!(input.parent_id);
    conn.transaction::<_, ApiError, _>(|conn| {
        let id: i64 = diesel::insert_into(categories::table)
            .values((
                categories::slug.eq(slug),
                categories::name.eq(name),
                categories::description.eq(description),
                categories::parent_id.eq(input.parent_id),
                categories::position.eq(input.position.unwrap_or(0)),
                categories::created_at.eq(at),
                categories::updated_at.eq(at),
            ))
            .returning(categories::id)
            .get_result(conn)
            .map_err(conflict)?;
        Entry::new(Some(actor), "category.create", Resource::Category, Some(id))
            .detail(detail)
            .record(conn)?;
        find_category(conn, id)
    })
}

pub fn find_category(conn: &mut Db, id: i64) -> Result<CategoryRow, ApiError> {
    categories::table
        .find(id)
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::CategoryNotFound))
}

pub fn update_category(
    conn: &mut Db,
    actor: i64,
    id: i64,
    patch: CategoryPatch,
) -> Result<CategoryRow, ApiError> {
    let current = find_category(conn, id)?;
    let (name, slug) = check_name_slug(
        patch.name.as_deref().unwrap_or(&current.name),
        Some(patch.slug.as_deref().unwrap_or(&current.slug)),
    )?;
    let parent = patch.parent_id.unwrap_or(current.parent_id);
    check_parent(conn, Some(id), parent)?;
    let description = match patch.description {
        Some(d) => check_description(d)?,
        None => current.description.clone(),
    };
    let position = patch.position.unwrap_or(current.position);
    let mut fields = Vec::new();
    for (field, changed) in [
        ("name", name != current.name),
        ("slug", slug != current.slug),
        ("description", description != current.description),
        ("parent_id", parent != current.parent_id),
        ("position", position != current.position),
    ] {
        if changed {
            fields.push(field);
        }
    }
    let mut detail = named(&slug, &name);
    detail["fields"] = serde_json::json!(fields);
    conn.transaction::<_, ApiError, _>(|conn| {
        diesel::update(categories::table.find(id))
            .set((
                categories::name.eq(name),
                categories::slug.eq(slug),
                categories::description.eq(description),
                categories::parent_id.eq(parent),
                categories::position.eq(position),
                categories::updated_at.eq(now()),
            ))
            .execute(conn)
            .map_err(conflict)?;
        Entry::new(Some(actor), "category.update", Resource::Category, Some(id))
            .detail(detail)
            .record(conn)?;
        // Articles show their category's name and slug, and category lists take in
        // sub-categories.
        cache::changed(conn, Scope::Content)?;
        find_category(conn, id)
    })
}

pub fn delete_category(conn: &mut Db, actor: i64, id: i64) -> Result<(), ApiError> {
    let current = find_category(conn, id)?;
    let children: i64 = categories::table
        .filter(categories::parent_id.eq(id))
        .count()
        .get_result(conn)?;
    if children > 0 {
        return Err(ApiError::conflict(Code::CategoryHasChildren));
    }
    conn.transaction(|conn| {
        diesel::update(articles::table.filter(articles::category_id.eq(id)))
            .set(articles::category_id.eq(None::<i64>))
            .execute(conn)?;
        diesel::delete(categories::table.find(id))
            .execute(conn)
            .map_err(conflict)?;
        Entry::new(Some(actor), "category.delete", Resource::Category, Some(id))
            .detail(named(&current.slug, &current.name))
            .record(conn)?;
        cache::changed(conn, Scope::Content)?;
        Ok(())
    })
}

pub fn create_tag(conn: &mut Db, actor: i64, input: TagInput) -> Result<TagRow, ApiError> {
    let (name, slug) = check_name_slug(&input.name, input.slug.as_deref())?;
    let detail = named(&slug, &name);
    conn.transaction::<_, ApiError, _>(|conn| {
        let id: i64 = diesel::insert_into(tags::table)
            .values((
                tags::slug.eq(slug),
                tags::name.eq(name),
                tags::created_at.eq(now()),
            ))
            .returning(tags::id)
            .get_result(conn)
            .map_err(conflict)?;
        Entry::new(Some(actor), "tag.create", Resource::Tag, Some(id))
            .detail(detail)
            .record(conn)?;
        find_tag(conn, id)
    })
}

pub fn find_tag(conn: &mut Db, id: i64) -> Result<TagRow, ApiError> {
    tags::table
        .find(id)
        .select(TagRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(Code::TagNotFound))
}

pub fn update_tag(conn: &mut Db, actor: i64, id: i64, input: TagInput) -> Result<TagRow, ApiError> {
    let current = find_tag(conn, id)?;
    let (name, slug) = check_name_slug(&input.name, input.slug.as_deref())?;
    let mut detail = named(&slug, &name);
    detail["from"] = named(&current.slug, &current.name);
    conn.transaction::<_, ApiError, _>(|conn| {
        diesel::update(tags::table.find(id))
            .set((tags::name.eq(name), tags::slug.eq(slug)))
            .execute(conn)
            .map_err(conflict)?;
        Entry::new(Some(actor), "tag.update", Resource::Tag, Some(id))
            .detail(detail)
            .record(conn)?;
        cache::changed(conn, Scope::Content)?;
        find_tag(conn, id)
    })
}

pub fn delete_tag(conn: &mut Db, actor: i64, id: i64) -> Result<(), ApiError> {
    let current = find_tag(conn, id)?;
    conn.transaction(|conn| {
        diesel::delete(article_tags::table.filter(article_tags::tag_id.eq(id))).execute(conn)?;
        diesel::delete(tags::table.find(id)).execute(conn)?;
        Entry::new(Some(actor), "tag.delete", Resource::Tag, Some(id))
            .detail(named(&current.slug, &current.name))
            .record(conn)?;
        cache::changed(conn, Scope::Content)?;
        Ok(())
    })
}
