// efsink's filters: described for `-i`; the multicast group `-j` joins; `-D`'s number.

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;

use etherfabric::ffi;

/// One line about filter `spec`: its hardware filter id and RX queue (where the driver
/// reports them) and whether it owns its queue.
pub fn describe(spec: &str, info: &ffi::ef_filter_info) -> String {
    let has = |field: ffi::ef_filter_info_fields| info.valid_fields & u64::from(field) != 0;
    let id = if has(ffi::ef_filter_info_fields_EF_FILTER_FIELD_ID) {
        info.filter_id.to_string()
    } else {
        "none".into()
    };
    let q = if has(ffi::ef_filter_info_fields_EF_FILTER_FIELD_QUEUE) {
        info.q_id.to_string()
    } else {
        "none".into()
    };
    let exclusive = info.flags & ffi::ef_filter_info_flags_EF_FILTER_IS_EXCLUSIVE != 0;
    format!(
        "filter {spec}: filter_id={id} rxq={q} {}",
        if exclusive { "exclusive" } else { "shared" }
    )
}

/// A number as C's `strtol(s, NULL, 0)` reads it: `0x` hexadecimal, a leading `0` octal,
/// else decimal; the whole string must be the number.
pub fn c_number(s: &str) -> Option<u32> {
    let s = s.trim();
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8)
    } else {
        s.parse()
    };
    v.ok()
}

/// The IPv4 local host of a `udp:` or `tcp:` filter-spec (the group `-j` joins), if it
/// has one.
pub fn local_ipv4(spec: &str) -> Option<Ipv4Addr> {
    let rest = spec
        .strip_prefix("udp:")
        .or_else(|| spec.strip_prefix("tcp:"))?;
    let rest = rest.strip_prefix("mcastloop-rx,").unwrap_or(rest);
    let rest = match rest.strip_prefix("vid=") {
        Some(r) => r.split_once(',')?.1,
        None => rest,
    };
    let local = rest.split(',').next()?;
    let (host, port) = local.rsplit_once(':')?;
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some(ip);
    }
    (host, port.parse::<u16>().ok()?)
        .to_socket_addrs()
        .ok()?
        .find_map(|a| match a.ip() {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(_) => None,
        })
}

/// Joins `group` on interface `intf` with a kernel UDP socket (`IP_ADD_MEMBERSHIP` by
/// interface index and address), so that the host reports the membership (IGMP) and the
/// network delivers the group; the membership lasts as long as the socket.
pub fn join_group(intf: &str, group: Ipv4Addr) -> std::io::Result<UdpSocket> {
    let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
    let name = std::ffi::CString::new(intf).map_err(std::io::Error::other)?;
    // SAFETY: `name` is a NUL-terminated string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let local = crate::common::ipv4_of(intf).unwrap_or(Ipv4Addr::UNSPECIFIED);
    let mreq = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from(group).to_be(),
        },
        imr_address: libc::in_addr {
            s_addr: u32::from(local).to_be(),
        },
        imr_ifindex: ifindex as libc::c_int,
    };
    // SAFETY: the socket is open; `mreq` is an `ip_mreqn` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_ADD_MEMBERSHIP,
            (&mreq as *const libc::ip_mreqn).cast(),
            std::mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(sock)
}
