//! The filter table of an interface, and the software equivalent of the adapter's filter
//! lookup.
//!
//! Adding a spec to a VI or VI set turns it into a [`Matcher`] stored in the table of the
//! interface (per network namespace and ifindex). Every VI on the interface has its own packet
//! socket and sees every frame; it delivers a frame only when the table says the frame is
//! steered to it:
//!
//! * among all filters that match, the most specific kind wins (full 5-tuple, then local
//!   3-tuple, then MAC with protocol/EtherType, MAC, IP protocol/EtherType, unicast/multicast
//!   all, mismatch); every owner of a winning filter gets the frame (multicast replication);
//! * a VI set owner gets it on the member chosen by the flow hash (RSS);
//! * a promiscuous port-sniff filter copies every received frame, a TX port-sniff filter every
//!   frame sent on the interface;
//! * a filter with `EF_FILTER_FLAG_MCAST_LOOP_RECEIVE` also matches multicast frames sent from
//!   this host on the interface.
//!
//! The table is per process: VIs of other processes (and the kernel stack, which an `AF_PACKET`
//! socket cannot take frames away from) keep receiving their copies.

use core::ffi::{c_int, c_uint};
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::filter_spec::{
    D_PROTO_OR_ETHERTYPE, D_VLAN, T_ALL_MULTICAST, T_ALL_UNICAST, T_BLOCK_KERNEL,
    T_BLOCK_KERNEL_MULTICAST, T_BLOCK_KERNEL_UNICAST, T_ETHER_TYPE, T_IP_PROTO, T_IP4, T_IP6,
    T_MAC, T_MAC_ETHER_TYPE, T_MAC_IP_PROTO, T_MISMATCH_MULTICAST, T_MISMATCH_UNICAST,
    T_PORT_SNIFF, T_TX_PORT_SNIFF, T_VLAN, get6,
};
use super::frame::{FrameInfo, IPPROTO_TCP, IPPROTO_UDP};
use super::{Registry, lock};
use crate::bindings::*;

/// What a filter matches, decoded from a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matcher {
    Ip4 {
        proto: u8,
        laddr: u32,
        lport: u16,
        remote: Option<(u32, u16)>,
        vlan: Option<u16>,
    },
    Ip6 {
        proto: u8,
        laddr: [u8; 16],
        lport: u16,
        remote: Option<([u8; 16], u16)>,
        vlan: Option<u16>,
    },
    Mac {
        vlan: Option<u16>,
        mac: [u8; 6],
        ip_proto: Option<u8>,
        ether_type: Option<u16>,
    },
    IpProto {
        proto: u8,
        vlan: Option<u16>,
    },
    EtherType {
        ether_type: u16,
        vlan: Option<u16>,
    },
    UnicastAll,
    MulticastAll,
    UnicastMismatch {
        vlan: Option<u16>,
    },
    MulticastMismatch {
        vlan: Option<u16>,
    },
    PortSniff {
        promisc: bool,
    },
    TxPortSniff,
}

fn vlan_of(v: c_uint) -> Option<u16> {
    let v = v as c_int;
    (v >= 0).then_some((v & 0xfff) as u16)
}

