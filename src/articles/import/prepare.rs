//! Everything about a line that needs no database, on threads of their own.

use std::io::BufRead;

use super::{BATCH, ImportRecord};
use crate::articles::model::{ArticleState, Content};
use crate::articles::render::{self, BodyFormat};
use crate::articles::service::Placement;
use crate::articles::validate::check_text;
use crate::error::{ApiError, FieldError};
use crate::i18n::FieldCode;
use crate::media::uses::{BodyImages, Files};
use crate::search::{Folded, Vectors};
use crate::text;

/// A line prepared away from the connection.
pub(super) enum Line {
    Blank,
    Bad(String),
    /// Written in bulk: everything the database is needed for is a lookup by name.
    Ready(Box<Ready>),
    /// Names files or library images, or has a slug to be made unique: imported on its own
    /// by [`super::write`]'s `import_one`, as the editorial API would.
    Single(Box<ImportRecord>),
}

/// A record checked and rendered, waiting for its slug to be found free.
pub(super) struct Ready {
    pub(super) slug: String,
    /// What fails the line once its slug is free (a taken slug skips it first).
    pub(super) draft: Result<Draft, ApiError>,
}

pub(super) struct Draft {
    /// Checked and normalised content, its ids still to be found from the names below.
    pub(super) content: Content,
    pub(super) authors: Vec<String>,
    pub(super) category: Option<String>,
    pub(super) tags: Vec<String>,
    pub(super) placement: Result<Placement, ApiError>,
    pub(super) body_html: String,
    pub(super) folded: Folded,
    /// Its words for `search_terms` (SQLite), found here.
    pub(super) terms: String,
    /// PostgreSQL's search documents, when computed here.
    pub(super) vectors: Option<Vectors>,
}

/// Lines read so far and their preparations, in file order.
pub(super) struct Batch {
    pub(super) lines: Vec<(usize, Line)>,
    /// Bytes of the input up to the end of this batch.
    pub(super) read: u64,
}

fn placement(record: &ImportRecord) -> Result<Placement, ApiError> {
    match record.status.unwrap_or(ArticleState::Draft) {
        ArticleState::Draft => Ok(Placement {
            status: ArticleState::Draft,
            published_at: None,
        }),
        ArticleState::Published => Ok(Placement {
            status: ArticleState::Published,
            published_at: Some(crate::db::truncate(
                record.published_at.map_or_else(crate::db::now, |t| t.naive_utc()),
            )),
        }),
        other => Err(ApiError::invalid(
            FieldError::new("status", FieldCode::NotImportable).arg("status", other.as_str()),
        )),
    }
}

/// The slug a record asks for, or the one its title makes.
pub(super) fn wanted_slug(record: &ImportRecord) -> Result<String, ApiError> {
    match &record.slug {
        Some(slug) => Ok(slug.clone()),
        None => {
            let generated = text::slugify(&record.title);
            if generated.is_empty() {
                return Err(ApiError::validation("title", FieldCode::NoLetters));
            }
            Ok(generated)
        }
    }
}

/// Everything about a line that needs no database: parsing, the editorial API's checks of
/// the text, rendering and folding. In the order `import_one` reports failures, so a line
/// fails with the same message on either path.
fn prepare(line: std::io::Result<String>, vectors: bool) -> Line {
    let line = match line {
        Err(e) => return Line::Bad(format!("unreadable: {e}")),
        Ok(line) if line.trim().is_empty() => return Line::Blank,
        Ok(line) => line,
    };
    let record: ImportRecord = match serde_json::from_str(&line) {
        Ok(record) => record,
        Err(e) => return Line::Bad(format!("not an article: {e}")),
    };
    let format = record.body_format.unwrap_or(BodyFormat::Markdown);
    let slug = match wanted_slug(&record) {
        Ok(slug) => slug,
        Err(e) => {
            return Line::Ready(Box::new(Ready {
                slug: String::new(),
                draft: Err(e),
            }));
        }
    };
    let refs = render::image_refs(&record.body, format);
    let single = record.cover_file.is_some()
        || !record.attachments.is_empty()
        || !refs.ids.is_empty()
        || !refs.hashes.is_empty()
        || !text::is_valid_slug(&slug);
    if single {
        return Line::Single(Box::new(record));
    }
    let draft = draft(record, slug.clone(), vectors);
    Line::Ready(Box::new(Ready { slug, draft }))
}

/// What a line asks for, apart from its content: names to find or create, and where the
/// article goes (or why it cannot).
pub(super) struct Parts {
    /// The content, with no category, tags or authors yet.
    pub(super) content: Content,
    pub(super) authors: Vec<String>,
    /// The category's name, cleaned; `None` when blank.
    pub(super) category: Option<String>,
    pub(super) tags: Vec<String>,
    pub(super) placement: Result<Placement, ApiError>,
}

