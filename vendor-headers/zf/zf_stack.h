/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: TCPDirect library initialisation and stacks
 * (ABI of Xilinx-CNS/tcpdirect 9.2.1).  Include <zf/zf.h>, not this file.
 */

#ifndef __ZF_STACK_H__
#define __ZF_STACK_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

/* A stack holds the hardware resources (one virtual interface on one network
 * interface) and the protocol state of a set of zockets.  It makes progress
 * only while the application calls zf_reactor_perform() or zf_muxer_wait().
 * A stack is not thread-safe. */
struct zf_stack;
struct zf_attr;

/* Initialises the library.  Call once per process, before anything else.
 * Returns 0, or a negative errno value (-ENOENT: the Onload drivers are
 * probably not loaded; or any error of zf_attr_alloc()). */
ZF_LIBENTRY int zf_init(void);

/* Releases what zf_init() set up.  Returns 0. */
ZF_LIBENTRY int zf_deinit(void);

/* Creates a stack configured by the attributes in `attr` (at least
 * "interface"; also the zf_stack, zf_pool and zf_vi attributes) and returns
 * it in *stack_out.  Returns 0, or a negative errno value such as -EBUSY (no
 * VI or alternatives left), -EINVAL (attribute out of range), -ENODEV (bad
 * or missing interface), -ENOENT (drivers absent), -ENOKEY (adapter not
 * licensed), -ENOMEM (no memory; huge pages are required) or -ENOSPC (no PIO
 * buffer); system-call errors are passed on too. */
ZF_LIBENTRY int
zf_stack_alloc(struct zf_attr* attr, struct zf_stack** stack_out);

/* Destroys a stack and every zocket still in it.  Returns 0. */
ZF_LIBENTRY int zf_stack_free(struct zf_stack* stack);

/* Event reported by the waitable of zf_stack_to_waitable() once the stack is
 * quiescent. */
#define EPOLLSTACKHUP EPOLLRDHUP

/* Returns a waitable that becomes ready for EPOLLSTACKHUP when the stack is
 * quiescent (see zf_stack_is_quiescent()). */
ZF_LIBENTRY struct zf_waitable* zf_stack_to_waitable(struct zf_stack*);

/* Non-zero when the stack is quiescent: it will send nothing more unless
 * prompted from outside, freeing its zockets would send nothing, and
 * (depending on the attribute tcp_wait_for_time_wait) no TCP zocket is in
 * TIME_WAIT.  In practice: no TCP connection is open.  Freeing a stack that
 * is not quiescent is allowed but may lose sent data or reset peers. */
ZF_LIBENTRY int zf_stack_is_quiescent(struct zf_stack*);

/* Name and version of the library. */
ZF_LIBENTRY const char* zf_version(void);

/* Version of TCPDirect alone. */
ZF_LIBENTRY const char* zf_version_short(void);

/* Version of the Onload release the library was built against. */
ZF_LIBENTRY const char* onload_version_short(void);

/* Writes the library name and version to stderr and exits the process. */
ZF_LIBENTRY void zf_print_version(void);

/* Features that zf_stack_query_feature() can report on. */
enum zf_stack_feature {
  /* Whether the stack really uses CTPIO (the "ctpio" attribute's outcome). */
  CTPIO,
  /* Whether the stack really uses PIO (the "pio" attribute's outcome). */
  PIO
};

/* Returns 1 when `feature` is in use on `stack`, 0 when not, -ENOENT when
 * `feature` is not a known value. */
ZF_LIBENTRY int zf_stack_query_feature(struct zf_stack* stack,
                                       enum zf_stack_feature feature);

#endif /* __ZF_STACK_H__ */
