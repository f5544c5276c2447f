//! Driver handles, protection domains, registered memory, VI sets, capabilities and the
//! version strings.

use core::ffi::{CStr, c_char, c_int, c_uint, c_ulong, c_void};
use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex, RwLock};

use super::filter::{self, IfaceTable, Matcher, Owner};
use super::vi::ViShared;
use super::{errno, lock, log_once, no_cap_net_raw, registry};
use crate::bindings::*;

/// The string `ef_vi_version_str()` returns.
static VERSION: &CStr = match CStr::from_bytes_with_nul(
    concat!(
        "10.0.0 (etherfabric-sys ",
        env!("CARGO_PKG_VERSION"),
        " software backend)\0"
    )
    .as_bytes(),
) {
    Ok(s) => s,
    Err(_) => c"10.0.0 (software backend)",
};

/// Version of this backend: the ef_vi release whose ABI it implements (that of the bindings,
/// `BINDINGS_SDK_RELEASE`), then the crate version.
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_version_str() -> *const c_char {
    VERSION.as_ptr()
}

/// The "char driver interface" this build needs: the software backend talks to no driver.
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_driver_interface_str() -> *const c_char {
    c"soft-af_packet".as_ptr()
}

/// Opens a driver handle. Here the handle is an epoll descriptor (see `ef_vi_prime()`), and
/// opening it checks that packet sockets can be opened (`-EPERM` without `CAP_NET_RAW`).
///
/// # Safety
///
/// `dh_out` must be null or point to writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_driver_open(dh_out: *mut ef_driver_handle) -> c_int {
    if dh_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: plain socket creation, closed right away.
    let probe = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if probe < 0 {
        let e = errno();
        return if e == libc::EPERM || e == libc::EACCES {
            no_cap_net_raw("ef_driver_open")
        } else {
            -e
        };
    }
    // SAFETY: `probe` is a descriptor we own.
    unsafe { libc::close(probe) };
    // SAFETY: plain epoll creation.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        return -errno();
    }
    // SAFETY: the caller guarantees `dh_out` is writable.
    unsafe { dh_out.write(fd) };
    0
}

/// Closes a driver handle.
#[unsafe(no_mangle)]
pub extern "C" fn ef_driver_close(dh: ef_driver_handle) -> c_int {
    // SAFETY: closing a descriptor the caller says is a handle it owns.
    if unsafe { libc::close(dh) } < 0 {
        -errno()
    } else {
        0
    }
}

/// A registered memory region: its protection domain, address range and DMA address array.
#[derive(Debug)]
pub(crate) struct MemregRec {
    pd: u32,
    start: usize,
    end: usize,
    pages: usize,
}

/// A range of memory a protection domain may DMA to and from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Region {
    start: usize,
    end: usize,
}

/// State of a protection domain shared with its VIs.
#[derive(Debug)]
pub(crate) struct PdShared {
    pub id: u32,
    pub ifindex: c_int,
    pub ifname: CString,
    pub loopback: bool,
    pub table: Arc<IfaceTable>,
    regions: RwLock<Vec<Region>>,
}

impl PdShared {
    /// True when `[addr, addr + len)` lies in memory registered with this domain.
    pub(crate) fn dma_ok(&self, addr: u64, len: usize) -> bool {
        let Ok(a) = usize::try_from(addr) else {
            return false;
        };
        let Some(end) = a.checked_add(len) else {
            return false;
        };
        self.regions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|r| r.start <= a && end <= r.end)
    }
}

/// A VI set: its domain, size and which slots are taken.
#[derive(Debug)]
pub(crate) struct SetShared {
    pub id: u32,
    pub pd: Arc<PdShared>,
    pub n: u32,
    /// The VI id in each slot; [`SLOT_RESERVED`] while a VI is being allocated into it.
    pub members: Mutex<Vec<Option<u32>>>,
}

/// Marks a set slot taken by a VI whose allocation has not finished (no VI has this id).
pub(crate) const SLOT_RESERVED: u32 = u32::MAX;

