//! Command line and settings.
//!
//! Every setting is a flag backed by an environment variable, so the same binary is
//! configured the same way on a laptop, in a container and under a process manager:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NEWSDESK_DATABASE_URL` | `sqlite://newsdesk.db` | SQLite file (embedded default) or `postgres://…` |
//! | `NEWSDESK_BIND` | `127.0.0.1:8080` | listen address |
//! | `NEWSDESK_JWT_SECRET` | generated once and kept in the database | signing key for access tokens |
//! | `NEWSDESK_CAPTCHA` | `on` | `off` skips the captcha on public comments |
//! | `NEWSDESK_ADMIN_EMAIL`, `NEWSDESK_ADMIN_PASSWORD` | none | first admin account |
//! | `NEWSDESK_SCHEDULER_INTERVAL` | `10` | seconds between background worker runs |
//! | `NEWSDESK_COMMENT_RATE_PER_MIN` | `5` | public comments per client per minute, `0` = no limit |
//! | `NEWSDESK_COMMENT_SPAM_WORDS` | a short list (see README) | comma-separated words and phrases that mark a comment as spam, matched without case or diacritics |
//! | `NEWSDESK_COMMENT_MAX_LINKS` | `2` | a comment with more links than this is spam; one with fewer but some is flagged |
//! | `NEWSDESK_TRUSTED_PROXIES` | none | comma-separated proxy addresses or networks whose `X-Forwarded-For` is believed |
//! | `NEWSDESK_SEARCH_COUNT_LIMIT` | `1000` | search matches counted exactly; past it `meta.total_capped` is `true` |
//! | `NEWSDESK_CACHE_MB` | `64` | memory for cached public answers, in MiB; `0` switches the cache off |
//! | `NEWSDESK_CACHE_TTL` | `30` | seconds a cached answer is kept at most (bounds the age of view counts in it) |
//! | `NEWSDESK_WEBHOOK_ALLOW_PRIVATE` | `false` | allow webhook targets on private networks |
//! | `NEWSDESK_WEBHOOK_TIMEOUT` | `10` | seconds a webhook receiver has to answer (1–60) |
//! | `NEWSDESK_PUBLIC_URL` | `http://localhost:3000` | the frontend's address, for feed links |
//! | `NEWSDESK_CORS_ORIGINS` | none | comma-separated browser origins allowed to call the API |
//! | `NEWSDESK_CORS_HEADERS` | `Authorization, Content-Type, If-Match, If-None-Match, Accept-Language, X-Request-Id` | comma-separated request headers those origins may send |
//! | `NEWSDESK_LOG` | `info` | log filter (`tracing` env-filter syntax) |
//! | `NEWSDESK_LOG_FORMAT` | `text` | `json` for JSON lines |
//! | `NEWSDESK_DB_POOL_SIZE` | `16` | database connections per process |
//! | `NEWSDESK_DB_TIMEOUT` | `5` | seconds to wait for a database connection before answering 503 |
//! | `NEWSDESK_SQLITE_MMAP_MB` | `0` | MiB of the SQLite file each connection reads through a memory map (at most 2047); `0` reads with system calls |
//! | `NEWSDESK_DATABASE_REPLICA_URLS` | none | comma-separated PostgreSQL streaming standbys that serve public reads |
//! | `NEWSDESK_REPLICA_MAX_LAG` | `5` | seconds a replica may be behind and still serve (1–3600) |
//! | `NEWSDESK_ACCESS_TOKEN_TTL` | `900` | access token lifetime in seconds |
//! | `NEWSDESK_REFRESH_TOKEN_DAYS` | `30` | refresh token lifetime in days |
//! | `NEWSDESK_WORKERS` | number of cores | HTTP worker threads |
//! | `NEWSDESK_READER` | `off` | `on` serves the reference reader page at `/` (`serve --demo` turns it on) |
//! | `NEWSDESK_BODY_TIMEOUT` | `10` | seconds a request body has to arrive in full before the request is cut with 408 |
//! | `NEWSDESK_MAX_CONNECTIONS` | `10000` | open client connections per process; past it new ones wait in the listen queue |
//! | `NEWSDESK_METRICS_TOKEN` | none | bearer token `/metrics` requires; unset, `/metrics` is public |
//! | `NEWSDESK_MEDIA_STORE` | `file://./media` | where media files live: `file://DIR` or `s3://BUCKET/PREFIX` |
//! | `NEWSDESK_S3_ENDPOINT` | none (AWS) | an S3-compatible server, e.g. `http://127.0.0.1:9000` (path-style; plain http allowed) |
//! | `NEWSDESK_S3_REGION` | `us-east-1` | the bucket's region; credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` |
//! | `NEWSDESK_MEDIA_PUBLIC_URL` | none | base of public media URLs (CDN or bucket); unset, files are at `/media/<key>` |
//! | `NEWSDESK_MEDIA_MAX_MB` | `20` | largest upload, in MiB (1–500) |
//! | `NEWSDESK_MEDIA_MAX_PIXELS` | `50000000` | largest image, width × height, refused from its header before decoding |
//! | `NEWSDESK_MEDIA_CACHE_MB` | `64` | memory for small media files kept hot by each process, in MiB; `0` switches it off |
//! | `NEWSDESK_MEDIA_WORKERS` | `2` | images processed at once per process (each takes a core and up to a few hundred MB) |
//!
//! Values are checked once at start ([`Settings::validate`]) so a typo stops the process with a
//! message naming the variable instead of surfacing later as a confusing runtime error.

