//! Attributes (`zf_attr_*`): TCPDirect's attribute names, types, defaults and documentation,
//! the `ZF_ATTR` environment variable, and the printf-style setter.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

use super::util::sysctl_u32;

/// The type of an attribute, as `zf_attr_doc` reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ty {
    /// A C `int` (values must fit 32 bits).
    Int,
    /// A string (may be unset).
    Str,
    /// A 64-bit mask.
    Bitmask,
}

/// One row of the attribute table.
#[derive(Debug)]
pub(crate) struct Info {
    pub name: &'static CStr,
    pub ty: Ty,
    pub status: &'static CStr,
    pub int_default: i64,
    pub str_default: Option<&'static CStr>,
    pub default_doc: &'static CStr,
    pub objects: &'static CStr,
    pub doc: &'static CStr,
}

macro_rules! int_attr {
    ($name:literal, $status:literal, $def:expr, $ddoc:literal, $obj:literal, $doc:literal) => {
        Info {
            name: $name,
            ty: Ty::Int,
            status: $status,
            int_default: $def,
            str_default: None,
            default_doc: $ddoc,
            objects: $obj,
            doc: $doc,
        }
    };
}
macro_rules! str_attr {
    ($name:literal, $status:literal, $def:expr, $ddoc:literal, $obj:literal, $doc:literal) => {
        Info {
            name: $name,
            ty: Ty::Str,
            status: $status,
            int_default: 0,
            str_default: $def,
            default_doc: $ddoc,
            objects: $obj,
            doc: $doc,
        }
    };
}

/// Error-level logging for every component: one 0x1 per 4-bit component nibble.
const LCL_ALL_ERR: i64 = 0x1111_1111_1111_1111;
/// TCPDirect's built-in TIME_WAIT / FIN_WAIT_2 time when the sysctl cannot be read.
const TIMEWAIT_MS: i64 = 120_000;