/// A set slot held for a VI being allocated: freed again when dropped unless
/// [`SlotHold::fill`] gave it to the VI. Taking the slot under the set's lock, in the same
/// critical section that found it free, keeps VIs allocated concurrently from one set (one
/// per thread, as RSS applications do) in different slots.
#[derive(Debug)]
pub(crate) struct SlotHold {
    set: Arc<SetShared>,
    index: usize,
    filled: bool,
}

impl SlotHold {
    /// Takes slot `index` (`None`: the first free one) of `set`: `-EBUSY` when taken or none
    /// is free, `-EINVAL` when out of range.
    pub(crate) fn take(set: &Arc<SetShared>, index: Option<u32>) -> Result<SlotHold, c_int> {
        let mut members = lock(&set.members);
        let index = match index {
            None => members
                .iter()
                .position(Option::is_none)
                .ok_or(-libc::EBUSY)?,
            Some(i) if i >= set.n => return Err(-libc::EINVAL),
            Some(i) if members[i as usize].is_some() => return Err(-libc::EBUSY),
            Some(i) => i as usize,
        };
        members[index] = Some(SLOT_RESERVED);
        Ok(SlotHold {
            set: set.clone(),
            index,
            filled: false,
        })
    }

    /// The slot's index in its set.
    pub(crate) fn index(&self) -> u32 {
        self.index as u32
    }

    /// Gives the slot to the VI `id`.
    pub(crate) fn fill(mut self, id: u32) {
        lock(&self.set.members)[self.index] = Some(id);
        self.filled = true;
    }
}

impl Drop for SlotHold {
    fn drop(&mut self) {
        if !self.filled {
            lock(&self.set.members)[self.index] = None;
        }
    }
}

/// A minimal `struct ifreq`.
#[repr(C)]
struct Ifreq {
    name: [c_char; 16],
    data: [u8; 24],
}

fn ifreq(name: &CStr) -> Ifreq {
    let mut r = Ifreq {
        name: [0; 16],
        data: [0; 24],
    };
    for (d, s) in r.name.iter_mut().zip(name.to_bytes().iter().take(15)) {
        *d = *s as c_char;
    }
    r
}

/// Runs an interface ioctl on `fd` (any socket of the right network namespace).
pub(crate) fn if_ioctl(fd: c_int, name: &CStr, req: libc::c_ulong) -> Result<[u8; 24], c_int> {
    let mut r = ifreq(name);
    // SAFETY: `r` is a properly sized ifreq for these requests.
    if unsafe { libc::ioctl(fd, req as _, &mut r as *mut Ifreq) } < 0 {
        return Err(-errno());
    }
    Ok(r.data)
}

/// Runs an interface ioctl on a temporary datagram socket of the calling thread's namespace.
fn if_ioctl_tmp(name: &CStr, req: libc::c_ulong) -> Result<[u8; 24], c_int> {
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(-errno());
    }
    let r = if_ioctl(fd, name, req);
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
    r
}

/// The inode of the calling thread's network namespace.
fn netns_id() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net")
        .map(|m| m.ino())
        .unwrap_or(0)
}

/// The PD behind an `ef_pd`.
pub(crate) fn pd_of(pd: *const ef_pd) -> Result<Arc<PdShared>, c_int> {
    if pd.is_null() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: the caller of the exported function guarantees a valid `ef_pd`.
    let id = unsafe { (*pd).pd_resource_id };
    registry().pds.get(&id).cloned().ok_or(-libc::EINVAL)
}