use std::net::{SocketAddr, ToSocketAddrs};

use clap::{Args, Parser, ValueEnum};

use crate::db::DbUrl;
use crate::db::replicas::ReplicaSettings;

/// Gambling, lottery and quick-loan advertising: what comment spam on Vietnamese news sites is
/// mostly made of.
pub const DEFAULT_SPAM_WORDS: &str =
    "casino,ca cuoc,ca do,nha cai,lo de,soi cau,xo so online,vay tien nhanh,viagra,porn";

/// The request headers a browser frontend needs: credentials, JSON bodies, conditional
/// requests, the language of messages, and its own request id to follow a call in the logs.
pub const DEFAULT_CORS_HEADERS: &str =
    "Authorization,Content-Type,If-Match,If-None-Match,Accept-Language,X-Request-Id";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// SQLite file (`sqlite://path`) or PostgreSQL URL (`postgres://…`).
    #[arg(
        long,
        env = "NEWSDESK_DATABASE_URL",
        default_value = "sqlite://newsdesk.db",
        global = true
    )]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "NEWSDESK_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// Signing key for access tokens; generated once and kept in the database when absent.
    #[arg(long, env = "NEWSDESK_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// `off` skips the captcha on public comments.
    #[arg(
        long,
        env = "NEWSDESK_CAPTCHA",
        value_enum,
        default_value = "on",
        global = true
    )]
    pub captcha: Switch,

    /// Email of the admin created at start when no account exists.
    #[arg(long, env = "NEWSDESK_ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,

    /// Password of the admin created at start when no account exists.
    #[arg(long, env = "NEWSDESK_ADMIN_PASSWORD", hide_env_values = true, global = true)]
    pub admin_password: Option<String>,

    /// Seconds between runs of the scheduled-publishing and webhook workers.
    #[arg(
        long,
        env = "NEWSDESK_SCHEDULER_INTERVAL",
        default_value_t = 10,
        global = true
    )]
    pub scheduler_interval: u64,

    /// Public comments accepted per client per minute; 0 means no limit.
    #[arg(
        long,
        env = "NEWSDESK_COMMENT_RATE_PER_MIN",
        default_value_t = 5,
        global = true
    )]
    pub comment_rate_per_min: u32,

    /// Comma-separated words and phrases that mark a public comment as spam; matched as whole
    /// words, ignoring case and diacritics (`ca do` matches `cá độ`). Empty disables the list.
    #[arg(
        long,
        env = "NEWSDESK_COMMENT_SPAM_WORDS",
        default_value = DEFAULT_SPAM_WORDS,
        global = true
    )]
    pub comment_spam_words: String,

    /// A public comment with more links than this is stored as spam; one with at least one
    /// link and no more than this is flagged for the moderator.
    #[arg(long, env = "NEWSDESK_COMMENT_MAX_LINKS", default_value_t = 2, global = true)]
    pub comment_max_links: u32,

    /// Comma-separated addresses or networks (`10.0.0.0/8`) of reverse proxies. When a request
    /// comes from one of them, the client is the right-most untrusted `X-Forwarded-For` entry;
    /// otherwise the header is ignored, so clients cannot choose their own address.
    #[arg(long, env = "NEWSDESK_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<String>,

    /// Search matches counted exactly for `meta.total`; past this many a search says
    /// `total_capped: true`. Counting every match of a common word would cost more than the
    /// page of results itself.
    #[arg(
        long,
        env = "NEWSDESK_SEARCH_COUNT_LIMIT",
        default_value_t = 1000,
        global = true
    )]
    pub search_count_limit: i64,

    /// Memory for cached public answers, in MiB; `0` switches the cache off.
    #[arg(long, env = "NEWSDESK_CACHE_MB", default_value_t = 64, global = true)]
    pub cache_mb: u64,

    /// Longest a cached public answer is kept, in seconds. Changes invalidate answers at once;
    /// this only bounds how old the view counts in them may get.
    #[arg(long, env = "NEWSDESK_CACHE_TTL", default_value_t = 30, global = true)]
    pub cache_ttl: u64,

    /// Allow webhook targets on loopback and private networks.
    #[arg(
        long,
        env = "NEWSDESK_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub webhook_allow_private: bool,

    /// Seconds a webhook receiver has to answer one delivery.
    #[arg(long, env = "NEWSDESK_WEBHOOK_TIMEOUT", default_value_t = 10, global = true)]
    pub webhook_timeout: u64,

    /// The frontend's address, for links in feeds and the sitemap.
    #[arg(
        long,
        env = "NEWSDESK_PUBLIC_URL",
        default_value = "http://localhost:3000",
        global = true
    )]
    pub public_url: String,

    /// An article's path under `NEWSDESK_PUBLIC_URL`, with `{slug}`, `{id}`, `{category}`,
    /// `{yyyy}`, `{mm}` and `{dd}` filled in: the `url` of answers, feeds and the sitemap.
    #[arg(
        long,
        env = "NEWSDESK_ARTICLE_PATH",
        default_value = "/articles/{slug}",
        global = true
    )]
    pub article_path: String,

    /// The portal's offset from UTC, for the dates in article paths (`+07:00` in Việt Nam).
    #[arg(
        long,
        env = "NEWSDESK_URL_UTC_OFFSET",
        default_value = "+00:00",
        global = true,
        allow_hyphen_values = true
    )]
    pub url_utc_offset: String,
    /// Seconds a draft preview link works for.
    #[arg(long, env = "NEWSDESK_PREVIEW_TTL", default_value_t = 86_400, global = true)]
    pub preview_ttl: u64,

    /// The frontend's preview page, with `{token}` where the preview token goes; unset,
    /// `{NEWSDESK_PUBLIC_URL}/preview/{token}`.
    #[arg(long, env = "NEWSDESK_PREVIEW_URL", global = true)]
    pub preview_url: Option<String>,

    /// Comma-separated origins allowed to call the API from a browser.
    #[arg(long, env = "NEWSDESK_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Comma-separated request headers that those origins may send (the answer to a
    /// preflight's `Access-Control-Request-Headers`), in any case.
    #[arg(
        long,
        env = "NEWSDESK_CORS_HEADERS",
        value_delimiter = ',',
        default_value = DEFAULT_CORS_HEADERS,
        global = true
    )]
    pub cors_headers: Vec<String>,

    /// Log filter, e.g. `info` or `newsdesk=debug,actix_web=info`.
    #[arg(long, env = "NEWSDESK_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log line format.
    #[arg(
        long,
        env = "NEWSDESK_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Database connections per process.
    #[arg(long, env = "NEWSDESK_DB_POOL_SIZE", default_value_t = 16, global = true)]
    pub db_pool_size: u32,

    /// Seconds to wait for a database connection before answering 503.
    #[arg(long, env = "NEWSDESK_DB_TIMEOUT", default_value_t = 5, global = true)]
    pub db_timeout: u64,

    /// MiB of the SQLite file each connection reads through a memory map (at most 2047); `0`
    /// reads with system calls.
    #[arg(long, env = "NEWSDESK_SQLITE_MMAP_MB", default_value_t = 0, global = true)]
    pub sqlite_mmap_mb: u64,

    /// Comma-separated PostgreSQL standbys that serve public reads ([`crate::db::replicas`]).
    #[arg(
        long,
        env = "NEWSDESK_DATABASE_REPLICA_URLS",
        value_delimiter = ',',
        hide_env_values = true,
        global = true
    )]
    pub database_replica_urls: Vec<String>,
    /// Seconds a replica may be behind the primary and still serve public reads.
    #[arg(long, env = "NEWSDESK_REPLICA_MAX_LAG", default_value_t = 5, global = true)]
    pub replica_max_lag: u64,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "NEWSDESK_ACCESS_TOKEN_TTL", default_value_t = 900, global = true)]
    pub access_token_ttl: u64,

    /// Lifetime of refresh tokens (a signed-in session without activity), in days.
    #[arg(
        long,
        env = "NEWSDESK_REFRESH_TOKEN_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub refresh_token_days: u64,

    /// HTTP worker threads; defaults to the number of cores.
    #[arg(long, env = "NEWSDESK_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// `on` serves the reference reader page at `/` and `/articles/{slug}`; `serve --demo`
    /// turns it on.
    #[arg(
        long,
        env = "NEWSDESK_READER",
        value_enum,
        default_value = "off",
        global = true
    )]
    pub reader: Switch,

    /// Seconds a request body has to arrive in full; a slower one is cut with 408, so clients
    /// trickling bytes cannot hold connections and memory indefinitely.
    #[arg(long, env = "NEWSDESK_BODY_TIMEOUT", default_value_t = 10, global = true)]
    pub body_timeout: u64,

    /// Open client connections per process (shared out among the HTTP workers). Past it new
    /// connections wait in the listen queue instead of exhausting file descriptors.
    #[arg(
        long,
        env = "NEWSDESK_MAX_CONNECTIONS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_connections: usize,

    /// Bearer token that `/metrics` requires (`Authorization: Bearer <token>`); unset,
    /// `/metrics` is public.
    #[arg(long, env = "NEWSDESK_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    /// Where media files are kept: `file://./media` (relative to the working directory),
    /// `file:///abs/path`, or `s3://bucket/prefix` to share them between processes.
    #[arg(
        long,
        env = "NEWSDESK_MEDIA_STORE",
        default_value = "file://./media",
        global = true
    )]
    pub media_store: String,

    /// An S3-compatible server (MinIO, Ceph…) instead of AWS, e.g. `http://127.0.0.1:9000`.
    #[arg(long, env = "NEWSDESK_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,

    /// Region of the media bucket.
    #[arg(
        long,
        env = "NEWSDESK_S3_REGION",
        default_value = crate::storage::DEFAULT_S3_REGION,
        global = true
    )]
    pub s3_region: String,

    /// Base of public media URLs, e.g. a CDN in front of the bucket; unset, media is served
    /// by newsdesk under `/media/`.
    #[arg(long, env = "NEWSDESK_MEDIA_PUBLIC_URL", global = true)]
    pub media_public_url: Option<String>,

    /// The largest upload, in MiB.
    #[arg(long, env = "NEWSDESK_MEDIA_MAX_MB", default_value_t = 20, global = true)]
    pub media_max_mb: u64,

    /// The largest image accepted, as width × height; read from the header, so a
    /// decompression bomb is refused before any pixel is decoded.
    #[arg(
        long,
        env = "NEWSDESK_MEDIA_MAX_PIXELS",
        default_value_t = 50_000_000,
        global = true
    )]
    pub media_max_pixels: u64,

    /// Memory for small media files (renditions up to 1 MiB) kept by each process, in MiB.
    #[arg(long, env = "NEWSDESK_MEDIA_CACHE_MB", default_value_t = 64, global = true)]
    pub media_cache_mb: u64,

    /// Images decoded and resized at once by one process.
    #[arg(long, env = "NEWSDESK_MEDIA_WORKERS", default_value_t = 2, global = true)]
    pub media_workers: usize,
}

