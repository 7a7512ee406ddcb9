//! Where webhooks may be sent.
//!
//! A webhook makes the server send requests to an address an administrator typed in; without a
//! check that is a way to reach the database port, the cloud metadata service or anything else
//! on the server's own network. Targets on loopback, private, link-local and other non-public
//! addresses are refused unless `NEWSDESK_WEBHOOK_ALLOW_PRIVATE=true`:
//!
//! - when a webhook is saved, for an address in the URL and for what its host resolves to now;
//! - when each delivery is sent, by the resolver the HTTP client connects through (see
//!   [`PublicOnly`]), so a name that resolves differently later (DNS rebinding) is refused too.
//!
//! Redirects are never followed and proxies never used, so the address checked is the address
//! connected to. `std`'s `is_global` would do this but is not stable; the list below follows
//! the IANA special-purpose registries.

use crate::error::FieldError;
use crate::i18n::FieldCode;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use url::{Host, Url};

/// Longest accepted URL.
pub const MAX_URL: usize = 2000;

/// Whether the address is not on the public internet.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let s = v6.segments();
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: embeds an IPv4 address
                || s[0] == 0x2002 // 6to4: embeds an IPv4 address
                || (s[0] == 0x2001 && s[1] == 0) // Teredo
                || (s[0..6] == [0; 6]) // IPv4-compatible ::a.b.c.d
        }
    }
}

fn is_private_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_unspecified()
        || v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || a >= 240 // reserved
}

/// Checks the form of a webhook URL: `http` or `https`, a host, no credentials (requests are
/// signed with the secret instead), no fragment; the error names the `url` field.
pub fn parse_url(raw: &str) -> Result<Url, FieldError> {
    if raw.chars().count() > MAX_URL {
        return Err(FieldError::new("url", FieldCode::TooLong).arg("max", MAX_URL));
    }
    let invalid = || FieldError::new("url", FieldCode::InvalidUrl).arg("max", MAX_URL);
    let url = Url::parse(raw.trim()).map_err(|_| invalid())?;
    let credentials = !url.username().is_empty() || url.password().is_some();
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || credentials
        || url.fragment().is_some()
    {
        return Err(invalid());
    }
    Ok(url)
}

/// The non-public address the URL's host is or resolves to, if any; resolves names on the
/// way. A name that does not resolve now is accepted: the receiver may not exist yet, and
/// each delivery checks again.
pub async fn refused(url: &Url, allow_private: bool) -> Option<String> {
    if allow_private {
        return None;
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host()? {
        Host::Ipv4(ip) => private_reason(IpAddr::V4(ip)),
        Host::Ipv6(ip) => private_reason(IpAddr::V6(ip)),
        Host::Domain(name) => {
            let lower = name.to_ascii_lowercase();
            let lower = lower.trim_end_matches('.');
            if lower == "localhost" || lower.ends_with(".localhost") {
                return Some(lower.to_owned());
            }
            let lookup = tokio::net::lookup_host((lower.to_owned(), port));
            let found = tokio::time::timeout(std::time::Duration::from_secs(3), lookup).await;
            match found {
                Ok(Ok(addrs)) => addrs.map(|a| a.ip()).find_map(private_reason),
                _ => None,
            }
        }
    }
}

fn private_reason(ip: IpAddr) -> Option<String> {
    is_private(ip).then(|| ip.to_string())
}

/// The HTTP client's resolver: the system's, minus every non-public address.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_private(a.ip()))
                .collect();
            if found.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} has no public address (private targets are not allowed)").into();
                return Err(refused);
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The resolver for a client that must not reach private addresses.
pub fn resolver() -> Arc<PublicOnly> {
    Arc::new(PublicOnly)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip} is not public");
        }
        for ip in [
            "1.1.1.1",
            "203.113.0.1",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn only_plain_http_urls_are_accepted() {
        assert!(parse_url("https://hooks.example.vn/newsdesk?x=1").is_ok());
        assert!(parse_url("http://203.113.0.9:8080/hook").is_ok());
        for bad in [
            "ftp://example.vn/x",
            "https://user:pw@example.vn/",
            "https://example.vn/#x",
            "not a url",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(parse_url(bad).is_err(), "{bad} must be refused");
        }
    }

    #[actix_web::test]
    async fn loopback_names_and_addresses_are_refused_unless_allowed() {
        for raw in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]/",
            "http://169.254.169.254/",
        ] {
            let url = parse_url(raw).unwrap();
            assert!(refused(&url, false).await.is_some(), "{raw}");
            assert!(refused(&url, true).await.is_none(), "{raw}");
        }
    }
}