fn pd_alloc_common(pd: *mut ef_pd, ifname: CString, flags: ef_pd_flags) -> c_int {
    if pd.is_null() {
        return -libc::EINVAL;
    }
    let unsupported = ef_pd_flags_EF_PD_PHYS_MODE
        | ef_pd_flags_EF_PD_RX_PACKED_STREAM
        | ef_pd_flags_EF_PD_VPORT
        | ef_pd_flags_EF_PD_EXPRESS;
    if flags & unsupported != 0 {
        log_once(
            "pd_flags",
            "EF_PD_PHYS_MODE, EF_PD_RX_PACKED_STREAM, EF_PD_VPORT and EF_PD_EXPRESS are not \
             supported by the software backend",
        );
        return -libc::EOPNOTSUPP;
    }
    // SAFETY: `ifname` is a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(ifname.as_ptr()) } as c_int;
    if ifindex == 0 {
        return -libc::ENODEV;
    }
    let loopback = match if_ioctl_tmp(&ifname, libc::SIOCGIFFLAGS as _) {
        Ok(d) => i16::from_ne_bytes([d[0], d[1]]) as c_int & libc::IFF_LOOPBACK != 0,
        Err(e) => return e,
    };
    let key = (netns_id(), ifindex);
    let mut reg = registry();
    let table = match reg.tables.get(&key).and_then(|w| w.upgrade()) {
        Some(t) => t,
        None => {
            let t = Arc::new(IfaceTable::default());
            reg.tables.insert(key, Arc::downgrade(&t));
            t
        }
    };
    reg.tables.retain(|_, w| w.strong_count() > 0);
    let id = reg.new_id();
    let name_ptr = ifname.clone().into_raw();
    reg.pds.insert(
        id,
        Arc::new(PdShared {
            id,
            ifindex,
            ifname,
            loopback,
            table,
            regions: RwLock::new(Vec::new()),
        }),
    );
    // SAFETY: the caller guarantees `pd` is writable.
    unsafe {
        pd.write(ef_pd {
            pd_flags: flags,
            pd_resource_id: id,
            pd_intf_name: name_ptr,
            pd_cluster_name: core::ptr::null_mut(),
            pd_cluster_sock: -1,
            pd_cluster_dh: -1,
            pd_cluster_viset_resource_id: 0,
            pd_cluster_viset_index: -1,
        });
    }
    0
}

/// Allocates a protection domain on the interface with index `ifindex`.
///
/// # Safety
///
/// `pd` must point to writable memory for an `ef_pd`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_alloc(
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    ifindex: c_int,
    flags: ef_pd_flags,
) -> c_int {
    let mut buf = [0 as c_char; libc::IF_NAMESIZE];
    if ifindex <= 0 {
        return -libc::ENODEV;
    }
    // SAFETY: `buf` has IF_NAMESIZE bytes as if_indextoname requires.
    let name = unsafe { libc::if_indextoname(ifindex as c_uint, buf.as_mut_ptr()) };
    if name.is_null() {
        return -libc::ENODEV;
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_owned();
    pd_alloc_common(pd, name, flags)
}

/// Allocates a protection domain on the named interface. There are no application clusters
/// in the software backend, so the name is always an interface name.
///
/// # Safety
///
/// `pd` must point to writable memory for an `ef_pd` and `name` to a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_alloc_by_name(
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    name: *const c_char,
    flags: ef_pd_flags,
) -> c_int {
    if name.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a C string.
    let name = unsafe { CStr::from_ptr(name) }.to_owned();
    if name.as_bytes().len() >= libc::IF_NAMESIZE {
        return -libc::ENODEV;
    }
    pd_alloc_common(pd, name, flags)
}

/// Virtual ports need full-featured adapter firmware: not supported (`-EOPNOTSUPP`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_alloc_with_vport(
    _pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    _intf_name: *const c_char,
    _flags: ef_pd_flags,
    _vlan_id: c_int,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// The interface name of a protection domain.
///
/// # Safety
///
/// `pd` must point to an allocated `ef_pd`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_interface_name(pd: *mut ef_pd) -> *const c_char {
    if pd.is_null() {
        return core::ptr::null();
    }
    // SAFETY: the caller guarantees a valid `ef_pd`.
    unsafe { (*pd).pd_intf_name }
}

/// Frees a protection domain.
///
/// # Safety
///
/// `pd` must point to an `ef_pd` allocated by this backend and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_free(pd: *mut ef_pd, _pd_dh: ef_driver_handle) -> c_int {
    if pd.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a valid `ef_pd`.
    let (id, name) = unsafe { ((*pd).pd_resource_id, (*pd).pd_intf_name) };
    if registry().pds.remove(&id).is_none() {
        return -libc::EINVAL;
    }
    if !name.is_null() {
        // SAFETY: the name was made by CString::into_raw in pd_alloc_common.
        drop(unsafe { CString::from_raw(name) });
        // SAFETY: as above, `pd` is writable.
        unsafe { (*pd).pd_intf_name = core::ptr::null_mut() };
    }
    0
}