/// TCPDirect's attributes, in the library's order (public ones, then hidden ones).
pub(crate) static TABLE: &[Info] = &[
    Info {
        name: c"log_level",
        ty: Ty::Bitmask,
        status: c"stable",
        int_default: LCL_ALL_ERR,
        str_default: None,
        default_doc: c"ERR-level on all components",
        objects: c"zf_stack",
        doc: c"Per-component log levels, one 4-bit nibble per component (bit 0 errors, bit 1 warnings, bit 2 info, bit 3 trace). Components from bit 0: stack, TCP-rx, TCP-tx, TCP-connection, UDP-rx, UDP-tx, UDP-connection, muxer, pool, fast-path, timers, filters, cplane.",
    },
    int_attr!(c"log_format", c"stable", 0x5, c"stack name and tcp time", c"zf_stack",
        c"Log line format flags: 0x1 stack name, 0x2 CPU cycle counter, 0x4 TCP time, 0x8 process id."),
    str_attr!(c"log_file", c"stable", None, c"(stderr)", c"zf_stack",
        c"Write log messages to this file rather than to stderr."),
    str_attr!(c"name", c"stable", None, c"(none)", c"zf_stack,zf_pool,zf_vi",
        c"Name of the object (at most 20 characters), shown in log messages only."),
    str_attr!(c"interface", c"stable", None, c"none", c"zf_stack",
        c"Network interface the stack uses."),
    int_attr!(c"max_udp_rx_endpoints", c"stable", 64, c"64", c"zf_stack",
        c"Most UDP receive zockets (zfur) in the stack; at most 64."),
    int_attr!(c"max_udp_tx_endpoints", c"stable", 64, c"64", c"zf_stack",
        c"Most UDP transmit zockets (zfut) in the stack; at most 64."),
    int_attr!(c"max_tcp_endpoints", c"stable", 64, c"64", c"zf_stack",
        c"Most TCP zockets (zft) in the stack; at most 64."),
    int_attr!(c"max_tcp_listen_endpoints", c"stable", 16, c"16", c"zf_stack",
        c"Most TCP listening zockets (zftl) in the stack; at most 64."),
    int_attr!(c"max_tcp_syn_backlog", c"stable", 32, c"net.ipv4.tcp_max_syn_backlog", c"zf_stack",
        c"Most half-open TCP connections the stack keeps."),
    int_attr!(c"tcp_delayed_ack", c"stable", 1, c"1", c"zf_stack",
        c"Delay TCP acknowledgements (on by default)."),
    int_attr!(c"tcp_wait_for_time_wait", c"stable", 0, c"0", c"zf_stack",
        c"Count TCP zockets in TIME_WAIT as activity, so the stack is not quiescent while any exist (off by default)."),
    int_attr!(c"tcp_timewait_ms", c"stable", TIMEWAIT_MS, c"net.ipv4.tcp_fin_timeout", c"zf_stack",
        c"Duration of the TCP TIME_WAIT state, in milliseconds."),
    int_attr!(c"tcp_finwait_ms", c"stable", TIMEWAIT_MS, c"net.ipv4.tcp_fin_timeout", c"zf_stack",
        c"Duration of the TCP FIN_WAIT_2 timer in milliseconds; 0 disables it."),
    int_attr!(c"tcp_syn_retries", c"stable", 5, c"net.ipv4.tcp_syn_retries", c"zf_stack",
        c"Most SYN retransmissions while connecting."),
    int_attr!(c"tcp_synack_retries", c"stable", 4, c"net.ipv4.tcp_synack_retries", c"zf_stack",
        c"Most SYN-ACK retransmissions before an incoming connection is dropped."),
    int_attr!(c"tcp_retries", c"stable", 14, c"net.ipv4.tcp_retries2", c"zf_stack",
        c"Most retransmissions of unacknowledged data before the connection fails."),
    int_attr!(c"tcp_initial_cwnd", c"stable", 0, c"10 * MSS", c"zf_stack",
        c"Initial congestion window of new TCP zockets (0: the default)."),
    int_attr!(c"tcp_alt_ack_rewind", c"stable", 65536, c"64K", c"zf_stack",
        c"How far, in bytes, outgoing ACKs may move backwards when an alternative queue is sent."),
    int_attr!(c"arp_reply_timeout", c"stable", 1000, c"1000", c"zf_stack",
        c"Longest wait for an ARP reply, in microseconds (approximate)."),
    int_attr!(c"udp_ttl", c"stable", 64, c"64", c"zf_socket",
        c"IP TTL of outgoing UDP datagrams (1 to 255)."),
    int_attr!(c"tx_error_recovery", c"stable", 1, c"on", c"zf_stack",
        c"Try to recover from transmit error events (on by default)."),
    int_attr!(c"rx_ring_max", c"stable", -1, c"512", c"zf_vi",
        c"Size and fill level of the receive descriptor ring (512, 1024, 2048 or 4096); 0 disables receive."),
    int_attr!(c"reactor_spin_count", c"stable", 128, c"128", c"zf_stack",
        c"Iterations zf_reactor_perform() polls for events before returning when none are found; 1 disables spinning. Also sets the cost of zf_muxer_wait() with a zero timeout."),
    int_attr!(c"rx_ring_refill_batch_size", c"stable", 16, c"16", c"zf_stack",
        c"Receive buffers added to the ring per refill (a multiple of 8)."),
    int_attr!(c"rx_ring_refill_interval", c"stable", 1, c"1", c"zf_stack",
        c"How often, in reactor loop iterations, the receive ring is refilled."),
    int_attr!(c"tx_ring_max", c"stable", 512, c"512", c"zf_vi",
        c"Size of the transmit descriptor ring (rounded up to 512, 1024 or 2048); 0 disables transmit."),
    int_attr!(c"alt_buf_size", c"stable", 40960, c"40960", c"zf_vi",
        c"Adapter buffer space reserved for TCP alternatives, in bytes."),
    int_attr!(c"alt_count", c"stable", 0, c"0", c"zf_vi",
        c"Number of TCP alternatives to allocate (not available on bonded interfaces)."),
    int_attr!(c"rx_timestamping", c"stable", 0, c"0", c"zf_vi",
        c"Timestamp received packets (off by default)."),
    int_attr!(c"tx_timestamping", c"stable", 0, c"0", c"zf_vi",
        c"Report timestamps of transmitted packets (off by default)."),
    int_attr!(c"pio", c"stable", 3, c"3", c"zf_vi",
        c"Programmed I/O: 0 off; 1 use when available; 2 use when available, warn when not; 3 as 2 but fail when the adapter supports PIO and none is free (default)."),
    int_attr!(c"ctpio", c"stable", 1, c"1", c"zf_vi",
        c"Cut-through PIO: 0 off; 1 use when available (default); 2 use when available, warn when not; 3 required."),
    str_attr!(c"ctpio_mode", c"stable", Some(c"sf-np"), c"sf-np", c"zf_vi",
        c"CTPIO mode: 'sf' store-and-forward, 'ct' cut-through, 'sf-np' never send poisoned frames."),
    int_attr!(c"ctpio_max_frame_len", c"beta", -1, c"-1", c"zf_vi",
        c"Longest frame sent with CTPIO; longer frames use PIO or DMA."),
    int_attr!(c"force_separate_tx_vi", c"beta", 0, c"0", c"zf_vi",
        c"Use a separate VI with its own event queue for transmit (unstable)."),
    str_attr!(c"rx_datapath", c"stable", Some(c"express"), c"express", c"zf_vi",
        c"Receive datapath where an adapter offers several: 'express' or 'enterprise'."),
    int_attr!(c"phys_address_mode", c"stable", 0, c"0", c"zf_vi",
        c"1: use physical DMA addresses (trusted applications only); 0: virtual addresses translated by the adapter or kernel."),
    int_attr!(c"shrub_controller", c"stable", -1, c"-1", c"zf_vi",
        c"Shared (shrub) controller to attach to, 0 to 9999; -1 for none."),
    str_attr!(c"tph_mode", c"stable", Some(c"off"), c"off", c"zf_vi",
        c"PCIe TPH mode: 'off', 'nost' (TPH without steering tags) or 'st' (with steering tags)."),
    int_attr!(c"n_bufs", c"stable", 0, c"0", c"zf_pool",
        c"Packet buffers to allocate for the stack; 0 for as many as its other settings can use."),
    // Hidden attributes.
    int_attr!(c"emu", c"hidden", 0, c"(none)", c"zf",
        c"Software emulation instead of an adapter: 0 off, 1 loop between two stacks, 2 loop back to the same stack, 3 through a TUN device."),
    str_attr!(c"emu_tun_ip", c"hidden", None, c"(tun interface address xor 3)", c"zf",
        c"Local address of an emulated stack on a TUN device."),
    int_attr!(c"emu_vlan", c"hidden", 0xFFFF, c"(no vlan)", c"zf",
        c"VLAN the emulation pretends to use."),
    int_attr!(c"emu_mtu", c"hidden", 1500, c"(standard MTU of 1500)", c"zf",
        c"MTU the emulation reports (the software backend uses the smaller of this and the interface MTU)."),
    int_attr!(c"emu_pio", c"hidden", 1, c"Available", c"zf",
        c"Whether the emulation offers a PIO buffer: 0 no, 1 yes."),
    str_attr!(c"emu_shmname", c"hidden", None, c"(Use interface name)", c"zf",
        c"Suffix of the shared-memory file of the emulation."),
    int_attr!(c"log_to_kmsg", c"hidden", 0, c"Disabled, i.e. log to stderr", c"zf",
        c"Send log messages to /dev/kmsg."),
    int_attr!(c"max_sbufs", c"hidden", 1024, c"sbufs", c"zf",
        c"Most superbufs the emulation may use."),
    int_attr!(c"emu_nic", c"hidden", 2, c"(Medford2)", c"zf",
        c"Adapter the emulation imitates on receive: 0 Huntington, 1 Medford, 2 Medford2, 3 X3."),
    int_attr!(c"tx_emu_nic", c"hidden", 2, c"(Medford2)", c"zf",
        c"Adapter the emulation imitates on transmit: 0 Huntington, 1 Medford, 2 Medford2, 3 X3."),
    str_attr!(c"zfss_implicit_host", c"unstable", None, c"", c"zfss",
        c"Host used for implicit binds by the socket shim."),
    int_attr!(c"zfss_fd_table_size", c"unstable", 256, c"256", c"zfss",
        c"File descriptor table size of the socket shim."),
];

