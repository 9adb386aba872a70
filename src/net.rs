//! Network addresses. A request's client is its TCP peer unless that peer is
//! a trusted proxy (`CONFER_TRUSTED_PROXIES`); only then are `Forwarded` and
//! `X-Forwarded-For` read. Webhooks never reach a private address unless the
//! operator allows it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::HttpRequest;

/// An address range such as `10.0.0.0/8` or `fd00::/8` (a bare address is a
/// range of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("`{text}`: the prefix must be 0 to {max}"))?,
        };
        Ok(Self {
            addr: canonical(addr),
            prefix,
        })
    }

    /// A comma-separated list, as `CONFER_TRUSTED_PROXIES` holds.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Self::parse)
            .collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, rest) = (usize::from(prefix / 8), prefix % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy,
/// the nearest address in the forwarding chain that is not a trusted proxy
/// (read right to left, so a client cannot forge the hops behind it).
pub fn client_ip(req: &HttpRequest, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = canonical(req.peer_addr()?.ip());
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut client = peer;
    if !is_trusted(peer) {
        return Some(client);
    }
    for hop in forwarding_chain(req).into_iter().rev() {
        let Some(ip) = hop else { break };
        client = canonical(ip);
        if !is_trusted(client) {
            break;
        }
    }
    Some(client)
}

/// The configured trusted proxies, registered as app data by `build_app`.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Vec<Cidr>);

/// The client's address as text for logs, limits and the audit log, with the
/// application's trusted proxies.
pub fn client_ip_text(req: &HttpRequest) -> String {
    let trusted = req
        .app_data::<actix_web::web::Data<TrustedProxies>>()
        .map(|t| t.0.as_slice())
        .unwrap_or_default();
    client_ip(req, trusted).map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

/// The addresses proxies reported, first hop first (`None` for one that is
/// not an address, e.g. `for=unknown`). `Forwarded` wins over
/// `X-Forwarded-For` when both are sent.
fn forwarding_chain(req: &HttpRequest) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(k, _)| k.eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v.trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .map(|v| parse_node(v))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    text.rsplit_once(':')?
        .0
        .parse::<Ipv4Addr>()
        .ok()
        .map(IpAddr::V4)
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local (cloud metadata at 169.254.169.254 included), shared,
/// unspecified, multicast, broadcast or documentation space.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => !is_special_v4(v4),
        IpAddr::V6(v6) => !is_special_v6(v6),
    }
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240 // reserved
}

fn is_special_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || ip.to_ipv4().is_some_and(|v4| ip.segments()[..6] == [0; 6] && is_special_v4(v4))
}

/// Why a webhook target may not be called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetRefusal {
    /// The host does not resolve (or the URL has none).
    Unresolved,
    /// The host resolves to this private, loopback or link-local address.
    Private(IpAddr),
}

/// The addresses of `host`, each checked: every one must be public unless
/// `allow_private`. Blocking (DNS); run it off the async workers.
pub fn check_target(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<std::net::SocketAddr>, TargetRefusal> {
    use std::net::ToSocketAddrs;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<std::net::SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|_| TargetRefusal::Unresolved)?
        .collect();
    if addrs.is_empty() {
        return Err(TargetRefusal::Unresolved);
    }
    if !allow_private && let Some(private) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(TargetRefusal::Private(private.ip()));
    }
    Ok(addrs)
}

/// The host and port of an http(s) URL.
pub fn host_and_port(url: &str) -> Option<(String, u16)> {
    let uri: actix_web::http::Uri = url.parse().ok()?;
    let default = match uri.scheme_str()? {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    Some((uri.host()?.to_string(), uri.port_u16().unwrap_or(default)))
}

/// A resolver for outgoing webhooks that answers only with checked
/// addresses, so a host cannot resolve to a public address when saved and
/// to a private one when called (DNS rebinding). Redirects are never followed.
#[derive(Debug)]
pub struct PublicOnly {
    pub allow_private: bool,
}

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let default = if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        };
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let addrs = check_target(host, uri.port_u16().unwrap_or(default), self.allow_private)
            .map_err(|refusal| match refusal {
                TargetRefusal::Unresolved => ureq::Error::HostNotFound,
                TargetRefusal::Private(ip) => ureq::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{host} resolves to {ip}, a private address; \
                         CONFER_WEBHOOK_ALLOW_PRIVATE allows those"
                    ),
                )),
            })?;
        let mut resolved = self.empty();
        for addr in addrs {
            // At most 16 are kept; the rest are not needed to connect.
            if resolved.try_push(addr).is_err() {
                break;
            }
        }
        Ok(resolved)
    }
}
