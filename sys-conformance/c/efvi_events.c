/* C side of the ef_vi event, event-queue, memreg, packed-stream and checksum conformance
 * tests (sys-conformance/tests/efvi_events.rs).
 *
 * Every efvi_ev_* / efvi_evq_* / efvi_memreg_* / efvi_ps_* / efvi_csum_* function below
 * evaluates one header macro or static inline function on its arguments, so that the Rust test
 * can compare the result with the Rust equivalent in etherfabric-sys.
 *
 * Test doubles (no ef_vi library is linked):
 *  - the event-queue check macros dispatch through vi->ops; efvi_evq_install_ops() installs
 *    the two operations below, which implement the X3 (efct) phase-bit rule;
 *  - the checksum inlines call exported libciul functions (ef_udp_checksum_ipx(),
 *    ef_udp_checksum_is_correct(), ...). This file defines them with the library's documented
 *    semantics, as weak symbols so that a real library or a software backend linked into the
 *    same binary takes precedence. They work on raw header bytes (RFC 791/768/793/8200
 *    offsets) rather than on libc's struct field names.
 */

#include <etherfabric/ef_vi.h>
#include <etherfabric/memreg.h>
#include <etherfabric/packedstream.h>
#include <etherfabric/checksum.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* ------------------------------------------------------------------------------------------
 * ef_event accessors
 */

/* Evaluates every EF_EVENT_* accessor macro on *e, in the order of ACCESSORS in the Rust
 * test. Returns how many were written. */
unsigned efvi_ev_accessors(const ef_event* e, unsigned* out)
{
  unsigned n = 0;
  out[n++] = EF_EVENT_TYPE(*e);
  out[n++] = EF_EVENT_RX_BYTES(*e);
  out[n++] = EF_EVENT_RX_Q_ID(*e);
  out[n++] = EF_EVENT_RX_RQ_ID(*e);
  out[n++] = EF_EVENT_RX_CONT(*e);
  out[n++] = EF_EVENT_RX_SOP(*e);
  out[n++] = EF_EVENT_RX_PS_NEXT_BUFFER(*e);
  out[n++] = EF_EVENT_RX_ISCSI_OKAY(*e);
  out[n++] = EF_EVENT_TX_Q_ID(*e);
  out[n++] = EF_EVENT_TX_CTPIO(*e);
  out[n++] = EF_EVENT_RX_DISCARD_Q_ID(*e);
  out[n++] = EF_EVENT_RX_DISCARD_RQ_ID(*e);
  out[n++] = EF_EVENT_RX_DISCARD_CONT(*e);
  out[n++] = EF_EVENT_RX_DISCARD_SOP(*e);
  out[n++] = EF_EVENT_RX_DISCARD_TYPE(*e);
  out[n++] = EF_EVENT_RX_DISCARD_BYTES(*e);
  out[n++] = EF_EVENT_RX_MULTI_Q_ID(*e);
  out[n++] = EF_EVENT_RX_MULTI_CONT(*e);
  out[n++] = EF_EVENT_RX_MULTI_SOP(*e);
  out[n++] = EF_EVENT_RX_MULTI_DISCARD_TYPE(*e);
  out[n++] = EF_EVENT_TX_ERROR_Q_ID(*e);
  out[n++] = EF_EVENT_TX_ERROR_TYPE(*e);
  out[n++] = EF_EVENT_TX_WITH_TIMESTAMP_Q_ID(*e);
  out[n++] = EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID(*e);
  out[n++] = EF_EVENT_TX_WITH_TIMESTAMP_SEC(*e);
  out[n++] = EF_EVENT_TX_WITH_TIMESTAMP_NSEC(*e);
  out[n++] = EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16(*e);
  out[n++] = EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS(*e);
  out[n++] = EF_EVENT_TX_ALT_Q_ID(*e);
  out[n++] = EF_EVENT_TX_ALT_ALT_ID(*e);
  out[n++] = EF_EVENT_RX_NO_DESC_TRUNC_Q_ID(*e);
  out[n++] = EF_EVENT_SW_DATA(*e);
  out[n++] = EF_EVENT_PRI_ARG(*e);
  return n;
}

/* Formats *e the documented way: printf(EF_EVENT_FMT, EF_EVENT_PRI_ARG(e)). */
int efvi_ev_format(const ef_event* e, char* buf, size_t len)
{
  return snprintf(buf, len, EF_EVENT_FMT, EF_EVENT_PRI_ARG(*e));
}

unsigned efvi_rx_discard_subtype_from_flags(unsigned flags)
{
  return ef_vi_get_rx_discard_subtype_from_flags(flags);
}