/// A setting that failed validation, named by its environment variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// Settings after validation, in the types the rest of the program uses.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DbUrl,
    pub bind: SocketAddr,
    pub jwt_secret: Option<String>,
    pub captcha: bool,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    pub scheduler_interval: std::time::Duration,
    pub comment_rate_per_min: u32,
    /// Folded spam words and phrases (see [`crate::text::fold`]).
    pub comment_spam_words: Vec<String>,
    pub comment_max_links: u32,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub search_count_limit: i64,
    /// Bytes of the response cache; 0 when it is off.
    pub cache_bytes: u64,
    pub cache_ttl: std::time::Duration,
    pub webhook_allow_private: bool,
    pub webhook_timeout: std::time::Duration,
    pub public_url: url::Url,
    pub article_pages: crate::articles::pages::ArticlePages,
    pub preview_ttl: std::time::Duration,
    /// The preview page's address with `{token}` in it (see [`crate::articles::preview`]).
    pub preview_url: String,
    pub cors_origins: Vec<String>,
    pub cors_headers: Vec<actix_web::http::header::HeaderName>,
    pub db_pool_size: u32,
    pub db_timeout: std::time::Duration,
    /// Bytes of the SQLite file mapped per connection (see [`crate::db::DbManager`]).
    pub sqlite_mmap_bytes: u64,
    pub replicas: ReplicaSettings,
    pub workers: usize,
    pub access_token_ttl: std::time::Duration,
    pub refresh_token_ttl: std::time::Duration,
    /// Serve the reference reader page (see [`crate::reader`]).
    pub reader: bool,
    pub body_timeout: std::time::Duration,
    pub max_connections: usize,
    pub metrics_token: Option<String>,
    /// The media store's location and options (opened by [`crate::storage::MediaStore::open`]).
    pub media: crate::storage::StoreSettings,
    pub media_limits: crate::media::process::Limits,
    pub media_workers: usize,
    pub media_cache_bytes: u64,
}

