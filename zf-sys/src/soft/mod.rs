//! Software backend: the TCPDirect C API implemented in Rust over non-blocking kernel sockets.
//!
//! Each exported function has the C name and the signature of the bindings, so the bindings'
//! `extern "C"` declarations resolve to it (all 90 functions of the pinned ABI, plus
//! `onload_version_short`, which the headers also declare). The behaviour follows TCPDirect's
//! documentation:
//!
//! * nothing blocks except `zf_muxer_wait`, which busy-polls the reactor until an event or its
//!   timeout and never sleeps in the kernel, as TCPDirect's does (a thread that wants to sleep
//!   waits on `zf_waitable_fd_get`'s fd); network progress (connection setup, moving received
//!   data from the kernel into the zockets, closing handshakes, timers) happens only inside
//!   `zf_reactor_perform` and `zf_muxer_wait`;
//! * `zft_connect` returns a zocket in `SYN_SENT` (where `zft_send` says `-EAGAIN`); failures
//!   show up later through `zft_error`, the receive calls and the muxer
//!   (`EPOLLERR|EPOLLHUP|EPOLLIN`); a reset ends in `CLOSED` with `ECONNRESET` however it is
//!   first noticed;
//! * zero-copy receive buffers stay valid until `zft_zc_recv_done(_some)` /
//!   `zfur_zc_recv_done`; end of stream is a zero-length iovec that stays queued;
//! * sends may be partial; `zft_send_space` is a promise (a send of at most that much is
//!   accepted whole), and `EPOLLOUT` is reported only when it is non-zero; the muxer is
//!   edge-triggered with opt-in `EPOLLHUP`/`EPOLLERR`; with `tx_timestamping` a zocket is
//!   ready for `EPOLLERR` while transmit reports wait for `zft_get_tx_timestamps` /
//!   `zfut_get_tx_timestamps`; a listener is reported again after
//!   each accept while connections wait, and `zf_stack_has_pending_work` also says yes
//!   while a muxer has events its caller has not collected;
//! * attributes have TCPDirect's names, types, defaults, `ZF_ATTR` parsing and errors;
//! * errors are negative errno values; null or malformed arguments give errors, not crashes.
//!
//! Differences from a NIC-backed stack, by necessity:
//!
//! * the kernel builds the packets: the MTU is the smaller of the interface MTU and the hidden
//!   attribute `emu_mtu` (default 1500), TCP receive buffers hold up to 16 KiB rather than one
//!   segment, and timestamps are software time (kernel `SO_TIMESTAMPNS` for UDP receive, the
//!   reactor's read time for TCP receive, the send call's time for transmit reports; the
//!   ring's capture time for UDP received through the ring);
//! * PIO/CTPIO do not exist (`zf_stack_query_feature` says 0); the reactor does not spin
//!   (`reactor_spin_count` is accepted but unused);
//! * TCPDirect does not receive fragmented UDP datagrams (`zf_udp.h`: not yet supported); this
//!   backend gets them reassembled from the kernel and delivers those larger than the MTU,
//!   while on a ring-served port (below) one that fits the MTU yet arrived in fragments is
//!   lost, as the ring refuses fragments and the port's socket keeps only a stub of it;
//!   applications should not rely on either;
//! * overlapped receive is emulated under the conditions TCPDirect reports it (see below),
//!   with "packets from the future" that have always arrived whole and good by the time the
//!   application looks: the kernel hands over complete data only;
//! * TCP sequence numbers in delegated-send headers are the backend's own (the kernel's cannot
//!   be read without CAP_NET_ADMIN), and `zf_delegated_send_complete` sends the reported bytes
//!   through the kernel socket; alternatives are sent through the kernel socket too;
//! * UDP sockets are per local address and port, shared by the stack's zfur bindings and zfut
//!   zockets on that address (receive filtering by remote address is done in software); a
//!   UDP-only stack with at most two ports polls them directly instead of through epoll, and
//!   its sockets join the epoll set only when something waits on it (a blocking wait,
//!   `zf_waitable_fd_get`, `zf_stack_has_pending_*`, whose first answer before that is a
//!   conservative "yes");
//! * UDP receive with `CAP_NET_RAW`: the stack polls a shared-memory ring (see `ring.rs`), as a
//!   NIC-backed stack polls its receive queue, and sees what arrives on its interface or on
//!   `lo`. Datagrams too large for the MTU (possible on `lo`), and datagrams that arrive in IP
//!   fragments, are read from the socket instead (large ones when the ring rings their
//!   doorbell, in order; reassembled ones with the port's next stub, or at the next look at
//!   the sockets, in the first idle pass after 16384 direct reactor passes, or at once when a
//!   blocking wait is in progress). The sockets get empty stubs of what the ring carries (a
//!   filter that dropped those instead would make the kernel count each as a UDP receive
//!   error), read and discarded in the reactor's idle passes, when nothing new is in the
//!   ring (or in batches under a flood). Without the capability every datagram is read from its socket, from any
//!   interface; its headers are written from the TTL and TOS the kernel reports, when
//!   `zfur_pkt_get_header` asks for them.
//!
//! # Overlapped receive
//!
//! TCPDirect's reactor looks into the next receive buffer before the NIC's completion event
//! and, when a packet is arriving for a zocket that a muxer watches for
//! `ZF_EPOLLIN_OVERLAPPED`, has `zf_muxer_wait` return that event alone (for TCP only for
//! in-order data on an established connection; for both only when the zocket has no backlog,
//! and only when nothing else in the muxer is ready). The backend does the same with the data
//! a `zf_muxer_wait` reactor pass reads from the kernel: when a zocket watched for
//! `ZF_EPOLLIN_OVERLAPPED` had nothing queued before the pass and holds exactly one new
//! buffer (TCP: in `ESTABLISHED`) or datagram after it, and no other member of the muxer is
//! ready, the wait returns one event, `ZF_EPOLLIN_OVERLAPPED`, and no `EPOLLIN` for that
//! packet. (Data that `zf_reactor_perform` read earlier has "arrived" already and is reported
//! as `EPOLLIN`, as is a packet that comes with other events.) Then, on that zocket:
//!
//! * `zft_zc_recv` / `zfur_zc_recv` with `ZF_OVERLAPPED_WAIT` (and `iov[0].iov_len` set to the
//!   bytes to wait for) return at once with `iovcnt` 1 and `iov[0]` the first that many bytes
//!   of the payload (all of it when shorter); nothing is held, and the step may be repeated;
//! * with `ZF_OVERLAPPED_COMPLETE` the packet "has passed verification": the call is a plain
//!   zero-copy receive of that one packet (`iovcnt` 1), which `zft_zc_recv_done(_some)` /
//!   `zfur_zc_recv_done` releases as usual.
//!
//! A packet the application does not complete before its next `zf_muxer_wait` on that muxer
//! is reported by that wait as plain `EPOLLIN`, as TCPDirect does with an abandoned
//! overlapped receive; `zf_muxer_mod` and `zf_muxer_del` of the zocket also end it. Either
//! step on a zocket without an overlapped packet (the real library asserts against that)
//! sets `iovcnt` to 0 and leaves the data queued for a plain receive. Packets never fail
//! verification here, so `ZF_OVERLAPPED_COMPLETE` never returns `iovcnt` 0 after a
//! successful wait.
//!
//! # Where things are
//!
//! | file | holds |
//! | --- | --- |
//! | `util.rs` | system-call wrappers over `OwnedFd`/`AsFd`, addresses, clocks, checksums |
//! | `attr.rs` | attributes (`zf_attr_*`), `ZF_ATTR` |
//! | `ring.rs` | the `AF_PACKET` receive ring and the socket filters that go with it |
//! | `stack.rs` | the stack, its waitable, the reactor pass, library initialisation |
//! | `muxer.rs` | muxers (`zf_muxer_*`), `zf_waitable_*` |
//! | `tcp.rs` | TCP zockets and listeners (`zft_*`, `zftl_*`), transmit reports |
//! | `udp.rs` | UDP ports, receive and transmit zockets (`zfur_*`, `zfut_*`) |
//! | `alts.rs`, `ds.rs` | TCP alternatives; delegated sends |
//!
//! Each object owns what it holds: descriptors are `OwnedFd`s that close when their object
//! drops, and the stack owns every zocket, port and muxer made in it, so freeing a stack is
//! dropping it (its `Drop` frees the rest). Closing a TCP socket with a reset is setting
//! `SO_LINGER` to zero before the zocket drops. Socket options the zockets rely on are
//! checked, and a refusal fails the call that needed them.
//!
//! # Safety docs of the exported functions
//!
//! The same rule as the ef_vi backend's: an exported C function is an `unsafe extern "C" fn`
//! exactly when its correctness depends on something the caller passes that the backend cannot
//! check (a pointer it reads or writes, an object such as a stack or a zocket it must trust was
//! made here and is still live), and then its `# Safety` section says, in TCPDirect's terms,
//! what each such argument must be. A function that dereferences nothing it is given (no
//! arguments, integers only, or pointers it ignores or only compares with null) is a safe
//! `extern "C" fn` without a `# Safety` section. (C callers see the same prototypes either
//! way; the bindings declare them all `unsafe`.) Null pointers are checked wherever a function
//! reads or writes through one.
//!
//! The sections use three words in one sense throughout. A *live* object was returned by its
//! allocation call (a stack by `zf_stack_alloc`; a TCP handle by `zft_alloc`; a TCP zocket by
//! `zft_connect` or `zftl_accept`; a listening zocket by `zftl_listen`; UDP zockets by
//! `zfur_alloc` and `zfut_alloc`; a muxer by `zf_muxer_alloc`; an attribute object by
//! `zf_attr_alloc` or `zf_attr_dup`; a waitable by a `*_to_waitable` call on a live object)
//! and has not been freed, nor has the stack it belongs to, and no other call on that stack
//! runs on another thread meanwhile (TCPDirect's stacks are single-threaded; the exceptions say
//! so). A *dead* object must not be passed again. *Readable* and *writable* memory is valid
//! for reads (writes) of the bytes named, aligned for its type. Private helpers that dereference a raw pointer are `unsafe fn`
//! with a `# Safety` section too; methods of the soft objects rely on the invariants of the
//! pointers they hold, documented where the objects are defined (a zocket's `stack` outlives
//! it; the pointers in a stack's lists are live objects it owns).

mod alts;
mod attr;
mod ds;
mod muxer;
mod ring;
mod stack;
mod tcp;
mod udp;
mod util;
