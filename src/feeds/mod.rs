//! Feeds for readers and crawlers, outside `/api`: `/feed.xml` (RSS 2.0) and `/sitemap.xml`.
//!
//! Links point at the frontend, not at this API: the articles' `url`
//! (`NEWSDESK_PUBLIC_URL` + `NEWSDESK_ARTICLE_PATH`, see [`ArticlePages`]).

pub mod routes;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::articles::pages::{ArticlePages, Page};
use crate::articles::published::live_at;
use crate::db::raw::Raw;
use crate::db::schema::{articles, categories};
use crate::db::{Db, now};
use crate::error::ApiError;
use crate::i18n::Code;

/// Articles in the RSS feed.
pub const FEED_SIZE: i64 = 50;
/// URLs per sitemap file, the protocol's limit; past it `/sitemap.xml` becomes an index.
pub const SITEMAP_PAGE: i64 = 50_000;

type PageRow = (
    i64,
    String,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    chrono::NaiveDateTime,
);

/// What an article's address is built from, with `categories` left-joined.
fn page_columns() -> (
    articles::id,
    articles::slug,
    diesel::dsl::Nullable<categories::slug>,
    articles::published_at,
    articles::updated_at,
) {
    (
        articles::id,
        articles::slug,
        categories::slug.nullable(),
        articles::published_at,
        articles::updated_at,
    )
}

/// Where readers find the article of a row read with [`page_columns`].
fn page_url(pages: &ArticlePages, (id, slug, category, published_at, updated_at): &PageRow) -> String {
    pages.url(&Page {
        id: *id,
        slug,
        category: category.as_deref(),
        published_at: published_at.unwrap_or(*updated_at),
    })
}

fn xml_escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// The RSS 2.0 document of the newest published articles, of one category (and its
/// sub-categories) when `category` is given.
pub fn rss(
    conn: &mut Db,
    public_url: &url::Url,
    pages: &ArticlePages,
    category: Option<&str>,
) -> Result<String, ApiError> {
    let mut title = public_url.host_str().unwrap_or("newsdesk").to_owned();
    let mut query = articles::table
        .left_join(categories::table)
        .filter(live_at(now()))
        .into_boxed();
    if let Some(slug) = category {
        let ids = if crate::text::is_valid_slug(slug) {
            crate::taxonomy::service::category_and_descendants(conn, slug)?
        } else {
            None
        }
        .ok_or_else(|| ApiError::not_found(Code::CategoryNotFound))?;
        let name: String = categories::table
            .filter(categories::slug.eq(slug))
            .select(categories::name)
            .first(conn)?;
        title = format!("{name} · {title}");
        query = query.filter(crate::db::ids::in_ids(articles::category_id, &ids));
    }
    type Row = (PageRow, String, Option<String>, Option<String>);
    let rows: Vec<Row> = query
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(FEED_SIZE)
        .select((
            page_columns(),
            articles::title,
            articles::summary,
            categories::name.nullable(),
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(page, title, summary, category)| {
            let link = page_url(pages, &page);
            let published_at = page.3;
            rss::Item {
                title: Some(title),
                link: Some(link.clone()),
                description: summary,
                guid: Some(rss::Guid {
                    value: link,
                    permalink: true,
                }),
                pub_date: published_at.map(|t| t.and_utc().to_rfc2822()),
                categories: category
                    .map(|name| rss::Category { name, domain: None })
                    .into_iter()
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    let channel = rss::Channel {
        title,
        link: public_url.as_str().trim_end_matches('/').to_owned(),
        description: "Newest published articles".into(),
        language: Some("vi".into()),
        items,
        ..Default::default()
    };
    Ok(channel.to_string())
}

/// What `/sitemap.xml` is: every published article, or, past [`SITEMAP_PAGE`] of them, an
/// index of numbered pages (`/sitemap-1.xml`, …) built with `page_url`.
pub fn sitemap(
    conn: &mut Db,
    pages: &ArticlePages,
    page_size: i64,
    page_url: impl Fn(i64) -> String,
) -> Result<String, ApiError> {
    let total = listed(conn)?;
    if total <= page_size {
        return sitemap_page(conn, pages, page_size, 1);
    }
    let pages = (total + page_size - 1) / page_size;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for page in 1..=pages {
        xml.push_str(&format!(
            "<sitemap><loc>{}</loc></sitemap>\n",
            xml_escape(&page_url(page))
        ));
    }
    xml.push_str("</sitemapindex>\n");
    Ok(xml)
}

/// What a sitemap lists: public articles, except those kept out of search engines and
/// syndicated copies, whose canonical address is elsewhere. Spelled out with literals so that
/// the partial index `articles_sitemap` (migration 000010) serves it; SQLite is told to use it,
/// as without statistics it prefers the date index and reads every row's late columns, which
/// come after the bodies.
macro_rules! sitemap_sql {
    ($select:literal, $join:literal, $tail:literal) => {
        [
            concat!(
                $select,
                " FROM articles INDEXED BY articles_sitemap",
                $join,
                " WHERE articles.status = 'published' AND articles.noindex = FALSE",
                " AND articles.canonical_url IS NULL AND articles.published_at <= ?",
                $tail
            ),
            concat!(
                $select,
                " FROM articles",
                $join,
                " WHERE articles.status = 'published' AND articles.noindex = FALSE",
                " AND articles.canonical_url IS NULL AND articles.published_at <= ?",
                $tail
            ),
        ]
    };
}

/// How many articles a sitemap lists.
fn listed(conn: &mut Db) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        listed: i64,
    }
    const SQL: [&str; 2] = sitemap_sql!("SELECT COUNT(*) AS listed", "", "");
    let counted: Vec<Count> = Raw::each(SQL[0], SQL[1]).time(now()).load(conn)?;
    Ok(counted.first().map_or(0, |c| c.listed))
}

/// One page of the sitemap, oldest articles first so pages stay stable as articles are added;
/// 404 past the last page.
pub fn sitemap_page(
    conn: &mut Db,
    pages: &ArticlePages,
    page_size: i64,
    page: i64,
) -> Result<String, ApiError> {
    if !(1..=1_000_000).contains(&page) {
        return Err(ApiError::not_found(Code::SitemapNotFound));
    }
    #[derive(QueryableByName)]
    struct Listed {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        slug: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        category: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
        published_at: Option<chrono::NaiveDateTime>,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        updated_at: chrono::NaiveDateTime,
    }
    const SQL: [&str; 2] = sitemap_sql!(
        "SELECT articles.id, articles.slug, categories.slug AS category, articles.published_at, articles.updated_at",
        " LEFT JOIN categories ON categories.id = articles.category_id",
        " ORDER BY articles.id ASC LIMIT ? OFFSET ?"
    );
    let rows: Vec<PageRow> = Raw::each(SQL[0], SQL[1])
        .time(now())
        .int(page_size)
        .int((page - 1) * page_size)
        .load::<Listed>(conn)?
        .into_iter()
        .map(|r| (r.id, r.slug, r.category, r.published_at, r.updated_at))
        .collect();
    if rows.is_empty() && page > 1 {
        return Err(ApiError::not_found(Code::SitemapNotFound));
    }
    let mut xml = String::with_capacity(64 + rows.len() * 120);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for row in rows {
        let lastmod: DateTime<Utc> = row.4.and_utc();
        xml.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            xml_escape(&page_url(pages, &row)),
            lastmod.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    xml.push_str("</urlset>\n");
    Ok(xml)
}
