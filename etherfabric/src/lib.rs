//! Safe Rust interface to AMD Solarflare **ef_vi**, the layer-2 kernel-bypass API.
//!
//! ef_vi gives an application its own receive ring, transmit ring and event queue on a
//! network adapter (a *virtual interface*, [`Vi`]): it posts buffers of registered memory for
//! the adapter to write received frames into, hands it frames to send, and polls events that
//! say which buffers are done. This crate wraps the C API of `etherfabric-sys` (re-exported as
//! [`ffi`]) without adding allocations or copies to that data path.
//!
//! The objects, each freeing its C resource exactly once when dropped, children before
//! parents:
//!
//! | Type | C | Holds |
//! |---|---|---|
//! | [`Driver`] | `ef_driver_handle` | |
//! | [`ProtectionDomain`] | `ef_pd` | the driver |
//! | [`MemoryRegion`] | `ef_memreg` + the memory | the PD |
//! | [`BufferPool`] / [`PacketBuf`] | packet buffers in a region | the region(s) |
//! | [`Vi`] | `ef_vi` | the PD, the pool (so its memory), its set, its PIO |
//! | [`Filter`] | `ef_filter_cookie` | the VI's C structure |
//! | [`ViSet`] / [`SetFilter`] | `ef_vi_set` | the PD |
//! | [`Pio`] | `ef_pio` | the PD |
//! | [`ViGroup`] | VIs on one event queue (`evq_opt`) | its VIs; each holds the queue's owner |
//! | [`TxAlternatives`] | `ef_vi_transmit_alt_alloc` | borrows its VI |
//! | [`TxWarm`] | `ef_vi_start_transmit_warm` | borrows its VI |
//!
//! Long-lived handles share their parents through [`Arc`](std::sync::Arc)s, so an
//! application may keep all of them in one struct (see `examples/one_struct.rs`); lifetimes
//! appear only on short views (a packet borrowed from an X3 adapter, [`RxRefPacket`]).
//!
//! # Example
//!
//! Receive UDP datagrams sent to port 5000 on `lo`, as `efsink` does:
//!
//! ```no_run
//! use etherfabric::*;
//!
//! # fn main() -> Result<()> {
//! let driver = Driver::open()?;
//! let pd = ProtectionDomain::by_name(&driver, "lo", PdFlags::empty())?;
//! let mut pool = BufferPool::alloc(&pd, 512, DEFAULT_BUF_SIZE)?;
//! let mut vi = Vi::builder(&pd).txq_capacity(Some(0)).build(&pool)?;
//! let _filter = vi.add_filter(&"udp:127.0.0.1:5000".parse()?)?;
//! vi.refill(&mut pool, 256);
//! let mut events: [Event; 32] = Default::default();
//! loop {
//!     for ev in vi.poll(&mut events) {
//!         match ev.take() {
//!             Event::Rx(rx) => {
//!                 println!("{} bytes", vi.frame(&rx).len());
//!                 vi.post(rx.buf).map_err(|r| r.error)?; // back to the ring
//!             }
//!             Event::RxDiscard(d) => vi.post(d.buf).map_err(|r| r.error)?,
//!             _ => {}
//!         }
//!     }
//! }
//! # }
//! ```
//!
//! [`Vi::poll_each`] is the same loop without the event array: the closure gets the VI and
//! each event by value, and the decoding inlines into it (the fastest way to poll; see
//! `benches/loops.rs`).
//!
//! # Safety model
//!
//! Safe code cannot make the adapter write memory that Rust code may be using, nor free
//! anything the adapter or the library may still use:
//!
//! 1. **Buffers belong to whoever holds their token.** A [`PacketBuf`] is the only way to read
//!    or write a packet buffer, is neither `Copy` nor `Clone`, and is *moved* into the VI by
//!    [`Vi::post`], [`Vi::transmit`] and friends. It comes back only from the event that
//!    completes its descriptor ([`Event::Rx`], [`Event::RxDiscard`],
//!    [`Vi::transmit_unbundle`], [`Vi::receive_unbundle`], [`Vi::recover_tx_error`]), and
//!    those completion values are not `Clone` either, so a buffer is never handed out twice.
//!    The token is two integers: nothing is checked on the hot path except that it belongs
//!    to the VI's pool.
//!
//!    ```compile_fail,E0382
//!    # fn f(vi: &mut etherfabric::Vi, pool: &etherfabric::BufferPool, mut buf: etherfabric::PacketBuf) {
//!    vi.post(buf).unwrap();
//!    pool.bytes_mut(&mut buf)[0] = 1; // the buffer was moved into the RX ring
//!    # }
//!    ```
//!
//! 2. **Memory outlives every VI that may write it, and every view of it.** A VI holds its
//!    pool's memory regions, which hold the memory and the protection domain; the driver
//!    handle closes last. This is shared ownership, so dropping the application's handles in
//!    any order is safe (the C objects are freed when the last user goes). Byte views borrow
//!    the pool, so they cannot outlive it:
//!
//!    ```compile_fail,E0505
//!    # fn f(pool: etherfabric::BufferPool, buf: etherfabric::PacketBuf) {
//!    let bytes = pool.bytes(&buf);
//!    drop(pool); // the view still borrows the pool's memory
//!    let _ = bytes[0];
//!    # }
//!    ```
//!
//!    and a frame view borrows both the VI and the buffer token, so the buffer cannot go back
//!    to the ring while the frame is read:
//!
//!    ```compile_fail,E0505
//!    # fn f(vi: &mut etherfabric::Vi, rx: etherfabric::RxEvent) {
//!    let frame = vi.frame(&rx);
//!    vi.post(rx.buf).unwrap(); // the frame still borrows the buffer
//!    let _ = frame[0];
//!    # }
//!    ```
//!
//! 3. **Views end before the next poll.** Packets borrowed from X3/X4 adapters
//!    ([`Vi::rx_ref`]) borrow the VI mutably, so the VI cannot poll (and the adapter cannot
//!    reuse the packet) while the view lives; a buffer view borrows its token, which cannot
//!    be posted while the view lives.
//!
//!    ```compile_fail,E0499
//!    # fn f(vi: &mut etherfabric::Vi, mut evs: [etherfabric::Event; 4]) {
//!    let first = &vi.poll(&mut evs)[0];
//!    vi.poll(&mut evs); // `evs` still borrowed by `first`
//!    let _ = first;
//!    # }
//!    ```
//!
//! 4. **One VI, one thread.** ef_vi functions are not thread-safe: [`Vi`] is `Send` but not
//!    `Sync`, and its data path takes `&mut self`. Control-path objects are `Send + Sync`
//!    and serialise their calls inside; a [`Filter`] dropped on another thread while its VI
//!    lives is removed by the VI's next poll, so ef_vi calls on one VI never overlap.
//!
//! 5. **Modes of a VI are guards that borrow it.** TX alternatives ([`Vi::tx_alternatives`])
//!    and transmit warming ([`Vi::start_transmit_warm`]) end when their guard is dropped,
//!    before the VI can be (alternatives are freed, warming stops), and an alternative is
//!    named by a [`TxAltId`] checked against its allocation, never by a bare number. VIs
//!    sharing an event queue live in a [`ViGroup`], which polls the queue and decodes each
//!    event with the pool of the VI it belongs to; the queue's owner is freed last.
//!    [`Vi::flush`] consumes the VI, since every buffer in its rings comes back at once.
//!
//! What stays `unsafe`: registering caller memory ([`MemoryRegion::from_raw`]) and the raw
//! pointers (`as_raw`) for calls this crate does not wrap.
//!
//! # Errors
//!
//! Every fallible call returns [`Error`], which names the ef_vi function that failed and
//! carries its OS error, with variants for the cases callers branch on
//! ([`Error::Unsupported`], [`Error::NoSuchInterface`], [`Error::Permission`],
//! [`Error::VersionMismatch`], [`Error::RingFull`]). Calls that take a buffer give it back in
//! a [`Rejected`] when they fail. Nothing panics on bad input; the byte accessors panic only
//! when given a buffer of another pool.
//!
//! # Backends
//!
//! [`backend()`] says whether the program runs on the vendor library or on the software
//! backend of `etherfabric-sys` (`AF_PACKET`, any Linux interface, needs `CAP_NET_RAW`).
//!
//! # Not covered yet
//!
//! Packed-stream events are decoded ([`Event::RxPackedStream`]) and their buffers walked
//! ([`PackedStreamPackets`]), but the crate does not yet own packed-stream buffers for a VI
//! (posting them and lending a received one); the software backend has no packed-stream VIs.