impl Matcher {
    /// Decodes a spec, with the errors `ef_vi_filter_add()` gives for it.
    pub(crate) fn from_spec(fs: &ef_filter_spec) -> Result<Matcher, c_int> {
        let d = &fs.data;
        let vlan = (fs.type_ & T_VLAN != 0)
            .then(|| vlan_of(d[D_VLAN]))
            .flatten();
        let proto_ok = |p: c_uint| -> Result<u8, c_int> {
            let p = p as u8;
            if p == IPPROTO_TCP || p == IPPROTO_UDP {
                Ok(p)
            } else {
                Err(-libc::EPROTONOSUPPORT)
            }
        };
        let m = match fs.type_ & !T_VLAN {
            T_IP4 => Matcher::Ip4 {
                proto: proto_ok(d[0])?,
                laddr: d[1],
                lport: d[2] as u16,
                remote: (d[3] != 0 || d[4] != 0).then_some((d[3], d[4] as u16)),
                vlan,
            },
            T_IP6 => {
                let r = get6(&d[7..11]);
                Matcher::Ip6 {
                    proto: proto_ok(d[0])?,
                    laddr: get6(&d[1..5]),
                    lport: d[6] as u16,
                    remote: (r != [0; 16] || d[11] != 0).then_some((r, d[11] as u16)),
                    vlan,
                }
            }
            T_MAC | T_MAC_IP_PROTO | T_MAC_ETHER_TYPE => {
                let a = d[1].to_ne_bytes();
                let b = d[2].to_ne_bytes();
                let x = d[D_PROTO_OR_ETHERTYPE];
                Matcher::Mac {
                    vlan: vlan_of(d[0]),
                    mac: [a[0], a[1], a[2], a[3], b[0], b[1]],
                    ip_proto: (fs.type_ & T_IP_PROTO != 0).then_some(x as u8),
                    ether_type: (fs.type_ & T_ETHER_TYPE != 0).then_some(u16::from_be(x as u16)),
                }
            }
            T_IP_PROTO => Matcher::IpProto {
                proto: d[D_PROTO_OR_ETHERTYPE] as u8,
                vlan,
            },
            T_ETHER_TYPE => Matcher::EtherType {
                ether_type: u16::from_be(d[D_PROTO_OR_ETHERTYPE] as u16),
                vlan,
            },
            T_ALL_UNICAST => Matcher::UnicastAll,
            T_ALL_MULTICAST => Matcher::MulticastAll,
            T_MISMATCH_UNICAST => Matcher::UnicastMismatch { vlan },
            T_MISMATCH_MULTICAST => Matcher::MulticastMismatch { vlan },
            T_PORT_SNIFF => Matcher::PortSniff { promisc: d[0] != 0 },
            T_TX_PORT_SNIFF => Matcher::TxPortSniff,
            T_BLOCK_KERNEL | T_BLOCK_KERNEL_UNICAST | T_BLOCK_KERNEL_MULTICAST => {
                super::log_once(
                    "block_kernel",
                    "block-kernel filters are not supported by the software backend: an \
                     AF_PACKET socket cannot keep frames away from the kernel stack",
                );
                return Err(-libc::EOPNOTSUPP);
            }
            _ => return Err(-libc::EINVAL),
        };
        Ok(m)
    }

    /// Lookup priority: lower wins. Sniff filters have no rank (they copy).
    pub(crate) fn rank(&self) -> Option<u8> {
        Some(match self {
            Matcher::Ip4 {
                remote: Some(_), ..
            }
            | Matcher::Ip6 {
                remote: Some(_), ..
            } => 0,
            Matcher::Ip4 { .. } | Matcher::Ip6 { .. } => 1,
            Matcher::Mac {
                ip_proto: Some(_), ..
            }
            | Matcher::Mac {
                ether_type: Some(_),
                ..
            } => 2,
            Matcher::Mac { .. } => 3,
            Matcher::IpProto { .. } | Matcher::EtherType { .. } => 4,
            Matcher::UnicastAll | Matcher::MulticastAll => 5,
            Matcher::UnicastMismatch { .. } | Matcher::MulticastMismatch { .. } => 6,
            Matcher::PortSniff { .. } | Matcher::TxPortSniff => return None,
        })
    }

    /// True for filters whose frames go to a group address (replicated to every owner).
    pub(crate) fn is_multicast(&self) -> bool {
        match self {
            Matcher::Ip4 { laddr, .. } => u32::from_be(*laddr) >> 28 == 0xe,
            Matcher::Ip6 { laddr, .. } => laddr[0] == 0xff,
            Matcher::Mac { mac, .. } => mac[0] & 1 != 0,
            Matcher::MulticastAll | Matcher::MulticastMismatch { .. } => true,
            _ => false,
        }
    }

