//! Filters: which received packets the NIC steers to a VI (or a VI set).

use std::ffi::{c_int, c_uint};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, ToSocketAddrs};
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{Error, Result, check};
use crate::ffi;
use crate::set::SetInner;
use crate::vi::ViCore;

bitflags::bitflags! {
    /// Flags of a filter (`enum ef_filter_flags`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct FilterFlags: u32 {
        /// Also receive multicast this host sends (loopback).
        const MCAST_LOOP_RECEIVE = ffi::ef_filter_flags_EF_FILTER_FLAG_MCAST_LOOP_RECEIVE;
        /// Use an RX queue of the VI's own (X3).
        const EXCLUSIVE_RXQ = ffi::ef_filter_flags_EF_FILTER_FLAG_EXCLUSIVE_RXQ;
        /// Share an RX queue with other applications (X4).
        const SHARED_RXQ = ffi::ef_filter_flags_EF_FILTER_FLAG_SHARED_RXQ;
        /// Ask for wakeups on the queue.
        const REQUEST_WAKEUPS = ffi::ef_filter_flags_EF_FILTER_FLAG_REQUEST_WAKEUPS;
    }
}

/// The transport protocol of an IP filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpProto {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

impl IpProto {
    fn raw(self) -> c_int {
        match self {
            IpProto::Udp => libc::IPPROTO_UDP,
            IpProto::Tcp => libc::IPPROTO_TCP,
        }
    }
}

/// What a filter matches (`ef_filter_spec`), built with one method per
/// `ef_filter_spec_set_*` call, or parsed from the `efsink` syntax ([`FromStr`]).
///
/// Each method makes the C call at once and fails with the library's error (for example
/// [`Error::Unsupported`] for a combination it does not take).
///
/// ```
/// use etherfabric::{FilterSpec, FilterFlags, IpProto};
/// let a = FilterSpec::new(FilterFlags::empty())
///     .ip4_local(IpProto::Udp, "239.1.2.3:5000".parse().unwrap())
///     .unwrap();
/// let b: FilterSpec = "udp:239.1.2.3:5000".parse().unwrap();
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Copy)]
pub struct FilterSpec {
    raw: ffi::ef_filter_spec,
}

impl std::fmt::Debug for FilterSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterSpec")
            .field("type", &self.raw.type_)
            .field("flags", &self.raw.flags)
            .field("data", &self.raw.data)
            .finish()
    }
}

impl PartialEq for FilterSpec {
    fn eq(&self, o: &FilterSpec) -> bool {
        self.raw.type_ == o.raw.type_
            && self.raw.flags == o.raw.flags
            && self.raw.data == o.raw.data
    }
}

impl Eq for FilterSpec {}

impl Default for FilterSpec {
    fn default() -> Self {
        FilterSpec::new(FilterFlags::empty())
    }
}

fn in6(a: &Ipv6Addr) -> ffi::in6_addr {
    ffi::in6_addr {
        __in6_u: ffi::in6_addr__bindgen_ty_1 {
            __u6_addr8: a.octets(),
        },
    }
}

fn vlan_arg(v: u16) -> Result<c_int> {
    if v > 4095 {
        return Err(Error::invalid(format!("VLAN id {v}: must be 0 to 4095")));
    }
    Ok(c_int::from(v))
}

macro_rules! simple_setters {
    ($($(#[$doc:meta])* $name:ident => $cfn:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self) -> Result<Self> {
                // SAFETY: `raw` was initialised by `ef_filter_spec_init`.
                check(stringify!($cfn), unsafe { ffi::$cfn(&mut self.raw) })?;
                Ok(self)
            }
        )*
    };
}

impl FilterSpec {
    /// An empty spec with `flags` (`ef_filter_spec_init`).
    pub fn new(flags: FilterFlags) -> FilterSpec {
        let mut raw = ffi::ef_filter_spec::default();
        // SAFETY: `raw` is writable.
        unsafe { ffi::ef_filter_spec_init(&mut raw, flags.bits()) };
        FilterSpec { raw }
    }

