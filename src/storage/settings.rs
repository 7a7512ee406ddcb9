//! Where the media store lives, parsed from `NEWSDESK_MEDIA_STORE` and its companions.
//!
//! Parsing does no I/O, so [`crate::config::Settings::validate`] can refuse a malformed URL at
//! start with a message naming the variable; [`super::MediaStore::open`] then creates the
//! directory or the S3 client.

use std::path::PathBuf;

use super::key::validate_key;

/// The store URL, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `file://./media` (relative to the working directory) or `file:///abs/path`. Fine for
    /// one process, or several sharing a file system.
    Local(PathBuf),
    /// `s3://bucket/prefix`: keys live under `prefix/` in `bucket`, shared by every process
    /// that points at it.
    S3 { bucket: String, prefix: Option<String> },
}

impl StoreLocation {
    /// Parses `file://…` or `s3://bucket[/prefix]`; the message says what is wrong.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("file://") {
            // Not through `url::Url`: `file://./media` would make `.` a host name.
            if path.is_empty() {
                return Err("`file://` needs a directory, e.g. file://./media or file:///srv/media".into());
            }
            if path.contains('\0') {
                return Err("the directory contains a NUL byte".into());
            }
            return Ok(StoreLocation::Local(PathBuf::from(path)));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            // Split by hand: `url::Url` would resolve `..` in the prefix instead of refusing it.
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.contains('@') {
                return Err(
                    "credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                        .into(),
                );
            }
            if bucket.contains(':') || rest.contains('?') || rest.contains('#') {
                return Err(
                    "an s3:// URL is s3://bucket/prefix; the server goes in NEWSDESK_S3_ENDPOINT".into(),
                );
            }
            validate_bucket(bucket)?;
            let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
            let prefix = if prefix.is_empty() {
                None
            } else {
                validate_key(prefix).map_err(|e| format!("the prefix {e}"))?;
                Some(prefix.to_owned())
            };
            return Ok(StoreLocation::S3 {
                bucket: bucket.to_owned(),
                prefix,
            });
        }
        Err(format!(
            "`{url}` is neither file://DIRECTORY nor s3://BUCKET/PREFIX"
        ))
    }
}

/// S3's bucket naming rules, the part that matters for addressing: 3–63 characters of
/// lower-case letters, digits, `.` and `-`, starting and ending with a letter or digit.
fn validate_bucket(bucket: &str) -> Result<(), String> {
    let valid = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{bucket}` is not a bucket name (3-63 characters: a-z 0-9 . -)"
        ))
    }
}

/// Explicit S3 keys. Only tests and embedding programs need them: the server takes its keys
/// from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` or the rest of the usual AWS chain.
#[derive(Clone)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// Everything [`super::MediaStore::open`] needs.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub location: StoreLocation,
    /// A custom S3-compatible server (MinIO, Ceph, moto…): requests go there with path-style
    /// addressing, and plain `http://` is allowed because it was asked for explicitly.
    pub s3_endpoint: Option<url::Url>,
    pub s3_region: String,
    /// Base of public media URLs (a CDN or the bucket's own address); without it files are
    /// served by newsdesk at `/media/<key>`.
    pub public_url: Option<url::Url>,
    /// Overrides the environment's AWS keys when set.
    pub s3_credentials: Option<S3Credentials>,
}

/// Region assumed when none is configured; S3-compatible servers generally accept any.
pub const DEFAULT_S3_REGION: &str = "us-east-1";

impl StoreSettings {
    /// A location with the defaults: no custom endpoint, `us-east-1`, URLs under `/media/`.
    pub fn new(location: StoreLocation) -> Self {
        StoreSettings {
            location,
            s3_endpoint: None,
            s3_region: DEFAULT_S3_REGION.to_owned(),
            public_url: None,
            s3_credentials: None,
        }
    }