impl Settings {
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let database =
            DbUrl::parse(&self.database_url).map_err(|e| invalid("NEWSDESK_DATABASE_URL", e.to_string()))?;

        let replicas = ReplicaSettings::parse(&database, &self.database_replica_urls, self.replica_max_lag)
            .map_err(|(variable, message)| invalid(variable, message))?;
        let bind = self
            .bind
            .to_socket_addrs()
            .map_err(|e| invalid("NEWSDESK_BIND", format!("`{}` is not an address: {e}", self.bind)))?
            .next()
            .ok_or_else(|| invalid("NEWSDESK_BIND", format!("`{}` resolves to no address", self.bind)))?;

        if let Some(secret) = &self.jwt_secret
            && secret.len() < 32
        {
            return Err(invalid(
                "NEWSDESK_JWT_SECRET",
                "must be at least 32 bytes (256 bits); leave it unset to have one generated",
            ));
        }

        if self.admin_email.is_some() != self.admin_password.is_some() {
            return Err(invalid(
                "NEWSDESK_ADMIN_EMAIL",
                "NEWSDESK_ADMIN_EMAIL and NEWSDESK_ADMIN_PASSWORD go together: set both or neither",
            ));
        }

        if !(1..=60).contains(&self.webhook_timeout) {
            return Err(invalid(
                "NEWSDESK_WEBHOOK_TIMEOUT",
                "must be between 1 and 60 seconds",
            ));
        }