    /// The same spec with `flags` added, as if they had been given to [`FilterSpec::new`]
    /// (`ef_filter_spec_init` only records its flags), e.g. `EXCLUSIVE_RXQ` on a spec parsed
    /// from text.
    #[must_use]
    pub fn with_flags(mut self, flags: FilterFlags) -> FilterSpec {
        self.raw.flags |= flags.bits();
        self
    }

    /// Packets to a local IPv4 address and port (`ef_filter_spec_set_ip4_local`).
    pub fn ip4_local(mut self, proto: IpProto, local: SocketAddrV4) -> Result<Self> {
        // SAFETY: `raw` is initialised; addresses are passed in network order.
        let rc = unsafe {
            ffi::ef_filter_spec_set_ip4_local(
                &mut self.raw,
                proto.raw(),
                u32::from(*local.ip()).to_be(),
                c_int::from(local.port().to_be()),
            )
        };
        check("ef_filter_spec_set_ip4_local", rc)?;
        Ok(self)
    }

    /// Packets of one IPv4 flow (`ef_filter_spec_set_ip4_full`).
    pub fn ip4_full(
        mut self,
        proto: IpProto,
        local: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> Result<Self> {
        // SAFETY: as in `ip4_local`.
        let rc = unsafe {
            ffi::ef_filter_spec_set_ip4_full(
                &mut self.raw,
                proto.raw(),
                u32::from(*local.ip()).to_be(),
                c_int::from(local.port().to_be()),
                u32::from(*remote.ip()).to_be(),
                c_int::from(remote.port().to_be()),
            )
        };
        check("ef_filter_spec_set_ip4_full", rc)?;
        Ok(self)
    }

    /// Packets to a local IPv6 address and port (`ef_filter_spec_set_ip6_local`).
    pub fn ip6_local(mut self, proto: IpProto, local: SocketAddrV6) -> Result<Self> {
        let a = in6(local.ip());
        // SAFETY: `raw` is initialised; `a` is a valid address read during the call.
        let rc = unsafe {
            ffi::ef_filter_spec_set_ip6_local(
                &mut self.raw,
                proto.raw(),
                &a,
                c_int::from(local.port().to_be()),
            )
        };
        check("ef_filter_spec_set_ip6_local", rc)?;
        Ok(self)
    }

    /// Packets of one IPv6 flow (`ef_filter_spec_set_ip6_full`).
    pub fn ip6_full(
        mut self,
        proto: IpProto,
        local: SocketAddrV6,
        remote: SocketAddrV6,
    ) -> Result<Self> {
        let (a, b) = (in6(local.ip()), in6(remote.ip()));
        // SAFETY: as in `ip6_local`.
        let rc = unsafe {
            ffi::ef_filter_spec_set_ip6_full(
                &mut self.raw,
                proto.raw(),
                &a,
                c_int::from(local.port().to_be()),
                &b,
                c_int::from(remote.port().to_be()),
            )
        };
        check("ef_filter_spec_set_ip6_full", rc)?;
        Ok(self)
    }

    /// Packets to a local address and port of either family.
    pub fn local(self, proto: IpProto, local: SocketAddr) -> Result<Self> {
        match local {
            SocketAddr::V4(a) => self.ip4_local(proto, a),
            SocketAddr::V6(a) => self.ip6_local(proto, a),
        }
    }

    /// Packets of one flow of either family (both addresses of the same family).
    pub fn full(self, proto: IpProto, local: SocketAddr, remote: SocketAddr) -> Result<Self> {
        match (local, remote) {
            (SocketAddr::V4(l), SocketAddr::V4(r)) => self.ip4_full(proto, l, r),
            (SocketAddr::V6(l), SocketAddr::V6(r)) => self.ip6_full(proto, l, r),
            _ => Err(Error::invalid(
                "the local and remote addresses of a filter must be of the same family",
            )),
        }
    }

    /// Only packets on VLAN `vlan` (`ef_filter_spec_set_vlan`).
    pub fn vlan(mut self, vlan: u16) -> Result<Self> {
        let v = vlan_arg(vlan)?;
        // SAFETY: `raw` is initialised.
        check("ef_filter_spec_set_vlan", unsafe {
            ffi::ef_filter_spec_set_vlan(&mut self.raw, v)
        })?;
        Ok(self)
    }

    /// Packets to a local MAC address, on VLAN `vlan` or any (`ef_filter_spec_set_eth_local`).
    pub fn eth_local(mut self, vlan: Option<u16>, mac: [u8; 6]) -> Result<Self> {
        let v = match vlan {
            Some(v) => vlan_arg(v)?,
            None => ffi::EF_FILTER_VLAN_ID_ANY,
        };
        // SAFETY: `raw` is initialised; `mac` has 6 bytes.
        let rc =
            unsafe { ffi::ef_filter_spec_set_eth_local(&mut self.raw, v, mac.as_ptr().cast()) };
        check("ef_filter_spec_set_eth_local", rc)?;
        Ok(self)
    }

    /// Packets of Ethernet type `ethertype` (`ef_filter_spec_set_eth_type`).
    pub fn eth_type(mut self, ethertype: u16) -> Result<Self> {
        // SAFETY: `raw` is initialised.
        let rc = unsafe { ffi::ef_filter_spec_set_eth_type(&mut self.raw, ethertype.to_be()) };
        check("ef_filter_spec_set_eth_type", rc)?;
        Ok(self)
    }

    /// Packets of IP protocol `proto` (`ef_filter_spec_set_ip_proto`).
    pub fn ip_proto(mut self, proto: u8) -> Result<Self> {
        // SAFETY: `raw` is initialised.
        let rc = unsafe { ffi::ef_filter_spec_set_ip_proto(&mut self.raw, proto) };
        check("ef_filter_spec_set_ip_proto", rc)?;
        Ok(self)
    }

    /// Copies of all packets on the port (`ef_filter_spec_set_port_sniff`), optionally
    /// in promiscuous mode.
    pub fn port_sniff(mut self, promiscuous: bool) -> Result<Self> {
        // SAFETY: `raw` is initialised.
        let rc =
            unsafe { ffi::ef_filter_spec_set_port_sniff(&mut self.raw, c_int::from(promiscuous)) };
        check("ef_filter_spec_set_port_sniff", rc)?;
        Ok(self)
    }

    /// Steers to a given hardware queue (`ef_filter_spec_set_dest`, X3).
    pub fn dest(mut self, hw_queue: u32, flags: u32) -> Result<Self> {
        let q = c_int::try_from(hw_queue)
            .map_err(|_| Error::invalid(format!("queue {hw_queue} is out of range")))?;
        // SAFETY: `raw` is initialised.
        let rc = unsafe { ffi::ef_filter_spec_set_dest(&mut self.raw, q, flags as c_uint) };
        check("ef_filter_spec_set_dest", rc)?;
        Ok(self)
    }

    simple_setters! {
        /// All unicast packets (`ef_filter_spec_set_unicast_all`; also takes ARP replies
        /// from the kernel on real adapters).
        unicast_all => ef_filter_spec_set_unicast_all;
        /// All multicast packets (`ef_filter_spec_set_multicast_all`; also IGMP).
        multicast_all => ef_filter_spec_set_multicast_all;
        /// Unicast packets no other filter matches (`ef_filter_spec_set_unicast_mismatch`).
        unicast_mismatch => ef_filter_spec_set_unicast_mismatch;
        /// Multicast packets no other filter matches (`ef_filter_spec_set_multicast_mismatch`).
        multicast_mismatch => ef_filter_spec_set_multicast_mismatch;
        /// Copies of all packets sent on the port (`ef_filter_spec_set_tx_port_sniff`).
        tx_port_sniff => ef_filter_spec_set_tx_port_sniff;
        /// Keep all packets from the kernel (`ef_filter_spec_set_block_kernel`).
        block_kernel => ef_filter_spec_set_block_kernel;
        /// Keep multicast from the kernel (`ef_filter_spec_set_block_kernel_multicast`).
        block_kernel_multicast => ef_filter_spec_set_block_kernel_multicast;
        /// Keep unicast from the kernel (`ef_filter_spec_set_block_kernel_unicast`).
        block_kernel_unicast => ef_filter_spec_set_block_kernel_unicast;
    }

    /// The C spec.
    pub fn as_raw(&self) -> &ffi::ef_filter_spec {
        &self.raw
    }
}

// ------------------------------------------------------------------- efsink syntax

fn syntax(spec: &str, reason: impl Into<String>) -> Error {
    Error::FilterSyntax {
        spec: spec.to_owned(),
        reason: reason.into(),
    }
}

/// A decimal (or `0x` hexadecimal) number.
fn number<T: TryFrom<u64>>(spec: &str, what: &str, s: &str) -> Result<T> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse::<u64>(),
    };
    v.ok()
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| syntax(spec, format!("{what} {s:?} is not a number in range")))
}

