/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: the project's own declaration of the Onload zero-copy API
 * (the ABI of Xilinx-CNS/onload ef17681d36a1, release 10.0.0; see
 * vendor-headers/SDK_VERSION).  Include <onload/extensions.h> as well: some
 * macros here use its ONLOAD_MSG_WARM.
 *
 * These calls work only on sockets Onload accelerates; on a socket handed
 * over to the kernel they fail with -ESOCKTNOSUPPORT.  Onload checks their
 * arguments only lightly.
 */

#ifndef __ONLOAD_ZC_H__
#define __ONLOAD_ZC_H__

#include <sys/uio.h>    /* struct iovec */
#include <sys/socket.h> /* struct msghdr, MSG_* */
#include <stdint.h>


#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Buffers and messages
 * ------------------------------------------------------------------- */

/* An Onload packet buffer; applications only hold pointers to it. */
struct oo_zc_buf;
/* Handle of an Onload packet buffer. */
typedef struct oo_zc_buf* onload_zc_handle;

/* Handle value meaning "not an Onload buffer". */
#define ONLOAD_ZC_HANDLE_NONZC ((onload_zc_handle)(uintptr_t)(-1))

/* One buffer of a zero-copy message. */
struct onload_zc_iovec {
  union {
    void* iov_base;        /* start of the data */
    uint64_t iov_ptr;      /* the same, when it is in another address space */
  };
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t iov_len:48;     /* length of the data */
  uint64_t iov_flags:16;   /* 0 (used only by the hlrx extensions) */
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  uint64_t iov_flags:16;
  uint64_t iov_len:48;
#else
# error "onload/extensions_zc.h: unknown byte order"
#endif
  onload_zc_handle buf;    /* the buffer holding the data, or
                              ONLOAD_ZC_HANDLE_NONZC */
  void* unused;            /* reserved at this release: leave it alone */
};

/* A datagram (or piece of stream): its buffers and its metadata. */
struct onload_zc_msg {
  /* msghdr.msg_iovlen entries (msghdr.msg_iov is not used) */
  struct onload_zc_iovec* iov;
  struct msghdr msghdr;        /* address, control data and flags */
};

/* A message with its socket and result, for sending many at once. */
struct onload_zc_mmsg {
  struct onload_zc_msg msg; /* the message */
  /* result of sending (or receiving) this message */
  int rc;
  /* socket to send it on */
  int fd;
};

/* Blocks until every transmit queue of the stack of socket `fd` has
 * completed what was queued on it when called (usually a few microseconds),
 * so that application buffers sent from are no longer in use, e.g. before
 * unregistering them.  Socket send queues are not checked: draining them is
 * up to the caller.  Returns 0 or a negative errno value. */
extern int onload_zc_await_stack_sync(int fd);

/* ---------------------------------------------------------------------
 * Buffer management
 * ------------------------------------------------------------------- */

/* Which headers to leave room for at the start of allocated buffers.  Too
 * little room just means Onload puts the headers in a separate buffer. */
enum onload_zc_buffer_type_flags {
  ONLOAD_ZC_BUFFER_HDR_NONE = 0x0, /* no room for headers */
  ONLOAD_ZC_BUFFER_HDR_UDP = 0x1,  /* room for UDP/IP headers */
  ONLOAD_ZC_BUFFER_HDR_TCP = 0x2,  /* room for TCP/IP headers */
};

/* Allocates `iovecs_len` buffers from the stack of socket `fd` (usable with
 * any socket of that stack) and describes them in `iovecs`.  Returns 0 or a
 * negative errno value. */
extern int onload_zc_alloc_buffers(int fd, struct onload_zc_iovec* iovecs,
                                   int iovecs_len,
                                   enum onload_zc_buffer_type_flags flags);

/* Frees `bufs_len` buffers: ones allocated above, or ones kept with
 * ONLOAD_ZC_KEEP (pass only the first buffer of each received message; the
 * others are chained to it).  Returns 0 or a negative errno value. */
extern int onload_zc_release_buffers(int fd, onload_zc_handle* bufs,
                                     int bufs_len);

/* ---------------------------------------------------------------------
 * Zero-copy receive
 * ------------------------------------------------------------------- */

