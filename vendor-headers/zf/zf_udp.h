/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: TCPDirect UDP zockets, receive (zfur) and transmit (zfut)
 * (ABI of Xilinx-CNS/tcpdirect 9.2.1).  Include <zf/zf.h>, not this file.
 */

#ifndef __ZF_UDP_RX_H__
#define __ZF_UDP_RX_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <assert.h>

struct zf_pkt_report;

/* ---------------------------------------------------------------------
 * UDP receive
 * ------------------------------------------------------------------- */

/* A UDP-receive zocket.  Opaque: only ever used through a pointer. */
struct zfur {
};

/* Creates a UDP-receive zocket in stack `st`, configured by the "zf_socket"
 * attributes of `attr`, and returns it in *us_out; it receives once bound.
 * Returns 0, -ENOBUFS (no zocket of this type left) or -EINVAL (the stack
 * has no receive path). */
ZF_LIBENTRY ZF_COLD int
zfur_alloc(struct zfur** us_out, struct zf_stack* st,
           const struct zf_attr* attr);

/* Frees a UDP-receive zocket.  Returns 0. */
ZF_LIBENTRY ZF_COLD int
zfur_free(struct zfur* us);

/* Starts receiving datagrams sent to `laddr` (a specific address, not
 * INADDR_ANY; port 0 picks a free port and writes it back into laddr) from
 * `raddr` (NULL: from anywhere).  A multicast laddr also joins the group
 * (source-specific when raddr is a specific address) until unbound or
 * freed; a remote port of 0 with a multicast laddr matches any remote port.
 * `flags` must be 0.  Returns 0, -EADDRINUSE, -EAFNOSUPPORT (not AF_INET),
 * -EBUSY (no hardware filter left), -EINVAL (bad length, or remote port 0
 * without a multicast laddr), -EFAULT or -ENOMEM. */
ZF_LIBENTRY ZF_COLD int
zfur_addr_bind(struct zfur* us, struct sockaddr* laddr,
               socklen_t laddrlen, const struct sockaddr* raddr,
               socklen_t raddrlen, int flags);

/* Undoes a zfur_addr_bind() made with the same addresses (NULL matches any).
 * `flags` must be 0.  Returns 0 or -EINVAL (no such binding). */
ZF_LIBENTRY ZF_COLD int
zfur_addr_unbind(struct zfur* us, const struct sockaddr* laddr,
                 socklen_t laddrlen, const struct sockaddr* raddr,
                 socklen_t raddrlen, int flags);

/* Zero-copy receive descriptor for zfur_zc_recv().  The caller's iovec
 * array must follow it directly in memory, typically by wrapping both in
 * one structure: `struct { struct zfur_msg msg; struct iovec iov[N]; }`. */
struct zfur_msg {
  int reserved[4];                           /* reserved; not for the application */
  /* Out: datagrams still queued after this one. */
  int dgrams_left;
  int flags;                                 /* reserved */
  /* In: entries available in iov[].  Out: entries filled. */
  int iovcnt;
  /* Out: the payload buffers of the datagram. */
  struct iovec iov[ZF_FLEXIBLE_ARRAY_COUNT];
};

/* Fills `msg` with one received datagram (iovcnt is 0 when there is none;
 * when iov[] is too short the datagram may be cut short).  `flags` is 0 or a
 * zf_zc_flags value.  The buffers belong to the zocket until
 * zfur_zc_recv_done(); leave `msg` unchanged until then. */
ZF_LIBENTRY ZF_HOT void
zfur_zc_recv(struct zfur *us,
             struct zfur_msg* msg,
             int flags);

/* Hands back the buffers of a zfur_zc_recv() that returned at least one
 * iovec (and only then). */
ZF_LIBENTRY ZF_HOT void
zfur_zc_recv_done(struct zfur* us, struct zfur_msg* msg);

/* Points *iphdr and *udphdr at the headers of packet `pktind` of `msg`,
 * e.g. to learn the sender of a zocket bound with raddr == NULL.
 * Returns 0 or a negative errno value. */
ZF_LIBENTRY ZF_HOT int
zfur_pkt_get_header(struct zfur* us, const struct zfur_msg* msg,
                    const struct iphdr** iphdr, const struct udphdr** udphdr,
                    int pktind);

