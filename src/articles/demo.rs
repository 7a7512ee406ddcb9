//! `serve --demo`: the sample article from our first users' portal, parsed from the page text
//! kept in `tests/fixtures/`, with its author and category, and a few short articles around it
//! so its "newer" and "older" lists have content.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use super::model::ArticleState;
use super::model::Content;
use super::render::BodyFormat;
use super::service::{Placement, insert};
use super::slug::unique_slug;
use crate::db::Db;
use crate::db::schema::{articles, authors, categories};
use crate::error::ApiError;
use crate::media::links::Links;
use crate::text;

pub const FIXTURE: &str = include_str!("../../tests/fixtures/hanoi-home-affairs-2020-01-14.txt");

/// The portal's time zone: Asia/Ho_Chi_Minh, UTC+7 all year round.
const VIETNAM_OFFSET_HOURS: i64 = 7;

/// The parts of the portal's article page.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedArticle {
    pub title: String,
    /// Publish time in UTC.
    pub published_at: NaiveDateTime,
    /// `HNP` from the lead's `HNP - ` prefix.
    pub source: Option<String>,
    /// The lead without its source prefix.
    pub summary: String,
    pub paragraphs: Vec<String>,
    pub byline: String,
}

/// Parses the page text: `Title (HH:MM DD/MM/YYYY)`, the lead, the paragraphs, and the byline
/// standing alone before the "Các bài mới đăng" (newer articles) block.
pub fn parse(page: &str) -> Result<ParsedArticle, String> {
    let mut lines = page.lines().map(str::trim).filter(|l| !l.is_empty());
    let heading = lines.next().ok_or("empty page")?;
    let open = heading.rfind(" (").ok_or("no publish time after the title")?;
    let title = heading[..open].trim().to_owned();
    let stamp = heading[open + 2..].trim_end_matches(')');
    let (time, date) = stamp
        .split_once(' ')
        .ok_or("publish time is not `HH:MM DD/MM/YYYY`")?;
    let time = NaiveTime::parse_from_str(time, "%H:%M").map_err(|e| format!("time {time}: {e}"))?;
    let date = NaiveDate::parse_from_str(date, "%d/%m/%Y").map_err(|e| format!("date {date}: {e}"))?;
    let published_at = date.and_time(time) - chrono::Duration::hours(VIETNAM_OFFSET_HOURS);

    let mut body: Vec<String> = lines
        .take_while(|l| !l.starts_with("Các bài mới đăng"))
        .map(str::to_owned)
        .collect();
    let byline = body.pop().ok_or("no byline")?;
    if body.is_empty() {
        return Err("no lead".into());
    }
    let lead = body.remove(0);
    let (source, summary) = match lead.split_once(" - ") {
        Some((prefix, rest))
            if !prefix.is_empty() && prefix.len() <= 10 && prefix.chars().all(|c| c.is_uppercase()) =>
        {
            (Some(prefix.to_owned()), rest.to_owned())
        }
        _ => (None, lead),
    };
    Ok(ParsedArticle {
        title,
        published_at,
        source,
        summary,
        paragraphs: body,
        byline,
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Paragraphs as HTML, escaped: the page text is plain text, not Markdown.
pub fn paragraphs_html(paragraphs: &[String]) -> String {
    paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn find_or_create_author(conn: &mut Db, name: &str) -> Result<i64, ApiError> {
    let slug = text::slugify(name);
    if let Some(id) = authors::table
        .filter(authors::slug.eq(&slug))
        .select(authors::id)
        .first(conn)
        .optional()?
    {
        return Ok(id);
    }
    let at = crate::db::now();
    Ok(diesel::insert_into(authors::table)
        .values((
            authors::slug.eq(&slug),
            authors::name.eq(name),
            authors::role.eq("author"),
            authors::active.eq(true),
            authors::created_at.eq(at),
            authors::updated_at.eq(at),
        ))
        .returning(authors::id)
        .get_result(conn)?)
}

pub fn find_or_create_category(conn: &mut Db, name: &str) -> Result<i64, ApiError> {
    let slug = text::slugify(name);
    if let Some(id) = categories::table
        .filter(categories::slug.eq(&slug))
        .select(categories::id)
        .first(conn)
        .optional()?
    {
        return Ok(id);
    }
    let at = crate::db::now();
    Ok(diesel::insert_into(categories::table)
        .values((
            categories::slug.eq(&slug),
            categories::name.eq(name),
            categories::position.eq(0),
            categories::created_at.eq(at),
            categories::updated_at.eq(at),
        ))
        .returning(categories::id)
        .get_result(conn)?)
}

/// Short companion articles (title, lead, publish time in UTC) in the same section.
const COMPANIONS: [(&str, &str, &str); 4] = [
    (
        "Hà Nội mở rộng dịch vụ công trực tuyến mức độ 3, 4",
        "Thành phố tiếp tục tích hợp dịch vụ công trực tuyến với chữ ký số chuyên dùng.",
        "2020-01-08T02:30:00",
    ),
    (
        "Sở Nội vụ kiểm tra công vụ tại 31 cơ quan, đơn vị",
        "Đoàn kiểm tra cải cách hành chính của Thành phố đã hoàn thành kế hoạch năm 2019.",
        "2020-01-11T08:15:00",
    ),
    (
        "Hội thảo khoa học về nâng cao chỉ số SIPAS",
        "Các giải pháp cụ thể, đồng bộ được đề xuất ngay từ đầu năm 2020.",
        "2020-01-16T03:00:00",
    ),
    (
        "Triển khai Bộ Chỉ số đánh giá năng lực điều hành năm 2020",
        "Ngành Nội vụ hướng dẫn các sở, ngành, quận, huyện, thị xã triển khai bộ chỉ số.",
        "2020-01-20T09:45:00",
    ),
];

/// Loads the demo content when there are no articles yet. Returns whether it loaded.
pub fn load(conn: &mut Db, links: &Links) -> Result<bool, ApiError> {
    let existing: i64 = articles::table.count().get_result(conn)?;
    if existing > 0 {
        return Ok(false);
    }
    let page = parse(FIXTURE).map_err(|e| ApiError::internal(format!("demo fixture: {e}")))?;
    conn.transaction::<_, ApiError, _>(|conn| {
        let author = find_or_create_author(conn, &page.byline)?;
        let category = find_or_create_category(conn, "Cải cách hành chính")?;
        let publish = |conn: &mut Db,
                       title: &str,
                       summary: &str,
                       source: Option<String>,
                       body: String,
                       when: NaiveDateTime,
                       featured: bool| {
            let content = Content {
                title: title.to_owned(),
                slug: unique_slug(conn, title)?,
                summary: Some(summary.to_owned()),
                source,
                body,
                body_format: BodyFormat::Html,
                cover_image_url: None,
                category_id: Some(category),
                meta_title: None,
                meta_description: None,
                comments_enabled: true,
                tag_ids: Vec::new(),
                author_ids: vec![author],
                cover_media_id: None,
                attachment_ids: Vec::new(),
                featured,
                featured_rank: 0,
                noindex: false,
                canonical_url: None,
            };
            insert(
                conn,
                links,
                &content,
                None,
                Placement {
                    status: ArticleState::Published,
                    published_at: Some(when),
                },
            )
        };
        publish(
            conn,
            &page.title,
            &page.summary,
            page.source.clone(),
            paragraphs_html(&page.paragraphs),
            page.published_at,
            true,
        )?;
        for (title, lead, when) in COMPANIONS {
            let when = NaiveDateTime::parse_from_str(when, "%Y-%m-%dT%H:%M:%S")
                .map_err(|e| ApiError::internal(format!("demo time: {e}")))?;
            publish(
                conn,
                title,
                lead,
                Some("HNP".into()),
                format!("<p>{}</p>", escape(lead)),
                when,
                false,
            )?;
        }
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_page_parses_into_its_parts() {
        let page = parse(FIXTURE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            page.title,
            "Tích cực cải cách hành chính để nâng cao mức độ hài lòng của công dân"
        );
        assert_eq!(page.published_at.to_string(), "2020-01-14 13:59:00");
        assert_eq!(page.source.as_deref(), Some("HNP"));
        assert!(page.summary.starts_with("Năm 2019, công tác cải cách hành chính"));
        assert_eq!(page.byline, "Hoàng Anh");
        assert_eq!(page.paragraphs.len(), 7);
        assert!(page.paragraphs[0].starts_with("Các cơ quan, đơn vị đã bám sát"));
        assert!(page.paragraphs[6].starts_with("Phát huy những kết quả đạt được"));
    }
}