/* Return codes of receive and filter callbacks (flags, may be combined). */
enum onload_zc_callback_rc {
  /* go on with the next message; Onload keeps the buffers */
  ONLOAD_ZC_CONTINUE  = 0x0,
  /* stop and return from onload_zc_recv() */
  ONLOAD_ZC_TERMINATE = 0x1,
  /* receive callbacks only: the application keeps the buffers and frees
   * them later with onload_zc_release_buffers(); not with MSG_PEEK */
  ONLOAD_ZC_KEEP      = 0x2,
  /* filter callbacks only (no longer supported) */
  ONLOAD_ZC_MODIFIED  = 0x4,
};

/* onload_zc_recv_args.flags: deliver UDP datagrams that came through the
 * kernel to the callback too (copied into Onload buffers); without it
 * onload_zc_recv() fails with -ENOTEMPTY while such datagrams are queued,
 * and onload_recvmsg_kernel() reads them.  The value is that of
 * MSG_CMSG_CLOEXEC, meaningless for sockets. */
#define ONLOAD_MSG_RECV_OS_INLINE 0x40000000
/* onload_zc_recv_args.flags: do not block. */
#define ONLOAD_MSG_DONTWAIT MSG_DONTWAIT

/* Every flag onload_zc_recv_args.flags may hold. */
#define ONLOAD_ZC_RECV_FLAGS_MASK (ONLOAD_MSG_DONTWAIT | \
                                   ONLOAD_MSG_RECV_OS_INLINE)

/* The flags passed on to the kernel for datagrams that did not go through
 * Onload. */
#define ONLOAD_ZC_RECV_FLAGS_PTHRU_MASK (ONLOAD_MSG_DONTWAIT)

/* Callback `flags`: the buffers are shared with other sockets; do not
 * modify them. */
#define ONLOAD_ZC_MSG_SHARED 0x1
/* Callback `flags`: the last message of the current burst. */
#define ONLOAD_ZC_END_OF_BURST 0x2

struct onload_zc_recv_args;

/* Receive callback: gets the args given to onload_zc_recv(), with msg
 * describing one received message, and ONLOAD_ZC_MSG_SHARED /
 * ONLOAD_ZC_END_OF_BURST in `flags`. */
typedef enum onload_zc_callback_rc
(*onload_zc_recv_callback)(struct onload_zc_recv_args *args, int flags);

/* Arguments of onload_zc_recv(). */
struct onload_zc_recv_args {
  /* out: each message in turn.  in: msghdr.msg_control/msg_controllen and
   * msg_name/msg_namelen as for recvmsg() */
  struct onload_zc_msg msg;
  /* in: called for each message */
  onload_zc_recv_callback cb;
  /* in: for the application; Onload does not touch it */
  void* user_ptr;
  /* in: ONLOAD_MSG_DONTWAIT, ONLOAD_MSG_RECV_OS_INLINE */
  int flags;
};

/* Calls args->cb, in the calling thread, for each message received on
 * socket `fd`, until it returns ONLOAD_ZC_TERMINATE or nothing is left.  A
 * message may span several buffers (fragments of one packet).  Waits
 * according to SO_RCVTIMEO unless ONLOAD_MSG_DONTWAIT.  TCP urgent data is
 * not supported.  Returns 0 or a negative errno value. */
extern int onload_zc_recv(int fd, struct onload_zc_recv_args *args);

/* Reads, like recvmsg(), the datagrams that reached `fd` through the kernel
 * (after onload_zc_recv() returned -ENOTEMPTY). */
extern int onload_recvmsg_kernel(int fd, struct msghdr *msg, int flags);

/* ---------------------------------------------------------------------
 * Zero-copy send
 * ------------------------------------------------------------------- */

/* onload_zc_send() flags, with the meaning they have for send(). */
#define ONLOAD_MSG_DONTWAIT MSG_DONTWAIT
#define ONLOAD_MSG_MORE MSG_MORE
#define ONLOAD_MSG_NOSIGNAL MSG_NOSIGNAL

/* Every flag onload_zc_send() accepts. */
#define ONLOAD_ZC_SEND_FLAGS_MASK (ONLOAD_MSG_MORE | ONLOAD_MSG_NOSIGNAL | \
                                   ONLOAD_MSG_WARM | ONLOAD_MSG_DONTWAIT)

/* The flags passed on to the kernel for datagrams not sent by Onload. */
#define ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK (ONLOAD_MSG_MORE | \
                                         ONLOAD_MSG_NOSIGNAL | \
                                         ONLOAD_MSG_DONTWAIT)