    /// The multicast MAC the interface must accept for this filter's frames to arrive.
    pub(crate) fn multicast_mac(&self) -> Option<[u8; 6]> {
        match self {
            Matcher::Ip4 { laddr, .. } if self.is_multicast() => {
                let a = laddr.to_ne_bytes();
                Some([0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]])
            }
            Matcher::Ip6 { laddr, .. } if self.is_multicast() => {
                Some([0x33, 0x33, laddr[12], laddr[13], laddr[14], laddr[15]])
            }
            Matcher::Mac { mac, .. } if mac[0] & 1 != 0 => Some(*mac),
            _ => None,
        }
    }

    /// Whether the frame matches (sniff filters never match here).
    pub(crate) fn matches(&self, fi: &FrameInfo) -> bool {
        let vlan_ok = |v: &Option<u16>| v.is_none() || *v == fi.vlan;
        match self {
            Matcher::Ip4 {
                proto,
                laddr,
                lport,
                remote,
                vlan,
            } => {
                fi.ip_ver == 4
                    && fi.ip_proto == *proto
                    && fi.has_ports()
                    && fi.daddr4 == *laddr
                    && fi.dport == *lport
                    && remote.is_none_or(|(a, p)| fi.saddr4 == a && fi.sport == p)
                    && vlan_ok(vlan)
            }
            Matcher::Ip6 {
                proto,
                laddr,
                lport,
                remote,
                vlan,
            } => {
                fi.ip_ver == 6
                    && fi.ip_proto == *proto
                    && fi.has_ports()
                    && fi.daddr6 == *laddr
                    && fi.dport == *lport
                    && remote
                        .as_ref()
                        .is_none_or(|(a, p)| fi.saddr6 == *a && fi.sport == *p)
                    && vlan_ok(vlan)
            }
            Matcher::Mac {
                vlan,
                mac,
                ip_proto,
                ether_type,
            } => {
                fi.dst_mac == *mac
                    && vlan_ok(vlan)
                    && ip_proto.is_none_or(|p| fi.ip_ver != 0 && fi.ip_proto == p)
                    && ether_type.is_none_or(|e| fi.ether_type == e)
            }
            Matcher::IpProto { proto, vlan } => {
                fi.ip_ver != 0 && fi.ip_proto == *proto && vlan_ok(vlan)
            }
            Matcher::EtherType { ether_type, vlan } => {
                fi.ether_type == *ether_type && vlan_ok(vlan)
            }
            Matcher::UnicastAll => !fi.is_multicast(),
            Matcher::MulticastAll => fi.is_multicast(),
            Matcher::UnicastMismatch { vlan } => !fi.is_multicast() && vlan_ok(vlan),
            Matcher::MulticastMismatch { vlan } => fi.is_multicast() && vlan_ok(vlan),
            Matcher::PortSniff { .. } | Matcher::TxPortSniff => false,
        }
    }
}

/// Who receives the frames of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A VI, by resource id.
    Vi(u32),
    /// A VI set, by resource id.
    Set(u32),
}

/// One installed filter.
#[derive(Debug)]
pub(crate) struct FilterEntry {
    pub id: c_int,
    pub owner: Owner,
    pub matcher: Matcher,
    pub rank: Option<u8>,
    pub flags: c_uint,
    pub spec_type: c_uint,
}

/// The filters installed on one interface (one network namespace's ifindex).
#[derive(Debug, Default)]
pub(crate) struct IfaceTable {
    pub(super) entries: Mutex<Vec<Arc<FilterEntry>>>,
    pub(super) snapshot: Mutex<Arc<Vec<Arc<FilterEntry>>>>,
    pub(super) generation: AtomicU64,
    pub(super) next_id: Mutex<c_int>,
}

impl Drop for IfaceTable {
    /// Takes the table's entry out of [`TABLES`]: a `Weak` left there would keep the table's
    /// allocation until another table is made, and for ever (valgrind: "possibly lost") once
    /// the last protection domain of the process is freed.
    fn drop(&mut self) {
        // Our own entry is dead by now (its strong count is 0); a table made for the same
        // key meanwhile is alive and stays.
        TABLES.lock().retain(|_, w| w.strong_count() > 0);
    }
}

/// A VI's cached view of its interface's table.
#[derive(Debug, Default)]
pub(crate) struct TableView {
    pub(super) generation: u64,
    pub(super) entries: Arc<Vec<Arc<FilterEntry>>>,
}

/// How a VI is placed in a VI set, for RSS.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SetPlace {
    pub set: u32,
    pub index: u32,
    pub n: u32,
}

/// The tables in use, by (network namespace inode, ifindex).
static TABLES: Registry<(u64, c_int), Weak<IfaceTable>> = Registry::new();

/// The inode of the calling thread's network namespace.
fn netns_id() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net")
        .map(|m| m.ino())
        .unwrap_or(0)
}

impl IfaceTable {
    /// The table of interface `ifindex` in the calling thread's network namespace, shared by
    /// every protection domain on it.
    pub(crate) fn of_interface(ifindex: c_int) -> Arc<IfaceTable> {
        let key = (netns_id(), ifindex);
        let mut tables = TABLES.lock();
        if let Some(t) = tables.get(&key).and_then(Weak::upgrade) {
            return t;
        }
        let t = Arc::new(IfaceTable::default());
        tables.insert(key, Arc::downgrade(&t));
        t
    }

