//! Admission of an inner request: the gateway forwards only origin-form requests to an
//! allowed authority, and hands the caller a [`Target`] already parsed, so that no caller
//! ever joins the client's bytes into a URL.
//!
//! The attack this closes: a gateway that builds `format!("{base}{path}")` from an inner
//! path such as `@127.0.0.1:18002/latest/meta-data` (or `.evil.tld/`, or `0/` after a base
//! without a port) sends the request to a host of the client's choosing.

use http::uri::PathAndQuery;

/// Hop-by-hop and framing fields (RFC 9110 §7.6.1, plus `host`, which the target URL
/// decides): they never cross the gateway in either direction.
const HOP_BY_HOP: [&str; 11] = [
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Whether a header field may cross the gateway (request to the target, or the target's
/// answer to the client). Names are compared case-insensitively.
pub fn forwardable_field(name: &[u8]) -> bool {
    !HOP_BY_HOP
        .iter()
        .any(|h| h.as_bytes().eq_ignore_ascii_case(name))
}

/// An inner request the gateway's policy admitted: an allowed authority, an origin-form
/// path, and the header fields that may be forwarded. The caller builds the outbound URL
/// from its own configured base with a URL builder, replacing only the path and query.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    method: http::Method,
    authority: String,
    path_and_query: PathAndQuery,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

impl core::fmt::Debug for Target {
    /// The path and headers are the client's secret: only the method and authority print.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Target")
            .field("method", &self.method)
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// The request method.
    pub fn method(&self) -> &str {
        self.method.as_str()
    }

    /// The allowed authority the request names, as the policy spells it.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The path, in origin form: starts with one `/`, no authority, no scheme, no dot
    /// segments.
    pub fn path(&self) -> &str {
        self.path_and_query.path()
    }

    /// The query, without its `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.path_and_query.query()
    }

    /// The header fields to forward: valid names (lower case) and values, hop-by-hop fields
    /// removed.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))
    }
}

/// Where an inner request may go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admission<'p> {
    pub(crate) allowed: &'p [String],
    pub(crate) default_authority: Option<&'p str>,
    pub(crate) default_path: Option<&'p str>,
}

impl Admission<'_> {
    /// Admits an inner request head, or gives the inner status to refuse it with: 400 for a
    /// malformed request, 403 for an authority outside the allow-list.
    pub(crate) fn admit(&self, head: &bhttp::Message) -> Result<Target, u16> {
        let control = head.control();
        if !control.is_request() {
            return Err(400);
        }
        let method =
            http::Method::from_bytes(control.method().unwrap_or_default()).map_err(|_| 400u16)?;
        let scheme = control.scheme().unwrap_or_default();
        if !(scheme.is_empty()
            || scheme.eq_ignore_ascii_case(b"https")
            || scheme.eq_ignore_ascii_case(b"http"))
        {
            return Err(400);
        }
        let authority = control.authority().unwrap_or_default();
        // Header names are case-insensitive: any `Host`, however spelled, counts, and
        // more than one is refused.
        let mut hosts = head
            .header()
            .fields()
            .iter()
            .filter(|f| f.name().eq_ignore_ascii_case(b"host"))
            .map(|f| f.value());
        let host = hosts.next().unwrap_or_default();
        if hosts.next().is_some() {
            return Err(400);
        }
        let named = match (authority.is_empty(), host.is_empty()) {
            (false, false) if !authority.eq_ignore_ascii_case(host) => return Err(400),
            (false, _) => authority,
            (true, false) => host,
            (true, true) => match self.default_authority {
                Some(default) => default.as_bytes(),
                None => return Err(403),
            },
        };
        let authority = self
            .allowed
            .iter()
            .find(|t| t.as_bytes().eq_ignore_ascii_case(named))
            .ok_or(403u16)?
            .clone();
        let path = match (control.path().unwrap_or_default(), self.default_path) {
            (b"", Some(default)) => default.as_bytes(),
            (path, _) => path,
        };
        let path_and_query = origin_form(path).ok_or(400u16)?;
        let mut headers = Vec::new();
        for field in head.header().fields() {
            if !forwardable_field(field.name()) {
                continue;
            }
            let name = http::HeaderName::from_bytes(field.name()).map_err(|_| 400u16)?;
            let value = http::HeaderValue::from_bytes(field.value()).map_err(|_| 400u16)?;
            headers.push((name, value));
        }
        Ok(Target {
            method,
            authority,
            path_and_query,
            headers,
        })
    }
}

