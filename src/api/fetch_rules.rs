//! `FetchRules`: which URLs this program fetches. A workflow is a document someone else may
//! have written, so a download fetches only what the API itself handed out (an output file
//! carries a [seal](FetchRules::seal) made with the project's credentials), the configured API
//! and socket hosts, and the hosts the operator allowed by name; and no hop of it, redirects
//! included, dials an address inside the operator's network unless that host was allowed.
//!
//! The one place that decides: the client checks every download with it, the resolver checks
//! every address a name resolves to, and a workflow's literal URLs are judged by it before
//! anything is sent.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use reqwest::Url;
use sha2::Sha256;

use super::address::inside_network;
use super::Credentials;

/// How the operator widens the rules, in words a message can repeat.
const HOW_TO_ALLOW: &str = "--allow-fetch HOST[:PORT] or WIRO_ALLOW_FETCH";

/// A host, and optionally one port, that fetches may go to whatever it resolves to: what
/// `--allow-fetch HOST[:PORT]` names. Without a port every port of the host is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    /// The host as a URL writes it once normalised: lowercase, IPv4 in dotted form, IPv6 in
    /// brackets.
    host: String,
    port: Option<u16>,
}

impl AllowedHost {
    /// The host and port of a URL, exactly (the scheme's default port when none is written).
    fn of_url(url: &Url) -> Option<Self> {
        Some(Self {
            host: name_of(url.host_str()?),
            port: url.port_or_known_default(),
        })
    }

    fn allows(&self, host: &str, port: Option<u16>) -> bool {
        self.host == host && self.port.is_none_or(|allowed| Some(allowed) == port)
    }
}

impl FromStr for AllowedHost {
    type Err = String;

    /// `cdn.example.com`, `127.0.0.1:8080`, `[::1]:8080` or `::1`.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let problem = || {
            format!("{text:?} is not HOST or HOST:PORT (e.g. cdn.example.com or 127.0.0.1:8080)")
        };
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(problem)?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(problem)?),
            };
            (format!("[{inside}]"), port)
        } else if text.matches(':').count() > 1 {
            // A bare IPv6 address: it cannot carry a port without brackets.
            (format!("[{text}]"), None)
        } else {
            match text.split_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (text.to_owned(), None),
            }
        };
        if host.is_empty() || host.contains(['/', '@', '?', '#']) {
            return Err(problem());
        }
        let port = port
            .map(|port| port.parse::<u16>().map_err(|_| problem()))
            .transpose()?;
        // Written as a URL writes it, so that `127.1`, `0x7f000001` and `LocalHost` compare
        // equal to the addresses fetches will name.
        let url = Url::parse(&format!("http://{host}/")).map_err(|_| problem())?;
        let host = name_of(url.host_str().ok_or_else(problem)?);
        Ok(Self { host, port })
    }
}

/// `url` parsed, with its host: only http and https addresses with a host are fetched.
fn parse_fetchable(url: &str) -> Result<(Url, AllowedHost), String> {
    let parsed = Url::parse(url.trim()).map_err(|error| format!("not a URL ({error})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{}:// is never fetched; only http and https addresses are",
            parsed.scheme()
        ));
    }
    let target = AllowedHost::of_url(&parsed).ok_or("names no host")?;
    Ok((parsed, target))
}

/// A host as every comparison here takes it: as the URL parser wrote it (lowercase, IPv4
/// dotted), without the trailing dot of a fully qualified name (`localhost.` is `localhost`,
/// and resolves the same).
fn name_of(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_owned()
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// The key that seals the URLs the API hands out. Derived from the project's credentials, so
/// every process of one project (an n8n step, a Temporal worker) can check another's seals and
/// a workflow's author, who does not hold them, cannot make one. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SealKey([u8; 32]);

impl SealKey {
    /// The key of a project's credentials.
    pub fn from_credentials(credentials: &Credentials) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"wiro-nodes fetch seal v1")
            .expect("HMAC takes a key of any length");
        mac.update(credentials.api_key().as_bytes());
        mac.update(b"\0");
        if let Some(secret) = credentials.api_secret() {
            mac.update(secret.expose().as_bytes());
        }
        Self(mac.finalize().into_bytes().into())
    }

    /// A key from random bytes: for a server that lives as long as one process (the embedded
    /// emulator), whose well-known credentials must not make seals anyone could forge.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, url: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("a 32-byte HMAC key");
        mac.update(url.as_bytes());
        mac
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(***)")
    }
}

