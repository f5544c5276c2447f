/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: TCPDirect types shared by several parts of the API
 * (ABI of Xilinx-CNS/tcpdirect 9.2.1).  Include <zf/zf.h>, not this file.
 */

#ifndef __ZF_TYPES_H__
#define __ZF_TYPES_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

struct zf_stack;

/* One transmit timestamp report, from zfut_get_tx_timestamps() or
 * zft_get_tx_timestamps(). */
struct zf_pkt_report {
  /* When the adapter sent the packet. */
  struct timespec timestamp;
  /* Position of the packet in the zocket's stream: datagrams sent before it
   * (UDP) or bytes sent before it (TCP); wraps at 2^32. */
  uint32_t start;
  /* Payload bytes in the packet. */
  uint16_t bytes;
  /* ZF_PKT_REPORT_* bits: */
#define ZF_PKT_REPORT_CLOCK_SET    0x0001 /* adapter clock has been set */
#define ZF_PKT_REPORT_IN_SYNC      0x0002 /* adapter clock is in sync */
#define ZF_PKT_REPORT_NO_TIMESTAMP 0x0004 /* no timestamp for this packet */
#define ZF_PKT_REPORT_DROPPED      0x0008 /* earlier reports were lost */
#define ZF_PKT_REPORT_TCP_RETRANS  0x2000 /* a TCP retransmission */
#define ZF_PKT_REPORT_TCP_SYN      0x4000 /* the TCP SYN */
#define ZF_PKT_REPORT_TCP_FIN      0x8000 /* the TCP FIN */
  uint16_t flags;            /* ZF_PKT_REPORT_* bits */
};

/* Flags for zft_zc_recv() and zfur_zc_recv() to read frames still being
 * received ("overlapped receive", see ZF_EPOLLIN_OVERLAPPED). */
enum zf_zc_flags {
  /* Wait for overlapped data to arrive. */
  ZF_OVERLAPPED_WAIT = 0x10000,
  /* Wait for the overlapped frame to complete (and be checked). */
  ZF_OVERLAPPED_COMPLETE = 0x20000,
};

#endif /* __ZF_TYPES_H__ */
