//! Filter specs: the `ef_filter_spec_*` builders.
//!
//! A spec records what to match in `type` (a bit set of the kinds below) and `data[]`, the way
//! the library does, so that the cookie's `filter_type` carries the same information, and
//! refuses the combinations the library refuses. Adding a spec to a VI or a VI set decodes it
//! into a matcher of the interface's filter table (`filter_table.rs`).

use core::ffi::{c_int, c_uint, c_void};

use crate::bindings::{ef_filter_flags, ef_filter_spec, in6_addr};

// Kinds recorded in `ef_filter_spec::type` (a bit set).
pub(crate) const T_MAC: c_uint = 0x1;
pub(crate) const T_IP4: c_uint = 0x2;
pub(crate) const T_ALL_UNICAST: c_uint = 0x4;
pub(crate) const T_ALL_MULTICAST: c_uint = 0x8;
pub(crate) const T_VLAN: c_uint = 0x10;
pub(crate) const T_MISMATCH_UNICAST: c_uint = 0x20;
pub(crate) const T_MISMATCH_MULTICAST: c_uint = 0x40;
pub(crate) const T_PORT_SNIFF: c_uint = 0x80;
pub(crate) const T_BLOCK_KERNEL: c_uint = 0x100;
pub(crate) const T_BLOCK_KERNEL_UNICAST: c_uint = 0x200;
pub(crate) const T_BLOCK_KERNEL_MULTICAST: c_uint = 0x400;
pub(crate) const T_TX_PORT_SNIFF: c_uint = 0x800;
pub(crate) const T_IP_PROTO: c_uint = 0x1000;
pub(crate) const T_ETHER_TYPE: c_uint = 0x2000;
pub(crate) const T_IP6: c_uint = 0x4000;

pub(super) const T_MAC_IP_PROTO: c_uint = T_MAC | T_IP_PROTO;
pub(super) const T_MAC_ETHER_TYPE: c_uint = T_MAC | T_ETHER_TYPE;

/// Index in `data[]` of the IP protocol / EtherType of `T_IP_PROTO` / `T_ETHER_TYPE`.
pub(super) const D_PROTO_OR_ETHERTYPE: usize = 3;
/// Index in `data[]` of the VLAN id of `T_VLAN`.
pub(super) const D_VLAN: usize = 5;

/// Borrows the spec behind a pointer.
///
/// # Safety
///
/// `fs` must point to a writable `ef_filter_spec`.
unsafe fn spec<'a>(fs: *mut ef_filter_spec) -> &'a mut ef_filter_spec {
    // SAFETY: guaranteed by the caller.
    unsafe { &mut *fs }
}

/// Initialises a filter spec: no kind yet, the given flags.
///
/// # Safety
///
/// `fs` must point to writable memory for an `ef_filter_spec`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_init(fs: *mut ef_filter_spec, flags: ef_filter_flags) {
    // SAFETY: the caller guarantees `fs` is writable.
    unsafe {
        fs.write(ef_filter_spec {
            type_: 0,
            flags: flags as c_uint,
            data: [0; 12],
        });
    }
}

/// Adds kind `kind` when the spec's current kinds are one of `allowed` (0 = empty spec).
fn add_kind(fs: &mut ef_filter_spec, allowed: &[c_uint], kind: c_uint) -> Result<(), c_int> {
    if allowed.contains(&fs.type_) {
        fs.type_ |= kind;
        Ok(())
    } else {
        Err(-libc::EPROTONOSUPPORT)
    }
}

fn rc(r: Result<(), c_int>) -> c_int {
    r.err().unwrap_or(0)
}

/// Matches frames of `protocol` to the local address and port (both network order).
///
/// # Safety
///
/// `fs` must point to a spec initialised with [`ef_filter_spec_init`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_ip4_local(
    fs: *mut ef_filter_spec,
    protocol: c_int,
    host_be32: c_uint,
    port_be16: c_int,
) -> c_int {
    // SAFETY: the caller guarantees a valid spec.
    let fs = unsafe { spec(fs) };
    rc(add_kind(fs, &[0, T_VLAN], T_IP4).map(|()| {
        fs.data[0] = protocol as c_uint;
        fs.data[1] = host_be32;
        fs.data[2] = port_be16 as c_uint;
        fs.data[3] = 0;
        fs.data[4] = 0;
    }))
}

/// Matches frames of `protocol` to the local address/port from the remote address/port.
///
/// # Safety
///
/// `fs` must point to a spec initialised with [`ef_filter_spec_init`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_ip4_full(
    fs: *mut ef_filter_spec,
    protocol: c_int,
    host_be32: c_uint,
    port_be16: c_int,
    rhost_be32: c_uint,
    rport_be16: c_int,
) -> c_int {
    // SAFETY: the caller guarantees a valid spec.
    let fs = unsafe { spec(fs) };
    rc(add_kind(fs, &[0, T_VLAN], T_IP4).map(|()| {
        fs.data[0] = protocol as c_uint;
        fs.data[1] = host_be32;
        fs.data[2] = port_be16 as c_uint;
        fs.data[3] = rhost_be32;
        fs.data[4] = rport_be16 as c_uint;
    }))
}