        if !(1..=86_400).contains(&self.scheduler_interval) {
            return Err(invalid(
                "NEWSDESK_SCHEDULER_INTERVAL",
                "must be between 1 and 86400 seconds",
            ));
        }

        let public_url = url::Url::parse(&self.public_url).map_err(|e| {
            invalid(
                "NEWSDESK_PUBLIC_URL",
                format!("`{}` is not a URL: {e}", self.public_url),
            )
        })?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host().is_none() {
            return Err(invalid(
                "NEWSDESK_PUBLIC_URL",
                "must be an http:// or https:// URL with a host",
            ));
        }

        let article_pages =
            crate::articles::pages::ArticlePages::new(&public_url, &self.article_path, &self.url_utc_offset)
                .map_err(|(variable, message)| invalid(variable, message))?;
        let preview_ttl = crate::articles::preview::ttl(self.preview_ttl)
            .map_err(|message| invalid("NEWSDESK_PREVIEW_TTL", message))?;
        let preview_url = crate::articles::preview::url_template(&public_url, self.preview_url.as_deref())
            .map_err(|message| invalid("NEWSDESK_PREVIEW_URL", message))?;

        let mut cors_origins = Vec::new();
        for origin in self
            .cors_origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
        {
            let parsed = url::Url::parse(origin).map_err(|e| {
                invalid(
                    "NEWSDESK_CORS_ORIGINS",
                    format!("`{origin}` is not an origin: {e}"),
                )
            })?;
            let normalised = parsed.origin().ascii_serialization();
            if normalised == "null" || normalised != origin.trim_end_matches('/') {
                return Err(invalid(
                    "NEWSDESK_CORS_ORIGINS",
                    format!("`{origin}` must be a bare origin such as https://news.example.vn"),
                ));
            }
            cors_origins.push(normalised);
        }