/// Splits a leading `name=value,` parameter off `rest`.
fn param<'a>(rest: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let r = rest.strip_prefix(name)?.strip_prefix('=')?;
    Some(r.split_once(',').unwrap_or((r, "")))
}

/// `host:port` (IPv6 as `[addr]:port`), resolving host names.
fn host_port(spec: &str, s: &str) -> Result<SocketAddr> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(syntax(spec, format!("{s:?} is not host:port")));
    };
    let port: u16 = number(spec, "port", port)?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| syntax(spec, format!("cannot resolve host {host:?}")))
}

fn mac(spec: &str, s: &str) -> Result<[u8; 6]> {
    let mut m = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut m {
        let p = parts
            .next()
            .filter(|p| !p.is_empty() && p.len() <= 2)
            .ok_or_else(|| syntax(spec, format!("{s:?} is not a MAC address")))?;
        *b = u8::from_str_radix(p, 16)
            .map_err(|_| syntax(spec, format!("{s:?} is not a MAC address")))?;
    }
    if parts.next().is_some() {
        return Err(syntax(spec, format!("{s:?} is not a MAC address")));
    }
    Ok(m)
}

/// A leading optional `vid=N,` (for `ethertype:` and `ipproto:`), applied to the spec.
fn leading_vlan<'a>(spec: &str, fs: FilterSpec, rest: &'a str) -> Result<(FilterSpec, &'a str)> {
    match param(rest, "vid") {
        Some((v, r)) => {
            if r.is_empty() {
                return Err(syntax(spec, "nothing follows vid=N,"));
            }
            Ok((fs.vlan(number(spec, "VLAN id", v)?)?, r))
        }
        None => Ok((fs, rest)),
    }
}