    fn publish(&self, entries: &[Arc<FilterEntry>]) {
        *lock(&self.snapshot) = Arc::new(entries.to_vec());
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Installs a filter; returns its id. Fails with `-EEXIST` when the same filter is
    /// already installed for this owner, or (unicast, non-sniff) for another owner.
    pub(crate) fn insert(
        &self,
        owner: Owner,
        matcher: Matcher,
        flags: c_uint,
        spec_type: c_uint,
    ) -> Result<Arc<FilterEntry>, c_int> {
        let mut entries = lock(&self.entries);
        for e in entries.iter() {
            if e.matcher == matcher
                && (e.owner == owner || (!matcher.is_multicast() && matcher.rank().is_some()))
            {
                return Err(-libc::EEXIST);
            }
        }
        let id = {
            let mut n = lock(&self.next_id);
            let id = *n;
            *n = n.wrapping_add(1) & 0x3fff_ffff;
            id
        };
        let rank = matcher.rank();
        let id = if rank.is_none() { -1 } else { id };
        let e = Arc::new(FilterEntry {
            id,
            owner,
            matcher,
            rank,
            flags,
            spec_type,
        });
        entries.push(e.clone());
        self.publish(&entries);
        Ok(e)
    }

    /// The narrowest `AF_PACKET` protocol (network byte order) that still brings a VI every
    /// frame its own filters can match: `ETH_P_IP` (or `ETH_P_IPV6`) when every filter of
    /// `owner` is an IPv4 (IPv6) address filter without VLAN or multicast loop-back, else
    /// `ETH_P_ALL`. Only `ETH_P_ALL` sockets also see the interface's outgoing frames, which
    /// such filters ignore: on `lo` that halves the frames the kernel copies to the VI.
    pub(crate) fn packet_protocol(&self, owner: Owner) -> u16 {
        const ETH_P_ALL: u16 = 0x0003;
        let loop_flag =
            crate::bindings::ef_filter_flags_EF_FILTER_FLAG_MCAST_LOOP_RECEIVE as c_uint;
        let mut want = None;
        for e in lock(&self.entries).iter().filter(|e| e.owner == owner) {
            let p = match e.matcher {
                _ if e.flags & loop_flag != 0 => ETH_P_ALL,
                Matcher::Ip4 { vlan: None, .. } => libc::ETH_P_IP as u16,
                Matcher::Ip6 { vlan: None, .. } => libc::ETH_P_IPV6 as u16,
                _ => ETH_P_ALL,
            };
            want = match want {
                None => Some(p),
                Some(q) if q == p => Some(q),
                Some(_) => Some(ETH_P_ALL),
            };
        }
        want.unwrap_or(ETH_P_ALL).to_be()
    }

    /// Removes the filter of `owner` with the cookie's id and type.
    pub(crate) fn remove(
        &self,
        owner: Owner,
        id: c_int,
        spec_type: c_uint,
    ) -> Result<Arc<FilterEntry>, c_int> {
        let mut entries = lock(&self.entries);
        let pos = entries
            .iter()
            .position(|e| e.owner == owner && e.id == id && e.spec_type == spec_type)
            .ok_or(-libc::ENOENT)?;
        let e = entries.remove(pos);
        self.publish(&entries);
        Ok(e)
    }

    /// Finds a filter of `owner`.
    pub(crate) fn find(
        &self,
        owner: Owner,
        id: c_int,
        spec_type: c_uint,
    ) -> Option<Arc<FilterEntry>> {
        lock(&self.entries)
            .iter()
            .find(|e| e.owner == owner && e.id == id && e.spec_type == spec_type)
            .cloned()
    }

    /// Removes every filter of `owner`, returning them.
    pub(crate) fn remove_owner(&self, owner: Owner) -> Vec<Arc<FilterEntry>> {
        let mut entries = lock(&self.entries);
        let (gone, kept): (Vec<_>, Vec<_>) = entries.drain(..).partition(|e| e.owner == owner);
        *entries = kept;
        self.publish(&entries);
        gone
    }

    /// The filters of `owner`.
    pub(crate) fn owned(&self, owner: Owner) -> Vec<Arc<FilterEntry>> {
        lock(&self.entries)
            .iter()
            .filter(|e| e.owner == owner)
            .cloned()
            .collect()
    }

    /// Refreshes a VI's cached view when the table changed.
    pub(crate) fn refresh(&self, view: &mut TableView) {
        let g = self.generation.load(Ordering::Acquire);
        if g != view.generation {
            view.entries = lock(&self.snapshot).clone();
            view.generation = g;
        }
    }
}

/// The verdict for one frame seen by one VI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not for this VI.
    Drop,
    /// Deliver; the id of the filter that matched (or -1 for sniffing).
    Deliver(c_int),
}

