/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: TCPDirect "alternatives": queues of TCP messages prepared
 * in advance, of which the application later sends one and drops the rest
 * (ABI of Xilinx-CNS/tcpdirect 9.2.1).  Include <zf/zf.h>.
 */

#ifndef __ZF_ALTS_H__
#define __ZF_ALTS_H__

#include <stdint.h>

/* Identifies one alternative queue of a stack. */
typedef uint64_t zf_althandle;

/* Reserves an alternative queue of `stack` (usable only with zockets of that
 * stack) in *alt_out; `attr` is not used yet.  How many exist is set by the
 * stack attribute alt_count (default 0).  Not available on bonded
 * interfaces.  Returns 0 or -ENOMEM (none left). */
ZF_LIBENTRY int
zf_alternatives_alloc(struct zf_stack* stack, const struct zf_attr* attr,
                      zf_althandle* alt_out);

/* Gives an alternative queue back, dropping unsent messages.  Returns 0. */
ZF_LIBENTRY int
zf_alternatives_release(struct zf_stack* stack, zf_althandle alt);

/* Sends the messages queued on `alt`.  Other alternatives holding messages
 * for the same zocket then carry stale headers and must be cancelled.  `alt`
 * can be refilled, but zft_alternatives_queue() returns -EBUSY until this
 * send has finished.  Returns 0, -EBUSY (transient, e.g. the queue is being
 * rebuilt after receiving data) or -EINVAL (TCP state does not allow it,
 * e.g. not connected, or sent on normally since queueing). */
ZF_LIBENTRY int
zf_alternatives_send(struct zf_stack* stack, zf_althandle alt);

/* Drops the messages queued on `alt` without sending them.  The queue can be
 * refilled at once (for any zocket), though zft_alternatives_queue() may
 * return -EBUSY until the cancel completes.  Returns 0. */
ZF_LIBENTRY int
zf_alternatives_cancel(struct zf_stack* stack, zf_althandle alt);

/* Prepares a TCP message carrying the data of `iov` on alternative `alt`
 * without sending it.  iov_cnt must be 1 and `flags` 0.  All the messages of
 * one alternative must be for the same zocket.  Returns 0, -EAGAIN
 * (transient, possibly long: e.g. the send queue is not empty), -EBUSY
 * (transient and short: run the reactor and retry), -EMSGSIZE (beyond the
 * congestion window), -ENOMEM (no packet buffer), -ENOBUFS (no buffer space
 * in TCPDirect or the NIC) or -EINVAL. */
ZF_LIBENTRY int
zft_alternatives_queue(struct zft* ts, zf_althandle alt,
                       const struct iovec* iov, int iov_cnt,
                       int flags);

/* Size in bytes, headers included, of the largest packet `alt` can take
 * now; bigger ones fail with -ENOMEM.  Overheads differ per alternative. */
ZF_LIBENTRY unsigned
zf_alternatives_free_space(struct zf_stack* stack, zf_althandle alt);

/* Per-packet buffer overheads, defined in <etherfabric/ef_vi.h>; used with
 * ef_vi_transmit_alt_usage(). */
struct ef_vi_transmit_alt_overhead;

/* Fills *out with the per-packet overheads of TCP zocket `ts` (headers,
 * VLAN tag, IP options...), for ef_vi_transmit_alt_usage() to compute the
 * buffer space a single-packet message takes.  Returns 0, or -EINVAL when
 * the stack has no alternatives. */
ZF_LIBENTRY int
zf_alternatives_query_overhead_tcp(struct zft* ts,
                                   struct ef_vi_transmit_alt_overhead *out);

#endif /* __ZF_ALTS_H__ */