/// A trailing optional `:vid=N` (for `unicast-mis` and `multicast-mis`).
fn trailing_vlan(spec: &str, fs: FilterSpec, rest: Option<&str>) -> Result<FilterSpec> {
    match rest {
        None => Ok(fs),
        Some(r) => {
            let v = r
                .strip_prefix("vid=")
                .filter(|v| !v.is_empty())
                .ok_or_else(|| syntax(spec, "expected vid=<vlan>"))?;
            fs.vlan(number(spec, "VLAN id", v)?)
        }
    }
}

/// The `efsink` filter syntax:
///
/// * `udp:` or `tcp:` then `[mcastloop-rx,][vid=<vlan>,]<local-host>:<local-port>[,<remote-host>:<remote-port>]`
/// * `eth:[vid=<vlan>,][ipproto=<p>,|ethertype=<t>,]<local-mac>`
/// * `ethertype:[vid=<vlan>,]<ethertype>`, `ipproto:[vid=<vlan>,]<protocol>`
/// * `unicast-all`, `multicast-all`, `unicast-mis[:vid=<vlan>]`, `multicast-mis[:vid=<vlan>]`
/// * `sniff[:promisc|:no-promisc]`, `tx-sniff`
/// * `block-kernel`, `block-kernel-unicast`, `block-kernel-multicast`
impl FromStr for FilterSpec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<FilterSpec> {
        let (kind, rest) = match spec.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (spec, None),
        };
        fn need<'s>(spec: &str, kind: &str, r: Option<&'s str>) -> Result<&'s str> {
            r.filter(|r| !r.is_empty())
                .ok_or_else(|| syntax(spec, format!("{kind}: needs an argument")))
        }
        let none = |r: Option<&str>| {
            if r.is_some() {
                Err(syntax(spec, format!("{kind} takes no argument")))
            } else {
                Ok(())
            }
        };
        let fs = FilterSpec::default();
        match kind {
            "udp" | "tcp" => {
                let proto = if kind == "udp" {
                    IpProto::Udp
                } else {
                    IpProto::Tcp
                };
                let mut rest = need(spec, kind, rest)?;
                let mut fs = fs;
                if let Some(r) = rest.strip_prefix("mcastloop-rx,") {
                    fs = FilterSpec::new(FilterFlags::MCAST_LOOP_RECEIVE);
                    rest = r;
                }
                let (fs, rest) = leading_vlan(spec, fs, rest)?;
                match rest.split_once(',') {
                    Some((l, r)) => fs.full(proto, host_port(spec, l)?, host_port(spec, r)?),
                    None => fs.local(proto, host_port(spec, rest)?),
                }
            }
            "eth" => {
                let mut rest = need(spec, kind, rest)?;
                let mut vlan = None;
                let mut fs = fs;
                if let Some((v, r)) = param(rest, "vid") {
                    vlan = Some(number(spec, "VLAN id", v)?);
                    rest = r;
                }
                if let Some((v, r)) = param(rest, "ethertype") {
                    fs = fs.eth_type(number(spec, "ethertype", v)?)?;
                    rest = r;
                } else if let Some((v, r)) = param(rest, "ipproto") {
                    fs = fs.ip_proto(number(spec, "IP protocol", v)?)?;
                    rest = r;
                }
                fs.eth_local(vlan, mac(spec, rest)?)
            }
            "ethertype" => {
                let (fs, rest) = leading_vlan(spec, fs, need(spec, kind, rest)?)?;
                fs.eth_type(number(spec, "ethertype", rest)?)
            }
            "ipproto" => {
                let (fs, rest) = leading_vlan(spec, fs, need(spec, kind, rest)?)?;
                fs.ip_proto(number(spec, "IP protocol", rest)?)
            }
            "unicast-all" => {
                none(rest)?;
                fs.unicast_all()
            }
            "multicast-all" => {
                none(rest)?;
                fs.multicast_all()
            }
            "unicast-mis" => trailing_vlan(spec, fs.unicast_mismatch()?, rest),
            "multicast-mis" => trailing_vlan(spec, fs.multicast_mismatch()?, rest),
            "sniff" => match rest {
                None | Some("promisc") => fs.port_sniff(true),
                Some("no-promisc") => fs.port_sniff(false),
                Some(_) => Err(syntax(spec, "sniff takes promisc or no-promisc")),
            },
            "tx-sniff" => {
                none(rest)?;
                fs.tx_port_sniff()
            }
            "block-kernel" => {
                none(rest)?;
                fs.block_kernel()
            }
            "block-kernel-unicast" => {
                none(rest)?;
                fs.block_kernel_unicast()
            }
            "block-kernel-multicast" => {
                none(rest)?;
                fs.block_kernel_multicast()
            }
            _ => Err(syntax(spec, format!("unknown filter type {kind:?}"))),
        }
    }
}

