/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/packedstream.h -- packed-stream receive mode.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 */

#ifndef __EFAB_PACKEDSTREAM_H__
#define __EFAB_PACKEDSTREAM_H__

#include <etherfabric/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Header the adapter writes in front of each packet of a packed stream. */
typedef struct {
  uint16_t ps_next_offset;      /* from this header to the next one */
  uint8_t  ps_pkt_start_offset; /* from this header to the frame */
  uint8_t  ps_flags;            /* EF_VI_PS_FLAG_* */
  uint16_t ps_cap_len;          /* frame bytes stored */
  uint16_t ps_orig_len;         /* frame bytes on the wire */
  uint32_t ps_ts_sec;           /* hardware timestamp: seconds */
  uint32_t ps_ts_nsec;          /* hardware timestamp: nanoseconds */
} ef_packed_stream_packet;

/* ps_flags bits. */
#define EF_VI_PS_FLAG_CLOCK_SET     0x1  /* clock was set at least once */
#define EF_VI_PS_FLAG_CLOCK_IN_SYNC 0x2  /* clock tracks PTP */
#define EF_VI_PS_FLAG_BAD_FCS       0x4  /* Ethernet FCS wrong */
#define EF_VI_PS_FLAG_BAD_L4_CSUM   0x8  /* TCP/UDP checksum wrong or unseen */
#define EF_VI_PS_FLAG_BAD_L3_CSUM   0x10 /* IPv4 checksum wrong or unseen */
/* Old name covering both checksum bits; kept for compatibility. */
#define EF_VI_PS_FLAG_BAD_IP_CSUM \
  (EF_VI_PS_FLAG_BAD_L4_CSUM | EF_VI_PS_FLAG_BAD_L3_CSUM)

/* Buffer geometry of packed-stream mode; see
 * ef_vi_packed_stream_get_params(). */
typedef struct {
  int psp_buffer_size;        /* bytes per buffer */
  int psp_buffer_align;       /* required buffer alignment */
  int psp_start_offset;       /* where the first packet goes in a buffer */
  int psp_max_usable_buffers; /* buffers the adapter fills before it needs
                               * completions to be consumed */
} ef_packed_stream_params;

/* Fill psp_out for a packed-stream VI; -EINVAL for any other VI. */
extern int ef_vi_packed_stream_get_params(ef_vi* vi,
                                          ef_packed_stream_params* psp_out);

/* Account for one EF_EVENT_TYPE_RX_PACKED_STREAM event.  *pkt_iter tracks
 * where the next packet will be: set it with
 * ef_packed_stream_packet_first() when EF_EVENT_RX_PS_NEXT_BUFFER(*ev),
 * otherwise leave the value from the previous call.  *n_pkts_out and
 * *n_bytes_out receive what the event delivered.  -ENOMSG, -ENODATA or
 * -EL2NSYNC report timestamp trouble. */
extern int ef_vi_packed_stream_unbundle(ef_vi* vi, const ef_event* ev,
                                        ef_packed_stream_packet** pkt_iter,
                                        int* n_pkts_out,
                                        int* n_bytes_out);

/* Header of the first packet of a buffer: start_of_buffer plus
 * psp_start_offset bytes. */
static inline ef_packed_stream_packet*
ef_packed_stream_packet_first(void* start_of_buffer, int psp_start_offset)
{
  uint8_t* p = (uint8_t*) start_of_buffer;
  return (ef_packed_stream_packet*) (p + psp_start_offset);
}

/* Header of the packet after ps_pkt: ps_next_offset bytes further on. */
static inline ef_packed_stream_packet*
ef_packed_stream_packet_next(ef_packed_stream_packet* ps_pkt)
{
  char* p = (char*) ps_pkt;
  return (ef_packed_stream_packet*) (p + ps_pkt->ps_next_offset);
}

/* Start of the frame described by ps_pkt. */
static inline void*
ef_packed_stream_packet_payload(ef_packed_stream_packet* ps_pkt)
{
  return (char*) ps_pkt + ps_pkt->ps_pkt_start_offset;
}

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_PACKEDSTREAM_H__ */