/// Index of the attribute called `name` (ASCII case-insensitive), if any.
pub(crate) fn find(name: &[u8]) -> Option<usize> {
    TABLE
        .iter()
        .position(|i| i.name.to_bytes().eq_ignore_ascii_case(name))
}

/// Index of a known attribute; the table is static so a miss is a programming error.
fn idx(name: &str) -> usize {
    find(name.as_bytes()).unwrap_or(0)
}

/// One attribute value.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    /// Int or bitmask value.
    Int(i64),
    /// String value (`None` = unset).
    Str(Option<CString>),
}

/// The object behind `struct zf_attr*`.
#[derive(Clone, Debug)]
pub(crate) struct Attr {
    vals: Vec<Val>,
}

impl Attr {
    /// All attributes at their built-in defaults.
    pub(crate) fn defaults() -> Attr {
        Attr {
            vals: TABLE
                .iter()
                .map(|i| match i.ty {
                    Ty::Str => Val::Str(i.str_default.map(CStr::to_owned)),
                    _ => Val::Int(i.int_default),
                })
                .collect(),
        }
    }

    /// Defaults plus the kernel's TCP sysctls, as `zf_attr_alloc` starts from.
    fn with_sysctls() -> Attr {
        let mut a = Attr::defaults();
        if let Some(v) = sysctl_u32("net/ipv4/tcp_max_syn_backlog") {
            a.vals[idx("max_tcp_syn_backlog")] = Val::Int(i64::from(v));
        }
        if let Some(v) = sysctl_u32("net/ipv4/tcp_fin_timeout") {
            a.vals[idx("tcp_timewait_ms")] = Val::Int(1000 * i64::from(v));
            a.vals[idx("tcp_finwait_ms")] = Val::Int(1000 * i64::from(v));
        }
        for (sys, name) in [
            ("net/ipv4/tcp_syn_retries", "tcp_syn_retries"),
            ("net/ipv4/tcp_synack_retries", "tcp_synack_retries"),
            ("net/ipv4/tcp_retries2", "tcp_retries"),
        ] {
            if let Some(v) = sysctl_u32(sys) {
                a.vals[idx(name)] = Val::Int(i64::from(v));
            }
        }
        a
    }