        let mut cors_headers = Vec::new();
        for name in self
            .cors_headers
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
        {
            let header = actix_web::http::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("NEWSDESK_CORS_HEADERS", format!("`{name}` is not a header name")))?;
            if !cors_headers.contains(&header) {
                cors_headers.push(header);
            }
        }

        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(invalid(
                "NEWSDESK_LOG",
                format!("`{}` is not a log filter", self.log),
            ));
        }

        if !(1..=1000).contains(&self.db_pool_size) {
            return Err(invalid("NEWSDESK_DB_POOL_SIZE", "must be between 1 and 1000"));
        }
        // SQLite's own ceiling (`SQLITE_MAX_MMAP_SIZE`, just under 2 GiB): a larger value would
        // be cut to it without a word.
        if self.sqlite_mmap_mb > 2047 {
            return Err(invalid("NEWSDESK_SQLITE_MMAP_MB", "must be at most 2047"));
        }
        if !(1..=300).contains(&self.db_timeout) {
            return Err(invalid(
                "NEWSDESK_DB_TIMEOUT",
                "must be between 1 and 300 seconds",
            ));
        }
        if !(60..=86_400).contains(&self.access_token_ttl) {
            return Err(invalid(
                "NEWSDESK_ACCESS_TOKEN_TTL",
                "must be between 60 and 86400 seconds",
            ));
        }
        if !(1..=365).contains(&self.refresh_token_days) {
            return Err(invalid(
                "NEWSDESK_REFRESH_TOKEN_DAYS",
                "must be between 1 and 365 days",
            ));
        }
        let comment_spam_words: Vec<String> = self
            .comment_spam_words
            .split(',')
            .map(crate::text::fold)
            .filter(|w| !w.is_empty())
            .collect();
        if self.comment_max_links > 1000 {
            return Err(invalid("NEWSDESK_COMMENT_MAX_LINKS", "must be at most 1000"));
        }
        let mut trusted_proxies = Vec::new();
        for entry in self
            .trusted_proxies
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
        {
            let net = entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(
                        "NEWSDESK_TRUSTED_PROXIES",
                        format!("`{entry}` is neither an address nor a network such as 10.0.0.0/8"),
                    )
                })?;
            trusted_proxies.push(net);
        }
        if !(1..=1_000_000).contains(&self.search_count_limit) {
            return Err(invalid(
                "NEWSDESK_SEARCH_COUNT_LIMIT",
                "must be between 1 and 1000000",
            ));
        }
        if self.cache_mb > 1 << 20 {
            return Err(invalid("NEWSDESK_CACHE_MB", "must be at most 1048576 (1 TiB)"));
        }
        if !(1..=86_400).contains(&self.cache_ttl) {
            return Err(invalid(
                "NEWSDESK_CACHE_TTL",
                "must be between 1 and 86400 seconds",
            ));
        }
        if !(1..=500).contains(&self.media_max_mb) {
            return Err(invalid("NEWSDESK_MEDIA_MAX_MB", "must be between 1 and 500"));
        }
        if !(1_000_000..=1_000_000_000).contains(&self.media_max_pixels) {
            return Err(invalid(
                "NEWSDESK_MEDIA_MAX_PIXELS",
                "must be between 1000000 and 1000000000",
            ));
        }
        if self.media_cache_mb > 1 << 20 {
            return Err(invalid("NEWSDESK_MEDIA_CACHE_MB", "must be at most 1048576"));
        }
        if !(1..=64).contains(&self.media_workers) {
            return Err(invalid("NEWSDESK_MEDIA_WORKERS", "must be between 1 and 64"));
        }
        if !(1..=300).contains(&self.body_timeout) {
            return Err(invalid(
                "NEWSDESK_BODY_TIMEOUT",
                "must be between 1 and 300 seconds",
            ));
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            return Err(invalid(
                "NEWSDESK_MAX_CONNECTIONS",
                "must be between 1 and 1000000",
            ));
        }
        let metrics_token = match self.metrics_token.as_deref() {
            None | Some("") => None,
            Some(t) if t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()) => {
                return Err(invalid(
                    "NEWSDESK_METRICS_TOKEN",
                    "must be at least 16 printable characters without spaces",
                ));
            }
            Some(t) => Some(t.to_owned()),
        };
        let media = crate::storage::StoreSettings::parse(
            &self.media_store,
            self.s3_endpoint.as_deref(),
            Some(self.s3_region.as_str()),
            self.media_public_url.as_deref(),
        )
        .map_err(|(variable, message)| invalid(variable, message))?;
        let workers = match self.workers {
            Some(0) => return Err(invalid("NEWSDESK_WORKERS", "must be at least 1")),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };

        Ok(Config {
            database,
            bind,
            jwt_secret: self.jwt_secret.clone(),
            captcha: self.captcha == Switch::On,
            admin_email: self.admin_email.clone(),
            admin_password: self.admin_password.clone(),
            scheduler_interval: std::time::Duration::from_secs(self.scheduler_interval),
            comment_rate_per_min: self.comment_rate_per_min,
            comment_spam_words,
            comment_max_links: self.comment_max_links,
            trusted_proxies,
            search_count_limit: self.search_count_limit,
            cache_bytes: self.cache_mb << 20,
            cache_ttl: std::time::Duration::from_secs(self.cache_ttl),
            webhook_allow_private: self.webhook_allow_private,
            webhook_timeout: std::time::Duration::from_secs(self.webhook_timeout),
            article_pages,
            public_url,
            preview_ttl,
            preview_url,
            cors_origins,
            cors_headers,
            db_pool_size: self.db_pool_size,
            db_timeout: std::time::Duration::from_secs(self.db_timeout),
            sqlite_mmap_bytes: self.sqlite_mmap_mb << 20,
            replicas,
            workers,
            access_token_ttl: std::time::Duration::from_secs(self.access_token_ttl),
            refresh_token_ttl: std::time::Duration::from_secs(self.refresh_token_days * 86_400),
            reader: self.reader == Switch::On,
            body_timeout: std::time::Duration::from_secs(self.body_timeout),
            max_connections: self.max_connections,
            metrics_token,
            media,
            media_limits: crate::media::process::Limits {
                max_bytes: self.media_max_mb * 1024 * 1024,
                max_pixels: self.media_max_pixels,
            },
            media_workers: self.media_workers,
            media_cache_bytes: self.media_cache_mb << 20,
        })
    }
}

/// The settings alone, read as the command line reads them (flags, then the environment).
#[derive(Debug, Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Config {
    /// Defaults for a given database, as the server would run with no flags set.
    pub fn for_database(database: DbUrl) -> Self {
        let mut config = SettingsOnly::parse_from(["newsdesk"])
            .settings
            .validate()
            .unwrap_or_else(|e| unreachable!("built-in defaults are valid: {e}"));
        config.database = database;
        config
    }
}
