//! The software backend: Rust definitions of every exported `libciul` function, compiled when
//! the build links no vendor library.
//!
//! A virtual interface exchanges real frames with the named Linux interface through an
//! `AF_PACKET` socket, so it works on `lo` or on a veth in a network namespace, with the kernel
//! stack and other processes as peers. Everything an application sees through the ABI behaves
//! as on an adapter of the EF10 architecture:
//!
//! * the `ef_vi` structure is filled in as the library fills it (descriptor rings with their
//!   masks and id arrays in `ep_state`, `evq_vi`/`vi_qs` for shared event queues, the `ops`
//!   table), so the header macros and inline functions work unchanged;
//! * registered memory gets one DMA address per 4 KiB page; the address is the virtual
//!   address. Registering memory that could not be pinned fails as with the driver
//!   (`-ENOMEM`, `-EFAULT`, see `memreg.rs`), and every descriptor is checked against the
//!   regions registered with the VI's protection domain (an invalid address gives
//!   `EF_EVENT_TYPE_TX_ERROR`/`_BUS` on transmit, `EF_EVENT_RX_DISCARD_RIGHTS` on receive)
//!   before the backend copies data;
//! * frames are steered by filters matched in software (see `filter_table.rs`); a received
//!   frame is copied into the posted RX buffers (spanning several with SOP/CONT when it is
//!   longer than `ef_vi_receive_buffer_len()`), checksums are checked (bad ones give
//!   `EF_EVENT_RX_DISCARD_CSUM_BAD` unless masked with `ef_vi_receive_set_discards()`);
//! * transmits are sent with `send()` when pushed, with IPv4 and TCP/UDP checksum offload
//!   unless disabled by VI flags, and complete with `EF_EVENT_TYPE_TX` events for
//!   `ef_vi_transmit_unbundle()` (or `EF_EVENT_TYPE_TX_WITH_TIMESTAMP` with
//!   `EF_VI_TX_TIMESTAMPS`); PIO and CTPIO sends copy the frame;
//! * timestamps are software (system clock, `CLOCK_REALTIME`) time: the kernel's receive time
//!   of the frame, the time of the `send()` call;
//! * the driver handle is an epoll descriptor: `ef_vi_prime()` adds the VI's sockets to it, so
//!   `poll()` on the handle wakes up when frames arrive, as on hardware.
//! * TX alternatives (`EF_VI_TX_ALT`) hold packets in the backend, as an adapter holds them,
//!   until GO sends or DISCARD drops them, with `EF_EVENT_TYPE_TX_ALT` events, within a
//!   buffering budget like an EF10 adapter's (see `tx_alt.rs`);
//! * the event queue timer of a VI made with `EF_VI_ENABLE_EV_TIMER` is a timerfd among the
//!   descriptors `ef_vi_prime()` adds: its expiry wakes a primed handle and queues no event,
//!   as the library queues none (see `evq_timer.rs`);
//!
//! Frames copied back by `lo` (`PACKET_OUTGOING`) are ignored except by TX sniff filters.
//! Opening the packet sockets needs `CAP_NET_RAW`; without it `ef_driver_open()` fails with
//! `-EPERM` and prints one line naming the capability on stderr. A receiving VI also needs the
//! kernel to grant `PACKET_AUXDATA` and `SO_TIMESTAMPNS` on its socket (VLAN tags, checksum
//! status, receive times) and a filter the packet memberships its frames need: a refusal is an
//! error, not a silent loss (see `socket.rs`).
//!
//! Differences from an adapter that follow from working above the kernel:
//!
//! * the kernel stack keeps receiving its copy of every frame (a filter cannot steal), so
//!   block-kernel filters are refused with `-EOPNOTSUPP`;
//! * filters are matched among the VIs of this process (per network namespace and interface):
//!   "mismatch" means "no filter of this process matched";
//! * a frame a VI sends on `lo` reaches the kernel stack like one arriving from outside: with a
//!   local source address the kernel drops it unless `net.ipv4.conf.lo.accept_local=1` (and,
//!   for 127.0.0.0/8, `route_localnet=1`); VI-to-VI traffic on `lo` needs neither;
//! * frames reach the software when the application polls (`ef_eventq_poll()`,
//!   `ef_eventq_has_event()`, `ef_eventq_wait()`): between polls the socket buffer (8 MiB when
//!   the process may raise it) holds them, where an adapter would write them into the ring at
//!   once; a frame that arrives when no RX buffer is posted is dropped and counted;
//! * the VI must be allocated from a thread in the network namespace of its interface;
//! * not supported: packed stream, virtual ports, physical addressing, EFCT
//!   (X3) receive, pacing. Each gives `-EOPNOTSUPP` (or the SDK's error for a VI without the
//!   feature) and `ef_vi_capabilities_get()` reports it as absent.
//!
//! # Where things are
//!
//! Each file is one concept; a file uses only the files listed before it (and this one), so
//! there is no import cycle:
//!
//! | file | holds |
//! | --- | --- |
//! | `checksum.rs`, `frame.rs` | Internet checksums; parsing frames, their checksums |
//! | `filter_spec.rs` | the `ef_filter_spec_*` builders |
//! | `filter_table.rs` | decoded filters, the per-interface table, the steering decision |
//! | `socket.rs` | the `AF_PACKET` socket of a VI, interface ioctls, packet memberships |
//! | `steering.rs` | installing a filter: table entry plus the memberships it needs |
//! | `stats.rs` | the counters of `ef_vi_stats_query()` and their layout |
//! | `evq_timer.rs` | the event queue timer (a timerfd) |
//! | `evq.rs` | event queues, their eventfd, `ef_eventq_put()` |
//! | `driver.rs` | driver handles, version strings |
//! | `pd.rs`, `memreg.rs` | protection domains; registered memory |
//! | `set.rs` | VI sets and their slots |
//! | `tx_alt.rs` | TX alternatives: their states and buffering |
//! | `vi.rs` | a VI's state and the way from an `ef_vi` to it; MTU, MAC, statistics |
//! | `tx.rs`, `rx.rs` | the transmit and receive engines and their calls; the receive prefix |
//! | `tx_alt_ops.rs` | the `ef_vi_transmit_alt_*` calls |
//! | `pio.rs` | PIO regions, PIO and CTPIO sends |
//! | `poll.rs` | polling, blocking, priming |
//! | `vi_filter.rs` | `ef_vi_filter_*` |
//! | `capabilities.rs` | `ef_vi_capabilities_*` |
//! | `vi_alloc.rs` | allocating and freeing VIs, the `ops` table |
//!
//! Each resource kind keeps its own table of live objects (`Registry`) in its file. What a
//! soft object owns (descriptors as `OwnedFd`, memory handed to the application as
//! `CArray`, table entries, set slots) is freed by its `Drop`: freeing a VI, a domain or
//! registered memory is dropping the object behind it.
//!
//! # Safety docs of the exported functions
//!
//! One rule for every exported C function: it is an `unsafe extern "C" fn` exactly when its
//! correctness depends on something the caller passes that the backend cannot check (a
//! pointer it reads or writes, an object such as an `ef_vi` it must trust was set up here, a
//! descriptor whose ownership it takes), and then its `# Safety` section says, in the SDK's
//! terms, what each such argument must be. A function that dereferences nothing it is given
//! (integers only, or pointers it ignores, as the stubs of unsupported features do) is a safe
//! `extern "C" fn` without a `# Safety` section. (C callers see the same prototypes either
//! way; the bindings declare them all `unsafe`.) Null pointers are checked wherever a
//! function reads or writes through one. The `op_*` functions of the `ops` table follow the
//! same rule, with the contract of the `ef_vi_*` call that reaches them. Private helpers that
//! dereference a raw pointer are `unsafe fn` with a `# Safety` section too; methods of
//! `vi::SoftVi` rely on the invariant documented there instead.