/// Registers `len_bytes` at `p_mem` with a protection domain. The address must be 4 KiB
/// aligned and the length a non-zero multiple of 2048 (`-EINVAL` otherwise). The DMA address
/// of each 4 KiB page is its virtual address.
///
/// # Safety
///
/// `mr` must be writable, `pd` an allocated domain, and the memory must stay valid until
/// `ef_memreg_free()` (and until no descriptor refers to it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_memreg_alloc(
    mr: *mut ef_memreg,
    _mr_dh: ef_driver_handle,
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    p_mem: *mut c_void,
    len_bytes: usize,
) -> c_int {
    let page = EF_VI_NIC_PAGE_SIZE as usize;
    let start = p_mem as usize;
    if mr.is_null() || p_mem.is_null() || start % page != 0 {
        return -libc::EINVAL;
    }
    if len_bytes == 0 || len_bytes % 2048 != 0 {
        return -libc::EINVAL;
    }
    let pd = match pd_of(pd) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Some(end) = start.checked_add(len_bytes) else {
        return -libc::EINVAL;
    };
    let pages = len_bytes.div_ceil(page);
    let addrs: Box<[ef_addr]> = (0..pages).map(|i| (start + i * page) as ef_addr).collect();
    let base = Box::into_raw(addrs).cast::<ef_addr>();
    pd.regions
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .push(Region { start, end });
    registry().memregs.insert(
        base as usize,
        MemregRec {
            pd: pd.id,
            start,
            end,
            pages,
        },
    );
    // SAFETY: the caller guarantees `mr` is writable.
    unsafe {
        mr.write(ef_memreg {
            mr_dma_addrs: base,
            mr_dma_addrs_base: base,
        });
    }
    0
}

/// Unregisters memory.
///
/// # Safety
///
/// `mr` must have been filled in by [`ef_memreg_alloc`] and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_memreg_free(mr: *mut ef_memreg, _mr_dh: ef_driver_handle) -> c_int {
    if mr.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a valid `ef_memreg`.
    let base = unsafe { (*mr).mr_dma_addrs_base };
    let Some(rec) = registry().memregs.remove(&(base as usize)) else {
        return -libc::EINVAL;
    };
    if let Some(pd) = registry().pds.get(&rec.pd).cloned() {
        let mut regions = pd.regions.write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = regions
            .iter()
            .position(|r| r.start == rec.start && r.end == rec.end)
        {
            regions.remove(i);
        }
    }
    // SAFETY: `base` came from Box::into_raw of a boxed slice of `rec.pages` addresses.
    drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(base, rec.pages)) });
    // SAFETY: as above.
    unsafe {
        (*mr).mr_dma_addrs = core::ptr::null_mut();
        (*mr).mr_dma_addrs_base = core::ptr::null_mut();
    }
    0
}

/// Allocates a set of `n_vis` VIs that share received traffic by flow hash (RSS).
///
/// # Safety
///
/// `vi_set` must be writable and `pd` an allocated domain.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_alloc_from_pd(
    vi_set: *mut ef_vi_set,
    _vi_set_dh: ef_driver_handle,
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    n_vis: c_int,
) -> c_int {
    if vi_set.is_null() || n_vis <= 0 || n_vis > 64 {
        return -libc::EINVAL;
    }
    let pd_shared = match pd_of(pd) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut reg = registry();
    let id = reg.new_id();
    reg.sets.insert(
        id,
        Arc::new(SetShared {
            id,
            pd: pd_shared,
            n: n_vis as u32,
            members: Mutex::new(vec![None; n_vis as usize]),
        }),
    );
    // SAFETY: the caller guarantees `vi_set` is writable.
    unsafe {
        vi_set.write(ef_vi_set {
            vis_res_id: id,
            vis_pd: pd,
        });
    }
    0
}