/// Decides whether the VI `me` (optionally in a set) receives a frame.
pub(crate) fn decide(
    view: &TableView,
    fi: &FrameInfo,
    outgoing: bool,
    loopback_iface: bool,
    me: u32,
    place: Option<SetPlace>,
    hash: impl Fn() -> u32,
) -> Verdict {
    let entries = &view.entries[..];
    let mine = |e: &FilterEntry| match e.owner {
        Owner::Vi(v) => v == me,
        Owner::Set(s) => place.is_some_and(|p| p.set == s && hash() % p.n.max(1) == p.index),
    };
    if outgoing {
        for e in entries {
            if matches!(e.matcher, Matcher::TxPortSniff) && mine(e) {
                return Verdict::Deliver(e.id);
            }
        }
        // Frames sent from this host loop back to MCAST_LOOP_RECEIVE filters. On a loopback
        // interface the frame also arrives as an incoming copy, which is used instead.
        if loopback_iface || !fi.is_multicast() {
            return Verdict::Drop;
        }
        let loop_flag =
            crate::bindings::ef_filter_flags_EF_FILTER_FLAG_MCAST_LOOP_RECEIVE as c_uint;
        return best(entries, fi, |e| e.flags & loop_flag != 0, mine);
    }
    match best(entries, fi, |_| true, mine) {
        Verdict::Drop => {
            for e in entries {
                if matches!(e.matcher, Matcher::PortSniff { promisc: true }) && mine(e) {
                    return Verdict::Deliver(e.id);
                }
            }
            Verdict::Drop
        }
        v => v,
    }
}

/// The best-ranked matching filters (among those `eligible`); delivers if one is `mine`.
fn best(
    entries: &[Arc<FilterEntry>],
    fi: &FrameInfo,
    eligible: impl Fn(&FilterEntry) -> bool,
    mine: impl Fn(&FilterEntry) -> bool,
) -> Verdict {
    let mut best_rank = u8::MAX;
    for e in entries {
        if let Some(r) = e.rank {
            if r < best_rank && eligible(e) && e.matcher.matches(fi) {
                best_rank = r;
            }
        }
    }
    if best_rank == u8::MAX {
        return Verdict::Drop;
    }
    for e in entries {
        if e.rank == Some(best_rank) && eligible(e) && mine(e) && e.matcher.matches(fi) {
            return Verdict::Deliver(e.id);
        }
    }
    Verdict::Drop
}

