/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: TCPDirect delegated sends, by which the application sends
 * the packets of a TCP connection itself (e.g. through ef_vi) and TCPDirect
 * does the rest of the protocol (ABI of Xilinx-CNS/tcpdirect 9.2.1).
 * Include <zf/zf.h>, not this file.
 */

#ifndef __ZF_DS_H__
#define __ZF_DS_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

/* State of a delegated send.  "in" fields are set by the caller, "out"
 * fields by zf_delegated_send_prepare(), and the rest belong to the inline
 * helpers below. */
struct zf_ds {
  /* in: buffer that receives the Ethernet, IP and TCP headers */
  void* headers;
  /* in: size of that buffer */
  int   headers_size;
  /* out: length of the headers written */
  int   headers_len;
  /* out: maximum payload per packet */
  int   mss;
  /* out: send window offered by the peer */
  int   send_wnd;
  /* out: congestion window */
  int   cong_wnd;
  /* out: bytes the application may send in this delegated send */
  int   delegated_wnd;
  /* private: offset in `headers` of the TCP sequence number */
  int   tcp_seq_offset;
  /* private: offset in `headers` of the IP total-length field */
  int   ip_len_offset;
  /* private: combined length of the IP and TCP headers */
  int   ip_tcp_hdr_len;
  /* private */
  int   reserved;
};

/* Results of zf_delegated_send_prepare(). */
enum zf_delegated_send_rc {
  /* ready to send */
  ZF_DELEGATED_SEND_RC_OK = 0x00,
  /* the congestion window is too small */
  ZF_DELEGATED_SEND_RC_NOCWIN = 0x01,
  /* the peer's send window is too small */
  ZF_DELEGATED_SEND_RC_NOWIN = 0x02,
  /* the zocket cannot send in its state */
  ZF_DELEGATED_SEND_RC_BAD_SOCKET = 0x83,
  /* headers_size is too small; headers_len says what is needed */
  ZF_DELEGATED_SEND_RC_SMALL_HEADER = 0x84,
  /* the zocket still has data in its send queue */
  ZF_DELEGATED_SEND_RC_SENDQ_BUSY = 0x85,
  /* the peer's MAC address is not known */
  ZF_DELEGATED_SEND_RC_NOARP = 0x86,
};

/* Set in every zf_delegated_send_rc value that means failure (ds not
 * filled in, except headers_len for RC_SMALL_HEADER). */
#define ZF_DELEGATED_SEND_RC_FATAL 0x80

/* Reserves up to max_delegated_wnd bytes of the stream of `ts` (counted from
 * the last completed send) for the application to send itself, writes the
 * packet headers into ds->headers and fills in the out fields of `ds`;
 * ds->delegated_wnd is how much may be sent.  A non-zero cong_wnd_override
 * acts as a lower bound on the congestion window.  `flags` must be 0.  The
 * reservation never shrinks, so delegated_wnd can be non-zero with RC_NOWIN
 * or RC_NOCWIN; for RC_OK, RC_NOWIN and RC_NOCWIN (!(rc & FATAL)) `ds` is
 * fully filled in.  The headers assume an MSS-sized packet without PSH (see
 * zf_delegated_send_tcp_update()).  Report what was sent with
 * zf_delegated_send_complete(); bytes reserved but not sent must be given
 * back with zf_delegated_send_cancel() before any normal send, though
 * preparing again without cancelling is allowed. */
ZF_LIBENTRY enum zf_delegated_send_rc
zf_delegated_send_prepare(struct zft *ts, int max_delegated_wnd,
                          int cong_wnd_override, unsigned flags,
                          struct zf_ds* ds);

/* Rewrites the headers prepared in `ds` for a packet carrying `bytes` bytes
 * of payload: sets the IP total length to bytes + ds->ip_tcp_hdr_len (16
 * bits, network order) and sets the TCP PSH flag when `push` is non-zero,
 * clears it when zero.  Not needed for an MSS-sized packet without PSH. */
static inline void
zf_delegated_send_tcp_update(struct zf_ds* ds, int bytes, int push)
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
 * headers in `ds`: takes `bytes` off send_wnd, cong_wnd and delegated_wnd,
 * and adds it (modulo 2^32) to the TCP sequence number in the headers.
 * Call it between the packets of one delegated send. */
static inline void
zf_delegated_send_tcp_advance(struct zf_ds* ds, int bytes)
{
  unsigned char* seq_field = (unsigned char*) ds->headers + ds->tcp_seq_offset;
  uint32_t seq_be;

  ds->send_wnd -= bytes;
  ds->cong_wnd -= bytes;
  ds->delegated_wnd -= bytes;

  memcpy(&seq_be, seq_field, sizeof(seq_be));
  seq_be = htonl(ntohl(seq_be) + (uint32_t) bytes);
  memcpy(seq_field, &seq_be, sizeof(seq_be));
}

/* Tells TCPDirect that the bytes described by `iov` (iovlen entries) were
 * sent by the application; TCPDirect then handles their acknowledgement and
 * retransmission.  `flags` must be 0.  Returns the bytes accepted (possibly
 * fewer than offered), -EMSGSIZE (more than was prepared) or -EAGAIN (no
 * room in the send queue). */
ZF_LIBENTRY int
zf_delegated_send_complete(struct zft *ts, const struct iovec* iov, int iovlen,
                           int flags);

/* Gives back the bytes reserved by zf_delegated_send_prepare() and not
 * completed, after which normal sends (or a new prepare) may follow.
 * Returns 0 or a negative errno value. */
ZF_LIBENTRY int
zf_delegated_send_cancel(struct zft *ts);

#endif /* __ZF_DS_H__ */