#![deny(missing_docs)]

/// The raw bindings this crate is built on.
pub use etherfabric_sys as ffi;

mod backend;
mod driver;
mod error;
mod event;
mod filter;
mod memory;
mod packed_stream;
mod pd;
mod pio;
mod pool;
mod set;
mod vi;

pub use backend::{Backend, BackendKind, backend};
pub use driver::Driver;
pub use error::{Error, Rejected, Result};
pub use event::{
    DiscardKind, Event, PackedStreamEvent, RxDiscardEvent, RxEvent, RxFlags, RxMulti, RxMultiPkts,
    RxPacket, RxRef, SyncFlags, Timestamp, TxComplete, TxErrorKind, TxFailure, TxTimestampEvent,
};
pub use filter::{Filter, FilterFlags, FilterSpec, IpProto, SetFilter};
pub use memory::{HUGE_PAGE_SIZE, MemoryRegion, NIC_PAGE_SIZE};
pub use packed_stream::{PACKED_STREAM_HEADER_LEN, PackedPacket, PackedStreamPackets, PsFlags};
pub use pd::{Capability, PdFlags, ProtectionDomain};
pub use pio::Pio;
pub use pool::{BufferPool, DEFAULT_BUF_SIZE, PacketBuf};
pub use set::ViSet;
pub use vi::{
    CTPIO_THRESHOLD_SNF, DiscardFlags, GroupVi, POLL_BATCH, RxRefPacket, TxAltId, TxAltOverhead,
    TxAlternatives, TxWarm, Vi, ViBuilder, ViFlags, ViGroup,
};

/// The README's example, compiled as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