    /// Integer value of a known int/bitmask attribute.
    pub(crate) fn int(&self, name: &str) -> i64 {
        match &self.vals[idx(name)] {
            Val::Int(v) => *v,
            Val::Str(_) => 0,
        }
    }

    /// String value of a known string attribute.
    pub(crate) fn str(&self, name: &str) -> Option<&CStr> {
        match &self.vals[idx(name)] {
            Val::Str(s) => s.as_deref(),
            Val::Int(_) => None,
        }
    }

    fn set_int(&mut self, i: usize, v: i64) -> c_int {
        match TABLE[i].ty {
            Ty::Int => {
                if i64::from(v as i32) != v {
                    return -libc::EOVERFLOW;
                }
                self.vals[i] = Val::Int(v);
            }
            Ty::Bitmask => self.vals[i] = Val::Int(v),
            Ty::Str => self.vals[i] = Val::Str(CString::new(v.to_string()).ok()),
        }
        0
    }

    fn set_from_str(&mut self, i: usize, val: &[u8]) -> c_int {
        match TABLE[i].ty {
            Ty::Bitmask => match parse_c_int(val, true) {
                Some(v) => self.set_int(i, v),
                None => -libc::EINVAL,
            },
            Ty::Int => match parse_c_int(val, false) {
                Some(v) => self.set_int(i, v),
                None => -libc::EINVAL,
            },
            Ty::Str => {
                self.vals[i] = if val.is_empty() {
                    Val::Str(None)
                } else {
                    Val::Str(CString::new(val).ok())
                };
                0
            }
        }
    }