/* Builds an event of type `type` by assigning the bit-fields of the matching union member,
 * the way libciul's event decoders fill events in. `v` gives the field values in declaration
 * order after `type` (see BUILDERS in the Rust test); values wider than a field are truncated
 * by the assignment, as in C. The event is zeroed first. Returns the number of values used,
 * or -1 for an unknown type. */
int efvi_ev_build(ef_event* e, unsigned type, const unsigned* v)
{
  memset(e, 0, sizeof(*e));
  switch( type ) {
  case EF_EVENT_TYPE_RX:
    e->rx.type = type;
    e->rx.q_id = v[0];
    e->rx.__reserved = v[1];
    e->rx.rq_id = v[2];
    e->rx.len = v[3];
    e->rx.flags = v[4];
    e->rx.ofs = v[5];
    return 6;
  case EF_EVENT_TYPE_TX:
    e->tx.type = type;
    e->tx.q_id = v[0];
    e->tx.flags = v[1];
    e->tx.__reserved = v[2];
    e->tx.desc_id = v[3];
    e->tx.deferred_evs = v[4];
    return 5;
  case EF_EVENT_TYPE_RX_DISCARD:
    e->rx_discard.type = type;
    e->rx_discard.q_id = v[0];
    e->rx_discard.__reserved = v[1];
    e->rx_discard.rq_id = v[2];
    e->rx_discard.len = v[3];
    e->rx_discard.flags = v[4];
    e->rx_discard.subtype = v[5];
    return 6;
  case EF_EVENT_TYPE_TX_ERROR:
    e->tx_error.type = type;
    e->tx_error.q_id = v[0];
    e->tx_error.flags = v[1];
    e->tx_error.__reserved = v[2];
    e->tx_error.desc_id = v[3];
    e->tx_error.deferred_evs = v[4];
    e->tx_error.subtype = v[5];
    return 6;
  case EF_EVENT_TYPE_RX_NO_DESC_TRUNC:
    e->rx_no_desc_trunc.type = type;
    e->rx_no_desc_trunc.q_id = v[0];
    return 1;
  case EF_EVENT_TYPE_SW:
    e->sw.type = type;
    e->sw.data = v[0];
    return 1;
  case EF_EVENT_TYPE_OFLOW:
  case EF_EVENT_TYPE_RESET:
    e->generic.type = type;
    return 0;
  case EF_EVENT_TYPE_TX_WITH_TIMESTAMP:
    e->tx_timestamp.type = type;
    e->tx_timestamp.q_id = v[0];
    e->tx_timestamp.flags = v[1];
    e->tx_timestamp.ts_nsec_frac = v[2];
    e->tx_timestamp.rq_id = v[3];
    e->tx_timestamp.ts_sec = v[4];
    e->tx_timestamp.ts_nsec = v[5];
    e->tx_timestamp.ts_flags = v[6];
    return 7;
  case EF_EVENT_TYPE_RX_PACKED_STREAM:
    e->rx_packed_stream.type = type;
    e->rx_packed_stream.q_id = v[0];
    e->rx_packed_stream.__reserved = v[1];
    e->rx_packed_stream.flags = v[2];
    e->rx_packed_stream.n_pkts = v[3];
    e->rx_packed_stream.ps_flags = v[4];
    return 5;
  case EF_EVENT_TYPE_RX_MULTI:
    e->rx_multi.type = type;
    e->rx_multi.q_id = v[0];
    e->rx_multi.__reserved = v[1];
    e->rx_multi.n_descs = v[2];
    e->rx_multi.flags = v[3];
    return 4;
  case EF_EVENT_TYPE_TX_ALT:
    e->tx_alt.type = type;
    e->tx_alt.q_id = v[0];
    e->tx_alt.__reserved = v[1];
    e->tx_alt.alt_id = v[2];
    return 3;
  case EF_EVENT_TYPE_RX_MULTI_DISCARD:
    e->rx_multi_discard.type = type;
    e->rx_multi_discard.q_id = v[0];
    e->rx_multi_discard.__reserved = v[1];
    e->rx_multi_discard.n_descs = v[2];
    e->rx_multi_discard.flags = v[3];
    e->rx_multi_discard.subtype = v[4];
    return 5;
  case EF_EVENT_TYPE_RX_MULTI_PKTS:
    e->rx_multi_pkts.type = type;
    e->rx_multi_pkts.q_id = v[0];
    e->rx_multi_pkts.__reserved = v[1];
    e->rx_multi_pkts.n_pkts = v[2];
    e->rx_multi_pkts.flags = v[3];
    return 4;
  case EF_EVENT_TYPE_RX_REF:
    e->rx_ref.type = type;
    e->rx_ref.len = v[0];
    e->rx_ref.pkt_id = v[1];
    e->rx_ref.q_id = v[2];
    e->rx_ref.filter_id = v[3];
    e->rx_ref.user = v[4];
    return 5;
  case EF_EVENT_TYPE_RX_REF_DISCARD:
    e->rx_ref_discard.type = type;
    e->rx_ref_discard.len = v[0];
    e->rx_ref_discard.pkt_id = v[1];
    e->rx_ref_discard.q_id = v[2];
    e->rx_ref_discard.filter_id = v[3];
    e->rx_ref_discard.user = v[4];
    e->rx_ref_discard.flags = v[5];
    return 6;
  default:
    return -1;
  }
}

