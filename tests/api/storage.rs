//! The media object store (`newsdesk::storage`) on both of its backends: a local directory and
//! a real S3-compatible server (moto, see `common::s3`). Every scenario runs on both, as
//! `<scenario>::file` and `<scenario>::s3`.

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use futures_util::TryStreamExt;
use newsdesk::storage::{ByteRange, MediaStore, ObjectInfo, StoreError, StoreLocation, StoreSettings};

use crate::common::s3;

/// One backend's store for one test, with what keeps it alive.
struct Case {
    store: MediaStore,
    settings: StoreSettings,
    /// The file store's directory (and its parent, to check nothing escapes it).
    dir: Option<tempfile::TempDir>,
}

impl Case {
    fn file() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let settings = StoreSettings::new(StoreLocation::Local(dir.path().join("media")));
        Case {
            store: MediaStore::open(&settings).unwrap(),
            settings,
            dir: Some(dir),
        }
    }

    fn s3() -> Option<Case> {
        let (_bucket, settings) = s3::fresh_bucket(None)?;
        Some(Case {
            store: MediaStore::open(&settings).unwrap(),
            settings,
            dir: None,
        })
    }

    /// Another process's view of the same store.
    fn reopen(&self) -> MediaStore {
        MediaStore::open(&self.settings).unwrap()
    }

    fn with_public_url(&self, url: &str) -> MediaStore {
        let mut settings = self.settings.clone();
        settings.public_url = Some(url::Url::parse(url).unwrap());
        MediaStore::open(&settings).unwrap()
    }
}

/// Runs the body as `file` (a temporary directory) and `s3` (a fresh bucket on moto).
macro_rules! store_test {
    (async fn $name:ident($case:ident: Case) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($case: Case) $body

            #[actix_web::test]
            async fn file() {
                run(Case::file()).await
            }

            #[actix_web::test]
            async fn s3() {
                if let Some(case) = Case::s3() {
                    run(case).await
                }
            }
        }
    };
}

/// Every byte value, several times over, in an order no text encoding would produce.
fn binary(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i * 7 + i / 256) as u8)
        .collect::<Vec<_>>()
        .into()
}

fn assert_recent(info: &ObjectInfo) {
    let age = Utc::now() - info.last_modified;
    assert!(
        age < chrono::Duration::minutes(5) && age > chrono::Duration::minutes(-5),
        "{} last modified {}",
        info.key,
        info.last_modified
    );
}

async fn keys(store: &MediaStore, prefix: &str) -> Vec<ObjectInfo> {
    let mut found: Vec<ObjectInfo> = store.list(prefix).unwrap().try_collect().await.unwrap();
    found.sort_by(|a, b| a.key.cmp(&b.key));
    found
}

const KEY: &str = "ab/cd/abcd0123456789-640.webp";

store_test!(
    async fn binary_round_trip(case: Case) {
        let data = binary(3000);
        case.store.put(KEY, data.clone(), "image/webp").await.unwrap();

        let got = case.store.get(KEY, None).await.unwrap();
        assert_eq!(got.bytes, data);
        assert_eq!(got.range, 0..3000);
        assert_eq!(got.info.size, 3000);
        assert_eq!(got.info.key, KEY);
        assert_recent(&got.info);
        if case.store.is_shared() {
            assert_eq!(got.content_type.as_deref(), Some("image/webp"));
        }

        let head = case.store.head(KEY).await.unwrap();
        assert_eq!(head.size, 3000);
        assert_eq!(head.last_modified, got.info.last_modified);

        // Content-addressed: a second upload of the same file is harmless.
        case.store.put(KEY, data.clone(), "image/webp").await.unwrap();
        assert_eq!(case.store.get(KEY, None).await.unwrap().bytes, data);

        // An empty file is a file.
        case.store
            .put("ab/cd/empty", Bytes::new(), "application/octet-stream")
            .await
            .unwrap();
        let empty = case.store.get("ab/cd/empty", None).await.unwrap();
        assert!(empty.bytes.is_empty());
        assert_eq!(empty.info.size, 0);
        assert_eq!(
            case.store
                .get("ab/cd/empty", Some(ByteRange::Suffix(5)))
                .await
                .unwrap_err(),
            StoreError::RangeNotSatisfiable { size: 0 },
            "an empty file has no last bytes"
        );
    }
);