    /// Applies a `name=value;name=value` string (the `ZF_ATTR` format). Every item is applied
    /// that can be; the result is the last error (`-ENOENT` for an unknown name, `-EINVAL` for
    /// a bad value or a missing `=`), or 0.
    pub(crate) fn apply_config(&mut self, s: &[u8]) -> c_int {
        let mut rc = 0;
        for item in s.split(|&b| b == b';').filter(|x| !x.is_empty()) {
            let Some(eq) = item.iter().position(|&b| b == b'=') else {
                rc = -libc::EINVAL;
                continue;
            };
            let (name, val) = (&item[..eq], &item[eq + 1..]);
            match find(name) {
                None => rc = -libc::ENOENT,
                Some(i) => {
                    let r = self.set_from_str(i, val);
                    if r < 0 {
                        rc = r;
                    }
                }
            }
        }
        rc
    }
}

/// Parses an integer the way `sscanf("%" SCNi64 "%c")` (signed) or `strtoull(.., 0)` (bitmask)
/// accept it: optional leading blanks and sign, `0x` hex, leading-`0` octal or decimal, and
/// nothing after the digits.
fn parse_c_int(s: &[u8], unsigned: bool) -> Option<i64> {
    let mut t = s;
    while let [b, rest @ ..] = t {
        if b.is_ascii_whitespace() {
            t = rest;
        } else {
            break;
        }
    }
    let mut neg = false;
    if let [b @ (b'+' | b'-'), rest @ ..] = t {
        neg = *b == b'-';
        t = rest;
    }
    let (radix, digits) = if t.len() > 2 && (t.starts_with(b"0x") || t.starts_with(b"0X")) {
        (16, &t[2..])
    } else if t.len() > 1 && t[0] == b'0' {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() {
        return None;
    }
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if unsigned {
        let v = u64::from_str_radix(text, radix).ok()?;
        Some(if neg {
            v.wrapping_neg() as i64
        } else {
            v as i64
        })
    } else {
        let v = i128::from(u64::from_str_radix(text, radix).ok()?);
        let v = if neg { -v } else { v };
        i64::try_from(v).ok()
    }
}

/// The attribute object behind a `zf_attr` pointer.
///
/// # Safety
///
/// `p` must be null or come from `zf_attr_alloc`/`zf_attr_dup` and not be freed.
pub(crate) unsafe fn attr_ref<'a>(p: *const crate::zf_attr) -> Option<&'a Attr> {
    // SAFETY: per the caller, a non-null `p` points to a live `Attr`.
    unsafe { p.cast::<Attr>().as_ref() }
}

/// Mutable access to the attribute object behind a `zf_attr` pointer.
///
/// # Safety
///
/// As [`attr_ref`], and no other reference to it may be live.
unsafe fn attr_mut<'a>(p: *mut crate::zf_attr) -> Option<&'a mut Attr> {
    // SAFETY: per the caller.
    unsafe { p.cast::<Attr>().as_mut() }
}

/// The attribute object behind `attr` and the table index of attribute `name`: `-EINVAL`
/// when either pointer is null, `-ENOENT` for a name the table does not have.
///
/// # Safety
///
/// As [`attr_mut`] for `attr`; `name` must be null or a NUL-terminated string.
unsafe fn lookup_mut<'a>(
    attr: *mut crate::zf_attr,
    name: *const c_char,
) -> Result<(&'a mut Attr, usize), c_int> {
    // SAFETY: per the caller.
    let (Some(a), Some(n)) = (unsafe { attr_mut(attr) }, unsafe { cbytes(name) }) else {
        return Err(-libc::EINVAL);
    };
    find(n).map(|i| (a, i)).ok_or(-libc::ENOENT)
}

/// As [`lookup_mut`], for reading.
///
/// # Safety
///
/// As [`attr_ref`] for `attr`; `name` must be null or a NUL-terminated string.
unsafe fn lookup_ref<'a>(
    attr: *const crate::zf_attr,
    name: *const c_char,
) -> Result<(&'a Attr, usize), c_int> {
    // SAFETY: per the caller.
    let (Some(a), Some(n)) = (unsafe { attr_ref(attr) }, unsafe { cbytes(name) }) else {
        return Err(-libc::EINVAL);
    };
    find(n).map(|i| (a, i)).ok_or(-libc::ENOENT)
}