/// The set behind an `ef_vi_set`.
pub(crate) fn set_of(vi_set: *const ef_vi_set) -> Result<Arc<SetShared>, c_int> {
    if vi_set.is_null() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: the caller of the exported function guarantees a valid `ef_vi_set`.
    let id = unsafe { (*vi_set).vis_res_id };
    registry().sets.get(&id).cloned().ok_or(-libc::EINVAL)
}

/// Frees a VI set (and its filters).
///
/// # Safety
///
/// `vi_set` must point to a set allocated by this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_free(vi_set: *mut ef_vi_set, _dh: ef_driver_handle) -> c_int {
    let set = match set_of(vi_set) {
        Ok(s) => s,
        Err(e) => return e,
    };
    for e in set.pd.table.remove_owner(Owner::Set(set.id)) {
        apply_memberships(&member_socks(&set), set.pd.ifindex, &e.matcher, false);
    }
    registry().sets.remove(&set.id);
    0
}

/// The packet sockets of the current members of a set.
pub(crate) fn member_socks(set: &SetShared) -> Vec<c_int> {
    let ids: Vec<u32> = lock(&set.members).iter().flatten().copied().collect();
    let reg = registry();
    ids.iter()
        .filter_map(|i| reg.vis.get(i))
        .filter(|v| v.rx)
        .map(|v| v.sock)
        .collect()
}

/// `struct packet_mreq`.
#[repr(C)]
struct PacketMreq {
    ifindex: c_int,
    kind: u16,
    alen: u16,
    address: [u8; 8],
}

const PACKET_ADD_MEMBERSHIP: c_int = 1;
const PACKET_DROP_MEMBERSHIP: c_int = 2;
const PACKET_MR_MULTICAST: u16 = 0;
const PACKET_MR_PROMISC: u16 = 1;
const PACKET_MR_ALLMULTI: u16 = 2;

/// Makes the interface accept (or stop accepting) the frames a filter needs: a multicast MAC,
/// all multicast, or promiscuous mode, on each of `socks`.
pub(crate) fn apply_memberships(socks: &[c_int], ifindex: c_int, m: &Matcher, add: bool) {
    let (kind, mac) = match m {
        Matcher::MulticastAll | Matcher::MulticastMismatch { .. } => (PACKET_MR_ALLMULTI, None),
        Matcher::PortSniff { promisc: true } => (PACKET_MR_PROMISC, None),
        _ => match m.multicast_mac() {
            Some(mac) => (PACKET_MR_MULTICAST, Some(mac)),
            None => return,
        },
    };
    let mut req = PacketMreq {
        ifindex,
        kind,
        alen: 0,
        address: [0; 8],
    };
    if let Some(mac) = mac {
        req.alen = 6;
        req.address[..6].copy_from_slice(&mac);
    }
    let opt = if add {
        PACKET_ADD_MEMBERSHIP
    } else {
        PACKET_DROP_MEMBERSHIP
    };
    for &s in socks {
        // SAFETY: `req` is a valid packet_mreq; failure only means fewer frames arrive.
        unsafe {
            libc::setsockopt(
                s,
                libc::SOL_PACKET,
                opt,
                (&req as *const PacketMreq).cast(),
                core::mem::size_of::<PacketMreq>() as libc::socklen_t,
            );
        }
    }
}

/// Adds a filter to a VI set: matching frames are spread over the set's VIs by flow hash.
///
/// # Safety
///
/// `vi_set` must be an allocated set, `fs` an initialised spec, `cookie` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_filter_add(
    vi_set: *mut ef_vi_set,
    _dh: ef_driver_handle,
    fs: *const ef_filter_spec,
    cookie: *mut ef_filter_cookie,
) -> c_int {
    let set = match set_of(vi_set) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if fs.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees an initialised spec.
    let fs = unsafe { &*fs };
    let m = match Matcher::from_spec(fs) {
        Ok(m) => m,
        Err(e) => return e,
    };
    match set
        .pd
        .table
        .insert(Owner::Set(set.id), m, fs.flags, fs.type_)
    {
        Ok(e) => {
            apply_memberships(&member_socks(&set), set.pd.ifindex, &e.matcher, true);
            filter::fill_cookie(cookie, &e);
            0
        }
        Err(e) => e,
    }
}