/* ------------------------------------------------------------------------------------------
 * Event queue
 */

/* Test doubles of the efct eventq_has_event / eventq_has_many_events operations. Events are
 * 8 bytes; bit 59 of each is its phase bit. The slot `n` events after the read pointer holds
 * an event when its phase bit equals the "lap" bit of that position, ((ptr + 8n) &
 * (evq_mask + 1)) != 0. Each call records its arguments for efvi_evq_last_call(), per
 * thread, since the Rust tests run in parallel. */
#define EFVI_EVQ_PHASE_BIT 59

static _Thread_local const ef_vi* evq_last_vi;
static _Thread_local int evq_last_n;

static int evq_slot_has_event(const ef_vi* vi, int n)
{
  uint32_t pos = vi->ep_state->evq.evq_ptr + (uint32_t) n * 8u;
  uint64_t ev;
  memcpy(&ev, vi->evq_base + (pos & vi->evq_mask), sizeof(ev));
  return (int) ((ev >> EFVI_EVQ_PHASE_BIT) & 1) == ((pos & (vi->evq_mask + 1)) != 0);
}

static int evq_double_has_event(const ef_vi* vi)
{
  evq_last_vi = vi;
  evq_last_n = -1;
  return evq_slot_has_event(vi, 0);
}

static int evq_double_has_many_events(const ef_vi* vi, int n_events)
{
  evq_last_vi = vi;
  evq_last_n = n_events;
  return evq_slot_has_event(vi, n_events);
}

void efvi_evq_install_ops(ef_vi* vi)
{
  vi->ops.eventq_has_event = evq_double_has_event;
  vi->ops.eventq_has_many_events = evq_double_has_many_events;
}

/* The arguments of the last call of a double: *n_out is -1 after eventq_has_event. */
const ef_vi* efvi_evq_last_call(int* n_out)
{
  *n_out = evq_last_n;
  return evq_last_vi;
}

int efvi_evq_has_event(ef_vi* vi)
{
  return ef_eventq_has_event(vi);
}

int efvi_evq_has_many_events(ef_vi* vi, int n)
{
  return ef_eventq_has_many_events(vi, n);
}

int efvi_evq_check_event(ef_vi* vi, int look_ahead)
{
  return ef_eventq_check_event(vi, look_ahead);
}

int efvi_evq_check_event_phase_bit(ef_vi* vi, int look_ahead)
{
  return ef_eventq_check_event_phase_bit(vi, look_ahead);
}

int efvi_evq_efxdp_check_event(ef_vi* vi, int look_ahead)
{
  return efxdp_ef_eventq_check_event(vi, look_ahead);
}

int efvi_evq_efct_check_event(ef_vi* vi)
{
  return efct_ef_eventq_check_event(vi);
}

unsigned efvi_evq_current(ef_vi* vi)
{
  return ef_eventq_current(vi);
}

/* ------------------------------------------------------------------------------------------
 * Memory registration and packed stream
 */

ef_addr efvi_memreg_dma_addr(ef_memreg* mr, size_t offset)
{
  return ef_memreg_dma_addr(mr, offset);
}

ef_packed_stream_packet* efvi_ps_first(void* start_of_buffer, int psp_start_offset)
{
  return ef_packed_stream_packet_first(start_of_buffer, psp_start_offset);
}

ef_packed_stream_packet* efvi_ps_next(ef_packed_stream_packet* pkt)
{
  return ef_packed_stream_packet_next(pkt);
}

void* efvi_ps_payload(ef_packed_stream_packet* pkt)
{
  return ef_packed_stream_packet_payload(pkt);
}

/* ------------------------------------------------------------------------------------------
 * Checksums: the inlines under test
 */

uint32_t efvi_csum_udp_buf(int af, const void* ipx, const struct udphdr* udp,
                           const void* payload, int paylen)
{
  return ef_udp_checksum_ipx_buf(af, ipx, udp, payload, paylen);
}