/* Stores the receive timestamp (UTC) of packet `pktind` of `msg` in *ts_out
 * and its clock flags (EF_VI_SYNC_FLAG_CLOCK_SET, _CLOCK_IN_SYNC) in *flags.
 * Valid only between the zf_reactor_perform() that delivered the packet and
 * the next one, and only with the rx_timestamping attribute set.  Returns 0,
 * -ENOMSG (adapter clock not yet synchronised), -ENODATA (packet has no
 * timestamp) or -EL2NSYNC (synchronisation lost). */
ZF_LIBENTRY int
zfur_pkt_get_timestamp(struct zfur* us, const struct zfur_msg* msg,
                       struct timespec *ts_out, int pktind, unsigned* flags);

/* The waitable of a UDP-receive zocket, for the multiplexer. */
ZF_LIBENTRY struct zf_waitable*
zfur_to_waitable(struct zfur* us);

/* ---------------------------------------------------------------------
 * UDP transmit
 * ------------------------------------------------------------------- */

/* A UDP-transmit zocket: sends to one fixed destination.  Opaque. */
struct zfut {
};

/* Creates a UDP-transmit zocket from `laddr` (INADDR_ANY: chosen from the
 * route to raddr; the port must not be 0) to `raddr`; neither can change
 * later.  `flags` must be 0.  Returns 0, -EFAULT, -EHOSTUNREACH, -EINVAL
 * (bad address or length, or the stack has no transmit path) or -ENOBUFS. */
ZF_LIBENTRY ZF_COLD int
zfut_alloc(struct zfut** us_out,
           struct zf_stack* st,
           const struct sockaddr* laddr,
           socklen_t laddrlen,
           const struct sockaddr* raddr,
           socklen_t raddrlen,
           int flags,
           const struct zf_attr* attr);

/* Frees a UDP-transmit zocket.  Returns 0. */
ZF_LIBENTRY ZF_COLD int
zfut_free(struct zfut* us);

/* Largest payload zfut_send_single() accepts; fixed for a zocket. */
ZF_LIBENTRY int
zfut_get_mss(struct zfut *us);

/* zfut_send() flag: do not fragment (sets DF in the IP header). */
#define ZFUT_FLAG_DONT_FRAGMENT IP_DF

/* Sends one unfragmented datagram (DF set) of buflen <= zfut_get_mss()
 * bytes, by PIO when it is small enough.  Returns buflen, -EAGAIN (transmit
 * queue full: run the reactor and retry) or -ENOBUFS. */
ZF_LIBENTRY ZF_HOT ZF_NOCLONE int
zfut_send_single(struct zfut *us, const void* buf, size_t buflen);

/* Runs the zfut_send_single() path without sending, to keep it in cache;
 * `buf` need not hold the real data.  Only the PIO/CTPIO path is warmed.
 * Returns buflen, -EAGAIN (run the reactor first), -EMSGSIZE or -ENOBUFS. */
ZF_LIBENTRY ZF_HOT int
zfut_send_single_warm(struct zfut *us, const void* buf, size_t buflen);

/* Sends one datagram gathered from `iov`, split into IP fragments when
 * needed unless ZFUT_FLAG_DONT_FRAGMENT is in `flags` (then it must fit the
 * MSS).  Returns the payload length, -EAGAIN, -EMSGSIZE or -ENOBUFS. */
ZF_LIBENTRY ZF_HOT int
zfut_send(struct zfut *us, const struct iovec* iov, int iov_cnt, int flags);

/* Copies up to *count_in_out transmit timestamp reports (one per datagram;
 * for a fragmented datagram, that of its last fragment) into reports_out
 * and sets *count_in_out to the number copied.  Needs the tx_timestamping
 * attribute.  Returns 0 or a negative errno value. */
ZF_LIBENTRY int
zfut_get_tx_timestamps(struct zfut* us,
                       struct zf_pkt_report* reports_out,
                       int* count_in_out);

/* The waitable of a UDP-transmit zocket, for the multiplexer. */
ZF_LIBENTRY struct zf_waitable*
zfut_to_waitable(struct zfut* us);

/* Bytes of protocol headers in each packet of this zocket; cannot fail. */
ZF_LIBENTRY unsigned
zfut_get_header_size(struct zfut *us);

#endif /* __ZF_UDP_RX_H__ */