/// Parses an RFC 9112 §3.2.1 origin-form request target (`absolute-path [ "?" query ]`),
/// refusing everything that could change which host a URL built from it names, or what a
/// target normalizes it to: no scheme or authority (`//`, `@`, `\`), no fragment, no dot
/// segments (plain or percent-encoded), printable ASCII only.
fn origin_form(path: &[u8]) -> Option<PathAndQuery> {
    let (&first, _) = path.split_first()?;
    if first != b'/' || path.starts_with(b"//") {
        return None;
    }
    if path
        .iter()
        .any(|&b| !b.is_ascii_graphic() || matches!(b, b'@' | b'\\' | b'#'))
    {
        return None;
    }
    let parsed = PathAndQuery::try_from(path).ok()?;
    if parsed.as_str().as_bytes() != path {
        return None;
    }
    let dot_segment = parsed.path().split('/').any(|segment| {
        let lower = segment.to_ascii_lowercase();
        let decoded = lower.replace("%2e", ".");
        decoded == "." || decoded == ".."
    });
    if dot_segment {
        return None;
    }
    Some(parsed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn admission(allowed: &[String]) -> Admission<'_> {
        Admission {
            allowed,
            default_authority: None,
            default_path: None,
        }
    }

    fn head(authority: &str, path: &str) -> bhttp::Message {
        bhttp::Message::request(
            b"POST".to_vec(),
            b"https".to_vec(),
            authority.as_bytes().to_vec(),
            path.as_bytes().to_vec(),
        )
    }

    #[test]
    fn only_origin_form_paths_are_admitted() {
        for good in [
            "/",
            "/v1/audio/transcriptions",
            "/a/b?x=1&y=%20",
            "/a.b/c..d",
        ] {
            assert!(origin_form(good.as_bytes()).is_some(), "{good}");
        }
        for bad in [
            "",
            "@127.0.0.1:18002/latest/meta-data/iam",
            ".evil.tld/",
            "0/",
            ":0/",
            "//evil.tld/",
            "http://evil.tld/",
            "/@evil.tld",
            "/x\\@evil",
            "/a#frag",
            "/a b",
            "/a\r\nHost: evil",
            "/../admin",
            "/a/%2E%2e/admin",
            "/./a",
            "*",
            "?x",
            "/caf\u{e9}",
        ] {
            assert!(origin_form(bad.as_bytes()).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_target_names_an_allowed_authority_and_forwardable_fields() {
        let allowed = vec!["whisper".to_owned()];
        let mut m = head("WHISPER", "/v1/x?y=1");
        m.put_header("Content-Type", "audio/wav");
        m.put_header("Connection", "close");
        m.put_header("Transfer-Encoding", "chunked");
        let target = admission(&allowed).admit(&m).unwrap();
        assert_eq!(target.authority(), "whisper");
        assert_eq!(target.path(), "/v1/x");
        assert_eq!(target.query(), Some("y=1"));
        assert_eq!(target.method(), "POST");
        let headers: Vec<_> = target.headers().collect();
        assert_eq!(headers, [("content-type", &b"audio/wav"[..])]);

        assert_eq!(admission(&allowed).admit(&head("evil", "/")), Err(403));
        assert_eq!(
            admission(&allowed).admit(&head("whisper", "@127.0.0.1:1/")),
            Err(400)
        );
        // An authority and a Host that disagree, and two Hosts, are refused.
        let mut m = head("whisper", "/");
        m.put_header("host", "evil");
        assert_eq!(admission(&allowed).admit(&m), Err(400));
        let mut m = head("", "/");
        m.put_header("HOST", "whisper");
        assert!(admission(&allowed).admit(&m).is_ok());
        m.put_header("host", "whisper");
        assert_eq!(admission(&allowed).admit(&m), Err(400));
        // A header value a target would read as two lines never passes.
        let mut m = head("whisper", "/");
        m.put_header("x-a", "b\r\nhost: evil");
        assert_eq!(admission(&allowed).admit(&m), Err(400));
        // Without an authority: the default one, if the dialect has one.
        let defaulted = Admission {
            default_authority: Some("whisper"),
            default_path: Some("/v1/audio/transcriptions"),
            ..admission(&allowed)
        };
        let target = defaulted.admit(&head("", "")).unwrap();
        assert_eq!(target.path(), "/v1/audio/transcriptions");
        assert_eq!(admission(&allowed).admit(&head("", "/")), Err(403));
    }
}