// ------------------------------------------------------------------- guards

/// A filter added to a VI; removed (`ef_vi_filter_del`) when dropped (see
/// [`Vi::add_filter`](crate::Vi::add_filter) for when exactly). It keeps the VI's C structure
/// alive, so it may outlive the [`Vi`](crate::Vi) handle.
#[derive(Debug)]
#[must_use = "dropping a Filter removes it at once"]
pub struct Filter {
    core: Arc<ViCore>,
    cookie: ffi::ef_filter_cookie,
}

impl Filter {
    pub(crate) fn add(core: &Arc<ViCore>, spec: &FilterSpec) -> Result<Filter> {
        let mut cookie = ffi::ef_filter_cookie::default();
        // SAFETY: the VI is live and this runs on its thread (called through `&mut Vi`);
        // `spec` is initialised; `cookie` writable.
        let rc = unsafe { ffi::ef_vi_filter_add(core.raw(), core.dh, &spec.raw, &mut cookie) };
        check("ef_vi_filter_add", rc)?;
        Ok(Filter {
            core: core.clone(),
            cookie,
        })
    }

    /// Keeps the filter until the VI is freed (no removal on drop).
    pub fn keep(self) {
        let me = std::mem::ManuallyDrop::new(self);
        // SAFETY: `me` is never used nor dropped again, so its `Arc` is moved out exactly once
        // (and released here); the cookie is plain data.
        drop(unsafe { std::ptr::read(&me.core) });
    }