uint32_t efvi_csum_tcp_buf(int af, const void* ipx, const struct tcphdr* tcp,
                           const void* payload, int paylen)
{
  return ef_tcp_checksum_ipx_buf(af, ipx, tcp, payload, paylen);
}

int efvi_csum_udp_is_correct(int af, const void* ipx, const struct udphdr* udp,
                             const void* payload, int paylen)
{
  return ef_udp_checksum_ipx_is_correct(af, ipx, udp, payload, paylen);
}

int efvi_csum_tcp_is_correct(int af, const void* ipx, const struct tcphdr* tcp,
                             const void* payload, int paylen)
{
  return ef_tcp_checksum_ipx_is_correct(af, ipx, tcp, payload, paylen);
}

/* ------------------------------------------------------------------------------------------
 * Checksums: weak test doubles of the libciul functions the inlines call.
 *
 * Documented semantics: the result is the Internet checksum (RFC 1071) of the pseudo-header,
 * the L4 header with its checksum field taken as zero, and the payload, returned as the value
 * to store into the header's checksum field (the 16-bit big-endian checksum as it lies in
 * memory). UDP maps a computed 0 to 0xffff. The IPv4 TCP pseudo-header length is
 * ntohs(tot_len) - ihl * 4; for IPv6 TCP it is payload_len, for UDP the UDP length field.
 * The *_is_correct functions sum the same data including the checksum field and return 1 when
 * the complemented sum is zero, else 0. The *_ipx functions use IPv6 for AF_INET6, IPv4
 * otherwise.
 */

struct csum_acc {
  uint32_t sum;
  int odd;          /* an odd byte is pending in `pending` */
  uint8_t pending;
};

static void csum_add(struct csum_acc* a, const void* data, size_t len)
{
  const uint8_t* p = data;
  size_t i;
  for( i = 0; i < len; ++i ) {
    if( a->odd ) {
      a->sum += ((uint32_t) a->pending << 8) | p[i];
      a->odd = 0;
    }
    else {
      a->pending = p[i];
      a->odd = 1;
    }
  }
}

static uint16_t csum_finish(struct csum_acc* a)
{
  uint32_t s = a->sum;
  if( a->odd )
    s += (uint32_t) a->pending << 8;
  while( s >> 16 )
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t) ~s;
}

static uint16_t get_be16(const void* p)
{
  const uint8_t* b = p;
  return (uint16_t) ((b[0] << 8) | b[1]);
}

/* The checksum as it lies in memory (big-endian), as a host integer. */
static uint32_t csum_as_stored(uint16_t c)
{
  uint8_t b[2] = { (uint8_t) (c >> 8), (uint8_t) c };
  uint16_t v;
  memcpy(&v, b, sizeof(v));
  return v;
}

static void csum_pseudo4(struct csum_acc* a, const void* ip, uint8_t proto, uint16_t len)
{
  const uint8_t* b = ip;
  uint8_t tail[4] = { 0, proto, (uint8_t) (len >> 8), (uint8_t) len };
  csum_add(a, b + 12, 8); /* saddr, daddr */
  csum_add(a, tail, sizeof(tail));
}

static void csum_pseudo6(struct csum_acc* a, const void* ip6, uint8_t proto, uint16_t len)
{
  const uint8_t* b = ip6;
  uint8_t tail[8] = { 0, 0, (uint8_t) (len >> 8), (uint8_t) len, 0, 0, 0, proto };
  csum_add(a, b + 8, 32); /* saddr, daddr */
  csum_add(a, tail, sizeof(tail));
}

static void csum_iov(struct csum_acc* a, const struct iovec* iov, int iovlen)
{
  int i;
  for( i = 0; i < iovlen; ++i )
    csum_add(a, iov[i].iov_base, iov[i].iov_len);
}

/* L4 header bytes [0, hlen) with the 2-byte checksum at `check_off` included or zeroed. */
static void csum_l4hdr(struct csum_acc* a, const void* hdr, size_t hlen, size_t check_off,
                       int with_check)
{
  const uint8_t* b = hdr;
  static const uint8_t zero[2];
  csum_add(a, b, check_off);
  csum_add(a, with_check ? b + check_off : zero, 2);
  csum_add(a, b + check_off + 2, hlen - check_off - 2);
}

static size_t tcp_hlen(const void* tcp)
{
  return (size_t) (((const uint8_t*) tcp)[12] >> 4) * 4;
}

static uint16_t ip4_tcp_len(const void* ip)
{
  const uint8_t* b = ip;
  return (uint16_t) (get_be16(b + 2) - (b[0] & 0xf) * 4);
}