/// Copies an IPv6 address into four `data[]` words.
fn put6(data: &mut [c_uint], a: [u8; 16]) {
    for (i, w) in data.iter_mut().take(4).enumerate() {
        *w = c_uint::from_ne_bytes([a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]]);
    }
}

pub(super) fn get6(data: &[c_uint]) -> [u8; 16] {
    let mut a = [0u8; 16];
    for (i, w) in data.iter().take(4).enumerate() {
        a[4 * i..4 * i + 4].copy_from_slice(&w.to_ne_bytes());
    }
    a
}

/// Reads an `in6_addr` as 16 bytes.
///
/// # Safety
///
/// `a` must be null or point to a readable `in6_addr`.
unsafe fn read6(a: *const in6_addr) -> Option<[u8; 16]> {
    if a.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees `a` is readable; in6_addr is 16 bytes.
    Some(unsafe { a.cast::<[u8; 16]>().read_unaligned() })
}

/// Matches IPv6 frames of `protocol` to the local address and port.
///
/// # Safety
///
/// `fs` must point to an initialised spec and `host` to an `in6_addr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_ip6_local(
    fs: *mut ef_filter_spec,
    protocol: c_int,
    host: *const in6_addr,
    port_be16: c_int,
) -> c_int {
    // SAFETY: the caller guarantees a valid spec and address.
    let (fs, host) = unsafe { (spec(fs), read6(host)) };
    let Some(host) = host else {
        return -libc::EINVAL;
    };
    rc(add_kind(fs, &[0, T_VLAN], T_IP6).map(|()| {
        fs.data[0] = protocol as c_uint;
        put6(&mut fs.data[1..5], host);
        fs.data[6] = port_be16 as c_uint;
        put6(&mut fs.data[7..11], [0; 16]);
        fs.data[11] = 0;
    }))
}

/// Matches IPv6 frames of `protocol` to the local address/port from the remote address/port.
///
/// # Safety
///
/// `fs` must point to an initialised spec, `host` and `rhost` to `in6_addr`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_ip6_full(
    fs: *mut ef_filter_spec,
    protocol: c_int,
    host: *const in6_addr,
    port_be16: c_int,
    rhost: *const in6_addr,
    rport_be16: c_int,
) -> c_int {
    // SAFETY: the caller guarantees a valid spec and addresses.
    let (fs, host, rhost) = unsafe { (spec(fs), read6(host), read6(rhost)) };
    let (Some(host), Some(rhost)) = (host, rhost) else {
        return -libc::EINVAL;
    };
    rc(add_kind(fs, &[0, T_VLAN], T_IP6).map(|()| {
        fs.data[0] = protocol as c_uint;
        put6(&mut fs.data[1..5], host);
        fs.data[6] = port_be16 as c_uint;
        put6(&mut fs.data[7..11], rhost);
        fs.data[11] = rport_be16 as c_uint;
    }))
}

/// Restricts the spec to frames of one VLAN.
///
/// # Safety
///
/// `fs` must point to an initialised spec.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_vlan(fs: *mut ef_filter_spec, vlan_id: c_int) -> c_int {
    // SAFETY: the caller guarantees a valid spec.
    let fs = unsafe { spec(fs) };
    let allowed = [
        0,
        T_IP4,
        T_IP6,
        T_MISMATCH_MULTICAST,
        T_MISMATCH_UNICAST,
        T_IP_PROTO,
        T_ETHER_TYPE,
    ];
    rc(add_kind(fs, &allowed, T_VLAN).map(|()| fs.data[D_VLAN] = vlan_id as c_uint))
}

/// Matches frames to a destination MAC address (and VLAN, or any with
/// `EF_FILTER_VLAN_ID_ANY`).
///
/// # Safety
///
/// `fs` must point to an initialised spec and `mac` to 6 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_eth_local(
    fs: *mut ef_filter_spec,
    vlan_id: c_int,
    mac: *const c_void,
) -> c_int {
    if mac.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a valid spec and 6 readable bytes at `mac`.
    let (fs, mac) = unsafe { (spec(fs), mac.cast::<[u8; 6]>().read_unaligned()) };
    rc(
        add_kind(fs, &[0, T_IP_PROTO, T_ETHER_TYPE], T_MAC).map(|()| {
            fs.data[0] = vlan_id as c_uint;
            fs.data[1] = c_uint::from_ne_bytes([mac[0], mac[1], mac[2], mac[3]]);
            let keep = fs.data[2].to_ne_bytes();
            fs.data[2] = c_uint::from_ne_bytes([mac[4], mac[5], keep[2], keep[3]]);
        }),
    )
}