/// Which URLs may be fetched. A workflow is a document someone else may have written, so a
/// download fetches only what the API itself handed out (an output file carries a
/// [seal](FetchRules::seal) made with the project's credentials), the configured API and
/// socket hosts, and the hosts the operator allowed by name; and no hop of it, redirects
/// included, dials an address inside the operator's network (see
/// [`inside_network`](super::inside_network)) unless that host was allowed.
#[derive(Debug, Clone)]
pub struct FetchRules {
    /// The hosts the operator allowed.
    allowed: Vec<AllowedHost>,
    /// The configured API and socket hosts, each with its port.
    api: Vec<AllowedHost>,
    seal_key: SealKey,
}

impl FetchRules {
    /// Rules that allow the hosts of `api_urls` (with their ports) and `allowed`, and accept
    /// the seals of `seal_key`.
    pub fn new(allowed: Vec<AllowedHost>, api_urls: &[&str], seal_key: SealKey) -> Self {
        let api = api_urls
            .iter()
            .filter_map(|url| Url::parse(url).ok())
            .filter_map(|url| AllowedHost::of_url(&url))
            .collect();
        Self {
            allowed,
            api,
            seal_key,
        }
    }

    /// The hosts the operator allowed.
    pub fn allowed(&self) -> &[AllowedHost] {
        &self.allowed
    }

    /// The seal of a URL the API handed out, as [`OutputFile::seal`](super::OutputFile::seal)
    /// carries it: 32 hex digits.
    pub fn seal(&self, url: &str) -> String {
        hex::encode(&self.seal_key.mac(url).finalize().into_bytes()[..16])
    }

    fn seal_fits(&self, url: &str, seal: &str) -> bool {
        hex::decode(seal).is_ok_and(|tag| {
            tag.len() == 16 && self.seal_key.mac(url).verify_truncated_left(&tag).is_ok()
        })
    }

    /// Whether a file at `url`, sealed with `seal` if it came from the API, may be fetched:
    /// decided before any request. `Err` says why not, in words for the person who can
    /// allow it.
    pub fn check_source(&self, url: &str, seal: Option<&str>) -> Result<Url, String> {
        let (parsed, target) = parse_fetchable(url)?;
        let host_allowed = self
            .allowed
            .iter()
            .chain(&self.api)
            .any(|allowed| allowed.allows(&target.host, target.port));
        if !host_allowed {
            match seal {
                Some(seal) if self.seal_fits(url, seal) => {}
                Some(_) => {
                    return Err(format!(
                        "its seal does not fit: it was not handed out by this project's API (or was edited); a download fetches only the files the API listed, unless its host is allowed ({HOW_TO_ALLOW})"
                    ))
                }
                None => {
                    return Err(format!(
                        "it was not handed out by the API (it is written in the inputs, not an output of a task); a download fetches only the files the API listed, unless its host is allowed ({HOW_TO_ALLOW})"
                    ))
                }
            }
        }
        self.check_hop(&parsed)?;
        Ok(parsed)
    }

    /// Whether `url` may be dialled at all, whoever handed it out (an http(s) address, judged
    /// as one hop): for a request whose address no API vouches for, such as a webhook.
    #[cfg(feature = "emulator")]
    pub(crate) fn check_address(&self, url: &str) -> Result<Url, String> {
        let (parsed, _) = parse_fetchable(url)?;
        self.check_hop(&parsed)?;
        Ok(parsed)
    }