/// Bytes of a C string argument, or `None` when null.
///
/// # Safety
///
/// `p` must be null or a valid NUL-terminated string.
unsafe fn cbytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-null NUL-terminated string per the caller.
        Some(unsafe { CStr::from_ptr(p) }.to_bytes())
    }
}

fn into_raw(a: Attr) -> *mut crate::zf_attr {
    Box::into_raw(Box::new(a)).cast()
}

/// Allocates an attribute object with the defaults, the kernel's TCP sysctls and then the
/// settings of the `ZF_ATTR` environment variable. A malformed `ZF_ATTR` gives `-EINVAL` (and
/// no object).
///
/// # Safety
///
/// `attr_out` must be null or writable for one `*mut zf_attr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_alloc(attr_out: *mut *mut crate::zf_attr) -> c_int {
    if attr_out.is_null() {
        return -libc::EFAULT;
    }
    let mut a = Attr::with_sysctls();
    if let Some(env) = std::env::var_os("ZF_ATTR") {
        use std::os::unix::ffi::OsStrExt;
        if a.apply_config(env.as_bytes()) < 0 {
            // SAFETY: non-null out pointer supplied by the caller.
            unsafe { *attr_out = std::ptr::null_mut() };
            return -libc::EINVAL;
        }
    }
    // SAFETY: non-null out pointer supplied by the caller.
    unsafe { *attr_out = into_raw(a) };
    0
}

/// Frees an attribute object (null is ignored).
///
/// # Safety
///
/// `attr` must be null or a live attribute object; it is dead after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_free(attr: *mut crate::zf_attr) {
    if !attr.is_null() {
        // SAFETY: `attr` came from Box::into_raw in this module and is freed once.
        drop(unsafe { Box::from_raw(attr.cast::<Attr>()) });
    }
}

/// Returns every attribute to its built-in default.
///
/// # Safety
///
/// `attr` must be null or a live attribute object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_reset(attr: *mut crate::zf_attr) {
    // SAFETY: a valid attribute object per the API contract.
    if let Some(a) = unsafe { attr_mut(attr) } {
        *a = Attr::defaults();
    }
}

/// Sets an int, bitmask or string attribute from an integer.
///
/// # Safety
///
/// * `attr` must be null or a live attribute object;
/// * `name` must be null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_set_int(
    attr: *mut crate::zf_attr,
    name: *const c_char,
    val: i64,
) -> c_int {
    // SAFETY: valid objects per the API contract (nulls are rejected).
    match unsafe { lookup_mut(attr, name) } {
        Ok((a, i)) => a.set_int(i, val),
        Err(rc) => rc,
    }
}

/// Reads an int or bitmask attribute.
///
/// # Safety
///
/// * `attr` must be null or a live attribute object;
/// * `name` must be null or a NUL-terminated string;
/// * `val` must be null or writable for one `i64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_get_int(
    attr: *mut crate::zf_attr,
    name: *const c_char,
    val: *mut i64,
) -> c_int {
    // SAFETY: valid objects per the API contract (nulls are rejected).
    let (a, i) = match unsafe { lookup_ref(attr, name) } {
        Ok(found) => found,
        Err(rc) => return rc,
    };
    match (&a.vals[i], val.is_null()) {
        (Val::Int(v), false) => {
            // SAFETY: non-null out pointer.
            unsafe { *val = *v };
            0
        }
        _ => -libc::EINVAL,
    }
}

/// Sets a string attribute (`-ENOMSG` for an attribute of another type).
///
/// # Safety
///
/// * `attr` must be null or a live attribute object;
/// * `name` must be null or a NUL-terminated string;
/// * `val` must be null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_set_str(
    attr: *mut crate::zf_attr,
    name: *const c_char,
    val: *const c_char,
) -> c_int {
    // SAFETY: valid objects per the API contract (nulls are rejected).
    let (a, i) = match unsafe { lookup_mut(attr, name) } {
        Ok(found) => found,
        Err(rc) => return rc,
    };
    if TABLE[i].ty != Ty::Str {
        return -libc::ENOMSG;
    }
    // SAFETY: `val` is null or a C string per the API contract.
    a.vals[i] = Val::Str(unsafe { cbytes(val) }.and_then(|v| CString::new(v).ok()));
    0
}