macro_rules! simple_setter {
    ($(#[$doc:meta])* $name:ident, $allowed:expr, $kind:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// `fs` must point to a spec initialised with [`ef_filter_spec_init`].
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(fs: *mut ef_filter_spec) -> c_int {
            // SAFETY: the caller guarantees a valid spec.
            let fs = unsafe { spec(fs) };
            rc(add_kind(fs, $allowed, $kind))
        }
    };
}

simple_setter!(
    /// Matches every unicast frame (ARP replies included).
    ef_filter_spec_set_unicast_all, &[0], T_ALL_UNICAST
);
simple_setter!(
    /// Matches every multicast frame (IGMP included).
    ef_filter_spec_set_multicast_all, &[0], T_ALL_MULTICAST
);
simple_setter!(
    /// Matches unicast frames that no other filter matches.
    ef_filter_spec_set_unicast_mismatch, &[0, T_VLAN], T_MISMATCH_UNICAST
);
simple_setter!(
    /// Matches multicast frames that no other filter matches.
    ef_filter_spec_set_multicast_mismatch, &[0, T_VLAN], T_MISMATCH_MULTICAST
);
simple_setter!(
    /// Copies every frame sent on the interface to the VI.
    ef_filter_spec_set_tx_port_sniff, &[0], T_TX_PORT_SNIFF
);
simple_setter!(
    /// Keeps every frame away from the kernel stack. The software backend cannot do this (an
    /// `AF_PACKET` socket only gets copies), so adding such a filter fails with `-EOPNOTSUPP`.
    ef_filter_spec_set_block_kernel, &[0], T_BLOCK_KERNEL
);
simple_setter!(
    /// Keeps multicast frames away from the kernel stack (`-EOPNOTSUPP` when added here).
    ef_filter_spec_set_block_kernel_multicast, &[0], T_BLOCK_KERNEL_MULTICAST
);
simple_setter!(
    /// Keeps unicast frames away from the kernel stack (`-EOPNOTSUPP` when added here).
    ef_filter_spec_set_block_kernel_unicast, &[0], T_BLOCK_KERNEL_UNICAST
);

/// Sniff mode: filters copy instead of steal; `promiscuous` copies every received frame.
///
/// # Safety
///
/// `fs` must point to an initialised spec.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_port_sniff(
    fs: *mut ef_filter_spec,
    promiscuous: c_int,
) -> c_int {
    // SAFETY: the caller guarantees a valid spec.
    let fs = unsafe { spec(fs) };
    rc(add_kind(fs, &[0], T_PORT_SNIFF).map(|()| fs.data[0] = promiscuous as c_uint))
}

/// Matches frames of one IP protocol (alone, with a VLAN or with a MAC address).
///
/// # Safety
///
/// `fs` must point to an initialised spec.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_ip_proto(
    fs: *mut ef_filter_spec,
    ip_proto: u8,
) -> c_int {
    // SAFETY: the caller guarantees a valid spec.
    let fs = unsafe { spec(fs) };
    rc(add_kind(fs, &[0, T_VLAN, T_MAC], T_IP_PROTO)
        .map(|()| fs.data[D_PROTO_OR_ETHERTYPE] = c_uint::from(ip_proto)))
}

/// Matches frames of one EtherType (network order; alone, with a VLAN or with a MAC).
///
/// # Safety
///
/// `fs` must point to an initialised spec.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_filter_spec_set_eth_type(
    fs: *mut ef_filter_spec,
    ether_type_be16: u16,
) -> c_int {
    // SAFETY: the caller guarantees a valid spec.
    let fs = unsafe { spec(fs) };
    rc(add_kind(fs, &[0, T_VLAN, T_MAC], T_ETHER_TYPE)
        .map(|()| fs.data[D_PROTO_OR_ETHERTYPE] = c_uint::from(ether_type_be16)))
}

/// User marks need SN1000-class adapters: not supported (`-EOPNOTSUPP`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_filter_spec_set_user_mark(
    _fs: *mut ef_filter_spec,
    _user_mark: u32,
    _flags: c_int,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// User flags need SN1000-class adapters: not supported (`-EOPNOTSUPP`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_filter_spec_set_user_flag(
    _fs: *mut ef_filter_spec,
    _user_flag: u8,
    _flags: c_int,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// Choosing the hardware RX queue of a filter is an X3 feature: not supported
/// (`-EOPNOTSUPP`, and `EF_VI_CAP_RX_FILTER_SET_DEST` reads 0).
#[unsafe(no_mangle)]
pub extern "C" fn ef_filter_spec_set_dest(
    _fs: *mut ef_filter_spec,
    _dest: c_int,
    _flags: c_uint,
) -> c_int {
    -libc::EOPNOTSUPP
}