/// Removes a filter from a VI set.
///
/// # Safety
///
/// `vi_set` must be an allocated set and `cookie` a cookie from [`ef_vi_set_filter_add`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_filter_del(
    vi_set: *mut ef_vi_set,
    _dh: ef_driver_handle,
    cookie: *mut ef_filter_cookie,
) -> c_int {
    let set = match set_of(vi_set) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if cookie.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a readable cookie.
    let c = unsafe { *cookie };
    match set
        .pd
        .table
        .remove(Owner::Set(set.id), c.filter_id, c.filter_type as c_uint)
    {
        Ok(e) => {
            apply_memberships(&member_socks(&set), set.pd.ifindex, &e.matcher, false);
            0
        }
        Err(e) => e,
    }
}

/// Names of the capabilities, indexed by `ef_vi_capability`.
static CAP_NAMES: [&CStr; 58] = [
    c"EF_VI_CAP_PIO",
    c"EF_VI_CAP_PIO_BUFFER_SIZE",
    c"EF_VI_CAP_PIO_BUFFER_COUNT",
    c"EF_VI_CAP_HW_MULTICAST_LOOPBACK",
    c"EF_VI_CAP_HW_MULTICAST_REPLICATION",
    c"EF_VI_CAP_HW_RX_TIMESTAMPING",
    c"EF_VI_CAP_HW_TX_TIMESTAMPING",
    c"EF_VI_CAP_PACKED_STREAM",
    c"EF_VI_CAP_PACKED_STREAM_BUFFER_SIZES",
    c"EF_VI_CAP_VPORTS",
    c"EF_VI_CAP_PHYS_MODE",
    c"EF_VI_CAP_BUFFER_MODE",
    c"EF_VI_CAP_MULTICAST_FILTER_CHAINING",
    c"EF_VI_CAP_MAC_SPOOFING",
    c"EF_VI_CAP_RX_FILTER_TYPE_UDP_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_TCP_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_UDP_FULL",
    c"EF_VI_CAP_RX_FILTER_TYPE_TCP_FULL",
    c"EF_VI_CAP_RX_FILTER_TYPE_IP_VLAN",
    c"EF_VI_CAP_RX_FILTER_TYPE_UDP6_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_TCP6_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_UDP6_FULL",
    c"EF_VI_CAP_RX_FILTER_TYPE_TCP6_FULL",
    c"EF_VI_CAP_RX_FILTER_TYPE_IP6_VLAN",
    c"EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL_VLAN",
    c"EF_VI_CAP_RX_FILTER_TYPE_UCAST_ALL",
    c"EF_VI_CAP_RX_FILTER_TYPE_MCAST_ALL",
    c"EF_VI_CAP_RX_FILTER_TYPE_UCAST_MISMATCH",
    c"EF_VI_CAP_RX_FILTER_TYPE_MCAST_MISMATCH",
    c"EF_VI_CAP_RX_FILTER_TYPE_SNIFF",
    c"EF_VI_CAP_TX_FILTER_TYPE_SNIFF",
    c"EF_VI_CAP_RX_FILTER_IP4_PROTO",
    c"EF_VI_CAP_RX_FILTER_ETHERTYPE",
    c"EF_VI_CAP_RXQ_SIZES",
    c"EF_VI_CAP_TXQ_SIZES",
    c"EF_VI_CAP_EVQ_SIZES",
    c"EF_VI_CAP_ZERO_RX_PREFIX",
    c"EF_VI_CAP_TX_PUSH_ALWAYS",
    c"EF_VI_CAP_NIC_PACE",
    c"EF_VI_CAP_RX_MERGE",
    c"EF_VI_CAP_TX_ALTERNATIVES",
    c"EF_VI_CAP_TX_ALTERNATIVES_VFIFOS",
    c"EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFERS",
    c"EF_VI_CAP_RX_FW_VARIANT",
    c"EF_VI_CAP_TX_FW_VARIANT",
    c"EF_VI_CAP_CTPIO",
    c"EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFER_SIZE",
    c"EF_VI_CAP_RX_FORCE_EVENT_MERGING",
    c"EF_VI_CAP_MIN_BUFFER_MODE_SIZE",
    c"EF_VI_CAP_CTPIO_ONLY",
    c"EF_VI_CAP_RX_SHARED",
    c"EF_VI_CAP_RX_FILTER_SET_DEST",
    c"EF_VI_CAP_RX_FILTER_MAC_IP4_PROTO",
    c"EF_VI_CAP_RX_POLL",
    c"EF_VI_CAP_RX_REF",
    c"EF_VI_CAP_EXTRA_DATAPATHS",
    c"EF_VI_CAP_RX_FILTER_ID",
];