store_test!(
    async fn ranged_get(case: Case) {
        let data = binary(100);
        case.store.put(KEY, data.clone(), "image/webp").await.unwrap();

        let part = case.store.get(KEY, Some((10..20).into())).await.unwrap();
        assert_eq!(part.bytes, data.slice(10..20));
        assert_eq!(part.range, 10..20);
        assert_eq!(part.info.size, 100, "the total size, for Content-Range");

        let suffix = case.store.get(KEY, Some(ByteRange::Suffix(7))).await.unwrap();
        assert_eq!(suffix.bytes, data.slice(93..));
        assert_eq!(suffix.range, 93..100);

        let tail = case.store.get(KEY, Some(ByteRange::From(95))).await.unwrap();
        assert_eq!(tail.bytes, data.slice(95..));

        // Past the end is cut to the end, as HTTP ranges are.
        let cut = case.store.get(KEY, Some((90..500).into())).await.unwrap();
        assert_eq!(cut.bytes, data.slice(90..));
        assert_eq!(cut.range, 90..100);

        for nothing in [
            ByteRange::Bounded(100..110),
            ByteRange::From(100),
            ByteRange::Bounded(5..5),
            ByteRange::Bounded(std::ops::Range { start: 7, end: 3 }),
            ByteRange::Suffix(0),
        ] {
            assert_eq!(
                case.store.get(KEY, Some(nothing.clone())).await.unwrap_err(),
                StoreError::RangeNotSatisfiable { size: 100 },
                "{nothing:?}"
            );
        }
        assert!(matches!(
            case.store.get("ab/none", Some((0..1).into())).await,
            Err(StoreError::NotFound(_))
        ));
    }
);