/// Reads a string attribute into a `malloc`ed copy (or NULL when unset) that the caller frees.
///
/// # Safety
///
/// * `attr` must be null or a live attribute object;
/// * `name` must be null or a NUL-terminated string;
/// * `val` must be null or writable for one `*mut c_char`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_get_str(
    attr: *mut crate::zf_attr,
    name: *const c_char,
    val: *mut *mut c_char,
) -> c_int {
    // SAFETY: valid objects per the API contract (nulls are rejected).
    let (a, i) = match unsafe { lookup_ref(attr, name) } {
        Ok(found) => found,
        Err(rc) => return rc,
    };
    let Val::Str(s) = &a.vals[i] else {
        return -libc::EINVAL;
    };
    if val.is_null() {
        return -libc::EINVAL;
    }
    let out = match s {
        Some(s) => {
            // SAFETY: `s` is a valid C string.
            let p = unsafe { libc::strdup(s.as_ptr()) };
            if p.is_null() {
                return -libc::ENOMEM;
            }
            p
        }
        None => std::ptr::null_mut(),
    };
    // SAFETY: non-null out pointer.
    unsafe { *val = out };
    0
}

/// Sets any attribute from its text form (integers in C notation; an empty string unsets a
/// string attribute).
///
/// # Safety
///
/// * `attr` must be null or a live attribute object;
/// * `name` must be null or a NUL-terminated string;
/// * `val` must be null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_set_from_str(
    attr: *mut crate::zf_attr,
    name: *const c_char,
    val: *const c_char,
) -> c_int {
    // SAFETY: `val` is null or a C string per the API contract.
    let Some(v) = (unsafe { cbytes(val) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: valid objects per the API contract (nulls are rejected).
    match unsafe { lookup_mut(attr, name) } {
        Ok((a, i)) => a.set_from_str(i, v),
        Err(rc) => rc,
    }
}

unsafe extern "C" {
    /// glibc's `vasprintf`; on x86-64 a `va_list` argument is a pointer to the tag structure.
    fn vasprintf(strp: *mut *mut c_char, fmt: *const c_char, ap: *mut c_void) -> c_int;
}

/// The body of `zf_attr_set_from_fmt` once the arguments have been gathered into a `va_list`.
unsafe extern "C" fn set_from_fmt_va(
    attr: *mut crate::zf_attr,
    name: *const c_char,
    fmt: *const c_char,
    ap: *mut c_void,
) -> c_int {
    if fmt.is_null() {
        return -libc::EINVAL;
    }
    let mut s: *mut c_char = std::ptr::null_mut();
    // SAFETY: `fmt` is a format string and `ap` a va_list built by zf_attr_set_from_fmt.
    let rc = unsafe { vasprintf(&mut s, fmt, ap) };
    if rc < 0 || s.is_null() {
        return -libc::ENOMEM;
    }
    // SAFETY: `s` is the NUL-terminated string vasprintf allocated.
    let rc = unsafe { zf_attr_set_from_str(attr, name, s) };
    // SAFETY: allocated by vasprintf with malloc.
    unsafe { libc::free(s.cast()) };
    rc
}

// `int zf_attr_set_from_fmt(struct zf_attr*, const char* name, const char* fmt, ...)`.
//
// Stable Rust cannot define a C-variadic function, so this symbol is written in x86-64
// assembly (System V ABI): it saves the argument registers into a register save area, builds a
// `va_list` (`gp_offset` past the three fixed arguments, `fp_offset` at the first vector
// register, `overflow_arg_area` at the caller's stack arguments) and calls `set_from_fmt_va`,
// which formats with `vasprintf`. (`global_asm!` rather than a naked function keeps the crate's
// minimum Rust version.)
core::arch::global_asm!(
    ".globl zf_attr_set_from_fmt",
    ".type zf_attr_set_from_fmt,@function",
    "zf_attr_set_from_fmt:",
    "push rbp",
    "mov rbp, rsp",
    "sub rsp, 208",
    "mov [rsp], rdi",
    "mov [rsp + 8], rsi",
    "mov [rsp + 16], rdx",
    "mov [rsp + 24], rcx",
    "mov [rsp + 32], r8",
    "mov [rsp + 40], r9",
    "movaps [rsp + 48], xmm0",
    "movaps [rsp + 64], xmm1",
    "movaps [rsp + 80], xmm2",
    "movaps [rsp + 96], xmm3",
    "movaps [rsp + 112], xmm4",
    "movaps [rsp + 128], xmm5",
    "movaps [rsp + 144], xmm6",
    "movaps [rsp + 160], xmm7",
    "mov dword ptr [rsp + 176], 24",
    "mov dword ptr [rsp + 180], 48",
    "lea rax, [rbp + 16]",
    "mov [rsp + 184], rax",
    "mov [rsp + 192], rsp",
    "lea rcx, [rsp + 176]",
    "call {body}",
    "leave",
    "ret",
    ".size zf_attr_set_from_fmt, . - zf_attr_set_from_fmt",
    body = sym set_from_fmt_va,
);

/// Copies an attribute object (NULL on a null argument).
///
/// # Safety
///
/// `attr` must be null or a live attribute object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_dup(attr: *const crate::zf_attr) -> *mut crate::zf_attr {
    // SAFETY: a valid attribute object per the API contract.
    match unsafe { attr_ref(attr) } {
        Some(a) => into_raw(a.clone()),
        None => std::ptr::null_mut(),
    }
}

/// Documentation: with a null or empty name, a `malloc`ed array of every attribute name;
/// otherwise a `malloc`ed array of six strings (name, type, status, default, objects, text).
/// The strings are static; the caller frees only the array.
///
/// # Safety
///
/// * `attr_name` must be null or a NUL-terminated string;
/// * `docs_out` must be null or writable for one `*mut *const c_char`;
/// * `docs_len_out` must be null or writable for one `c_int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_attr_doc(
    attr_name: *const c_char,
    docs_out: *mut *mut *const c_char,
    docs_len_out: *mut c_int,
) -> c_int {
    if docs_out.is_null() || docs_len_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: null or a C string per the API contract.
    let name = unsafe { cbytes(attr_name) }.unwrap_or(b"");
    let list: Vec<*const c_char> = if name.is_empty() {
        TABLE.iter().map(|i| i.name.as_ptr()).collect()
    } else {
        let Some(i) = find(name) else {
            return -libc::ENOENT;
        };
        let f = &TABLE[i];
        let ty: &CStr = match f.ty {
            Ty::Int => c"int",
            Ty::Str => c"str",
            Ty::Bitmask => c"bitmask",
        };
        vec![
            f.name.as_ptr(),
            ty.as_ptr(),
            f.status.as_ptr(),
            f.default_doc.as_ptr(),
            f.objects.as_ptr(),
            f.doc.as_ptr(),
        ]
    };
    let bytes = list.len() * std::mem::size_of::<*const c_char>();
    // SAFETY: plain allocation; checked for null below.
    let arr = unsafe { libc::malloc(bytes) }.cast::<*const c_char>();
    if arr.is_null() {
        return -libc::ENOMEM;
    }
    // SAFETY: `arr` has room for list.len() pointers; out pointers are non-null.
    unsafe {
        std::ptr::copy_nonoverlapping(list.as_ptr(), arr, list.len());
        *docs_out = arr;
        *docs_len_out = list.len() as c_int;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_like_c() {
        assert_eq!(parse_c_int(b"42", false), Some(42));
        assert_eq!(parse_c_int(b" -7", false), Some(-7));
        assert_eq!(parse_c_int(b"0x10", false), Some(16));
        assert_eq!(parse_c_int(b"010", false), Some(8));
        assert_eq!(parse_c_int(b"0", false), Some(0));
        assert_eq!(parse_c_int(b"12abc", false), None);
        assert_eq!(parse_c_int(b"", false), None);
        assert_eq!(parse_c_int(b"0xffffffffffffffff", true), Some(-1));
    }

    #[test]
    fn table_has_public_and_hidden() {
        assert_eq!(TABLE.len(), 41 + 12);
        assert!(find(b"INTERFACE").is_some());
        assert!(find(b"nope").is_none());
    }
}