    /// `ef_vi_filter_query` for this filter, on the VI `core` (which must be its own).
    pub(crate) fn query(&self, core: &Arc<ViCore>) -> Result<ffi::ef_filter_info> {
        if !Arc::ptr_eq(core, &self.core) {
            return Err(Error::invalid("the filter belongs to another VI"));
        }
        // SAFETY: plain C data; zeroes are a valid initial value.
        let mut info: ffi::ef_filter_info = unsafe { std::mem::zeroed() };
        // SAFETY: the VI is live and this runs on its thread (called through `&mut Vi`);
        // `info` is writable for its size.
        let rc = unsafe {
            ffi::ef_vi_filter_query(
                core.raw(),
                core.dh,
                &self.cookie,
                &mut info,
                std::mem::size_of::<ffi::ef_filter_info>(),
            )
        };
        check("ef_vi_filter_query", rc)?;
        Ok(info)
    }

    /// The C cookie.
    pub fn cookie(&self) -> &ffi::ef_filter_cookie {
        &self.cookie
    }
}

impl Drop for Filter {
    fn drop(&mut self) {
        let mut d = self.core.deferred.lock().unwrap_or_else(|e| e.into_inner());
        d.cookies.push(self.cookie);
        if d.vi_alive {
            // The VI's own thread removes it (see `Vi::add_filter`).
            self.core
                .pending
                .store(true, std::sync::atomic::Ordering::Relaxed);
        } else {
            self.core.remove_filters(&mut d);
        }
    }
}

/// A filter added to a VI set; removed (`ef_vi_set_filter_del`) when dropped.
#[derive(Debug)]
#[must_use = "dropping a SetFilter removes it at once"]
pub struct SetFilter {
    set: Arc<SetInner>,
    cookie: ffi::ef_filter_cookie,
}

impl SetFilter {
    pub(crate) fn add(set: &Arc<SetInner>, spec: &FilterSpec) -> Result<SetFilter> {
        let mut cookie = ffi::ef_filter_cookie::default();
        let _g = set.pd().lock();
        // SAFETY: the set is live; `spec` is initialised; `cookie` writable.
        let rc = unsafe { ffi::ef_vi_set_filter_add(set.raw(), set.dh(), &spec.raw, &mut cookie) };
        check("ef_vi_set_filter_add", rc)?;
        Ok(SetFilter {
            set: set.clone(),
            cookie,
        })
    }
}

impl Drop for SetFilter {
    fn drop(&mut self) {
        let _g = self.set.pd().lock();
        // SAFETY: the set is live; the cookie came from `ef_vi_set_filter_add`; deleted once.
        unsafe { ffi::ef_vi_set_filter_del(self.set.raw(), self.set.dh(), &mut self.cookie) };
    }
}