/// Ring sizes the backend accepts, as the bit mask of sizes the capability reports.
const RING_SIZES: c_ulong = 512 | 1024 | 2048 | 4096;
const EVQ_SIZES: c_ulong = 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768;
/// Size of a PIO region.
pub(crate) const PIO_SIZE: usize = 2048;

/// What the software backend can do. `Ok(v)` answers the query; `Err(-EOPNOTSUPP)` means the
/// feature (and so any numeric parameter of it) does not exist here.
fn capability(cap: ef_vi_capability) -> Result<c_ulong, c_int> {
    const YES: Result<c_ulong, c_int> = Ok(1);
    const NO: Result<c_ulong, c_int> = Ok(0);
    match cap {
        ef_vi_capability_EF_VI_CAP_PIO => YES,
        ef_vi_capability_EF_VI_CAP_PIO_BUFFER_SIZE => Ok(PIO_SIZE as c_ulong),
        ef_vi_capability_EF_VI_CAP_PIO_BUFFER_COUNT => Ok(16),
        ef_vi_capability_EF_VI_CAP_HW_MULTICAST_LOOPBACK => YES,
        ef_vi_capability_EF_VI_CAP_HW_MULTICAST_REPLICATION => YES,
        // Timestamps are available, taken from the system clock in software.
        ef_vi_capability_EF_VI_CAP_HW_RX_TIMESTAMPING => YES,
        ef_vi_capability_EF_VI_CAP_HW_TX_TIMESTAMPING => YES,
        ef_vi_capability_EF_VI_CAP_PACKED_STREAM => NO,
        ef_vi_capability_EF_VI_CAP_PACKED_STREAM_BUFFER_SIZES => Err(-libc::EOPNOTSUPP),
        ef_vi_capability_EF_VI_CAP_VPORTS => NO,
        ef_vi_capability_EF_VI_CAP_PHYS_MODE => NO,
        ef_vi_capability_EF_VI_CAP_BUFFER_MODE => NO,
        ef_vi_capability_EF_VI_CAP_MULTICAST_FILTER_CHAINING => NO,
        ef_vi_capability_EF_VI_CAP_MAC_SPOOFING => YES,
        ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_TCP_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP_FULL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_TCP_FULL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_IP_VLAN
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP6_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_TCP6_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP6_FULL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_TCP6_FULL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_IP6_VLAN
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL_VLAN
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UCAST_ALL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_MCAST_ALL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UCAST_MISMATCH
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_MCAST_MISMATCH
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_SNIFF
        | ef_vi_capability_EF_VI_CAP_TX_FILTER_TYPE_SNIFF
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_IP4_PROTO
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_ETHERTYPE
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_MAC_IP4_PROTO => YES,
        ef_vi_capability_EF_VI_CAP_RXQ_SIZES | ef_vi_capability_EF_VI_CAP_TXQ_SIZES => {
            Ok(RING_SIZES)
        }
        ef_vi_capability_EF_VI_CAP_EVQ_SIZES => Ok(EVQ_SIZES),
        ef_vi_capability_EF_VI_CAP_ZERO_RX_PREFIX => YES,
        ef_vi_capability_EF_VI_CAP_TX_PUSH_ALWAYS => YES,
        ef_vi_capability_EF_VI_CAP_NIC_PACE => NO,
        ef_vi_capability_EF_VI_CAP_RX_MERGE => YES,
        ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES => NO,
        ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_VFIFOS
        | ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFERS
        | ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFER_SIZE => Err(-libc::EOPNOTSUPP),
        ef_vi_capability_EF_VI_CAP_RX_FW_VARIANT | ef_vi_capability_EF_VI_CAP_TX_FW_VARIANT => {
            Err(-libc::EOPNOTSUPP)
        }
        ef_vi_capability_EF_VI_CAP_CTPIO => YES,
        ef_vi_capability_EF_VI_CAP_RX_FORCE_EVENT_MERGING => NO,
        // Buffers are registered and addressed per 4 KiB page.
        ef_vi_capability_EF_VI_CAP_MIN_BUFFER_MODE_SIZE => Ok(4096),
        ef_vi_capability_EF_VI_CAP_CTPIO_ONLY => NO,
        ef_vi_capability_EF_VI_CAP_RX_SHARED => NO,
        ef_vi_capability_EF_VI_CAP_RX_FILTER_SET_DEST => NO,
        // ef_receive_poll() works, but RX_POLL promises RX_REF events, which are not produced.
        ef_vi_capability_EF_VI_CAP_RX_POLL => NO,
        ef_vi_capability_EF_VI_CAP_RX_REF => NO,
        ef_vi_capability_EF_VI_CAP_EXTRA_DATAPATHS => NO,
        ef_vi_capability_EF_VI_CAP_RX_FILTER_ID => YES,
        _ => Err(-libc::EINVAL),
    }
}

