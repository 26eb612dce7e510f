//! Which IP addresses a fetch never dials unless its host was allowed by name: this machine,
//! its private networks and the cloud's metadata service, in every spelling IPv4 and IPv6 have.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `address` is inside the operator's own network, or `None` for a public address.
///
/// Refused: unspecified, loopback, private (RFC 1918), shared (CGNAT, 100.64/10, where some
/// clouds put their metadata), link-local (169.254/16, the metadata range), the IETF block
/// (192.0.0/24), benchmarking (198.18/15), multicast, broadcast and reserved (240/4); for IPv6
/// also unique-local, site-local and link-local, and every IPv6 form that carries an IPv4
/// address (mapped, compatible, NAT64, 6to4) whose IPv4 address is refused — mapped and
/// compatible ones always, since the system may route them to IPv4 whatever they hold.
pub fn inside_network(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => inside_v4(v4),
        IpAddr::V6(v6) => inside_v6(v6),
    }
}

fn inside_v4(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    let reason = match (a, b, c) {
        (0, _, _) => "an unspecified address (0.0.0.0/8), which reaches this machine",
        (127, _, _) => "a loopback address (this machine)",
        (10, _, _) => "a private address (10.0.0.0/8)",
        (172, 16..=31, _) => "a private address (172.16.0.0/12)",
        (192, 168, _) => "a private address (192.168.0.0/16)",
        (169, 254, _) => {
            "a link-local address (169.254.0.0/16, where cloud metadata services answer)"
        }
        (100, 64..=127, _) => {
            "a shared address (100.64.0.0/10, carrier-grade NAT and some metadata services)"
        }
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address (240.0.0.0/4)",
        _ => return None,
    };
    Some(reason)
}

fn inside_v6(address: Ipv6Addr) -> Option<&'static str> {
    let segments = address.segments();
    if address.is_unspecified() {
        return Some("the unspecified address (::), which reaches this machine");
    }
    if address.is_loopback() {
        return Some("a loopback address (this machine)");
    }
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): never dialled.
    if segments[..5] == [0; 5] && (segments[5] == 0xffff || segments[5] == 0) {
        return Some("an IPv6 address that carries an IPv4 address (::ffff:a.b.c.d or ::a.b.c.d)");
    }
    match segments[0] {
        0xfc00..=0xfdff => return Some("a unique-local address (fc00::/7)"),
        0xfe80..=0xfebf => return Some("a link-local address (fe80::/10)"),
        0xfec0..=0xfeff => return Some("a site-local address (fec0::/10)"),
        0xff00..=0xffff => return Some("a multicast address (ff00::/8)"),
        _ => {}
    }
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they carry.
    let carried = if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(embedded(segments[6], segments[7]))
    } else if segments[0] == 0x2002 {
        Some(embedded(segments[1], segments[2]))
    } else {
        None
    };
    carried
        .and_then(inside_v4)
        .map(|_| "an IPv6 address that reaches a refused IPv4 address (NAT64 or 6to4)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(text: &str) -> bool {
        inside_network(text.parse().expect("an IP address")).is_some()
    }

    #[test]
    fn the_machine_its_networks_and_the_metadata_service_are_inside() {
        for address in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "192.0.0.192",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "::127.0.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(inside(address), "{address} should be refused");
        }
    }

    #[test]
    fn public_addresses_are_not() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(!inside(address), "{address} should be allowed");
        }
    }
}
