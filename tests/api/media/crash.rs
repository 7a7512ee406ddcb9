//! `kill -9` during uploads: every entry the restarted server lists has its files, and every
//! upload that was answered 201 is there.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{BOUNDARY, Part, form};
use crate::common::binary;
use crate::common::receiver::http;
use newsdesk::media::process::testdata;
use serde_json::{Value, json};

const ADMIN: &str = "admin@example.vn";
const PASSWORD: &str = "mật khẩu quản trị đủ dài";

fn serve(database: &str, dir: &std::path::Path) -> (std::process::Child, u16) {
    let media = format!("file://{}", dir.join("media").display());
    binary::serve(
        dir,
        &[],
        &[
            ("NEWSDESK_DATABASE_URL", database),
            ("NEWSDESK_MEDIA_STORE", &media),
            ("NEWSDESK_ADMIN_EMAIL", ADMIN),
            ("NEWSDESK_ADMIN_PASSWORD", PASSWORD),
        ],
    )
}

fn sign_in(port: u16) -> String {
    let login = json!({"email": ADMIN, "password": PASSWORD}).to_string();
    let (status, text) = http(port, "POST", "/api/v1/auth/login", None, Some(&login)).unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str::<Value>(&text).unwrap()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One upload over a raw connection: the status and body, or `None` when the connection
/// broke (the server was killed under it).
fn upload(port: u16, token: &str, body: &[u8]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let head = format!(
        "POST /api/v1/admin/media HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// The status of a GET whose body may be binary.
fn status_of(port: u16, path: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let head = String::from_utf8_lossy(&answer[..answer.len().min(64)]).into_owned();
    head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn survives_kill_during_uploads(database: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = serve(database, dir.path());
    let token = sign_in(port);
    let photos: Vec<Vec<u8>> = (0..4).map(|i| testdata::jpeg(1200 + 8 * i, 900)).collect();
    let answered: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = photos
        .into_iter()
        .map(|photo| {
            let (token, answered, stop) = (token.clone(), answered.clone(), stop.clone());
            std::thread::spawn(move || {
                let body = form(&[
                    (
                        "file",
                        Part::File {
                            name: "anh.jpg",
                            bytes: &photo,
                        },
                    ),
                    ("alt", Part::Text("Ảnh tải lên khi máy chủ bị tắt")),
                ]);
                while !stop.load(Ordering::Relaxed) {
                    match upload(port, &token, &body) {
                        Some((201, text)) => {
                            let id = serde_json::from_str::<Value>(&text).unwrap()["data"]["id"]
                                .as_i64()
                                .unwrap();
                            answered.lock().unwrap().push(id);
                        }
                        Some((status, text)) => panic!("upload answered {status}: {text}"),
                        None => return,
                    }
                }
            })
        })
        .collect();
    // Killed once some uploads are done, while others are being processed or stored.
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "no upload finished in a minute");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(150));
    server.kill().unwrap();
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }
    let answered = answered.lock().unwrap().clone();

    let (mut server, port) = serve(database, dir.path());
    let token = sign_in(port);
    let (status, text) = http(
        port,
        "GET",
        "/api/v1/admin/media?per_page=100",
        Some(&token),
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    let rows = listed["data"].as_array().unwrap();
    let ids: Vec<i64> = rows.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    for id in &answered {
        assert!(
            ids.contains(id),
            "upload {id} was answered 201 and is gone: {ids:?}"
        );
    }
    for row in rows {
        let urls =
            std::iter::once(&row["url"]).chain(row["variants"].as_array().unwrap().iter().map(|v| &v["url"]));
        for url in urls {
            let url = url.as_str().unwrap();
            assert_eq!(
                status_of(port, url),
                200,
                "entry {} lists {url}, which is gone",
                row["id"]
            );
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn uploads_cut_off_by_kill_9_leave_no_entry_without_its_files_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("newsdesk.db").display());
    survives_kill_during_uploads(&database);
}

#[test]
fn uploads_cut_off_by_kill_9_leave_no_entry_without_its_files_on_postgres() {
    let Some(server) = crate::common::pg::server() else {
        return;
    };
    let database = server.create_database().unwrap();
    survives_kill_during_uploads(&database.url);
}
