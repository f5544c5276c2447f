/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: TCPDirect TCP zockets: listening (zftl), connecting
 * (zft_handle) and connected (zft) (ABI of Xilinx-CNS/tcpdirect 9.2.1).
 * None of these calls block, except that connecting may wait for address
 * resolution.  Include <zf/zf.h>, not this file.
 */

#ifndef __ZF_TCP_H__
#define __ZF_TCP_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

#include <netinet/in.h>
#include <sys/uio.h>

struct zftl;
struct zft;
struct zft_msg;
struct timespec;
struct zf_pkt_report;

/* ---------------------------------------------------------------------
 * Passive open
 * ------------------------------------------------------------------- */

/* A listening TCP zocket.  Opaque. */
struct zftl {
};

/* Listens on `laddr`, a single local AF_INET address (not INADDR_ANY), with
 * the "zf_socket" attributes of `attr`; the zocket is returned in *tl_out.
 * Returns 0, -EFAULT, -EADDRINUSE, -EADDRNOTAVAIL, -EAFNOSUPPORT, -EINVAL
 * (already listening, or bad length), -ENOBUFS, -ENOMEM or -EOPNOTSUPP
 * (INADDR_ANY). */
ZF_LIBENTRY ZF_COLD int
zftl_listen(struct zf_stack* st, const struct sockaddr* laddr,
            socklen_t laddrlen, const struct zf_attr* attr,
            struct zftl** tl_out);

/* Takes the next incoming connection as a new zocket in *ts_out, which the
 * caller owns.  Returns 0 or -EAGAIN (none waiting). */
ZF_LIBENTRY ZF_COLD int zftl_accept(struct zftl* tl, struct zft** ts_out);

/* The waitable of a listening zocket, for the multiplexer. */
ZF_LIBENTRY ZF_COLD struct zf_waitable* zftl_to_waitable(struct zftl* tl);

/* Stores the local address in *laddr_out.  *laddrlen gives the buffer size
 * on entry and the full address size on return (larger than the buffer
 * when the address was truncated). */
ZF_LIBENTRY void
zftl_getname(struct zftl* ts, struct sockaddr* laddr_out, socklen_t* laddrlen);

/* Stops listening and drops connections not yet accepted.  The zocket lives
 * on (refusing connections, and holding its port) until every zocket it
 * accepted has been freed.  Returns 0. */
ZF_LIBENTRY ZF_COLD int zftl_free(struct zftl* ts);

/* ---------------------------------------------------------------------
 * Active open
 * ------------------------------------------------------------------- */

/* A TCP zocket not yet connected.  Opaque. */
struct zft_handle;

/* A connected TCP zocket.  Opaque. */
struct zft {
};

/* The waitable of a TCP zocket, for the multiplexer. */
ZF_LIBENTRY struct zf_waitable*
zft_to_waitable(struct zft* ts);

/* Creates an unconnected TCP zocket with the "zf_socket" attributes of
 * `attr`; the handle in *handle_out must be passed to zft_connect() or
 * freed with zft_handle_free().  Returns 0 or -ENOBUFS. */
ZF_LIBENTRY ZF_COLD int
zft_alloc(struct zf_stack* st, const struct zf_attr* attr,
          struct zft_handle** handle_out);

/* Frees an unconnected zocket.  Returns 0. */
ZF_LIBENTRY ZF_COLD int
zft_handle_free(struct zft_handle* handle);

/* Stores the local address of a bound handle, as zftl_getname() does.
 * Undefined when the handle is not bound. */
ZF_LIBENTRY void
zft_handle_getname(struct zft_handle* ts, struct sockaddr* laddr_out,
                   socklen_t* laddrlen);

/* Binds an unconnected zocket to local address `laddr`.  `flags` must be 0.
 * Returns 0, -EADDRINUSE, -EADDRNOTAVAIL, -EAFNOSUPPORT, -EFAULT, -EINVAL
 * (already bound, bad flags or length) or -ENOMEM. */
ZF_LIBENTRY ZF_COLD int
zft_addr_bind(struct zft_handle* handle, const struct sockaddr* laddr,
              socklen_t laddrlen, int flags);

/* Starts connecting to `raddr` and, on success, replaces the handle (no
 * longer valid) with a zocket in *ts_out, in SYN_SENT.  The call does not
 * wait for the connection but may wait up to the attribute
 * arp_reply_timeout for address resolution.  A refused or failed connection
 * shows up later: in receive calls (-ENOTCONN until established) or
 * zft_error().  Binds to a suitable local address when not bound.
 * Returns 0, -EAFNOSUPPORT, -EADDRINUSE, -EBUSY, -EFAULT, -EHOSTUNREACH,
 * -ENOMEM or -EINVAL; on failure the handle stays valid. */
ZF_LIBENTRY ZF_COLD int
zft_connect(struct zft_handle* handle, const struct sockaddr* raddr,
            socklen_t raddrlen, struct zft** ts_out);

/* Closes the sending direction once queued data is sent; receiving goes on.
 * Returns 0, -ENOTCONN, -EAGAIN (send queue full), -ENOMEM or -EBUSY (a
 * delegated send is in progress). */
ZF_LIBENTRY ZF_COLD int
zft_shutdown_tx(struct zft* ts);

/* Frees a zocket, shutting the connection down first if needed; do not use
 * `ts` afterwards.  Returns 0. */
ZF_LIBENTRY ZF_COLD int
zft_free(struct zft* ts);

/* The TCP state of the zocket, as a TCP_* constant (e.g. TCP_ESTABLISHED). */
ZF_LIBENTRY int
zft_state(struct zft* ts);

/* The pending error of the zocket, like SO_ERROR: 0, ECONNREFUSED,
 * ECONNRESET, ETIMEDOUT, or EPIPE (the peer closed and refused data we
 * sent). */