/// A record taken apart, its content under `slug` with the library's `files`.
pub(super) fn parts(record: ImportRecord, slug: String, files: Files) -> Parts {
    let placement = placement(&record);
    let category = record
        .category
        .as_deref()
        .map(text::clean)
        .filter(|c| !c.is_empty());
    let content = Content {
        title: record.title,
        slug,
        summary: record.summary,
        source: record.source,
        body: record.body,
        body_format: record.body_format.unwrap_or(BodyFormat::Markdown),
        cover_image_url: record.cover_image_url,
        category_id: None,
        meta_title: record.meta_title,
        meta_description: record.meta_description,
        comments_enabled: record.comments_enabled.unwrap_or(true),
        tag_ids: Vec::new(),
        author_ids: Vec::new(),
        cover_media_id: files.cover,
        attachment_ids: files.attachments,
        featured: record.featured,
        featured_rank: record.featured_rank,
        noindex: record.noindex,
        canonical_url: record.canonical_url,
    };
    Parts {
        content,
        authors: record.authors,
        category,
        tags: record.tags,
        placement,
    }
}

/// The bylines' names, cleaned, or the desk's when there is none; a blank one fails the line.
pub(super) fn bylines(authors: &[String]) -> Result<Vec<String>, ApiError> {
    let mut names = Vec::with_capacity(authors.len().max(1));
    for name in authors {
        let name = text::clean(name);
        if name.is_empty() {
            return Err(ApiError::validation("authors", FieldCode::Required));
        }
        names.push(name);
    }
    if names.is_empty() {
        names.push(DEFAULT_BYLINE.to_owned());
    }
    Ok(names)
}

fn draft(record: ImportRecord, slug: String, vectors: bool) -> Result<Draft, ApiError> {
    let Parts {
        content,
        authors,
        category,
        tags,
        placement,
    } = parts(record, slug, Files::default());
    let authors = bylines(&authors)?;
    let mut errors = Vec::new();
    let content = check_text(content, &mut errors);
    // Authors are found by slug, so two names of one slug would be the same byline twice.
    let mut slugs: Vec<String> = authors.iter().map(|a| text::slugify(a)).collect();
    slugs.sort_unstable();
    slugs.dedup();
    if slugs.len() != authors.len() {
        errors.push(FieldError::new("author_ids", FieldCode::Duplicate));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let body_html = render::to_html(&content.body, content.body_format, &BodyImages::default());
    let folded = Folded::of(&content.title, content.summary.as_deref(), &body_html);
    let (terms, vectors) = if vectors {
        (String::new(), Vectors::of(&folded))
    } else {
        (folded.terms(), None)
    };
    Ok(Draft {
        content,
        authors,
        category,
        tags,
        placement,
        body_html,
        folded,
        terms,
        vectors,
    })
}

/// The byline of an article whose line names no author.
const DEFAULT_BYLINE: &str = "Ban biên tập";

/// Reads and prepares batches on threads of their own, so the next batch is parsed, checked,
/// rendered and folded while the database writes this one: on two threads, which share the
/// cores with the database's writer as its work and theirs come and go.
/// `vectors`: PostgreSQL's search documents are computed here too.
pub(super) fn spawn_reader(
    input: impl BufRead + Send + 'static,
    tx: tokio::sync::mpsc::Sender<Batch>,
    vectors: bool,
) {
    std::thread::spawn(move || {
        let mut read = 0u64;
        let mut lines = input.split(b'\n').enumerate().peekable();
        while lines.peek().is_some() {
            let mut raw = Vec::with_capacity(BATCH);
            for (index, line) in lines.by_ref().take(BATCH) {
                let line = line.and_then(|bytes| {
                    read += bytes.len() as u64 + 1;
                    String::from_utf8(bytes)
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                });
                raw.push((index + 1, line.map(|l| l.trim_end_matches('\r').to_owned())));
            }
            let batch = Batch {
                lines: prepare_all(raw, vectors),
                read,
            };
            if tx.blocking_send(batch).is_err() {
                return;
            }
        }
    });
}

/// Prepares lines in two halves at once.
fn prepare_all(mut raw: Vec<(usize, std::io::Result<String>)>, vectors: bool) -> Vec<(usize, Line)> {
    let second = raw.split_off(raw.len().div_ceil(2));
    let numbers: Vec<usize> = second.iter().map(|(n, _)| *n).collect();
    let prepare_half = |half: Vec<(usize, std::io::Result<String>)>| -> Vec<(usize, Line)> {
        half.into_iter()
            .map(|(n, line)| (n, prepare(line, vectors)))
            .collect()
    };
    std::thread::scope(|scope| {
        let other = scope.spawn(|| prepare_half(second));
        let mut lines = prepare_half(raw);
        match other.join() {
            Ok(rest) => lines.extend(rest),
            // A line that panicked its thread fails with the others of its half, not the import.
            Err(_) => lines.extend(
                numbers
                    .into_iter()
                    .map(|n| (n, Line::Bad("could not be prepared".to_owned()))),
            ),
        }
        lines
    })
}
