//! Host name look-ups for the HTTP client, with a typed [`UnknownHost`] for a name that does
//! not exist, so that a mistyped address fails at once instead of being retried for seconds.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The system's resolver (`getaddrinfo`, on a blocking thread, as reqwest's default does),
/// telling a name that does not exist from a resolver that failed for now.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemResolver;

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
        Box::pin(async move {
            let looked_up = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(Iterator::collect::<Vec<SocketAddr>>);
            match looked_up {
                Ok(addresses) => Ok(Box::new(addresses.into_iter()) as Addrs),
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

    #[tokio::test]
    async fn a_name_under_invalid_never_resolves_and_localhost_does() {
        // RFC 6761: `.invalid` names never exist, whatever the resolver.
        let error = match SystemResolver
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
        let local = SystemResolver
            .resolve("localhost".parse().expect("a host name"))
            .await
            .expect("localhost resolves");
        assert!(local.into_iter().any(|address| address.ip().is_loopback()));
    }
}
