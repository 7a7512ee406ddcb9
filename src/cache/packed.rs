//! Answers kept gzipped: the cache holds about two and a half times the pages in the same
//! bytes (an article page of 10.4 KB is kept as 4.2 KB), and clients that accept gzip
//! (browsers, CDNs, server-side fetches) get the kept bytes as they are, with nothing
//! compressed per request.

use std::cell::RefCell;

use actix_web::HttpRequest;
use actix_web::http::header::{AcceptEncoding, Encoding, Header};
use actix_web::web::Bytes;
use libdeflater::{CompressionLvl, Compressor, Decompressor};

/// Bodies shorter than this are kept as they are: a few hundred bytes gain little, and the
/// gzip header and checksum are a fixed cost.
const PACKED_FROM: usize = 1024;

/// libdeflate's level 1: on twenty generated article pages it packed them as small as
/// zlib-rs at level 2 (40.1% against 40.5% of their length) in about half the time, and every
/// miss pays it. Its higher levels gained at most two points for up to 2.2 times the time.
const LEVEL: i32 = 1;

/// The most output room a thread keeps between bodies.
const SCRATCH_KEPT: usize = 256 * 1024;

thread_local! {
    /// One compressor per thread, kept between bodies: a fresh one is an allocation of its
    /// tables on every miss, between the small long-lived bodies the cache keeps.
    static DEFLATE: RefCell<Option<(Compressor, Vec<u8>)>> = const { RefCell::new(None) };
    static INFLATE: RefCell<Decompressor> = RefCell::new(Decompressor::new());
}

/// `body` gzipped (one RFC 1952 member), when that saves at least an eighth of it.
pub fn pack(body: &[u8]) -> Option<Bytes> {
    if body.len() < PACKED_FROM {
        return None;
    }
    let worth = body.len() - body.len() / 8;
    DEFLATE.with_borrow_mut(|kept| {
        let (deflate, out) = match kept {
            Some(kept) => kept,
            None => kept.insert((Compressor::new(CompressionLvl::new(LEVEL).ok()?), Vec::new())),
        };
        // The worst case's room, so that a body is never refused for want of it.
        out.resize(deflate.gzip_compress_bound(body.len()), 0);
        let written = deflate.gzip_compress(body, out).ok()?;
        // Kept exactly as long as it is: the cache counts lengths, not capacities.
        let packed = (written <= worth).then(|| Bytes::copy_from_slice(&out[..written]));
        // A sitemap page is megabytes: its room is not kept for the pages that follow.
        if out.capacity() > SCRATCH_KEPT {
            *out = Vec::new();
        }
        packed
    })
}

/// The body that [`pack`] gzipped; `len` is its length.
pub fn unpack(packed: &[u8], len: usize) -> std::io::Result<Bytes> {
    let broken = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not a body pack made");
    INFLATE.with_borrow_mut(|inflate| {
        let mut body = vec![0; len];
        // libdeflate checks the member's CRC-32 and stored length; the length must also be
        // the one kept beside it.
        match inflate.gzip_decompress(packed, &mut body) {
            Ok(written) if written == len => Ok(Bytes::from(body)),
            _ => Err(broken()),
        }
    })
}

/// Whether the client takes a gzipped body. Without `Accept-Encoding` it gets the plain one:
/// a client that states nothing may not decode anything.
pub fn accepts_gzip(req: &HttpRequest) -> bool {
    let mut values = req.headers().get_all(actix_web::http::header::ACCEPT_ENCODING);
    let Some(first) = values.next() else {
        return false;
    };
    // What browsers send, one header listing codings without weights or wildcards: gzip is
    // taken if listed. Parsing and negotiating, which allocate, were a fiftieth of a cache
    // hit's time.
    if values.next().is_none()
        && let Ok(listed) = first.to_str()
        && !listed.contains([';', '*'])
    {
        return listed
            .split(',')
            .any(|coding| coding.trim().eq_ignore_ascii_case("gzip"));
    }
    negotiated_gzip(req)
}

/// [`accepts_gzip`] by the rules of `Accept-Encoding` in full: weights, wildcards, several
/// headers.
fn negotiated_gzip(req: &HttpRequest) -> bool {
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
    fn lists_without_weights_are_read_as_negotiation_reads_them() {
        for value in [
            "gzip",
            "GZip",
            "gzip, deflate, br, zstd",
            " deflate ,gzip ",
            "gzip, identity",
            "identity, gzip",
            "identity",
            "deflate, br",
            "x-gzip",
            "gzipped",
            "",
            ",",
        ] {
            let req = actix_web::test::TestRequest::get()
                .insert_header(("Accept-Encoding", value))
                .to_http_request();
            assert_eq!(accepts_gzip(&req), negotiated_gzip(&req), "{value:?}");
        }
    }

    #[test]
    fn the_gzipped_form_has_its_own_etag() {
        assert_eq!(gzip_etag("\"abc\""), "\"abc-gzip\"");
    }
}
