/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: the project's own declaration of the Onload Extensions API
 * (the ABI of Xilinx-CNS/onload ef17681d36a1, release 10.0.0; see
 * vendor-headers/SDK_VERSION).
 *
 * These calls act on ordinary sockets accelerated by Onload.  They are
 * provided by libonload_ext, whose stubs give a defined "not accelerated"
 * answer when the process does not run under Onload.
 */

#ifndef __ONLOAD_EXTENSIONS_H__
#define __ONLOAD_EXTENSIONS_H__

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <onload/extensions_timestamping.h>

#ifdef __cplusplus
extern "C" {
#endif

/* send()/sendto()/sendmsg()/onload_zc_send() flag: run the send path
 * without sending, to keep it warm in the caches.  The call may return 0
 * when the send could not have happened (lock busy, window closed, queued
 * data...).  On a socket that is NOT accelerated the data really is sent,
 * so check each socket (onload_fd_stat() or onload_fd_check_feature(),
 * after bind() and connect()) before using it.  Same value as the unused
 * kernel flag MSG_SYN. */
#define ONLOAD_MSG_WARM 0x400

/* recv()/recvfrom()/recvmsg() flag: return data only up to the end of the
 * next packet.  Rejected together with MSG_WAITALL. */
#define ONLOAD_MSG_ONEPKT 0x20000

/* SO_TIMESTAMPING flag for TCP sockets: report per-segment transmit times
 * through MSG_ERRQUEUE as struct onload_scm_timestamping_stream.  The only
 * valid transmit combination is SOF_TIMESTAMPING_TX_HARDWARE |
 * SOF_TIMESTAMPING_SYS_HARDWARE | ONLOAD_SOF_TIMESTAMPING_STREAM.  Segments
 * Onload sent through the kernel have timestamp 0. */
#define ONLOAD_SOF_TIMESTAMPING_STREAM (1 << 23)

/* Control message type of those error-queue reports. */
#define ONLOAD_SCM_TIMESTAMPING_STREAM ONLOAD_SOF_TIMESTAMPING_STREAM

/* One ONLOAD_SCM_TIMESTAMPING_STREAM report. */
struct onload_scm_timestamping_stream {
  /* when the segment was first sent */
  struct timespec  first_sent;
  /* when it was last sent; 0 when never retransmitted */
  struct timespec  last_sent;
  /* payload bytes in the segment */
  size_t           len;
};

/* 1 when the process runs under Onload, 0 when not. */
extern int onload_is_present(void);

/* ---------------------------------------------------------------------
 * Stack names: which Onload stack new sockets go to
 * ------------------------------------------------------------------- */

/* How widely a stack name is shared. */
enum onload_stackname_scope {
  ONLOAD_SCOPE_NOCHANGE,  /* keep the current scope */
  ONLOAD_SCOPE_THREAD,    /* per thread */
  ONLOAD_SCOPE_PROCESS,   /* per process */
  ONLOAD_SCOPE_USER,      /* per user */
  ONLOAD_SCOPE_GLOBAL     /* system-wide */
};

/* Whom a stack name applies to. */
enum onload_stackname_who {
  ONLOAD_THIS_THREAD,     /* the calling thread */
  ONLOAD_ALL_THREADS      /* every thread of the process */
};

/* Stack name meaning "do not accelerate new sockets". */
#define ONLOAD_DONT_ACCELERATE NULL

/* Selects the stack (by name, in `scope`) that sockets created from now on
 * by `who` belong to.  Returns 0 or a negative value. */
extern int onload_set_stackname(enum onload_stackname_who who,
                                enum onload_stackname_scope scope,
                                const char* stackname);

/* Saves the calling thread's stack-name setting on a per-thread stack. */
extern int onload_stackname_save(void);

/* Restores the setting saved last by onload_stackname_save(). */
extern int onload_stackname_restore(void);

/* Sets an Onload option (EF_*) with an integer value for stacks created
 * from now on by this thread. */
extern int onload_stack_opt_set_int(const char* opt, int64_t val);

/* Reads the integer value of an option as it applies to new stacks. */
extern int onload_stack_opt_get_int(const char* opt, int64_t* val);

/* Sets an Onload option with a string value for stacks created from now
 * on by this thread. */
extern int onload_stack_opt_set_str(const char* opt, const char* val);

/* Reads the string value of an option into val_out, of *val_out_len bytes.
 * When that is too small it returns -ENOSPC and stores the size needed in
 * *val_out_len. */
extern int
onload_stack_opt_get_str(const char* opt, char* val_out, size_t* val_out_len);

/* Forgets every option set with onload_stack_opt_set_*(). */
extern int onload_stack_opt_reset(void);

/* ---------------------------------------------------------------------
 * What Onload knows of a file descriptor
 * ------------------------------------------------------------------- */

/* Filled in by onload_fd_stat() for an accelerated descriptor. */
struct onload_stat {
  /* number of the stack holding the socket */
  int32_t   stack_id;
  /* name of that stack; allocated for the caller, who must free() it */
  char*     stack_name;
  /* number of the socket within its stack */
  int32_t   endpoint_id;
  /* internal state of the socket; the encoding may change between
   * releases */
  int32_t   endpoint_state;
};

/* Returns 1 and fills *stat when `fd` is accelerated by Onload, 0 when it
 * is not.  Handy for matching application state with onload_stackdump. */
extern int onload_fd_stat(int fd, struct onload_stat* stat);

/* ---------------------------------------------------------------------
 * Spinning, per thread
 * ------------------------------------------------------------------- */

/* The kinds of blocking call whose spinning can be switched per thread.
 * ONLOAD_SPIN_MAX, unlike every other value of this API, may change between
 * releases as kinds are added. */
enum onload_spin_type {
  ONLOAD_SPIN_ALL,          /* every kind at once */
  ONLOAD_SPIN_UDP_RECV,     /* UDP receive */
  ONLOAD_SPIN_UDP_SEND,     /* UDP send */
  ONLOAD_SPIN_TCP_RECV,     /* TCP receive */
  ONLOAD_SPIN_TCP_SEND,     /* TCP send */
  ONLOAD_SPIN_TCP_ACCEPT,   /* TCP accept */
  ONLOAD_SPIN_PIPE_RECV,    /* pipe read */
  ONLOAD_SPIN_PIPE_SEND,    /* pipe write */
  ONLOAD_SPIN_SELECT,       /* select() */
  ONLOAD_SPIN_POLL,         /* poll() */
  ONLOAD_SPIN_PKT_WAIT,     /* waiting for a free packet buffer */
  ONLOAD_SPIN_EPOLL_WAIT,   /* epoll_wait() */
  ONLOAD_SPIN_STACK_LOCK,   /* taking the stack lock */
  ONLOAD_SPIN_SOCK_LOCK,    /* taking a socket lock */
  ONLOAD_SPIN_SO_BUSY_POLL, /* sockets with SO_BUSY_POLL */
  ONLOAD_SPIN_TCP_CONNECT,  /* TCP connect */
  ONLOAD_SPIN_MIMIC_EF_POLL, /* the kinds EF_POLL_USEC turns on (the spin
                              * time itself is configured separately) */
  ONLOAD_SPIN_MAX           /* one past the last valid kind */
};

/* Turns spinning for `type` on (spin != 0) or off for the calling thread,
 * overriding the Onload configuration. */
extern int onload_thread_set_spin(enum onload_spin_type type, int spin);

/* Stores the calling thread's spin settings in *state, one bit per
 * onload_spin_type. */
extern int onload_thread_get_spin(unsigned* state);

/* ---------------------------------------------------------------------
 * Feature checks
 * ------------------------------------------------------------------- */

/* Features onload_fd_check_feature() can test. */
enum onload_fd_feature {
  /* the descriptor supports ONLOAD_MSG_WARM */
  ONLOAD_FD_FEAT_MSG_WARM = 0,
  /* UDP transmit timestamps come with the packet headers */
  ONLOAD_FD_FEAT_UDP_TX_TS_HDR = 1,
  /* a transmit interface can be chosen per packet with an
   * SCM_TIMESTAMPING_PKTINFO control message */
  ONLOAD_FD_FEAT_TX_SCM_TS_PKTINFO = 2,
};

/* Returns > 0 when `fd` has `feature`, 0 when not, -EOPNOTSUPP when this
 * Onload cannot tell, -ENOSYS when the call itself is not available. */
extern int onload_fd_check_feature(int fd, enum onload_fd_feature feature);

/* Moves accelerated socket `fd` to the calling thread's current stack
 * (see onload_set_stackname()), e.g. an accepted connection away from the
 * listener's stack.  Works for closed TCP sockets, and for accepted ones
 * that have never sent and whose receive queue is untouched (no reads, no
 * urgent data).  Returns 0 when moved, -1 otherwise; either way `fd`
 * remains a working accelerated socket. */
extern int onload_move_fd(int fd);

/* ---------------------------------------------------------------------
 * Wire-order delivery
 * ------------------------------------------------------------------- */

/* Per-descriptor companion of each epoll_event returned by
 * onload_ordered_epoll_wait(). */
struct onload_ordered_epoll_event {
  /* hardware timestamp of the first readable data (tv_sec 0: none, so the
   * descriptor is not ordered relative to the others) */
  struct timespec ts;
  /* bytes that can be read without breaking the ordering */
  int bytes;
};

struct epoll_event;

/* epoll_wait() replacement that returns EPOLLIN events in the order the
 * data arrived on the wire, using hardware timestamps.  The set must hold
 * accelerated sockets of a single stack; needs EF_UL_EPOLL=1 (default) or 3;
 * EPOLLET and EPOLLONESHOT are not supported. */
int onload_ordered_epoll_wait(int epfd, struct epoll_event *events,
                              struct onload_ordered_epoll_event *oo_events,
                              int maxevents, int timeout);

/* ---------------------------------------------------------------------
 * Delegated sends: the application sends the packets of an Onload TCP
 * connection itself (e.g. through ef_vi) and Onload does the rest of the
 * protocol.
 *
 * Sequence: onload_delegated_send_prepare() reserves bytes and writes the
 * Ethernet/IP/TCP headers; for each packet, fix the headers up with
 * onload_delegated_send_tcp_update() when it is not MSS-sized or needs PSH,
 * send it, then onload_delegated_send_tcp_advance(); report what was sent
 * with onload_delegated_send_complete() (soon, so that Onload can
 * retransmit); give unsent reserved bytes back with
 * onload_delegated_send_cancel().  The caller serialises these calls, and
 * must not send on the socket by other means in between.
 * ------------------------------------------------------------------- */

/* State of a delegated send. */
struct onload_delegated_send {
  /* in: buffer receiving the headers; out: unchanged */
  void* headers;
  /* in: size of that buffer; out: length of the headers */
  int   headers_len;
  /* out: maximum payload per packet */
  int   mss;
  /* out: send window offered by the peer */
  int   send_wnd;
  /* out: congestion window */
  int   cong_wnd;
  /* out: the `size` given to onload_delegated_send_prepare() */
  int   user_size;
  /* private: offset in `headers` of the TCP sequence number */
  int   tcp_seq_offset;
  /* private: offset in `headers` of the IP total-length field */
  int   ip_len_offset;
  /* private: combined length of the IP and TCP headers */
  int   ip_tcp_hdr_len;
  /* private */
  int   reserved[5];
};

/* Results of onload_delegated_send_prepare(). */
enum onload_delegated_send_rc {
  /* ready to send */
  ONLOAD_DELEGATED_SEND_RC_OK = 0,
  /* not an accelerated, connected TCP socket able to send */
  ONLOAD_DELEGATED_SEND_RC_BAD_SOCKET,
  /* headers_len too small; it now holds the size needed */
  ONLOAD_DELEGATED_SEND_RC_SMALL_HEADER,
  /* the send queue is not empty */
  ONLOAD_DELEGATED_SEND_RC_SENDQ_BUSY,
  /* the peer's window is closed */
  ONLOAD_DELEGATED_SEND_RC_NOWIN,
  /* the destination MAC address is not known */
  ONLOAD_DELEGATED_SEND_RC_NOARP,
  /* the congestion window is closed: sending would break TCP, though the
   * headers are filled in */
  ONLOAD_DELEGATED_SEND_RC_NOCWIN,
};

/* onload_delegated_send_prepare() flag: do not look up the destination MAC
 * address; the caller writes it into the headers. */
#define ONLOAD_DELEGATED_SEND_FLAG_IGNORE_ARP  0x1
/* onload_delegated_send_prepare() flag: when the MAC address is unknown,
 * provoke resolution (with a speculative ACK) and wait up to 1 ms. */
#define ONLOAD_DELEGATED_SEND_FLAG_RESOLVE_ARP 0x2

#ifndef ONLOAD_INCLUDE_DS_DATA_ONLY

/* Reserves up to `size` bytes of socket `fd`'s stream for a delegated send
 * and writes the headers of an MSS-sized packet without PSH into
 * out->headers.  With flags 0 the MAC address is asked of the kernel and
 * RC_NOARP returned when unknown (then a normal send() of the first data is
 * the usual remedy).  May be called speculatively. */
extern enum onload_delegated_send_rc
onload_delegated_send_prepare(int fd, int size, unsigned flags,
                              struct onload_delegated_send* out);

/* Rewrites the headers prepared in `ds` for a packet carrying `bytes` bytes
 * of payload: sets the IP total length to bytes + ds->ip_tcp_hdr_len (16
 * bits, network order) and sets the TCP PSH flag when `push` is non-zero,
 * clears it when zero.  Not needed for an MSS-sized packet without PSH. */
static inline void
onload_delegated_send_tcp_update(struct onload_delegated_send* ds, int bytes,
                                 int push)
{
  unsigned char* hdrs = (unsigned char*) ds->headers;
  /* The TCP flags byte is 9 bytes after the start of the 4-byte sequence
   * number (TCP header offsets 13 and 4); PSH is its bit 0x08. */
  unsigned char* tcp_flags = hdrs + ds->tcp_seq_offset + 9;
  uint16_t ip_len = htons((uint16_t) (bytes + ds->ip_tcp_hdr_len));

  memcpy(hdrs + ds->ip_len_offset, &ip_len, sizeof(ip_len));
  if( push )
    *tcp_flags = (unsigned char) (*tcp_flags | 0x08u);
  else
    *tcp_flags = (unsigned char) (*tcp_flags & ~0x08u);
}

/* Accounts for a packet of `bytes` payload bytes having been sent from the
 * headers in `ds`: takes `bytes` off send_wnd, cong_wnd and user_size, and
 * adds it (modulo 2^32) to the TCP sequence number in the headers.  Call it
 * after each packet of a delegated send. */
static inline void
onload_delegated_send_tcp_advance(struct onload_delegated_send* ds, int bytes)
{
  unsigned char* seq_field = (unsigned char*) ds->headers + ds->tcp_seq_offset;
  uint32_t seq_be;

  ds->send_wnd -= bytes;
  ds->cong_wnd -= bytes;
  ds->user_size -= bytes;

  memcpy(&seq_be, seq_field, sizeof(seq_be));
  seq_be = htonl(ntohl(seq_be) + (uint32_t) bytes);
  memcpy(seq_field, &seq_be, sizeof(seq_be));
}

/* Tells Onload that the data described by `iov` (iovlen entries) was sent
 * by the application, as a send() would; Onload then handles
 * retransmission and everything else.  Several calls may follow one
 * prepare.  Only MSG_DONTWAIT and MSG_NOSIGNAL of `flags` count.  May block
 * on SO_SNDBUF (ignoring SO_SNDTIMEO).  Returns 0; when a signal interrupts
 * it while blocked, the number of bytes already taken; or -1 with errno
 * set. */
extern int
onload_delegated_send_complete(int fd, const struct iovec* iov, int iovlen,
                               int flags);

/* Ends a delegated send: bytes reserved and not completed are given back,
 * and normal send(), shutdown() or close() may follow.  Needed whenever
 * not all reserved bytes were completed, and for a graceful close.
 * Returns 0, or -1 with errno set. */
extern int
onload_delegated_send_cancel(int fd);

/* ---------------------------------------------------------------------
 * TCP connection details
 * ------------------------------------------------------------------- */

/* Filled in by onload_get_tcp_info(). */
struct onload_tcp_info {
  /* receive buffer: so_recvbuf is roughly rcvbuf_used + rcv_window */
  int so_recvbuf;         /* as getsockopt(SO_RCVBUF) */
  int rcvbuf_used;        /* bytes queued, as ioctl(FIONREAD) */
  int rcv_window;         /* as TCP_INFO tcpi_rcv_space */

  /* send buffer: so_sndbuf_pkts * snd_mss is roughly so_sndbuf */
  int so_sndbuf;          /* as getsockopt(SO_SNDBUF) */
  int so_sndbuf_pkts;     /* send queue limit in packets */
  int sndbuf_pkts_avail;  /* packets that can be queued now */
  int snd_mss;            /* as TCP_INFO tcpi_snd_mss */

  /* windows, as send_wnd and cong_wnd of onload_delegated_send */
  int snd_window;         /* offered by the peer */
  int cong_window;        /* allowed by congestion control */
};

/* Fills *info for an accelerated TCP connection.  *len_in_out gives the
 * size of *info on entry and the size filled in on return (so the structure
 * can grow in later releases).  Returns 0, or -1 with errno EINVAL. */
extern int
onload_get_tcp_info(int fd, struct onload_tcp_info* info, int* len_in_out);

/* ---------------------------------------------------------------------
 * Creating sockets Onload leaves (partly) alone.  Each takes the arguments
 * and returns the values of socket().
 * ------------------------------------------------------------------- */

/* A socket Onload does not accelerate at all, e.g. to reserve a port for
 * ef_vi without Onload installing filters.  Fails with -1/ENOSYS when the
 * extensions library is not in use. */
extern int
onload_socket_nonaccel(int domain, int type, int protocol);

/* A socket of which Onload accelerates multicast only.  When it cannot
 * receive multicast (bound to a unicast address, or TCP) it is handed to
 * the kernel.  Unicast still reaches it, through the kernel.  Saves filter
 * entries for INADDR_ANY multicast receivers. */
extern int
onload_socket_unicast_nonaccel(int domain, int type, int protocol);

/* A socket whose receive path Onload does not accelerate.  Fails with
 * -1/ENOSYS when the extensions library is not in use. */
extern int
onload_socket_rx_nonaccel(int domain, int type, int protocol);

#endif /* ONLOAD_INCLUDE_DS_DATA_ONLY */

#ifdef __cplusplus
}
#endif
#endif /* __ONLOAD_EXTENSIONS_H__ */