/// Fills in the cookie of filter `e`, unless `cookie` is null.
///
/// # Safety
///
/// `cookie` must be null or writable.
pub(crate) unsafe fn fill_cookie(cookie: *mut ef_filter_cookie, e: &FilterEntry) {
    if !cookie.is_null() {
        // SAFETY: guaranteed by the caller.
        unsafe {
            cookie.write(ef_filter_cookie {
                filter_id: e.id,
                filter_type: e.spec_type as c_int,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::{
        EF_FILTER_VLAN_ID_ANY, ef_filter_flags_EF_FILTER_FLAG_MCAST_LOOP_RECEIVE,
    };
    use crate::soft::filter_spec::{
        ef_filter_spec_init, ef_filter_spec_set_block_kernel_unicast, ef_filter_spec_set_dest,
        ef_filter_spec_set_eth_local, ef_filter_spec_set_ip4_full, ef_filter_spec_set_ip4_local,
        ef_filter_spec_set_port_sniff, ef_filter_spec_set_tx_port_sniff,
        ef_filter_spec_set_unicast_mismatch, ef_filter_spec_set_user_mark, ef_filter_spec_set_vlan,
    };
    use crate::soft::frame;

    #[test]
    fn a_dropped_table_leaves_no_entry_in_the_registry() {
        // An ifindex no interface has, so that no other test shares the table.
        let key = (netns_id(), -7_001);
        let t = IfaceTable::of_interface(key.1);
        assert!(Arc::ptr_eq(&t, &IfaceTable::of_interface(key.1)));
        assert!(TABLES.lock().contains_key(&key));
        drop(t);
        assert!(
            !TABLES.lock().contains_key(&key),
            "the registry still holds the freed table's allocation"
        );
    }

    fn udp4(
        dst_mac: [u8; 6],
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        vlan: Option<u16>,
    ) -> FrameInfo {
        let mut f = Vec::new();
        f.extend_from_slice(&dst_mac);
        f.extend_from_slice(&[2, 0, 0, 0, 0, 9]);
        if let Some(v) = vlan {
            f.extend_from_slice(&[0x81, 0x00]);
            f.extend_from_slice(&v.to_be_bytes());
        }
        f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 30, 0, 0, 0x40, 0, 64, 17, 0, 0]);
        f.extend_from_slice(&src.0);
        f.extend_from_slice(&dst.0);
        f.extend_from_slice(&src.1.to_be_bytes());
        f.extend_from_slice(&dst.1.to_be_bytes());
        f.extend_from_slice(&[0, 10, 0, 0, 1, 2]);
        frame::parse(&f)
    }

    fn spec_with(set: impl FnOnce(*mut ef_filter_spec) -> c_int) -> ef_filter_spec {
        let mut fs = ef_filter_spec::default();
        // SAFETY: `fs` is a writable spec.
        unsafe { ef_filter_spec_init(&mut fs, 0) };
        assert_eq!(set(&mut fs), 0);
        fs
    }

    fn install(
        t: &IfaceTable,
        owner: Owner,
        fs: &ef_filter_spec,
    ) -> Result<Arc<FilterEntry>, c_int> {
        t.insert(owner, Matcher::from_spec(fs)?, fs.flags, fs.type_)
    }

    fn verdict(t: &IfaceTable, fi: &FrameInfo, me: u32) -> Verdict {
        let mut view = TableView::default();
        t.refresh(&mut view);
        decide(&view, fi, false, false, me, None, || 0)
    }

    const HOST: [u8; 4] = [10, 0, 0, 1];
    const PEER: [u8; 4] = [10, 0, 0, 2];
    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn be32(a: [u8; 4]) -> c_uint {
        c_uint::from_ne_bytes(a)
    }

    #[test]
    fn packet_protocol_is_the_narrowest_covering_a_vis_filters() {
        const ALL: u16 = 0x0003u16.to_be();
        let ip4 = (libc::ETH_P_IP as u16).to_be();
        let t = IfaceTable::default();
        // SAFETY: `fs` points to the spec spec_with initialised.
        let local = spec_with(|fs| unsafe {
            ef_filter_spec_set_ip4_local(fs, 17, be32(HOST), 1000u16.to_be().into())
        });
        // SAFETY: as above.
        let full = spec_with(|fs| unsafe {
            ef_filter_spec_set_ip4_full(
                fs,
                6,
                be32(HOST),
                1001u16.to_be().into(),
                be32(PEER),
                2000u16.to_be().into(),
            )
        });
        // SAFETY: as above.
        let mac = spec_with(|fs| unsafe {
            ef_filter_spec_set_eth_local(fs, EF_FILTER_VLAN_ID_ANY, MAC.as_ptr().cast())
        });
        // No filter: everything (nothing is known about what the VI will want).
        assert_eq!(t.packet_protocol(Owner::Vi(1)), ALL);
        let a = install(&t, Owner::Vi(1), &local).unwrap();
        assert_eq!(t.packet_protocol(Owner::Vi(1)), ip4);
        install(&t, Owner::Vi(1), &full).unwrap();
        assert_eq!(t.packet_protocol(Owner::Vi(1)), ip4);
        // Another VI's filters do not count.
        install(&t, Owner::Vi(2), &mac).unwrap();
        assert_eq!(t.packet_protocol(Owner::Vi(1)), ip4);
        assert_eq!(t.packet_protocol(Owner::Vi(2)), ALL);
        // A MAC filter, a VLAN or multicast loop-back widens to every frame.
        install(&t, Owner::Vi(1), &mac).unwrap_err(); // same MAC filter already owned by VI 2
        // SAFETY: as above.
        let vlan = spec_with(|fs| unsafe {
            ef_filter_spec_set_ip4_local(fs, 17, be32(HOST), 1002u16.to_be().into());
            ef_filter_spec_set_vlan(fs, 7)
        });
        let v = install(&t, Owner::Vi(1), &vlan).unwrap();
        assert_eq!(t.packet_protocol(Owner::Vi(1)), ALL);
        t.remove(Owner::Vi(1), v.id, v.spec_type).unwrap();
        assert_eq!(t.packet_protocol(Owner::Vi(1)), ip4);
        let mut looped = local;
        looped.flags |= ef_filter_flags_EF_FILTER_FLAG_MCAST_LOOP_RECEIVE as c_uint;
        t.remove(Owner::Vi(1), a.id, a.spec_type).unwrap();
        install(&t, Owner::Vi(1), &looped).unwrap();
        assert_eq!(t.packet_protocol(Owner::Vi(1)), ALL);
    }

    #[test]
    fn most_specific_filter_wins_and_mismatch_takes_the_rest() {
        let t = IfaceTable::default();
        // SAFETY: `fs` points to the spec spec_with initialised.
        let full = spec_with(|fs| unsafe {
            ef_filter_spec_set_ip4_full(
                fs,
                17,
                be32(HOST),
                1000u16.to_be().into(),
                be32(PEER),
                2000u16.to_be().into(),
            )
        });
        // SAFETY: `fs` points to the spec spec_with initialised.
        let local = spec_with(|fs| unsafe {
            ef_filter_spec_set_ip4_local(fs, 17, be32(HOST), 1000u16.to_be().into())
        });
        // SAFETY: `fs` points to the spec spec_with initialised.
        let mac = spec_with(|fs| unsafe {
            ef_filter_spec_set_eth_local(fs, EF_FILTER_VLAN_ID_ANY, MAC.as_ptr().cast())
        });
        // SAFETY: `fs` points to the spec spec_with initialised.
        let mis = spec_with(|fs| unsafe { ef_filter_spec_set_unicast_mismatch(fs) });
        install(&t, Owner::Vi(1), &full).unwrap();
        install(&t, Owner::Vi(2), &local).unwrap();
        install(&t, Owner::Vi(3), &mac).unwrap();
        install(&t, Owner::Vi(4), &mis).unwrap();
        let from_peer = udp4(MAC, (PEER, 2000), (HOST, 1000), None);
        let from_other = udp4(MAC, (PEER, 2001), (HOST, 1000), None);
        let other_port = udp4(MAC, (PEER, 2000), (HOST, 1001), None);
        let other_mac = udp4([2, 0, 0, 0, 0, 7], (PEER, 2000), (HOST, 1001), None);
        let who = |fi: &FrameInfo| -> Vec<u32> {
            (1..=4)
                .filter(|&v| matches!(verdict(&t, fi, v), Verdict::Deliver(_)))
                .collect()
        };
        assert_eq!(who(&from_peer), vec![1]);
        assert_eq!(who(&from_other), vec![2]);
        assert_eq!(who(&other_port), vec![3]);
        assert_eq!(who(&other_mac), vec![4]);
        // The same unicast filter cannot be added twice.
        assert_eq!(install(&t, Owner::Vi(5), &local).err(), Some(-libc::EEXIST));
        assert_eq!(install(&t, Owner::Vi(2), &local).err(), Some(-libc::EEXIST));
    }

    #[test]
    fn multicast_is_replicated_and_sniffers_copy() {
        let t = IfaceTable::default();
        let group = [239, 1, 2, 3];
        // SAFETY: `fs` points to the spec spec_with initialised.
        let g = spec_with(|fs| unsafe {
            ef_filter_spec_set_ip4_local(fs, 17, be32(group), 5000u16.to_be().into())
        });
        install(&t, Owner::Vi(1), &g).unwrap();
        install(&t, Owner::Vi(2), &g).unwrap();
        // SAFETY: `fs` points to the spec spec_with initialised.
        let sniff = spec_with(|fs| unsafe { ef_filter_spec_set_port_sniff(fs, 1) });
        install(&t, Owner::Vi(3), &sniff).unwrap();
        install(&t, Owner::Vi(4), &sniff).unwrap();
        let fi = udp4([0x01, 0x00, 0x5e, 1, 2, 3], (PEER, 1), (group, 5000), None);
        for v in 1..=4 {
            assert!(matches!(verdict(&t, &fi, v), Verdict::Deliver(_)), "VI {v}");
        }
        assert_eq!(
            Matcher::from_spec(&g).unwrap().multicast_mac(),
            Some([0x01, 0x00, 0x5e, 1, 2, 3])
        );
    }

    #[test]
    fn vlan_restricts_and_sets_spread_by_hash() {
        let t = IfaceTable::default();
        // SAFETY: `fs` points to the spec spec_with initialised.
        let v5 = spec_with(|fs| unsafe {
            let rc = ef_filter_spec_set_ip4_local(fs, 17, be32(HOST), 7u16.to_be().into());
            if rc != 0 {
                rc
            } else {
                ef_filter_spec_set_vlan(fs, 5)
            }
        });
        install(&t, Owner::Set(9), &v5).unwrap();
        let tagged = udp4(MAC, (PEER, 1), (HOST, 7), Some(5));
        let other_vlan = udp4(MAC, (PEER, 1), (HOST, 7), Some(6));
        let mut view = TableView::default();
        t.refresh(&mut view);
        let place = |index| {
            Some(SetPlace {
                set: 9,
                index,
                n: 2,
            })
        };
        let h = frame::flow_hash(&tagged);
        let pick = h % 2;
        assert!(matches!(
            decide(&view, &tagged, false, false, 1, place(pick), || h),
            Verdict::Deliver(_)
        ));
        assert_eq!(
            decide(&view, &tagged, false, false, 2, place(1 - pick), || h),
            Verdict::Drop
        );
        assert_eq!(
            decide(&view, &other_vlan, false, false, 1, place(pick), || h),
            Verdict::Drop
        );
    }

    #[test]
    fn outgoing_frames_reach_tx_sniff_and_mcast_loop_filters_only() {
        let t = IfaceTable::default();
        let group = [239, 9, 9, 9];
        // SAFETY: `fs` points to the spec spec_with initialised.
        let tx = spec_with(|fs| unsafe { ef_filter_spec_set_tx_port_sniff(fs) });
        install(&t, Owner::Vi(1), &tx).unwrap();
        // SAFETY: `fs` points to the spec spec_with initialised.
        let plain = spec_with(|fs| unsafe {
            ef_filter_spec_set_ip4_local(fs, 17, be32(group), 1u16.to_be().into())
        });
        install(&t, Owner::Vi(2), &plain).unwrap();
        let mut looped = ef_filter_spec::default();
        // SAFETY: as above.
        unsafe {
            ef_filter_spec_init(
                &mut looped,
                ef_filter_flags_EF_FILTER_FLAG_MCAST_LOOP_RECEIVE,
            );
            assert_eq!(
                ef_filter_spec_set_ip4_local(&mut looped, 17, be32(group), 1u16.to_be().into()),
                0
            );
        }
        // A filter differing only in its flags is the same filter; use another VI's copy.
        install(&t, Owner::Vi(3), &looped).unwrap();
        let fi = udp4([0x01, 0x00, 0x5e, 9, 9, 9], (HOST, 1), (group, 1), None);
        let mut view = TableView::default();
        t.refresh(&mut view);
        let out = |me, lo| decide(&view, &fi, true, lo, me, None, || 0);
        assert!(matches!(out(1, false), Verdict::Deliver(-1)));
        assert_eq!(out(2, false), Verdict::Drop);
        assert!(matches!(out(3, false), Verdict::Deliver(_)));
        // On a loopback interface the incoming copy is used instead.
        assert_eq!(out(3, true), Verdict::Drop);
    }

    #[test]
    fn unsupported_kinds_give_the_sdk_errors() {
        // SAFETY: `fs` points to the spec spec_with initialised.
        let bk = spec_with(|fs| unsafe { ef_filter_spec_set_block_kernel_unicast(fs) });
        assert_eq!(Matcher::from_spec(&bk).err(), Some(-libc::EOPNOTSUPP));
        // SAFETY: `fs` points to the spec spec_with initialised.
        let icmp = spec_with(|fs| unsafe { ef_filter_spec_set_ip4_local(fs, 1, 0, 0) });
        assert_eq!(
            Matcher::from_spec(&icmp).err(),
            Some(-libc::EPROTONOSUPPORT)
        );
        let empty = spec_with(|_| 0);
        assert_eq!(Matcher::from_spec(&empty).err(), Some(-libc::EINVAL));
        let mut fs = ef_filter_spec::default();
        // SAFETY: as above.
        unsafe {
            ef_filter_spec_init(&mut fs, 0);
            assert_eq!(ef_filter_spec_set_dest(&mut fs, 1, 0), -libc::EOPNOTSUPP);
            assert_eq!(
                ef_filter_spec_set_user_mark(&mut fs, 1, 0),
                -libc::EOPNOTSUPP
            );
        }
    }
}
