/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: the TCPDirect reactor, which processes a stack's events
 * (ABI of Xilinx-CNS/tcpdirect 9.2.1).  Include <zf/zf.h>, not this file.
 */

#ifndef __REACTOR_H__
#define __REACTOR_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

struct zf_stack;

/* Processes the hardware events (receive, transmit completion) and software
 * events (TCP timers) of a stack.  Nothing happens on a stack unless this,
 * zf_reactor_perform_attr() or zf_muxer_wait() is called often.  When idle
 * it polls for the stack attribute reactor_spin_count iterations (1: no
 * polling).  Returns 0 when nothing visible to the application happened and
 * a positive value when something may have (e.g. data arrived); the
 * positive case can be a false alarm. */
ZF_LIBENTRY ZF_HOT int
zf_reactor_perform(struct zf_stack* st);

/* zf_reactor_perform() with reactor_spin_count taken from `attr` for this
 * call (the only attribute it reads today; later releases may read more). */
ZF_LIBENTRY ZF_HOT int
zf_reactor_perform_attr(struct zf_stack* st, const struct zf_attr* attr);

/* Non-zero when the stack has work for the reactor.  Unlike other calls it
 * may run concurrently with other calls on the stack, so it can be checked
 * before taking a lock. */
ZF_LIBENTRY ZF_HOT int
zf_stack_has_pending_work(const struct zf_stack* st);

/* A cheaper zf_stack_has_pending_work() that looks only at events, not at
 * TCP work such as timers: enough for a stack with UDP zockets only. */
ZF_LIBENTRY ZF_HOT int
zf_stack_has_pending_events(const struct zf_stack* st);

#endif /* __REACTOR_H__ */