ZF_LIBENTRY int
zft_error(struct zft* ts);

/* Stores the local and/or the remote address (either pointer may be NULL),
 * with the length convention of zftl_getname(). */
ZF_LIBENTRY void
zft_getname(struct zft* ts, struct sockaddr* laddr_out, socklen_t* laddrlen,
            struct sockaddr* raddr_out, socklen_t* raddrlen);

/* ---------------------------------------------------------------------
 * Receive
 * ------------------------------------------------------------------- */

/* Zero-copy receive descriptor for zft_zc_recv().  The caller's iovec array
 * must follow it directly in memory, typically by wrapping both in one
 * structure: `struct { struct zft_msg msg; struct iovec iov[N]; }`. */
struct zft_msg {
  int reserved[4];                           /* reserved; not for the application */
  /* Out: packets still queued after this read. */
  int pkts_left;
  int flags;                                 /* reserved */
  /* In: entries available in iov[].  Out: entries filled. */
  int iovcnt;
  /* Out: the payload buffers of the received packets. */
  struct iovec iov[ZF_FLEXIBLE_ARRAY_COUNT];
};

/* Fills `msg` with buffers of received data; fewer iovecs than provided
 * only when no more data is queued.  End of stream shows as a final
 * zero-length iovec (zft_zc_recv_done() then tells why).  `flags` is 0 or a
 * zf_zc_flags value.  The buffers belong to the zocket until
 * zft_zc_recv_done() or zft_zc_recv_done_some(); leave `msg` unchanged until
 * then. */
ZF_LIBENTRY ZF_HOT void
zft_zc_recv(struct zft *ts,
            struct zft_msg* msg,
            int flags);

/* Hands back all the buffers of a zft_zc_recv() that returned at least one
 * iovec (and only then).  Returns > 0 while the connection can still
 * receive, 0 at end of stream, or -ECONNREFUSED, -ECONNRESET, -EPIPE,
 * -ETIMEDOUT. */
ZF_LIBENTRY ZF_HOT int
zft_zc_recv_done(struct zft* ts, struct zft_msg* msg);

/* Like zft_zc_recv_done() but consumes only the first `len` bytes (at most
 * the total received); the rest is returned again by the next receive. */
ZF_LIBENTRY ZF_HOT int
zft_zc_recv_done_some(struct zft* ts, struct zft_msg* msg, size_t len);

/* Copies received data into the `iovcnt` (> 0) buffers of `iov`, filling
 * them as far as data allows.  `flags` must be 0.  Returns the bytes copied,
 * 0 at end of stream, -EAGAIN when no data is available on an open
 * connection, or an error as for zft_zc_recv_done(). */
ZF_LIBENTRY ZF_HOT int
zft_recv(struct zft* ts,
         const struct iovec* iov,
         int iovcnt,
         int flags);

/* Receive timestamp of packet `pktind` of `msg`, as zfur_pkt_get_timestamp()
 * describes. */
ZF_LIBENTRY ZF_HOT int
zft_pkt_get_timestamp(struct zft* ts, const struct zft_msg* msg,
                      struct timespec* ts_out, int pktind, unsigned* flags);

/* ---------------------------------------------------------------------
 * Send
 * ------------------------------------------------------------------- */

/* Queues the data of `iov` (iov_cnt > 0 entries, none empty) and sends what
 * it can now; the buffers can be reused on return.  `flags` is 0 or
 * MSG_MORE (hold back a final segment smaller than the MSS; only a later
 * send without MSG_MORE is sure to push it out).  Packet boundaries are not
 * preserved.  When the queue lacks room for everything, only part is
 * queued.  Returns the bytes queued, -EINVAL, -ENOTCONN, -EAGAIN (no room at
 * all) or -ENOMEM (not enough packet buffers: nothing queued). */
ZF_LIBENTRY ZF_HOT ssize_t
zft_send(struct zft *ts, const struct iovec* iov, int iov_cnt, int flags);

/* zft_send() of a single buffer. */
ZF_LIBENTRY ZF_HOT ZF_NOCLONE ssize_t
zft_send_single(struct zft *ts, const void* buf, size_t buflen, int flags);

/* Runs the zft_send_single() path without sending, to keep it in cache;
 * `buf` need not hold the real data.  Only the empty-queue PIO/CTPIO path is
 * warmed.  Returns the bytes that would be sent, -EAGAIN (earlier sends in
 * flight: run the reactor), -EMSGSIZE (too long for PIO), -ENOTCONN or
 * -ENOMEM. */
ZF_LIBENTRY ZF_HOT ssize_t
zft_send_single_warm(struct zft *ts, const void* buf, size_t buflen);

/* Stores in *space how many bytes zft_send() could queue now (which depends
 * on how the queue is fragmented).  Returns 0 or -ENOTCONN. */
ZF_LIBENTRY int
zft_send_space(struct zft *ts, size_t *space);

/* The maximum segment size of the connection, or -ENOTCONN. */
ZF_LIBENTRY int
zft_get_mss(struct zft *ts);

/* Bytes of protocol headers in each packet of this zocket; cannot fail. */
ZF_LIBENTRY unsigned
zft_get_header_size(struct zft *ts);

/* Copies up to *count_in_out transmit timestamp reports (one per segment,
 * plus the SYN and FIN; retransmissions are flagged) into `reports` and
 * sets *count_in_out to the number copied.  Needs the tx_timestamping
 * attribute.  Returns 0 or a negative errno value. */
ZF_LIBENTRY int
zft_get_tx_timestamps(struct zft* ts,
                      struct zf_pkt_report* reports,
                      int* count_in_out);

#endif /* __ZF_TCP_H__ */
