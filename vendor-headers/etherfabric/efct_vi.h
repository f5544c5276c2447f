/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/efct_vi.h -- extra calls for EFCT (X3-style) adapters.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 *
 * On EFCT adapters transmit is cut-through PIO only (no DMA buffers, no
 * checksum offload, -EAGAIN when the FIFO is full) and receive uses buffers
 * owned by the kernel.  An RX_REF or RX_REF_DISCARD event hands the
 * application a pkt_id; the packet is read with efct_vi_rxpkt_get() and must
 * be given back promptly with efct_vi_rxpkt_release(), after which the id
 * and any pointer into the packet are invalid.
 */

#ifndef __EFAB_EFCT_VI_H__
#define __EFAB_EFCT_VI_H__

#include <etherfabric/ef_vi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start of the packet pkt_id (normally its Ethernet header).  pkt_id must
 * come from an unreleased RX_REF/RX_REF_DISCARD event of this vi. */
extern const void* efct_vi_rxpkt_get(struct ef_vi* vi, uint32_t pkt_id);

/* Deprecated: hardware timestamp of packet pkt_id as a timespec plus sync
 * flags.  Use ef_vi_receive_get_precise_timestamp() on the pointer from
 * efct_vi_rxpkt_get() instead.  Returns what that call returns; the
 * outputs are written whatever the result. */
__attribute__((deprecated("ef_vi_receive_get_precise_timestamp")))
ef_vi_inline int
efct_vi_rxpkt_get_timestamp(struct ef_vi* vi, uint32_t pkt_id,
                            ef_timespec* ts_out, unsigned* flags_out)
{
  ef_precisetime when;
  const void* pkt = efct_vi_rxpkt_get(vi, pkt_id);
  int rc = ef_vi_receive_get_precise_timestamp(vi, pkt, &when);
  ts_out->tv_sec = when.tv_sec;
  ts_out->tv_nsec = when.tv_nsec;
  *flags_out = when.tv_flags;
  return rc;
}

/* Give packet pkt_id back; required once for every RX_REF(_DISCARD). */
extern void efct_vi_rxpkt_release(struct ef_vi* vi, uint32_t pkt_id);

/* Look at a packet that is still arriving: returns a pointer to its first
 * EFCT_FUTURE_VALID_BYTES bytes, or NULL when nothing is arriving (or the
 * library has other work pending: keep calling ef_eventq_has_event() and
 * ef_eventq_poll() as well).  After a non-NULL result, collect the
 * packet's completion with efct_vi_rx_future_poll().  May run concurrently
 * with other calls except the two polls. */
extern const void* efct_vi_rx_future_peek(struct ef_vi* vi);

/* Poll only the receive queue of the packet seen by the last successful
 * efct_vi_rx_future_peek(); the first event returned is that packet's
 * RX_REF or RX_REF_DISCARD. */
int efct_vi_rx_future_poll(ef_vi* vi, ef_event* evs, int evs_len);

/* Bytes of a still-arriving packet that efct_vi_rx_future_peek() makes
 * readable. */
#define EFCT_FUTURE_VALID_BYTES 62

/* Deprecated: use ef_vi_start_transmit_warm().  Sends after this exercise
 * the code path but reach no wire; each completes with an EF_EVENT_TYPE_TX
 * whose id is EF_REQUEST_ID_MASK and without a timestamp. */
void efct_vi_start_transmit_warm(ef_vi* vi);

/* Deprecated: use ef_vi_stop_transmit_warm(). */
void efct_vi_stop_transmit_warm(ef_vi* vi);

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_EFCT_VI_H__ */
