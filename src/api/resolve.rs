//! Host name look-ups for the HTTP client: a typed [`UnknownHost`] for a name that does not
//! exist, so that a mistyped address fails at once instead of being retried for seconds, and
//! a typed [`InsideNetwork`] for a name that resolves into the operator's network. The client
//! connects to the addresses checked here, so a name cannot change its answer in between.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::address::inside_network;
use super::fetch_rules::FetchRules;

/// The system's resolver (`getaddrinfo`, on a blocking thread, as reqwest's default does),
/// telling a name that does not exist from a resolver that failed for now, and refusing a
/// name that resolves inside the operator's network unless the rules allow it by name.
#[derive(Debug, Clone)]
pub(crate) struct SystemResolver {
    rules: Arc<FetchRules>,
}

impl SystemResolver {
    /// A resolver that judges answers by `rules`.
    pub(crate) fn new(rules: Arc<FetchRules>) -> Self {
        Self { rules }
    }
}

/// The host name resolves to an address inside the operator's network and was not allowed by
/// name: nothing is dialled.
#[derive(Debug, thiserror::Error)]
#[error("the host name {host:?} resolves to {address}, {reason}: addresses inside this machine's network are never fetched unless allowed by name (--allow-fetch HOST[:PORT] or WIRO_ALLOW_FETCH)")]
pub(crate) struct InsideNetwork {
    /// The name looked up.
    pub host: String,
    /// The first refused address it resolved to.
    pub address: std::net::IpAddr,
    /// What kind of address that is.
    pub reason: &'static str,
}

/// The host name does not exist: the resolver answered, and its answer was "no such name".
/// Trying again will not change that.
#[derive(Debug, thiserror::Error)]
#[error("the host name {host:?} does not resolve ({answer})")]
pub(crate) struct UnknownHost {
    /// The name looked up.
    pub host: String,
    /// The resolver's own words, e.g. `Name or service not known`.
    pub answer: String,
}

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let anywhere = self.rules.may_resolve_anywhere(&host);
        Box::pin(async move {
            let looked_up = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(Iterator::collect::<Vec<SocketAddr>>);
            match looked_up {
                Ok(addresses) => {
                    let refused = addresses.iter().find_map(|address| {
                        inside_network(address.ip()).map(|reason| (address.ip(), reason))
                    });
                    match refused {
                        Some((address, reason)) if !anywhere => Err(Box::new(InsideNetwork {
                            host,
                            address,
                            reason,
                        })
                            as _),
                        _ => Ok(Box::new(addresses.into_iter()) as Addrs),
                    }
                }
                Err(error) if names_no_such_host(&error) => Err(Box::new(UnknownHost {
                    answer: resolver_words(&error),
                    host,
                }) as _),
                // "Temporary failure in name resolution" and the like: worth another try.
                Err(error) => Err(Box::new(error) as _),
            }
        })
    }
}

/// Whether a failed look-up says the name does not exist (glibc's and musl's `EAI_NONAME`
/// and `EAI_NODATA` texts, and the BSDs'), not that the resolver could not be asked.
fn names_no_such_host(error: &std::io::Error) -> bool {
    let text = error.to_string();
    [
        "Name or service not known",
        "No address associated with hostname",
        "nodename nor servname provided, or not known",
        "Name does not resolve",
        "No such host is known",
    ]
    .iter()
    .any(|words| text.contains(words))
}

/// The resolver's answer without the standard library's "failed to lookup address
/// information: " prefix.
fn resolver_words(error: &std::io::Error) -> String {
    let text = error.to_string();
    text.rsplit_once(": ")
        .map_or(text.clone(), |(_, answer)| answer.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_name_is_told_from_a_resolver_that_failed_for_now() {
        let missing = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert!(names_no_such_host(&missing));
        assert_eq!(resolver_words(&missing), "Name or service not known");
        let for_now = std::io::Error::other(
            "failed to lookup address information: Temporary failure in name resolution",
        );
        assert!(!names_no_such_host(&for_now));
    }

    fn resolver(allowed: &[&str]) -> SystemResolver {
        let allowed = allowed.iter().map(|host| host.parse().unwrap()).collect();
        let key = crate::api::SealKey::from_bytes([1; 32]);
        SystemResolver::new(Arc::new(FetchRules::new(allowed, &[], key)))
    }

    #[tokio::test]
    async fn a_name_under_invalid_never_resolves_and_localhost_does_when_allowed() {
        // RFC 6761: `.invalid` names never exist, whatever the resolver.
        let error = match resolver(&[])
            .resolve("wiro-nodes.invalid".parse().expect("a host name"))
            .await
        {
            Ok(_) => panic!("a .invalid name resolved"),
            Err(error) => error,
        };
        let unknown = error
            .downcast_ref::<UnknownHost>()
            .unwrap_or_else(|| panic!("not an UnknownHost: {error}"));
        assert_eq!(unknown.host, "wiro-nodes.invalid");
        let local = resolver(&["localhost:8080"])
            .resolve("localhost".parse().expect("a host name"))
            .await
            .expect("localhost resolves");
        assert!(local.into_iter().any(|address| address.ip().is_loopback()));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_this_machine_is_refused_unless_allowed() {
        let error = match resolver(&[])
            .resolve("localhost".parse().expect("a host name"))
            .await
        {
            Ok(_) => panic!("localhost resolved for a fetch"),
            Err(error) => error,
        };
        let inside = error
            .downcast_ref::<InsideNetwork>()
            .unwrap_or_else(|| panic!("not an InsideNetwork: {error}"));
        assert!(inside.address.is_loopback(), "{inside}");
    }
}