    /// Whether one hop of a fetch (the first address or a redirect's) may be dialled: an IP
    /// address inside the operator's network only when its host was allowed by name. A host
    /// name is judged again once resolved (see [`FetchRules::may_resolve_anywhere`]).
    pub(crate) fn check_hop(&self, url: &Url) -> Result<(), String> {
        let Some(target) = AllowedHost::of_url(url) else {
            return Err("names no host".into());
        };
        let mut entries = self.allowed.iter().chain(&self.api);
        if entries
            .clone()
            .any(|allowed| allowed.allows(&target.host, target.port))
        {
            return Ok(());
        }
        let bare = target.host.trim_start_matches('[').trim_end_matches(']');
        if let Some(reason) = bare.parse::<IpAddr>().ok().and_then(inside_network) {
            return Err(format!(
                "{} is {reason}: addresses inside this machine's network are never fetched unless allowed by name ({HOW_TO_ALLOW})",
                target.host
            ));
        }
        // A name allowed on other ports would resolve anywhere: not on this one.
        let mut ports: Vec<String> = entries
            .by_ref()
            .filter(|allowed| allowed.host == target.host)
            .map(ToString::to_string)
            .collect();
        ports.sort();
        ports.dedup();
        if ports.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} is allowed only as {}",
                target.host,
                ports.join(", ")
            ))
        }
    }

    /// Whether a host name may resolve to addresses inside the operator's network: only the
    /// configured API and socket hosts and the hosts the operator allowed (their ports are
    /// judged by [`FetchRules::check_hop`] before the name is looked up).
    pub(crate) fn may_resolve_anywhere(&self, name: &str) -> bool {
        let name = name_of(&name.to_ascii_lowercase());
        self.allowed
            .iter()
            .chain(&self.api)
            .any(|allowed| allowed.host == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(allowed: &[&str]) -> FetchRules {
        FetchRules::new(
            allowed.iter().map(|host| host.parse().unwrap()).collect(),
            &["http://127.0.0.1:4000/v1", "ws://127.0.0.1:4000/v1/socket"],
            SealKey::from_bytes([7; 32]),
        )
    }

    #[test]
    fn allowed_hosts_are_written_as_urls_write_them() {
        let parse = |text: &str| text.parse::<AllowedHost>().map(|host| host.to_string());
        assert_eq!(parse("CDN.Example.com").unwrap(), "cdn.example.com");
        assert_eq!(parse("127.1:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(parse("0x7f000001").unwrap(), "127.0.0.1");
        assert_eq!(parse("[::1]:9").unwrap(), "[::1]:9");
        assert_eq!(parse("::1").unwrap(), "[::1]");
        for bad in ["", "a:b", "http://x/y", "[::1", "host:99999", "a@b"] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_literal_url_is_fetched_only_when_sealed_or_its_host_is_allowed() {
        let rules = rules(&["cdn.example.com"]);
        let url = "https://files.example.net/0.mp4";
        let refused = rules.check_source(url, None).unwrap_err();
        assert!(refused.contains("not handed out by the API"), "{refused}");
        assert!(rules.check_source(url, Some(&rules.seal(url))).is_ok());
        let other = rules.seal("https://files.example.net/1.mp4");
        assert!(rules
            .check_source(url, Some(&other))
            .unwrap_err()
            .contains("seal does not fit"));
        assert!(rules.check_source(url, Some("zz")).is_err());
        assert!(rules
            .check_source("https://cdn.example.com/x", None)
            .is_ok());
        // The configured API's own address, with its port only.
        assert!(rules
            .check_source("http://127.0.0.1:4000/cdn/1", None)
            .is_ok());
        assert!(rules.check_source("http://127.0.0.1:4001/", None).is_err());
    }

    #[test]
    fn sealed_urls_still_never_reach_inside_the_network() {
        let rules = rules(&[]);
        for url in [
            "http://127.0.0.1:18777/secret.txt",
            "http://127.1:18777/",
            "http://2130706433:18777/",
            "http://0x7f000001:18777/",
            "http://0177.0.0.1:18777/",
            "http://[::1]:18777/",
            "http://[::ffff:127.0.0.1]:18777/",
            "http://[::ffff:7f00:1]:18777/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0:18777/",
            "http://10.0.0.1/",
            "http://[fd00::1]/",
        ] {
            let error = rules.check_source(url, Some(&rules.seal(url))).unwrap_err();
            assert!(error.contains("never fetched"), "{url}: {error}");
        }
        for url in ["file:///etc/passwd", "ftp://127.0.0.1/x"] {
            let error = rules.check_source(url, Some(&rules.seal(url))).unwrap_err();
            assert!(error.contains("only http and https"), "{url}: {error}");
        }
    }

    #[test]
    fn an_allowed_host_with_a_port_allows_that_port_only() {
        let rules = rules(&["127.0.0.1:9000", "localhost:9001"]);
        assert!(rules.check_source("http://127.0.0.1:9000/x", None).is_ok());
        let hop = |url: &str| rules.check_hop(&Url::parse(url).unwrap());
        assert!(hop("http://localhost:9001/").is_ok());
        assert!(
            hop("http://localhost.:9002/").is_err(),
            "a trailing dot is the same name"
        );
        assert!(hop("http://LOCALHOST.:9001/").is_ok());
        assert!(hop("http://localhost:9002/")
            .unwrap_err()
            .contains("allowed only as localhost:9001"));
        assert!(rules.may_resolve_anywhere("LOCALHOST."));
        assert!(!rules.may_resolve_anywhere("metadata.internal"));
    }
}