/* The checksum of an L4 segment of protocol `proto` and length `len`: the pseudo-header of the
 * IPv4 (`v6 == 0`) or IPv6 header `ip`, the L4 header (`hlen` bytes, its checksum at
 * `check_off` included or zeroed), then the payload. */
static uint16_t l4_sum(int v6, const void* ip, uint8_t proto, uint16_t len, const void* l4,
                       size_t hlen, size_t check_off, const struct iovec* iov, int n,
                       int with_check)
{
  struct csum_acc a = { 0, 0, 0 };
  if( v6 )
    csum_pseudo6(&a, ip, proto, len);
  else
    csum_pseudo4(&a, ip, proto, len);
  csum_l4hdr(&a, l4, hlen, check_off, with_check);
  csum_iov(&a, iov, n);
  return csum_finish(&a);
}

static uint16_t udp_sum(int v6, const void* ip, const void* udp, const struct iovec* iov,
                        int n, int with_check)
{
  return l4_sum(v6, ip, 17, get_be16((const uint8_t*) udp + 4), udp, 8, 6, iov, n,
                with_check);
}

static uint16_t tcp_sum(int v6, const void* ip, const void* tcp, const struct iovec* iov,
                        int n, int with_check)
{
  uint16_t len = v6 ? get_be16((const uint8_t*) ip + 4) : ip4_tcp_len(ip);
  return l4_sum(v6, ip, 6, len, tcp, tcp_hlen(tcp), 16, iov, n, with_check);
}

__attribute__((weak)) uint32_t
ef_udp_checksum(const struct iphdr* ip, const struct udphdr* udp,
                const struct iovec* iov, int iovlen)
{
  uint16_t c = udp_sum(0, ip, udp, iov, iovlen, 0);
  return csum_as_stored(c ? c : 0xffff);
}

__attribute__((weak)) uint32_t
ef_udp_checksum_ip6(const struct ipv6hdr* ip6, const struct udphdr* udp,
                    const struct iovec* iov, int iovlen)
{
  uint16_t c = udp_sum(1, ip6, udp, iov, iovlen, 0);
  return csum_as_stored(c ? c : 0xffff);
}

__attribute__((weak)) uint32_t
ef_udp_checksum_ipx(int af, const void* ipx, const struct udphdr* udp,
                    const struct iovec* iov, int iovlen)
{
  if( af == AF_INET6 )
    return ef_udp_checksum_ip6(ipx, udp, iov, iovlen);
  return ef_udp_checksum(ipx, udp, iov, iovlen);
}

__attribute__((weak)) uint32_t
ef_tcp_checksum(const struct iphdr* ip, const struct tcphdr* tcp,
                const struct iovec* iov, int iovlen)
{
  return csum_as_stored(tcp_sum(0, ip, tcp, iov, iovlen, 0));
}

__attribute__((weak)) uint32_t
ef_tcp_checksum_ip6(const struct ipv6hdr* ip6, const struct tcphdr* tcp,
                    const struct iovec* iov, int iovlen)
{
  return csum_as_stored(tcp_sum(1, ip6, tcp, iov, iovlen, 0));
}

__attribute__((weak)) uint32_t
ef_tcp_checksum_ipx(int af, const void* ipx, const struct tcphdr* tcp,
                    const struct iovec* iov, int iovlen)
{
  if( af == AF_INET6 )
    return ef_tcp_checksum_ip6(ipx, tcp, iov, iovlen);
  return ef_tcp_checksum(ipx, tcp, iov, iovlen);
}

__attribute__((weak)) int
ef_udp_checksum_is_correct(const struct iphdr* ip, const struct udphdr* udp,
                           const struct iovec* iov, int iovlen)
{
  return udp_sum(0, ip, udp, iov, iovlen, 1) == 0;
}

__attribute__((weak)) int
ef_udp_checksum_ip6_is_correct(const struct ipv6hdr* ip6, const struct udphdr* udp,
                               const struct iovec* iov, int iovlen)
{
  return udp_sum(1, ip6, udp, iov, iovlen, 1) == 0;
}

__attribute__((weak)) int
ef_tcp_checksum_is_correct(const struct iphdr* ip, const struct tcphdr* tcp,
                           const struct iovec* iov, int iovlen)
{
  return tcp_sum(0, ip, tcp, iov, iovlen, 1) == 0;
}

__attribute__((weak)) int
ef_tcp_checksum_ip6_is_correct(const struct ipv6hdr* ip6, const struct tcphdr* tcp,
                               const struct iovec* iov, int iovlen)
{
  return tcp_sum(1, ip6, tcp, iov, iovlen, 1) == 0;
}