/* Sends each of the `mlen` messages of `msgs` on its `msgs[i].fd`; for UDP,
 * the buffers of one message form one datagram.  Buffers must be Onload
 * buffers (not ONLOAD_ZC_HANDLE_NONZC).  Returns how many messages were
 * processed, with each one's result (bytes sent or negative error, e.g.
 * -ESOCKTNOSUPPORT) in `msgs[i].rc`.  Buffers of messages sent now belong to
 * Onload; those of unsent messages stay with the caller.  Like send(), it
 * may sleep, e.g. while a TCP connection is still being set up. */
extern int onload_zc_send(struct onload_zc_mmsg* msgs, int mlen, int flags);

/* ---------------------------------------------------------------------
 * Receive filter
 * ------------------------------------------------------------------- */

/* Filter callback: sees each message (msg->iov, msg->msghdr.msg_iovlen
 * entries) with the cb_arg of onload_set_recv_filter(); ONLOAD_ZC_MSG_SHARED
 * in `flags` means the buffers must not be modified.  It must return
 * ONLOAD_ZC_CONTINUE. */
typedef enum onload_zc_callback_rc
(*onload_zc_recv_filter_callback)(struct onload_zc_msg *msg, void* arg,
                                  int flags);

/* Installs a callback that sees the messages received on `fd` through the
 * normal recv()/recvmsg()/recvmmsg() calls (not with onload_zc_recv()).
 * Returns 0 or a negative errno value. */
extern int onload_set_recv_filter(int fd,
                                  onload_zc_recv_filter_callback filter,
                                  void* cb_arg, int flags);

/* ---------------------------------------------------------------------
 * Send templates: a packet prepared in advance, patched and sent later
 *
 * Templates need PIO, which SN1000-series (and later) and X3 adapters do
 * not have.  They follow TCP rules: when a templated send is not possible
 * (e.g. the send queue is not empty) it becomes a normal send, which may
 * block.  Templates are freed when their socket is shut down or closed.
 * After a NIC reset the socket can no longer use templates.
 * ------------------------------------------------------------------- */

/* A send template; applications only hold pointers to it. */
struct oo_msg_template;
/* Handle of a send template. */
typedef struct oo_msg_template* onload_template_handle;

/* One change to a template. */
struct onload_template_msg_update_iovec {
  void*    otmu_base;         /* new data */
  size_t   otmu_len;          /* its length */
  off_t    otmu_offset;       /* where in the template it goes */
  unsigned otmu_flags;        /* must be 0 */
};

/* Flags of onload_msg_template_alloc() and onload_msg_template_update(). */
enum onload_template_flags {
  /* update: send the packet now (the template then belongs to Onload) */
  ONLOAD_TEMPLATE_FLAGS_SEND_NOW  = 0x1,
  /* alloc: go on without PIO when none is free, and try again at later
   * updates (without it, alloc fails) */
  ONLOAD_TEMPLATE_FLAGS_PIO_RETRY = 0x2,
  /* update: never block, as MSG_DONTWAIT */
  ONLOAD_TEMPLATE_FLAGS_DONTWAIT = MSG_DONTWAIT,
};

/* Creates a template on socket `fd` from the `mlen` buffers of initial_msg
 * and stores its handle in *handle.  `flags`: ONLOAD_TEMPLATE_FLAGS_PIO_RETRY.
 * Returns 0 or a negative errno value. */
extern int onload_msg_template_alloc(int fd, const struct iovec* initial_msg,
                                     int mlen, onload_template_handle* handle,
                                     unsigned flags);

/* Overwrites parts of a template (`ulen` changes, cumulative over calls) and
 * with ONLOAD_TEMPLATE_FLAGS_SEND_NOW sends it; to send unchanged pass NULL
 * and 0.  `flags`: ONLOAD_TEMPLATE_FLAGS_SEND_NOW, ONLOAD_TEMPLATE_FLAGS_DONTWAIT.
 * Returns 0 or a negative errno value. */
extern int
onload_msg_template_update(int fd, onload_template_handle handle,
                           const struct onload_template_msg_update_iovec*,
                           int ulen, unsigned flags);

/* Drops a template without sending it.  Returns 0 or a negative errno
 * value. */
extern int onload_msg_template_abort(int fd, onload_template_handle handle);

#ifdef __cplusplus
}
#endif

#endif /* __ONLOAD_ZC_H__ */