fn answer(cap: ef_vi_capability, value: *mut c_ulong) -> c_int {
    if value.is_null() {
        return -libc::EINVAL;
    }
    match capability(cap) {
        Ok(v) => {
            // SAFETY: checked non-null; the caller guarantees it is writable.
            unsafe { value.write(v) };
            0
        }
        Err(e) => {
            // SAFETY: as above.
            unsafe { value.write(0) };
            e
        }
    }
}

/// Queries a capability of the interface `ifindex` (the same for every interface here).
///
/// # Safety
///
/// `value` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_capabilities_get(
    _handle: ef_driver_handle,
    ifindex: c_int,
    cap: ef_vi_capability,
    value: *mut c_ulong,
) -> c_int {
    if ifindex <= 0 {
        return -libc::ENODEV;
    }
    answer(cap, value)
}

/// Queries a capability of a protection domain's interface.
///
/// # Safety
///
/// `pd` must be an allocated domain and `value` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_capabilities_get(
    _handle: ef_driver_handle,
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    cap: ef_vi_capability,
    value: *mut c_ulong,
) -> c_int {
    if let Err(e) = pd_of(pd) {
        return e;
    }
    answer(cap, value)
}

/// Queries a capability as it would be for a domain allocated with `pd_flags`.
///
/// # Safety
///
/// `value` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_capabilities_get_from_pd_flags(
    _handle: ef_driver_handle,
    ifindex: c_int,
    _pd_flags: ef_pd_flags,
    cap: ef_vi_capability,
    value: *mut c_ulong,
) -> c_int {
    if ifindex <= 0 {
        return -libc::ENODEV;
    }
    answer(cap, value)
}

/// The number of capabilities (`EF_VI_CAP_MAX`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_capabilities_max() -> c_int {
    ef_vi_capability_EF_VI_CAP_MAX as c_int
}

/// The name of a capability (`"EF_VI_CAP_PIO"`, ...), or NULL for an unknown one.
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_capabilities_name(cap: ef_vi_capability) -> *const c_char {
    CAP_NAMES
        .get(cap as usize)
        .map_or(core::ptr::null(), |n| n.as_ptr())
}

/// Sends a software event (`EF_EVENT_TYPE_SW`, data = the low 16 bits) to the event queue of
/// the VI with resource id `resource_id`. Any thread may call it.
#[unsafe(no_mangle)]
pub extern "C" fn ef_eventq_put(
    resource_id: c_uint,
    _evq_dh: ef_driver_handle,
    ev_bits: c_uint,
) -> c_int {
    if ev_bits & !(EF_EVENT_SW_DATA_MASK as c_uint) != 0 {
        return -libc::EINVAL;
    }
    let Some(v): Option<Arc<ViShared>> = registry().vis.get(&resource_id).cloned() else {
        return -libc::ENOENT;
    };
    v.inject(ev_bits);
    0
}
