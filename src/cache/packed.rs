//! Answers kept gzipped: the cache holds about two and a half times the pages in the same
//! bytes (an article page of 10.4 KB is kept as 4.2 KB), and clients that accept gzip
//! (browsers, CDNs, server-side fetches) get the kept bytes as they are, with nothing
//! compressed per request.

use std::cell::RefCell;

use actix_web::HttpRequest;
use actix_web::http::header::{AcceptEncoding, Encoding, Header};
use actix_web::web::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Bodies shorter than this are kept as they are: a few hundred bytes gain little, and the
/// gzip header and checksum are a fixed cost.
const PACKED_FROM: usize = 1024;

/// Level 2 of 9: zlib-rs's level 1 codes with fixed tables, and an article page came out a
/// third larger (5.5 KB against 4.2 KB). The levels above gain a few percent at up to twice
/// the time (measured with zlib on the same pages), and every miss pays it.
const LEVEL: u32 = 2;

/// A gzip member's header: deflate, no name, no time, no flags, unknown OS (RFC 1952).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// The CRC-32 and length that close a member.
const TRAILER: usize = 8;
/// The most output room a thread keeps between bodies.
const SCRATCH_KEPT: usize = 256 * 1024;

thread_local! {
    /// One deflate state per thread, reset for each body: a fresh one is some 300 KB of
    /// tables, and allocating and freeing that on every miss, between the small long-lived
    /// bodies the cache keeps, left the allocator's heaps several times the cache's size.
    static DEFLATE: RefCell<(Compress, Vec<u8>)> =
        RefCell::new((Compress::new(Compression::new(LEVEL), false), Vec::new()));
    static INFLATE: RefCell<Decompress> = RefCell::new(Decompress::new(false));
}

/// `body` gzipped, when that saves at least an eighth of it.
pub fn pack(body: &[u8]) -> Option<Bytes> {
    if body.len() < PACKED_FROM {
        return None;
    }
    let worth = body.len() - body.len() / 8;
    DEFLATE.with_borrow_mut(|(deflate, out)| {
        deflate.reset();
        out.clear();
        // Room for the worst case (zlib's deflateBound, with margin): deflate must never run
        // out of it, as zlib-rs 0.6 panics instead of reporting a full buffer when it stores
        // incompressible blocks.
        out.reserve(HEADER.len() + body.len() + body.len() / 1000 + 64 + TRAILER);
        out.extend_from_slice(&HEADER);
        let status = deflate.compress_vec(body, out, FlushCompress::Finish).ok()?;
        if status != Status::StreamEnd || out.len() + TRAILER > worth {
            return None;
        }
        let mut crc = flate2::Crc::new();
        crc.update(body);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE is the length modulo 2^32 (RFC 1952).
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        // Kept exactly as long as it is: the cache counts lengths, not capacities.
        let packed = Bytes::copy_from_slice(out);
        // A sitemap page is megabytes: its room is not kept for the pages that follow.
        if out.capacity() > SCRATCH_KEPT {
            *out = Vec::new();
        }
        Some(packed)
    })
}

/// The body that [`pack`] gzipped; `len` is its length.
pub fn unpack(packed: &[u8], len: usize) -> std::io::Result<Bytes> {
    let broken = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not a body pack made");
    let deflated = packed
        .get(HEADER.len()..packed.len().saturating_sub(TRAILER))
        .filter(|_| packed.starts_with(&HEADER))
        .ok_or_else(broken)?;
    INFLATE.with_borrow_mut(|inflate| {
        inflate.reset(false);
        let mut body = Vec::with_capacity(len);
        let status = inflate
            .decompress_vec(deflated, &mut body, FlushDecompress::Finish)
            .map_err(std::io::Error::other)?;
        if status == Status::StreamEnd && body.len() == len {
            Ok(Bytes::from(body))
        } else {
            Err(broken())
        }
    })
}

/// Whether the client takes a gzipped body. Without `Accept-Encoding` it gets the plain one:
/// a client that states nothing may not decode anything.
pub fn accepts_gzip(req: &HttpRequest) -> bool {
    if !req
        .headers()
        .contains_key(actix_web::http::header::ACCEPT_ENCODING)
    {
        return false;
    }
    AcceptEncoding::parse(req).is_ok_and(|accepted| {
        accepted.negotiate([Encoding::gzip(), Encoding::identity()].iter()) == Some(Encoding::gzip())
    })
}

/// The ETag of the gzipped form of an answer whose plain form has `etag`: a different
/// representation must not share a strong validator.
pub fn gzip_etag(etag: &str) -> String {
    match etag.strip_suffix('"') {
        Some(open) => format!("{open}-gzip\""),
        None => format!("{etag}-gzip"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_packed_body_unpacks_to_itself() {
        let body = "{\"title\":\"Phường Hoàn Kiếm tổ chức lễ phát động\"}".repeat(100);
        let packed = pack(body.as_bytes()).unwrap();
        assert!(
            packed.len() < body.len() / 4,
            "{} of {}",
            packed.len(),
            body.len()
        );
        assert_eq!(unpack(&packed, body.len()).unwrap(), body.as_bytes());
        // A standard gzip member, as clients decode it.
        let mut decoded = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut decoded).unwrap();
        assert_eq!(decoded, body);
        assert!(unpack(&packed[1..], body.len()).is_err());
        assert!(unpack(&packed, body.len() + 1).is_err());
    }

    #[test]
    fn short_or_incompressible_bodies_stay_plain() {
        assert!(pack(b"{\"data\":[]}").is_none());
        // A xorshift sequence: bytes gzip cannot shrink.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(pack(&noise).is_none());
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_ask_for_it() {
        let with = |value: Option<&str>| {
            let mut req = actix_web::test::TestRequest::get();
            if let Some(value) = value {
                req = req.insert_header(("Accept-Encoding", value));
            }
            accepts_gzip(&req.to_http_request())
        };
        assert!(with(Some("gzip, deflate, br, zstd")));
        assert!(with(Some("br;q=1.0, gzip;q=0.8, *;q=0.1")));
        assert!(!with(None));
        assert!(!with(Some("identity")));
        assert!(!with(Some("br")));
        assert!(!with(Some("gzip;q=0")));
        assert!(!with(Some("gzip;q=0.5, identity")));
    }

    #[test]
    fn the_gzipped_form_has_its_own_etag() {
        assert_eq!(gzip_etag("\"abc\""), "\"abc-gzip\"");
    }
}