    /// Parses the four settings as the environment gives them; the error names the variable.
    pub fn parse(
        store: &str,
        s3_endpoint: Option<&str>,
        s3_region: Option<&str>,
        public_url: Option<&str>,
    ) -> Result<Self, (&'static str, String)> {
        let location = StoreLocation::parse(store).map_err(|e| ("NEWSDESK_MEDIA_STORE", e))?;
        let s3_endpoint = match s3_endpoint.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(parse_endpoint(raw).map_err(|e| ("NEWSDESK_S3_ENDPOINT", e))?),
        };
        let s3_region = match s3_region.map(str::trim).filter(|s| !s.is_empty()) {
            None => DEFAULT_S3_REGION.to_owned(),
            Some(region)
                if region.len() <= 64
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
            {
                region.to_owned()
            }
            Some(region) => {
                return Err((
                    "NEWSDESK_S3_REGION",
                    format!("`{region}` is not a region name such as us-east-1"),
                ));
            }
        };
        let public_url = match public_url.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(parse_public_url(raw).map_err(|e| ("NEWSDESK_MEDIA_PUBLIC_URL", e))?),
        };
        Ok(StoreSettings {
            location,
            s3_endpoint,
            s3_region,
            public_url,
            s3_credentials: None,
        })
    }
}

fn parse_endpoint(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:9000".into());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("must be the server's address alone; the bucket goes in NEWSDESK_MEDIA_STORE".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
        );
    }
    Ok(url)
}

fn parse_public_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment: keys are appended to it".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_locations() {
        assert_eq!(
            StoreLocation::parse("file://./media"),
            Ok(StoreLocation::Local(PathBuf::from("./media")))
        );
        assert_eq!(
            StoreLocation::parse("file:///srv/media"),
            Ok(StoreLocation::Local(PathBuf::from("/srv/media")))
        );
        assert!(StoreLocation::parse("file://").is_err());
    }

    #[test]
    fn s3_locations() {
        assert_eq!(
            StoreLocation::parse("s3://news-media"),
            Ok(StoreLocation::S3 {
                bucket: "news-media".into(),
                prefix: None
            })
        );
        assert_eq!(
            StoreLocation::parse("s3://news-media/prod/media/"),
            Ok(StoreLocation::S3 {
                bucket: "news-media".into(),
                prefix: Some("prod/media".into())
            })
        );
        for bad in [
            "s3://",
            "s3://ab",
            "s3://Bucket",
            "s3://key:secret@bucket",
            "s3://bucket:9000",
            "s3://bucket/../x",
            "s3://bucket//x",
            "s3://bucket/x/..",
            "s3://bucket/Pre fix",
            "s3://bucket?region=x",
            "http://bucket",
            "./media",
            "",
        ] {
            assert!(StoreLocation::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn companions() {
        let parsed = StoreSettings::parse(
            "s3://media",
            Some("http://127.0.0.1:9000"),
            None,
            Some("https://cdn.example.vn/media/"),
        )
        .map_err(|(v, e)| format!("{v}: {e}"));
        assert!(parsed.is_ok(), "{parsed:?}");
        if let Ok(settings) = parsed {
            assert_eq!(settings.s3_region, "us-east-1");
            assert_eq!(
                settings.s3_endpoint.map(String::from).as_deref(),
                Some("http://127.0.0.1:9000/")
            );
        }
        let variable = |r: Result<StoreSettings, (&'static str, String)>| r.err().map(|(v, _)| v);
        assert_eq!(
            variable(StoreSettings::parse("s3://media", Some("ftp://x"), None, None)),
            Some("NEWSDESK_S3_ENDPOINT")
        );
        assert_eq!(
            variable(StoreSettings::parse(
                "s3://media",
                Some("http://x:9000/media"),
                None,
                None
            )),
            Some("NEWSDESK_S3_ENDPOINT")
        );
        assert_eq!(
            variable(StoreSettings::parse("s3://media", None, Some("US East"), None)),
            Some("NEWSDESK_S3_REGION")
        );
        assert_eq!(
            variable(StoreSettings::parse(
                "file://./media",
                None,
                None,
                Some("cdn.example.vn")
            )),
            Some("NEWSDESK_MEDIA_PUBLIC_URL")
        );
        assert_eq!(
            variable(StoreSettings::parse("ftp://x", None, None, None)),
            Some("NEWSDESK_MEDIA_STORE")
        );
    }
}