use core::ffi::c_int;
use core::ptr::NonNull;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

mod capabilities;
mod checksum;
mod driver;
mod evq;
mod evq_timer;
mod filter_spec;
mod filter_table;
mod frame;
mod memreg;
mod pd;
mod pio;
mod poll;
mod rx;
mod set;
mod socket;
mod stats;
mod steering;
mod tx;
mod tx_alt;
mod tx_alt_ops;
mod vi;
mod vi_alloc;
mod vi_filter;

/// Locks a mutex, ignoring poisoning (no invariant of the backend spans a panic).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The calling thread's `errno`.
pub(crate) fn errno() -> c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Prints `msg` on stderr once per `key` for the life of the process.
pub(crate) fn log_once(key: &'static str, msg: &str) {
    static SEEN: LazyLock<Mutex<Vec<&'static str>>> = LazyLock::new(|| Mutex::new(Vec::new()));
    let mut seen = lock(&SEEN);
    if !seen.contains(&key) {
        seen.push(key);
        eprintln!("ef_vi (software backend): {msg}");
    }
}

/// Reports a missing CAP_NET_RAW (once) and returns `-EPERM`.
pub(crate) fn no_cap_net_raw(what: &str) -> c_int {
    static TOLD: AtomicBool = AtomicBool::new(false);
    if !TOLD.swap(true, Ordering::Relaxed) {
        eprintln!(
            "ef_vi (software backend): {what}: opening an AF_PACKET socket needs the CAP_NET_RAW \
             capability; run as root or grant it (e.g. setcap cap_net_raw+ep <program>)"
        );
    }
    -libc::EPERM
}

/// A process-wide table of the resources of one kind the backend has handed out, by key.
pub(crate) struct Registry<K, V>(LazyLock<Mutex<HashMap<K, V>>>);

impl<K, V> Registry<K, V> {
    /// An empty table.
    pub(crate) const fn new() -> Self {
        Registry(LazyLock::new(|| Mutex::new(HashMap::new())))
    }

    /// Locks the table.
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<K, V>> {
        lock(&self.0)
    }
}

/// A fresh resource id, unique among the backend's resources of every kind (never 0).
pub(crate) fn new_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let id = NEXT.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if id != 0 {
            return id;
        }
    }
}

/// A heap array whose address is handed to the application (a DMA address array, a PIO
/// buffer, a VI's ring state): owned here and freed on drop. It is reached only through the
/// raw pointer, never through a Rust reference, since the application reads and writes it
/// through the pointer it was given.
#[derive(Debug)]
pub(crate) struct CArray<T> {
    ptr: NonNull<[T]>,
}

impl<T> CArray<T> {
    /// Takes ownership of the elements of `v`.
    pub(crate) fn new(v: Vec<T>) -> Self {
        CArray {
            ptr: NonNull::from(Box::leak(v.into_boxed_slice())),
        }
    }

    /// The address of the first element.
    pub(crate) fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr().cast()
    }
}

impl<T> Drop for CArray<T> {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from Box::leak in `new` and is freed only here.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

// SAFETY: a CArray owns its elements like a Box<[T]>; the application's accesses through the
// pointer are its own to synchronise, as with the real library's memory.
unsafe impl<T: Send> Send for CArray<T> {}
// SAFETY: as above; the CArray itself only hands out the raw pointer.
unsafe impl<T: Sync> Sync for CArray<T> {}