store_test!(
    async fn missing_and_deleted_objects_are_not_found(case: Case) {
        assert_eq!(
            case.store.get("ab/cd/missing", None).await.unwrap_err(),
            StoreError::NotFound("ab/cd/missing".into())
        );
        assert!(matches!(
            case.store.head("ab/cd/missing").await,
            Err(StoreError::NotFound(_))
        ));

        case.store.put(KEY, binary(10), "image/webp").await.unwrap();
        case.store.delete(KEY).await.unwrap();
        assert!(matches!(
            case.store.get(KEY, None).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(case.store.head(KEY).await, Err(StoreError::NotFound(_))));

        // Twice, and something never stored: sweepers in several processes may race.
        case.store.delete(KEY).await.unwrap();
        case.store.delete("zz/never/stored").await.unwrap();
    }
);

store_test!(
    async fn list_by_prefix(case: Case) {
        let before = Utc::now() - chrono::Duration::seconds(5);
        for (key, len) in [
            ("ab/cd/one", 1),
            ("ab/cd/two", 2),
            ("ab/ef/three", 3),
            ("xy/four", 4),
        ] {
            case.store.put(key, binary(len), "image/webp").await.unwrap();
        }
        let listed = keys(&case.store, "ab/").await;
        assert_eq!(
            listed
                .iter()
                .map(|o| (o.key.as_str(), o.size))
                .collect::<Vec<_>>(),
            [("ab/cd/one", 1), ("ab/cd/two", 2), ("ab/ef/three", 3)]
        );
        for object in &listed {
            assert!(object.last_modified >= before, "{object:?}");
            assert_recent(object);
        }
        let names = |v: Vec<ObjectInfo>| v.into_iter().map(|o| o.key).collect::<Vec<_>>();
        assert_eq!(
            names(keys(&case.store, "ab/cd").await),
            ["ab/cd/one", "ab/cd/two"]
        );
        assert_eq!(names(keys(&case.store, "").await).len(), 4);
        assert!(keys(&case.store, "zz/").await.is_empty());
        // Prefixes are directories: `a` is not `ab/`.
        assert!(keys(&case.store, "a").await.is_empty());

        case.store.delete("ab/cd/one").await.unwrap();
        assert_eq!(names(keys(&case.store, "ab/cd/").await), ["ab/cd/two"]);
    }
);

store_test!(
    async fn invalid_keys_are_refused_before_any_io(case: Case) {
        let invalid = |r: Result<_, StoreError>| matches!(r, Err(StoreError::InvalidKey(_)));
        for key in ["../x", "/abs", "A B", "ab/../../x", "", "ab//cd", "ab/"] {
            assert!(
                invalid(case.store.put(key, binary(3), "image/webp").await.map(|_| ())),
                "{key:?}"
            );
            assert!(invalid(case.store.get(key, None).await.map(|_| ())), "{key:?}");
            assert!(invalid(case.store.head(key).await.map(|_| ())), "{key:?}");
            assert!(invalid(case.store.delete(key).await), "{key:?}");
            assert!(invalid(case.store.public_url(key).map(|_| ())), "{key:?}");
        }
        assert!(invalid(case.store.list("../").map(|_| ())));
        assert!(invalid(case.store.list("/").map(|_| ())));
        assert!(keys(&case.store, "").await.is_empty(), "nothing was written");
        if let Some(dir) = &case.dir {
            assert!(!dir.path().join("x").exists());
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only media/");
        }
    }
);

store_test!(
    async fn public_urls(case: Case) {
        assert_eq!(case.store.public_url(KEY).unwrap(), format!("/media/{KEY}"));
        for base in ["https://cdn.example.vn/media", "https://cdn.example.vn/media/"] {
            let cdn = case.with_public_url(base);
            assert_eq!(
                cdn.public_url(KEY).unwrap(),
                format!("https://cdn.example.vn/media/{KEY}")
            );
        }
        assert_eq!(
            case.with_public_url("http://media.example.vn")
                .public_url("a.jpg")
                .unwrap(),
            "http://media.example.vn/a.jpg"
        );
    }
);

store_test!(
    async fn two_instances_share_files(case: Case) {
        let other = case.reopen();
        case.store.put(KEY, binary(50), "image/webp").await.unwrap();
        assert_eq!(other.get(KEY, None).await.unwrap().bytes, binary(50));
        assert_eq!(
            keys(&other, "ab/")
                .await
                .into_iter()
                .map(|o| o.key)
                .collect::<Vec<_>>(),
            [KEY]
        );

        other
            .put("ab/cd/from-other", binary(5), "image/png")
            .await
            .unwrap();
        assert_eq!(case.store.head("ab/cd/from-other").await.unwrap().size, 5);

        other.delete(KEY).await.unwrap();
        assert!(matches!(
            case.store.get(KEY, None).await,
            Err(StoreError::NotFound(_))
        ));
    }
);

#[actix_web::test]
async fn an_s3_prefix_keeps_keys_apart_and_relative() {
    let Some((bucket, root_settings)) = s3::fresh_bucket(None) else {
        return;
    };
    let server = s3::server().unwrap();
    let root = MediaStore::open(&root_settings).unwrap();
    let site = MediaStore::open(&server.settings(&bucket, Some("site-a/media"))).unwrap();

    site.put(KEY, binary(8), "image/webp").await.unwrap();
    assert_eq!(
        keys(&site, "")
            .await
            .into_iter()
            .map(|o| o.key)
            .collect::<Vec<_>>(),
        [KEY],
        "keys are listed as they were put"
    );
    assert_eq!(root.head(&format!("site-a/media/{KEY}")).await.unwrap().size, 8);
    assert!(matches!(root.head(KEY).await, Err(StoreError::NotFound(_))));
}

#[actix_web::test]
async fn an_unreachable_s3_server_is_unavailable_not_a_hang() {
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = StoreSettings::new(StoreLocation::S3 {
        bucket: "nowhere".into(),
        prefix: None,
    });
    settings.s3_endpoint = Some(url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap());
    settings.s3_credentials = Some(newsdesk::storage::S3Credentials {
        access_key_id: "k".into(),
        secret_access_key: "s".into(),
    });
    let store = MediaStore::open(&settings).unwrap();

    // A bad key never reaches the network.
    assert!(matches!(
        store.get("../x", None).await,
        Err(StoreError::InvalidKey(_))
    ));

    let started = std::time::Instant::now();
    let error = store.get(KEY, None).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_missing_store_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("srv/newsdesk/media");
    MediaStore::open(&StoreSettings::new(StoreLocation::Local(media.clone()))).unwrap();
    assert!(media.is_dir());
}

#[test]
fn media_settings_are_read_and_checked() {
    use clap::Parser;
    use newsdesk::cli::Cli;
    use newsdesk::config::Config;
    use newsdesk::db::DbUrl;

    let defaults = Config::for_database(DbUrl::parse("sqlite://unused.db").unwrap()).media;
    assert_eq!(defaults.location, StoreLocation::Local("./media".into()));
    assert_eq!(defaults.s3_region, "us-east-1");
    assert!(defaults.s3_endpoint.is_none() && defaults.public_url.is_none());

    let parse = |args: &[&str]| {
        let mut argv = vec!["newsdesk"];
        argv.extend_from_slice(args);
        Cli::parse_from(argv).settings.validate()
    };
    let config = parse(&[
        "--media-store",
        "s3://news-media/prod",
        "--s3-endpoint",
        "http://minio:9000",
        "--s3-region",
        "ap-southeast-1",
        "--media-public-url",
        "https://cdn.example.vn/media",
    ])
    .unwrap();
    assert_eq!(
        config.media.location,
        StoreLocation::S3 {
            bucket: "news-media".into(),
            prefix: Some("prod".into())
        }
    );
    assert_eq!(config.media.s3_region, "ap-southeast-1");
    assert_eq!(
        config.media.s3_endpoint.map(String::from).as_deref(),
        Some("http://minio:9000/")
    );

    for (args, variable) in [
        (&["--media-store", "ftp://media"][..], "NEWSDESK_MEDIA_STORE"),
        (&["--media-store", "s3://Bad_Bucket"][..], "NEWSDESK_MEDIA_STORE"),
        (&["--s3-endpoint", "minio:9000"][..], "NEWSDESK_S3_ENDPOINT"),
        (&["--s3-region", "Hà Nội"][..], "NEWSDESK_S3_REGION"),
        (
            &["--media-public-url", "/static"][..],
            "NEWSDESK_MEDIA_PUBLIC_URL",
        ),
    ] {
        let error = parse(args).unwrap_err();
        assert_eq!(error.variable, variable, "{args:?}: {error}");
    }
}

#[test]
fn an_invalid_store_url_stops_the_start_naming_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::common::binary::newsdesk(dir.path())
        .env("NEWSDESK_MEDIA_STORE", "s3:/bucket-without-slashes")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("NEWSDESK_MEDIA_STORE"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
