/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: the TCPDirect multiplexer, which polls many zockets at once
 * in the manner of epoll(7) (ABI of Xilinx-CNS/tcpdirect 9.2.1).
 * Include <zf/zf.h>, not this file.
 */

#ifndef __ZF_MUXER_H__
#define __ZF_MUXER_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

#include <sys/epoll.h>

/* A set of waitables polled together by zf_muxer_wait(). */
struct zf_muxer_set;

/* Anything that can join a multiplexer set: each zocket type has a
 * *_to_waitable() function, and zf_stack_to_waitable() gives one for a
 * stack's quiescence. */
struct zf_waitable;

/* Creates an empty multiplexer set for the zockets of `stack`.
 * Returns 0 or -ENOMEM. */
ZF_LIBENTRY int
zf_muxer_alloc(struct zf_stack* stack, struct zf_muxer_set** muxer_out);

/* Frees a set.  Its memory lives on until every waitable has been removed
 * from it, but the caller must not use `muxer` again. */
ZF_LIBENTRY void
zf_muxer_free(struct zf_muxer_set* muxer);

/* Event bit (TCPDirect's own) asking to be told of data still arriving, so
 * that it can be read before the frame is complete: "overlapped receive".
 * zf_muxer_wait() reports it alone, never together with other bits. */
#define ZF_EPOLLIN_OVERLAPPED 0x10000

/* Adds `w` to `muxer`.  event->events selects what to report (any of
 * EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR, ZF_EPOLLIN_OVERLAPPED; unlike epoll,
 * EPOLLHUP and EPOLLERR are reported only when asked for) and event->data
 * is handed back with each report.  A waitable is in at most one set.
 * Returns 0, -EXDEV (w is from another stack), -EALREADY (already in this
 * set) or -EBUSY (in another set). */
ZF_LIBENTRY int
zf_muxer_add(struct zf_muxer_set* muxer, struct zf_waitable* w,
             const struct epoll_event* event);

/* Replaces the event mask and data of a waitable already in a set; also
 * re-arms it, e.g. zf_muxer_mod(w, zf_waitable_event(w)).
 * Returns 0 or -EINVAL (w is in no set). */
ZF_LIBENTRY int
zf_muxer_mod(struct zf_waitable* w, const struct epoll_event* event);

/* Removes a waitable from its set (a slow operation).
 * Returns 0 or -EINVAL (w is in no set). */
ZF_LIBENTRY int
zf_muxer_del(struct zf_waitable* w);

/* Processes the stack's events (as zf_reactor_perform() does) and stores up
 * to `maxevents` reports of ready waitables in `events`, returning how many.
 * timeout_ns is how long to keep polling when nothing is ready: 0 returns at
 * once, a negative value waits for ever.  Reports are edge-triggered: a
 * waitable is reported when it becomes ready (for EPOLLIN: whenever new data
 * arrives), not again merely because it stays ready.  With a zero timeout the
 * call still spins for the stack attribute reactor_spin_count iterations. */
ZF_LIBENTRY int
zf_muxer_wait(struct zf_muxer_set* muxer, struct epoll_event* events,
              int maxevents, int64_t timeout_ns);

/* The epoll_event given for `w` in its last zf_muxer_add()/zf_muxer_mod().
 * Undefined when `w` is in no set. */
ZF_LIBENTRY const struct epoll_event* zf_waitable_event(struct zf_waitable* w);

/* Gives in *fd a file descriptor that becomes readable when `stack` has
 * something to do, for use with epoll, poll or select; then call
 * zf_muxer_wait() to do it.  This turns on interrupts (a latency cost).
 * The stack owns the fd: do not close it, and do not use it after
 * zf_stack_free().  Returns 0 or a negative errno value. */
ZF_LIBENTRY int
zf_waitable_fd_get(struct zf_stack* stack, int* fd);

/* Arms the fd of zf_waitable_fd_get(); call it before each time you block on
 * the fd.  Returns 0 or a negative errno value. */
ZF_LIBENTRY int
zf_waitable_fd_prime(struct zf_stack* stack);

#endif /* __ZF_MUXER_H__ */
