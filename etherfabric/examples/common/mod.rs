// Shared by the example programs (and the tests, which include this file): building UDP
// frames, parsing the SDK samples' `<interface>[/flag,...]` syntax and small helpers.
#![allow(dead_code)]

use std::net::Ipv4Addr;

use etherfabric::{Error, PdFlags, Result};

/// Ethernet + IPv4 + UDP header length.
pub const HDR_LEN: usize = 14 + 20 + 8;

/// Writes an Ethernet/IPv4/UDP frame with `payload_len` bytes of payload into `buf` (the
/// payload bytes are left as they are); returns the frame length. The IP header checksum is
/// computed; the UDP checksum is left 0 ("none" for IPv4; adapters and the software backend
/// fill it in by offload).
#[allow(clippy::too_many_arguments)]
pub fn write_udp_header(
    buf: &mut [u8],
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    payload_len: usize,
) -> Option<usize> {
    let len = HDR_LEN + payload_len;
    if buf.len() < len || payload_len > 65507 {
        return None;
    }
    buf[0..6].copy_from_slice(&dst_mac);
    buf[6..12].copy_from_slice(&src_mac);
    buf[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut buf[14..34];
    ip[0] = 0x45;
    ip[1] = 0;
    ip[2..4].copy_from_slice(&((20 + 8 + payload_len) as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&[0, 0]);
    ip[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
    ip[8] = 64;
    ip[9] = 17;
    ip[10..12].copy_from_slice(&[0, 0]);
    ip[12..16].copy_from_slice(&src.0.octets());
    ip[16..20].copy_from_slice(&dst.0.octets());
    let mut sum: u32 = 0;
    for c in ip.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let udp = &mut buf[34..42];
    udp[0..2].copy_from_slice(&src.1.to_be_bytes());
    udp[2..4].copy_from_slice(&dst.1.to_be_bytes());
    udp[4..6].copy_from_slice(&((8 + payload_len) as u16).to_be_bytes());
    udp[6..8].copy_from_slice(&[0, 0]);
    Some(len)
}

/// The UDP payload of an Ethernet/IPv4/UDP frame, if it is one.
pub fn udp_payload(frame: &[u8]) -> Option<(u16, &[u8])> {
    if frame.len() < HDR_LEN || frame[12..14] != [0x08, 0x00] || frame[23] != 17 {
        return None;
    }
    let ihl = usize::from(frame[14] & 0x0f) * 4;
    let udp = 14 + ihl;
    let dport = u16::from_be_bytes([*frame.get(udp + 2)?, *frame.get(udp + 3)?]);
    let ulen = usize::from(u16::from_be_bytes([
        *frame.get(udp + 4)?,
        *frame.get(udp + 5)?,
    ]));
    let end = (udp + ulen).min(frame.len());
    Some((dport, frame.get(udp + 8..end)?))
}

/// Parses `<interface>[/<flag>[,<flag>...]]` (flags: `express`, `enterprise`, `phys`,
/// `vf`, `mcast_loop`) as the SDK samples do.
pub fn parse_interface(s: &str) -> Result<(String, PdFlags)> {
    let (name, flags) = match s.split_once('/') {
        Some((n, f)) => (n, Some(f)),
        None => (s, None),
    };
    let mut pd = PdFlags::empty();
    for f in flags.into_iter().flat_map(|f| f.split(',')) {
        match f {
            "express" => pd |= PdFlags::EXPRESS,
            "enterprise" => pd.remove(PdFlags::EXPRESS),
            "phys" => pd |= PdFlags::PHYS_MODE,
            "vf" => pd |= PdFlags::VF,
            "mcast_loop" => pd |= PdFlags::MCAST_LOOP,
            _ => {
                return Err(Error::InvalidArgument {
                    what: format!("unknown interface flag {f:?} in {s:?}"),
                });
            }
        }
    }
    if name.is_empty() {
        return Err(Error::InvalidArgument {
            what: "empty interface name".into(),
        });
    }
    Ok((name.to_owned(), pd))
}

/// The first IPv4 address of interface `name`, if any.
pub fn ipv4_of(name: &str) -> Option<Ipv4Addr> {
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `ifap` is writable; the list is freed below.
    if unsafe { libc::getifaddrs(&mut ifap) } != 0 {
        return None;
    }
    let mut found = None;
    let mut p = ifap;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getifaddrs returned.
        let ifa = unsafe { &*p };
        // SAFETY: interface names are C strings.
        let n = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) };
        if !ifa.ifa_addr.is_null()
            && n.to_bytes() == name.as_bytes()
            // SAFETY: non-null address.
            && i32::from(unsafe { (*ifa.ifa_addr).sa_family }) == libc::AF_INET
        {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
            found = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            break;
        }
        p = ifa.ifa_next;
    }
    // SAFETY: the list from getifaddrs, freed once.
    unsafe { libc::freeifaddrs(ifap) };
    found
}

/// Prints `msg` and the usage text on stderr and exits with status 1, as the C samples do.
pub fn usage_exit(msg: Option<&str>, usage: &str) -> ! {
    if let Some(m) = msg {
        eprintln!("ERROR: {m}");
    }
    eprint!("{usage}");
    std::process::exit(1);
}

/// Options (letter, value) and operands, as [`getopt`] splits them.
pub type Opts = (Vec<(char, Option<String>)>, Vec<String>);

/// A minimal getopt: splits `args` into options (with their values for letters in
/// `with_value`) and operands; stops at the first operand or `--`.
pub fn getopt(args: &[String], flags: &str, with_value: &str) -> std::result::Result<Opts, String> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a.len() < 2 {
            break;
        }
        let mut chars = a[1..].chars();
        while let Some(c) = chars.next() {
            if with_value.contains(c) {
                let rest: String = chars.collect();
                let v = if !rest.is_empty() {
                    rest
                } else {
                    i += 1;
                    args.get(i)
                        .cloned()
                        .ok_or(format!("option -{c} needs a value"))?
                };
                opts.push((c, Some(v)));
                break;
            } else if flags.contains(c) {
                opts.push((c, None));
            } else {
                return Err(format!("unknown option -{c}"));
            }
        }
        i += 1;
    }
    Ok((opts, args[i..].to_vec()))
}

/// Parses an option's numeric value, exiting with the usage text when it is not a number.
pub fn num<T: std::str::FromStr>(v: &Option<String>, usage: &str) -> T {
    v.as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| usage_exit(Some("bad numeric option value"), usage))
}
