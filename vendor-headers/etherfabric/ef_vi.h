/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/ef_vi.h -- core ef_vi declarations.
 *
 * This file is part of the Rust bindings project, not of the vendor SDK.  It
 * declares, in the project's own words, the public C ABI of the ef_vi
 * library ("libciul") as shipped by Xilinx-CNS/onload at commit
 * ef17681d36a1b5d9e2f9fda4c77c3f700877984d (see ../SDK_VERSION).  Type
 * names, member order, member types, constant values and the behaviour of
 * the macros and inline helpers follow that SDK so that programs written for
 * it compile unchanged and so that bindgen output matches the SDK's ABI.
 *
 * Structures marked "library-private" are exposed only because the SDK's
 * data-path helpers are inline code that reads them; applications should
 * treat their contents as opaque.
 */

#ifndef __EFAB_EF_VI_H__
#define __EFAB_EF_VI_H__

/* ------------------------------------------------------------------------
 * Toolchain glue
 * ---------------------------------------------------------------------- */

#if !defined(__GNUC__)
# error "etherfabric/ef_vi.h requires a GCC-compatible compiler"
#endif

#ifdef __KERNEL__
# include <linux/types.h>
# include <linux/time.h>
# include <asm/errno.h>
# include <linux/uio.h>
#else
# include <stdbool.h>
# include <stdint.h>
# ifndef __STDC_FORMAT_MACROS
#  define __STDC_FORMAT_MACROS
# endif
# include <inttypes.h>
# include <time.h>
# include <sys/types.h>
# include <sys/uio.h>
# include <errno.h>
#endif

/* Attribute helpers used throughout the etherfabric headers. */
#define EF_VI_ALIGN(x) __attribute__((aligned(x)))
#define ef_vi_inline   static inline
#define ef_vi_pure     __attribute__((pure))
#define ef_vi_cold     __attribute__((cold))
#if defined(__KERNEL__) && defined(noinline)
# define ef_vi_noinline noinline
#else
# define ef_vi_noinline __attribute__((noinline))
#endif

/* Alignment (in bytes) wanted for DMA buffers: one cache line. */
#if defined(__powerpc__) || defined(__powerpc64__)
# define EF_VI_DMA_ALIGN 128
#else
# define EF_VI_DMA_ALIGN 64
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Basic scalar types
 * ---------------------------------------------------------------------- */

#ifdef __KERNEL__
/* Handle on the driver, in the kernel. */
typedef struct efhw_nic* ef_driver_handle;
#else
/* Handle on the driver: a file descriptor in user space (ef_driver_open()). */
typedef int ef_driver_handle;
#endif

/* Position in an event queue. */
typedef uint32_t ef_eventq_ptr;

/* A DMA address as seen by the adapter. */
typedef uint64_t ef_addr;

/* Base of a VI's memory-mapped I/O window. */
typedef char* ef_vi_ioaddr_t;

/* Identifies an address space other than the host's own. */
typedef uint64_t ef_addrspace;

/* The host's own address space. */
#define EF_ADDRSPACE_LOCAL ((uint64_t)-1)

struct ef_vi;
struct ef_filter_spec;
struct ef_filter_cookie;
/* Driver-private: design parameters of an adapter; only pointed to. */
struct efab_nic_design_parameters;
struct ef_vi_compat_data;

/* ------------------------------------------------------------------------
 * Limits
 * ---------------------------------------------------------------------- */

/* Largest number of queues that may share one VI's event queue. */
#define EF_VI_MAX_QS 32
/* Smallest events array that may be handed to ef_eventq_poll(). */
#define EF_VI_EVENT_POLL_MIN_EVS 2
/* Largest number of EFCT receive queues attached to one VI. */
#define EF_VI_MAX_EFCT_RXQS 8

/* ------------------------------------------------------------------------
 * Events
 * ---------------------------------------------------------------------- */

/* Caller-chosen token attached to a DMA request and returned on completion;
 * normally used to find the buffer that the request used. */
typedef int ef_request_id;

/* All-ones request id; also marks "no id" in the descriptor id rings. */
#define EF_REQUEST_ID_MASK 0xffffffff

/* Width of the fractional-nanosecond field carried in TX timestamp events. */
#define EF_VI_TX_TS_FRAC_NS_BITS 4

/* One completion or notification from an event queue.  Read the members
 * through the EF_EVENT_* accessor macros where one exists.  Every variant
 * starts with the 16-bit event type. */
typedef union {
  /* Any event: only the type is meaningful. */
  struct {
    unsigned type : 16;
  } generic; /* any event: its type */
  /* EF_EVENT_TYPE_RX */
  struct {
    unsigned type       : 16;
    unsigned q_id       : 8;
    unsigned __reserved : 8;
    unsigned rq_id      : 32;
    unsigned len        : 16;
    unsigned flags      : 16;
    unsigned ofs        : 16; /* only used by AF_XDP */
  } rx; /* EF_EVENT_TYPE_RX */
  /* EF_EVENT_TYPE_RX_DISCARD; shares its leading layout with rx. */
  struct {
    unsigned type       : 16;
    unsigned q_id       : 8;
    unsigned __reserved : 8;
    unsigned rq_id      : 32;
    unsigned len        : 16;
    unsigned flags      : 16;
    unsigned subtype    : 16;
  } rx_discard; /* EF_EVENT_TYPE_RX_DISCARD */
  /* EF_EVENT_TYPE_TX */
  struct {
    unsigned type         : 16;
    unsigned q_id         : 8;
    unsigned flags        : (8 - EF_VI_TX_TS_FRAC_NS_BITS);
    unsigned __reserved   : EF_VI_TX_TS_FRAC_NS_BITS;
    unsigned desc_id      : 16;
    unsigned deferred_evs : 16;
  } tx; /* EF_EVENT_TYPE_TX */
  /* EF_EVENT_TYPE_TX_ERROR; shares its layout with tx. */
  struct {
    unsigned type         : 16;
    unsigned q_id         : 8;
    unsigned flags        : (8 - EF_VI_TX_TS_FRAC_NS_BITS);
    unsigned __reserved   : EF_VI_TX_TS_FRAC_NS_BITS;
    unsigned desc_id      : 16;
    unsigned deferred_evs : 16;
    unsigned subtype      : 16;
  } tx_error; /* EF_EVENT_TYPE_TX_ERROR */
  /* EF_EVENT_TYPE_TX_WITH_TIMESTAMP; same as tx up to and including flags. */
  struct {
    unsigned type         : 16;
    unsigned q_id         : 8;
    unsigned flags        : (8 - EF_VI_TX_TS_FRAC_NS_BITS);
    unsigned ts_nsec_frac : EF_VI_TX_TS_FRAC_NS_BITS;
    unsigned rq_id        : 32;
    unsigned ts_sec       : 32;
    unsigned ts_nsec      : 30;
    unsigned ts_flags     : 2;
  } tx_timestamp; /* EF_EVENT_TYPE_TX_WITH_TIMESTAMP */
  /* EF_EVENT_TYPE_TX_ALT */
  struct {
    unsigned type       : 16;
    unsigned q_id       : 8;
    unsigned __reserved : 8;
    unsigned alt_id     : 16;
  } tx_alt; /* EF_EVENT_TYPE_TX_ALT */
  /* EF_EVENT_TYPE_RX_NO_DESC_TRUNC */
  struct {
    unsigned type : 16;
    unsigned q_id : 8;
  } rx_no_desc_trunc; /* EF_EVENT_TYPE_RX_NO_DESC_TRUNC */
  /* EF_EVENT_TYPE_RX_PACKED_STREAM */
  struct {
    unsigned type       : 16;
    unsigned q_id       : 8;
    unsigned __reserved : 8;
    unsigned flags      : 16;
    unsigned n_pkts     : 16;
    unsigned ps_flags   : 8;
  } rx_packed_stream; /* EF_EVENT_TYPE_RX_PACKED_STREAM */
  /* EF_EVENT_TYPE_SW */
  struct {
    unsigned type : 16;
    unsigned data;
  } sw; /* EF_EVENT_TYPE_SW */
  /* EF_EVENT_TYPE_RX_MULTI */
  struct {
    unsigned type       : 16;
    unsigned q_id       : 8;
    unsigned __reserved : 8;
    unsigned n_descs    : 16;
    unsigned flags      : 16;
  } rx_multi; /* EF_EVENT_TYPE_RX_MULTI */
  /* EF_EVENT_TYPE_RX_MULTI_DISCARD; shares its layout with rx_multi. */
  struct {
    unsigned type       : 16;
    unsigned q_id       : 8;
    unsigned __reserved : 8;
    unsigned n_descs    : 16;
    unsigned flags      : 16;
    unsigned subtype    : 16;
  } rx_multi_discard; /* EF_EVENT_TYPE_RX_MULTI_DISCARD */
  /* EF_EVENT_TYPE_RX_MULTI_PKTS */
  struct {
    unsigned type       : 16;
    unsigned q_id       : 8;
    unsigned __reserved : 8;
    unsigned n_pkts     : 16;
    unsigned flags      : 16;
  } rx_multi_pkts; /* EF_EVENT_TYPE_RX_MULTI_PKTS */
  /* EF_EVENT_TYPE_RX_REF (EFCT / X3 style receive) */
  struct {
    unsigned type      : 16;
    unsigned len       : 16;
    unsigned pkt_id    : 32;
    unsigned q_id      : 8;
    unsigned filter_id : 16;
    unsigned user      : 8;
  } rx_ref; /* EF_EVENT_TYPE_RX_REF */
  /* EF_EVENT_TYPE_RX_REF_DISCARD; rx_ref plus the discard flags. */
  struct {
    unsigned type      : 16;
    unsigned len       : 16;
    unsigned pkt_id    : 32;
    unsigned q_id      : 8;
    unsigned filter_id : 16;
    unsigned user      : 8;
    unsigned flags     : 16;
  } rx_ref_discard; /* EF_EVENT_TYPE_RX_REF_DISCARD */
} ef_event;

/* The type (EF_EVENT_TYPE_*) of event e. */
#define EF_EVENT_TYPE(e) ((e).generic.type)

/* Event types. */
enum {
  EF_EVENT_TYPE_RX,                /* a packet (or part of one) arrived */
  EF_EVENT_TYPE_TX,                /* transmits completed */
  EF_EVENT_TYPE_RX_DISCARD,        /* a packet arrived with an error */
  EF_EVENT_TYPE_TX_ERROR,          /* a transmit failed */
  EF_EVENT_TYPE_RX_NO_DESC_TRUNC,  /* packet cut short: RX ring empty */
  EF_EVENT_TYPE_SW,                /* software event (ef_eventq_put) */
  EF_EVENT_TYPE_OFLOW,             /* the event queue overflowed */
  EF_EVENT_TYPE_TX_WITH_TIMESTAMP, /* transmit completed, with timestamp */
  EF_EVENT_TYPE_RX_PACKED_STREAM,  /* packed-stream batch arrived */
  EF_EVENT_TYPE_RX_MULTI,          /* merged RX completions */
  EF_EVENT_TYPE_TX_ALT,            /* a TX-alternative packet went out */
  EF_EVENT_TYPE_RX_MULTI_DISCARD,  /* merged RX completions with errors */
  EF_EVENT_TYPE_RESET,             /* queue halted (reset, hot-plug) */
  EF_EVENT_TYPE_RX_MULTI_PKTS,     /* several packets arrived */
  EF_EVENT_TYPE_RX_REF,            /* EFCT packet arrived */
  EF_EVENT_TYPE_RX_REF_DISCARD,    /* EFCT packet arrived with an error */
  EF_EVENT_TYPE_MAX                /* number of event types; stays last */
};

/* Flag bits in the flags member of RX-type events. */
#define EF_EVENT_FLAG_SOP            0x1  /* first buffer of a packet */
#define EF_EVENT_FLAG_CONT           0x2  /* more buffers follow */
#define EF_EVENT_FLAG_ISCSI_OK       0x4  /* iSCSI digest verified */
#define EF_EVENT_FLAG_MULTICAST      0x8  /* multicast destination */
#define EF_EVENT_FLAG_PS_NEXT_BUFFER 0x10 /* packed stream moved buffer */

/* Flag bits in the flags member of TX-type events. */
#define EF_EVENT_FLAG_CTPIO 0x1 /* sent via cut-through PIO */

/* EF_EVENT_TYPE_RX accessors. */
#define EF_EVENT_RX_BYTES(e)      ((e).rx.len)
#define EF_EVENT_RX_Q_ID(e)       ((e).rx.q_id)
#define EF_EVENT_RX_RQ_ID(e)      ((e).rx.rq_id)
#define EF_EVENT_RX_CONT(e)       ((e).rx.flags & EF_EVENT_FLAG_CONT)
#define EF_EVENT_RX_SOP(e)        ((e).rx.flags & EF_EVENT_FLAG_SOP)
#define EF_EVENT_RX_ISCSI_OKAY(e) ((e).rx.flags & EF_EVENT_FLAG_ISCSI_OK)

/* EF_EVENT_TYPE_RX_PACKED_STREAM: true when a new buffer was started. */
#define EF_EVENT_RX_PS_NEXT_BUFFER(e) \
  ((e).rx_packed_stream.flags & EF_EVENT_FLAG_PS_NEXT_BUFFER)

/* EF_EVENT_TYPE_TX accessors. */
#define EF_EVENT_TX_Q_ID(e)  ((e).tx.q_id)
#define EF_EVENT_TX_CTPIO(e) ((e).tx.flags & EF_EVENT_FLAG_CTPIO)

/* EF_EVENT_TYPE_RX_DISCARD accessors. */
#define EF_EVENT_RX_DISCARD_Q_ID(e)  ((e).rx_discard.q_id)
#define EF_EVENT_RX_DISCARD_RQ_ID(e) ((e).rx_discard.rq_id)
#define EF_EVENT_RX_DISCARD_CONT(e)  ((e).rx_discard.flags & EF_EVENT_FLAG_CONT)
#define EF_EVENT_RX_DISCARD_SOP(e)   ((e).rx_discard.flags & EF_EVENT_FLAG_SOP)
#define EF_EVENT_RX_DISCARD_TYPE(e)  ((e).rx_discard.subtype)
#define EF_EVENT_RX_DISCARD_BYTES(e) ((e).rx_discard.len)

/* EF_EVENT_TYPE_RX_MULTI / RX_MULTI_DISCARD accessors. */
#define EF_EVENT_RX_MULTI_Q_ID(e) ((e).rx_multi.q_id)
#define EF_EVENT_RX_MULTI_CONT(e) ((e).rx_multi.flags & EF_EVENT_FLAG_CONT)
#define EF_EVENT_RX_MULTI_SOP(e)  ((e).rx_multi.flags & EF_EVENT_FLAG_SOP)
#define EF_EVENT_RX_MULTI_DISCARD_TYPE(e) ((e).rx_multi_discard.subtype)

/* Subtypes of EF_EVENT_TYPE_RX_DISCARD (why the packet was flagged). */
enum {
  EF_EVENT_RX_DISCARD_CSUM_BAD,       /* IP or TCP/UDP checksum wrong */
  EF_EVENT_RX_DISCARD_MCAST_MISMATCH, /* multicast hash did not match */
  EF_EVENT_RX_DISCARD_CRC_BAD,        /* Ethernet FCS wrong */
  EF_EVENT_RX_DISCARD_TRUNC,          /* frame truncated */
  EF_EVENT_RX_DISCARD_RIGHTS,         /* no rights to the packet */
  EF_EVENT_RX_DISCARD_EV_ERROR,       /* an earlier RX event was lost */
  EF_EVENT_RX_DISCARD_OTHER,          /* anything else */
  EF_EVENT_RX_DISCARD_INNER_CSUM_BAD, /* inner (tunnelled) checksum wrong */
  EF_EVENT_RX_DISCARD_MAX             /* number of subtypes; stays last */
};

/* EF_EVENT_TYPE_TX_ERROR accessors. */
#define EF_EVENT_TX_ERROR_Q_ID(e) ((e).tx_error.q_id)
#define EF_EVENT_TX_ERROR_TYPE(e) ((e).tx_error.subtype)

/* Clock synchronisation flags reported with hardware timestamps. */
#define EF_VI_SYNC_FLAG_CLOCK_SET     1 /* adapter clock was set at least once */
#define EF_VI_SYNC_FLAG_CLOCK_IN_SYNC 2 /* adapter clock tracks PTP now */

/* EF_EVENT_TYPE_TX_WITH_TIMESTAMP accessors. */
#define EF_EVENT_TX_WITH_TIMESTAMP_Q_ID(e)  ((e).tx_timestamp.q_id)
#define EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID(e) ((e).tx_timestamp.rq_id)
#define EF_EVENT_TX_WITH_TIMESTAMP_SEC(e)   ((e).tx_timestamp.ts_sec)
#define EF_EVENT_TX_WITH_TIMESTAMP_NSEC(e)  ((e).tx_timestamp.ts_nsec)
/* Fractional nanoseconds scaled to a 16-bit binary fraction. */
#define EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16(e)  \
  (((uint16_t)(e).tx_timestamp.ts_nsec_frac)       \
   << (16 - EF_VI_TX_TS_FRAC_NS_BITS))
/* The sync-flag bits a TX timestamp event may carry. */
#define EF_EVENT_TX_WITH_TIMESTAMP_SYNC_MASK \
  (EF_VI_SYNC_FLAG_CLOCK_SET | EF_VI_SYNC_FLAG_CLOCK_IN_SYNC)
#define EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS(e) \
  ((e).tx_timestamp.ts_flags & EF_EVENT_TX_WITH_TIMESTAMP_SYNC_MASK)

/* EF_EVENT_TYPE_TX_ALT accessors. */
#define EF_EVENT_TX_ALT_Q_ID(e)   ((e).tx_alt.q_id)
#define EF_EVENT_TX_ALT_ALT_ID(e) ((e).tx_alt.alt_id)

/* Subtypes of EF_EVENT_TYPE_TX_ERROR. */
enum {
  EF_EVENT_TX_ERROR_RIGHTS, /* no rights to the buffer */
  EF_EVENT_TX_ERROR_OFLOW,  /* pacing work queue overflowed */
  EF_EVENT_TX_ERROR_2BIG,   /* descriptor asked for too large a transfer */
  EF_EVENT_TX_ERROR_BUS     /* bus or descriptor error reading the buffer */
};

/* EF_EVENT_TYPE_RX_NO_DESC_TRUNC accessor. */
#define EF_EVENT_RX_NO_DESC_TRUNC_Q_ID(e) ((e).rx_no_desc_trunc.q_id)

/* EF_EVENT_TYPE_SW: the payload and the bits of it that are carried. */
#define EF_EVENT_SW_DATA_MASK 0xffff
#define EF_EVENT_SW_DATA(e)   ((e).sw.data)

/* printf helpers: printf(EF_EVENT_FMT, EF_EVENT_PRI_ARG(ev)). */
#define EF_EVENT_FMT        "[ev:%x]"
#define EF_EVENT_PRI_ARG(e) (unsigned) (e).generic.type

/* ------------------------------------------------------------------------
 * Scatter/gather and time types
 * ---------------------------------------------------------------------- */

/* One DMA buffer of a scatter/gather list (cf. struct iovec). */
typedef struct {
  ef_addr  iov_base EF_VI_ALIGN(8); /* DMA address of the buffer. */
  unsigned iov_len;                 /* Length of the buffer in bytes. */
} ef_iovec;

/* ef_remote_iovec.flags: translate iov_base through addrspace. */
#define EF_RIOV_FLAG_TRANSLATE_ADDR 0x1

/* Like ef_iovec, but the buffer may live in another address space. */
typedef struct {
  ef_addr      iov_base EF_VI_ALIGN(8); /* Address of the buffer in address space `addrspace`. */
  unsigned     iov_len;                 /* Length of the buffer in bytes. */
  uint32_t     flags; /* EF_RIOV_FLAG_* */
  /* The address space `iov_base` is in (EF_ADDRSPACE_LOCAL for the host's own). */
  ef_addrspace addrspace;
} ef_remote_iovec;

/* Timestamp type of the older timestamp calls. */
#ifdef __KERNEL__
typedef struct {
  long tv_sec;
  long tv_nsec;
} ef_timespec;
#else
struct timespec;
# define ef_timespec struct timespec
#endif

/* Hardware timestamp with a 16-bit binary fraction of a nanosecond and the
 * EF_VI_SYNC_FLAG_* bits. */
typedef struct {
  int64_t  tv_sec;       /* Whole seconds. */
  uint32_t tv_nsec;      /* Nanoseconds within the second. */
  uint16_t tv_nsec_frac; /* Fraction of a nanosecond, in units of 1/65536 ns. */
  uint16_t tv_flags;     /* EF_VI_SYNC_FLAG_* bits: how far the adapter clock can be trusted. */
} ef_precisetime;

/* ------------------------------------------------------------------------
 * VI flags and enumerations
 * ---------------------------------------------------------------------- */

/* Options requested when a VI is allocated.  The last member does not fit
 * in 32 bits, so this enumeration is a 64-bit type. */
enum ef_vi_flags {
  EF_VI_FLAGS_DEFAULT      = 0x0,        /* no options */
  EF_VI_ISCSI_RX_HDIG      = 0x2,        /* check iSCSI header digests */
  EF_VI_ISCSI_TX_HDIG      = 0x4,        /* insert iSCSI header digests */
  EF_VI_ISCSI_RX_DDIG      = 0x8,        /* check iSCSI data digests */
  EF_VI_ISCSI_TX_DDIG      = 0x10,       /* insert iSCSI data digests */
  EF_VI_TX_PHYS_ADDR       = 0x20,       /* TX ring uses physical addresses */
  EF_VI_RX_PHYS_ADDR       = 0x40,       /* RX ring uses physical addresses */
  EF_VI_TX_IP_CSUM_DIS     = 0x80,       /* no IP checksum offload */
  EF_VI_TX_TCPUDP_CSUM_DIS = 0x100,      /* no TCP/UDP checksum offload */
  EF_VI_TX_TCPUDP_ONLY     = 0x200,      /* drop non-TCP/UDP transmits */
  EF_VI_TX_FILTER_IP       = 0x400,      /* Siena: check source IP */
  EF_VI_TX_FILTER_MAC      = 0x800,      /* Siena: check source MAC */
  EF_VI_TX_FILTER_MASK_1   = 0x1000,     /* Siena: filter block queue mask */
  EF_VI_TX_FILTER_MASK_2   = 0x2000,     /* Siena: filter block queue mask */
  EF_VI_TX_FILTER_MASK_3   = (0x1000 | 0x2000), /* Siena */
  EF_VI_TX_PUSH_DISABLE    = 0x4000,     /* always ring the doorbell */
  EF_VI_TX_PUSH_ALWAYS     = 0x8000,     /* always push descriptors */
  EF_VI_RX_TIMESTAMPS      = 0x10000,    /* timestamp received packets */
  EF_VI_TX_TIMESTAMPS      = 0x20000,    /* timestamp sent packets */
  /* 0x40000 was EF_VI_TX_LOOPBACK; it is retired and must not be reused. */
  EF_VI_RX_PACKED_STREAM   = 0x80000,    /* packed-stream receive mode */
  EF_VI_RX_PS_BUF_SIZE_64K = 0x100000,   /* 64KiB packed-stream buffers */
  EF_VI_RX_EVENT_MERGE     = 0x200000,   /* merge RX completion events */
  EF_VI_TX_ALT             = 0x400000,   /* enable TX alternatives */
  EF_VI_ENABLE_EV_TIMER    = 0x800000,   /* enable the event queue timer */
  EF_VI_TX_CTPIO           = 0x1000000,  /* enable cut-through PIO */
  EF_VI_TX_CTPIO_NO_POISON = 0x2000000,  /* never emit poisoned frames */
  EF_VI_RX_ZEROCOPY        = 0x4000000,  /* AF_XDP zero-copy */
  EF_VI_ALLOW_MEMCPY       = 0x8000000,  /* deprecated, no effect */
  EF_VI_EFCT_UNIQUEUE      = 0x10000000, /* deprecated, no effect */
  EF_VI_RX_EXCLUSIVE       = 0x20000000, /* deprecated, no effect */
  EF_VI_ENABLE_TPH         = 0x40000000, /* PCIe TLP processing hints */
  EF_VI_TPH_TAG_MODE       = 0x80000000, /* TPH: use steering tags */
  EF_VI_RX_FILTER_ID       = 0x100000000ull /* report matching filter ids */
};

/* Information returned about an allocated VI. */
enum ef_vi_out_flags {
  EF_VI_OUT_CLOCK_SYNC_STATUS = 0x1 /* clock sync status is available */
};

/* Receive errors that can be made to produce discard events. */
enum ef_vi_rx_discard_err_flags {
  EF_VI_DISCARD_RX_L4_CSUM_ERR = 0x1,  /* TCP/UDP checksum */
  EF_VI_DISCARD_RX_L3_CSUM_ERR = 0x2,  /* IP checksum */
  EF_VI_DISCARD_RX_ETH_FCS_ERR = 0x4,  /* Ethernet FCS */
  EF_VI_DISCARD_RX_ETH_LEN_ERR = 0x8,  /* Ethernet frame length */
  EF_VI_DISCARD_RX_TOBE_DISC   = 0x10, /* deprecated */
  EF_VI_DISCARD_RX_INNER_L4_CSUM_ERR = 0x20, /* inner TCP/UDP checksum */
  EF_VI_DISCARD_RX_INNER_L3_CSUM_ERR = 0x40, /* inner IP checksum */
  /* The *_CLASS_OTHER bits (adapters with shared RX queues only) mark
   * packets that could not be parsed as the expected protocol at that
   * layer, and whose checksums were therefore never checked. */
  EF_VI_DISCARD_RX_L2_CLASS_OTHER    = 0x80,  /* unknown L2 / >1 VLAN tag */
  EF_VI_DISCARD_RX_L3_CLASS_OTHER    = 0x100, /* neither IPv4 nor IPv6 */
  EF_VI_DISCARD_RX_L4_CLASS_OTHER    = 0x200  /* not TCP, UDP or fragment */
};

/* Hardware timestamp encodings. */
enum ef_timestamp_format {
  TS_FORMAT_SECONDS_27FRACTION      = 0, /* seconds and a 27-bit binary fraction */
  TS_FORMAT_SECONDS_QTR_NANOSECONDS = 1  /* seconds and quarter nanoseconds */
};

/* Adapter architectures. */
enum ef_vi_arch {
  EF_VI_ARCH_FALCON, /* 5000/6000 series */
  EF_VI_ARCH_EF10,   /* 7000, 8000 and X2 series */
  EF_VI_ARCH_EF100,  /* SN1000 series */
  EF_VI_ARCH_EFCT,   /* X3 series, low-latency datapath */
  EF_VI_ARCH_AF_XDP, /* any adapter through AF_XDP */
  EF_VI_ARCH_EF10CT  /* ef10ct low-latency datapath */
};

/* ------------------------------------------------------------------------
 * Library-private state (read by the inline helpers below)
 * ---------------------------------------------------------------------- */

/* TX ring counters. */
typedef struct {
  uint32_t previous;     /* last slot handled */
  uint32_t added;        /* descriptors ever added */
  uint32_t removed;      /* descriptors ever completed */
  uint32_t ct_added;     /* bytes ever written to the cut-through FIFO */
  uint32_t ct_removed;   /* bytes ever drained from it */
  uint32_t ts_nsec;      /* pending TX timestamp: nanoseconds */
  uint16_t ts_nsec_frac; /* ... its 16-bit fraction */
  uint16_t ts_flags;     /* ... its sync flags */
} ef_vi_txq_state;

/* Hot polling state of one EFCT receive queue. */
typedef struct {
  uint32_t data_pkt;      /* packet id of the next payload */
  uint16_t superbuf_pkts; /* packets per superbuffer (cached) */
  uint8_t  meta_offset;   /* distance between payload and metadata */
  uint8_t  reserved;      /* Unused; keeps the layout. */
  uint64_t meta_pkt;      /* (sbseq << 32) | (sentinel << 31) | pkt id */
} ef_vi_efct_rxq_ptr;

/* Buffer-management state of one EFCT receive queue. */
typedef struct {
  int16_t  free_head;     /* head of the free buffer list */
  int16_t  fifo_head;     /* newest buffer given to the adapter */
  int16_t  fifo_tail_hw;  /* oldest buffer the adapter may still fill */
  int16_t  fifo_tail_sw;  /* next buffer software will read */
  int16_t  fifo_count_hw; /* buffers in [fifo_tail_hw, fifo_head) */
  int16_t  fifo_count_sw; /* buffers in [fifo_tail_sw, fifo_head) */
  uint32_t sbseq;         /* running count of buffers posted */
  uint32_t superbuf_pkts; /* Packets per superbuffer. */
  unsigned config_generation; /* Driver configuration generation this state was built for. */
  int      qid;           /* hardware queue number */
  bool     generates_events; /* Whether the queue reports through the event queue. */
} ef_vi_efct_rxq_state;

/* RX ring counters. */
typedef struct {
  uint32_t posted;             /* descriptors handed to the adapter */
  uint32_t added;              /* descriptors ever added */
  uint32_t removed;            /* descriptors ever completed */
  uint32_t in_jumbo;           /* ef10: buffers of the jumbo in progress */
  uint32_t bytes_acc;          /* ef10: bytes of the jumbo in progress */
  uint16_t last_desc_i;        /* ef10: last completed descriptor */
  uint16_t rx_ps_credit_avail; /* ef10: packed-stream credits */
  uint64_t efct_active_qs;     /* efct: bitmap of attached queues */
  ef_vi_efct_rxq_ptr   rxq_ptr[EF_VI_MAX_EFCT_RXQS];    /* efct */
  ef_vi_efct_rxq_state efct_state[EF_VI_MAX_EFCT_RXQS]; /* efct */
} ef_vi_rxq_state;

/* Event queue state. */
typedef struct {
  ef_eventq_ptr evq_ptr;                 /* read pointer */
  /* Library-private: how far ahead of the read pointer events are cleared. */
  int32_t       evq_clear_stride;
  uint32_t      sync_timestamp_major;    /* last time-sync event: seconds */
  uint32_t      sync_timestamp_minor;    /* ... and sub-second part */
  uint32_t      sync_timestamp_minimum;  /* smallest valid seconds value */
  /* Whether the adapter clock is in sync, as of the last time-sync event. */
  uint32_t      sync_timestamp_synchronised;
  /* Library-private: sequence number of unsolicited-event credits. */
  uint32_t      unsol_credit_seq;
  uint32_t      sync_flags;              /* EF_VI_SYNC_FLAG_* */
  int32_t       min_unused_evq_slots;    /* EVQ slots not yet promised to any queue */
} ef_eventq_state;

/* TX descriptor ring. */
typedef struct {
  uint32_t  mask;               /* ring size - 1 */
  uint32_t  ct_fifo_bytes;      /* usable cut-through FIFO space */
  uint64_t  efct_fixed_header;  /* EFCT: constant part of TX headers */
  uint32_t  efct_aperture_mask; /* EFCT: keeps writes in the aperture */
  uint8_t   ct_thresh_min;      /* smallest cut-through threshold */
  uint8_t   reserved[3];        /* Unused; keeps the layout. */
  void*     descriptors;        /* The descriptor ring memory. */
  uint32_t* ids;                /* request id of each slot */
} ef_vi_txq;

/* RX descriptor ring. */
typedef struct {
  uint32_t  mask;        /* ring size - 1 */
  void*     descriptors; /* The descriptor ring memory. */
  uint32_t* ids;         /* request id of each slot */
} ef_vi_rxq;

/* Access to the buffers of one EFCT receive queue. */
typedef struct {
  /* Values that the driver may change underneath the VI. */
  struct {
    const uint32_t* superbuf_pkts;     /* 0 while the queue is inactive */
    const unsigned* config_generation;
    const uint64_t* time_sync;         /* latest time-sync event */
  } live; /* Values that the driver may change underneath the VI. */
  uint32_t config_generation; /* last generation seen */
#ifdef __KERNEL__
  const char** superbufs;
#else
  const char* superbuf;       /* superbuffer memory, contiguous */
  const void* mappings;       /* Library-private: the driver's mappings of the superbuffers. */
#endif
} ef_vi_efct_rxq;

/* Logger used by ef_vi_efct_rxq_ops.dump_stats. */
typedef void (*ef_vi_dump_log_fn_t)(void* log_fn_arg, const char* fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Buffer-management operations of the EFCT receive path. */
typedef struct {
  bool (*available)(const struct ef_vi*, int ix); /* Whether queue `ix` has a packet ready. */
  /* Moves queue `ix` on to its next superbuffer; gives its sentinel and sequence. */
  int  (*next)(struct ef_vi*, int ix, bool* sentinel, unsigned* seq);
  void (*free)(struct ef_vi*, int ix, int sbid);  /* Gives superbuffer `sbid` of queue `ix` back. */
  /* Hands superbuffer `sbid` of queue `ix` to the adapter. */
  void (*post)(struct ef_vi*, int ix, int sbid, bool sentinel);
  /* Prepares the VI for attaching queues. */
  int  (*pre_attach)(struct ef_vi*, bool shared_mode, bool wants_interrupts);
  /* Attaches hardware queue `qid` to the VI; gives the index used. */
  int  (*attach)(struct ef_vi*, int qid, int buf_fd, unsigned n_superbufs,
                 bool shared_mode, bool interrupt_mode, int* qid_out);
  void (*detach)(struct ef_vi*, int ix);          /* Detaches queue `ix`. */
  /* Updates queue `ix` after the driver changed its configuration. */
  int  (*refresh)(struct ef_vi*, int ix);
  /* Updates the mappings of queue `ix`'s buffers in user memory. */
  int  (*refresh_mappings)(struct ef_vi*, int ix, uint64_t user_buffers,
                           uint64_t* user_mappings);
  int  (*prime)(struct ef_vi*, ef_driver_handle dh); /* Asks for a wakeup when a packet arrives. */
  /* Where a sleeping waiter on queue `qix` should be woken: superbuffer
   * sequence and packet index. */
  int  (*get_wakeup_params)(struct ef_vi*, int qix, unsigned* sbseq,
                            unsigned* pktix);
  /* The driver's resource id of queue `qix`.  Returned by value in a type the
   * public headers leave incomplete: bound, never called from Rust. */
  struct efch_resource_id_s (*get_rxq_resource_id)(struct ef_vi*, int qix);
  void (*cleanup)(struct ef_vi*);                 /* Releases everything the operations hold. */
  /* Writes the queues' counters through `logger`. */
  void (*dump_stats)(struct ef_vi*, ef_vi_dump_log_fn_t logger,
                     void* log_arg);
  /* Budget of buffers a shrub client may hold references to. */
  int  (*set_client_buf_count)(struct ef_vi*, size_t);
  /* Free for whoever overrides these operations. */
  uintptr_t user_data;
} ef_vi_efct_rxq_ops;

/* All EFCT receive queues of a VI. */
typedef struct {
  const uint64_t*     active_qs; /* bitmap; NULL when there is no EFCT RX */
  uint64_t            max_qs;    /* 1 + highest usable index of q[] */
  ef_vi_efct_rxq      q[EF_VI_MAX_EFCT_RXQS]; /* The queues, indexed as in `active_qs`. */
  ef_vi_efct_rxq_ops* ops;       /* How the queues' buffers are managed. */
  uint8_t             meta_offset; /* Distance between a packet's payload and its metadata. */
  uint16_t            rx_stride; /* Bytes between consecutive packets in a superbuffer. */
  const struct efab_efct_rxq_uk_shm_base* shm; /* Queue area shared with the driver. */
} ef_vi_efct_rxqs;

/* Everything that changes while a VI runs.  The descriptor id rings follow
 * it in the same allocation. */
typedef struct {
  ef_eventq_state evq; /* Event queue state. */
  ef_vi_txq_state txq; /* TX ring state. */
  ef_vi_rxq_state rxq; /* RX ring state. */
} ef_vi_state;

/* Software counters of a VI. */
typedef struct {
  uint32_t rx_ev_lost;        /* RX events lost. */
  uint32_t rx_ev_bad_desc_i;  /* RX events naming an unexpected descriptor. */
  uint32_t rx_ev_bad_q_label; /* RX events naming an unknown queue. */
  uint32_t evq_gap;           /* Empty event slots found before a valid event. */
  struct {
    uint64_t buffers_freed;
    uint64_t post_fifo_full;
    uint64_t free_list_empty;
    uint64_t sw_fifo_empty;
    uint64_t hw_fifo_empty;
    uint64_t sentinel_wait;
    uint64_t acquire_failures;
    uint64_t release_count;
    uint64_t torn_down_out_of_order;
    uint64_t corrupt_rxq_state;
    uint64_t buffers_posted;
    uint64_t buffers_acquired;
    uint64_t rollover_failed_no_evq_space;
  } efct_rxq_stats[EF_VI_MAX_EFCT_RXQS]; /* buffer counters of each EFCT queue */
} ef_vi_stats;

/* Which adapter a VI lives on. */
struct ef_vi_nic_type {
  unsigned char arch;      /* enum ef_vi_arch */
  char          variant;   /* Variant of the architecture (a letter). */
  unsigned char revision;  /* Hardware revision. */
  unsigned char nic_flags; /* Hardware feature bits. */
};

/* Per-packet buffering overhead of TX alternatives; fill it with
 * ef_vi_transmit_alt_query_overhead() and use ef_vi_transmit_alt_usage(). */
struct ef_vi_transmit_alt_overhead {
  uint32_t pre_round;  /* Bytes added before rounding. */
  uint32_t mask;       /* Rounding mask. */
  uint32_t post_round; /* Bytes added after rounding. */
};

struct ef_pio;

/* Deprecated options of ef_vi_transmitv_init_extra(). */
enum ef_vi_tx_extra_flags {
  EF_VI_TX_EXTRA_MARK             = 0x1, /* use `mark` */
  EF_VI_TX_EXTRA_INGRESS_MPORT    = 0x2, /* use `ingress_mport` */
  EF_VI_TX_EXTRA_EGRESS_MPORT     = 0x4, /* use `egress_mport` */
  EF_VI_TX_EXTRA_CAPSULE_METADATA = 0x8  /* frame data starts with capsule metadata */
};

/* Deprecated per-packet options of ef_vi_transmitv_init_extra(). */
struct ef_vi_tx_extra {
  enum ef_vi_tx_extra_flags flags; /* Which of the other members apply (EF_VI_TX_EXTRA_*). */
  uint32_t mark;                   /* Mark value for the packet. */
  uint16_t ingress_mport;          /* Port by which the packet enters the virtual switch. */
  uint16_t egress_mport;           /* Port by which the packet leaves the virtual switch. */
};

/* TX state saved by ef_vi_start_transmit_warm() and restored by
 * ef_vi_stop_transmit_warm(). */
typedef struct {
  unsigned removed;           /* Saved TX completion counter. */
  char*    vi_ctpio_mmap_ptr; /* Saved cut-through aperture. */
} ef_vi_tx_warm_state;

/* ------------------------------------------------------------------------
 * The virtual interface
 * ---------------------------------------------------------------------- */

/* A virtual interface: an event queue plus (optionally) an RX and a TX
 * descriptor ring.  The application provides the memory; the library fills
 * it in.  Once allocated it may point to itself, so it must not be moved. */
typedef struct ef_vi {
  unsigned                 inited;          /* Library-private: which parts of the VI are set up. */
  unsigned                 vi_resource_id;  /* The driver's resource id of the VI. */
  unsigned                 vi_i;            /* instance number */
  ef_driver_handle         dh;              /* Driver handle the VI was allocated through. */

  unsigned                 rx_buffer_len;   /* Bytes of each RX buffer the adapter may fill. */
  /* Bytes of metadata the adapter writes before each received packet. */
  unsigned                 rx_prefix_len;
  /* EFCT: the last cut-through send had no room; the fallback send must know. */
  uint8_t                  last_ctpio_failed;
  uint64_t                 rx_discard_mask; /* Receive errors that produce discard events. */
  /* Correction applied to RX timestamps, in clock ticks. */
  int                      rx_ts_correction;
  unsigned                 rx_pkt_len_offset; /* Where the packet length is in the RX prefix. */
  unsigned                 rx_pkt_len_mask; /* Mask of the packet length in the RX prefix. */
  /* Correction applied to TX timestamps, in nanoseconds. */
  int                      tx_ts_correction_ns;
  enum ef_timestamp_format ts_format;       /* Encoding of the adapter's timestamps. */
  /* Bits of sub-nanosecond precision in the timestamps. */
  uint8_t                  ts_subnano_bits;
  char*                    vi_mem_mmap_ptr; /* Mapping of the VI's memory (rings). */
  int                      vi_mem_mmap_bytes; /* Length of that mapping. */
  char*                    vi_io_mmap_ptr;  /* Mapping of the VI's I/O registers. */
  int                      vi_io_mmap_bytes; /* Length of that mapping. */
  char*                    vi_ctpio_mmap_ptr; /* Mapping of the cut-through PIO aperture. */
  uint32_t                 vi_ctpio_wb_ticks; /* Pacing of writes into the cut-through aperture. */
  int                      ep_state_bytes;  /* Bytes allocated at `ep_state`. */
  int                      vi_clustered;    /* Whether the VI belongs to a cluster. */
  int                      vi_is_packed_stream; /* Whether packed-stream mode is on. */
  int                      vi_is_normal;    /* Whether no special receive mode is on. */
  unsigned                 vi_ps_buf_size;  /* Packed-stream buffer size. */

  ef_vi_ioaddr_t           io;              /* Base of the VI's I/O window. */
  struct ef_pio*           linked_pio;      /* The PIO region linked to the VI, or NULL. */

  char*                    evq_base;        /* Start of the event queue memory. */
  unsigned                 evq_mask;        /* Event queue size in bytes minus one. */
  unsigned                 evq_max_events; /* most events one poll returns */
  /* Whether the event queue marks valid events with phase bits. */
  int                      evq_phase_bits;
  /* Resolution of the event queue timer, in nanoseconds. */
  unsigned                 timer_quantum_ns;
  /* TX fill level above which descriptors are no longer pushed. */
  unsigned                 tx_push_thresh;

  ef_vi_txq                vi_txq;          /* The TX descriptor ring. */
  ef_vi_rxq                vi_rxq;          /* The RX descriptor ring. */
  ef_vi_state*             ep_state;        /* The VI's changing state. */
  enum ef_vi_flags         vi_flags;        /* The flags the VI was allocated with. */
  enum ef_vi_out_flags     vi_out_flags;    /* What the driver reported at allocation. */
  ef_vi_stats*             vi_stats;        /* Software counters. */

  /* The VI that owns the event queue this VI reports to. */
  struct ef_vi*            evq_vi;
  /* Queues reporting to this VI's event queue, indexed by q_id. */
  struct ef_vi*            vi_qs[EF_VI_MAX_QS];
  int                      vi_qs_n;         /* Entries used in `vi_qs`. */
  uint8_t                  future_qix; /* EFCT: queue of the packet last seen arriving early. */
  ef_vi_efct_rxqs          efct_rxqs;       /* EFCT receive queues. */

  unsigned                 tx_alt_num;      /* Number of TX alternatives. */
  unsigned*                tx_alt_id2hw; /* Maps application TX alternative ids to hardware ids. */
  unsigned*                tx_alt_hw2id;    /* Maps hardware TX alternative ids back. */

  struct ef_vi_nic_type    nic_type;        /* Which adapter the VI lives on. */

  /* AF_XDP: makes the kernel send what was queued. */
  int                    (*xdp_kick)(struct ef_vi*);
  void*                    xdp_kick_context; /* Argument of `xdp_kick`. */

  /* Library-private: wrap mask of the unsolicited-credit sequence. */
  uint32_t                 unsol_credit_seq_mask;

  struct ef_vi_compat_data* compat_data;    /* Library-private: compatibility-mode data, or NULL. */

  /* Per-architecture implementation of the data path; the function-like
   * macros below call through this table. */
  struct ops {
    int  (*transmit)(struct ef_vi*, ef_addr base, int len, ef_request_id);   /* Sends one buffer. */
    /* Sends a packet gathered from several buffers. */
    int  (*transmitv)(struct ef_vi*, const ef_iovec*, int iov_len,
                      ef_request_id);
    /* Queues TX descriptors for several buffers without telling the adapter. */
    int  (*transmitv_init)(struct ef_vi*, const ef_iovec*, int iov_len,
                           ef_request_id);
    void (*transmit_push)(struct ef_vi*); /* Tells the adapter about queued TX descriptors. */
    /* Sends a packet already in the PIO region. */
    int  (*transmit_pio)(struct ef_vi*, int offset, int len,
                         ef_request_id dma_id);
    /* Copies a packet into the PIO region and sends it. */
    int  (*transmit_copy_pio)(struct ef_vi*, int pio_offset,
                              const void* src_buf, int len,
                              ef_request_id dma_id);
    /* Starts warming the cut-through send path; saves the TX state. */
    void (*start_transmit_warm)(struct ef_vi*,
                                ef_vi_tx_warm_state* saved_state,
                                char* warm_ctpio_mmap_ptr);
    /* Ends warming; restores the saved TX state. */
    void (*stop_transmit_warm)(struct ef_vi*,
                               ef_vi_tx_warm_state* saved_state);
    void (*transmit_pio_warm)(struct ef_vi*); /* Warms the PIO send path without sending. */
    /* Copies into the PIO region to warm the path, without sending. */
    void (*transmit_copy_pio_warm)(struct ef_vi*, int pio_offset,
                                   const void* src_buf, int len);
    /* Sends a packet by cut-through PIO. */
    void (*transmitv_ctpio)(struct ef_vi*, size_t frame_len,
                            const struct iovec* iov, int iov_len,
                            unsigned threshold);
    /* Sends by cut-through PIO and copies the frame to `fallback`. */
    void (*transmitv_ctpio_copy)(struct ef_vi*, size_t frame_len,
                                 const struct iovec* iov, int iov_len,
                                 unsigned threshold, void* fallback);
    /* Makes later sends go to TX alternative `alt_id`. */
    int  (*transmit_alt_select)(struct ef_vi*, unsigned alt_id);
    /* Makes later sends go to the normal path. */
    int  (*transmit_alt_select_default)(struct ef_vi*);
    /* Holds the packets of TX alternative `alt_id`. */
    int  (*transmit_alt_stop)(struct ef_vi*, unsigned alt_id);
    /* Releases the packets of TX alternative `alt_id`. */
    int  (*transmit_alt_go)(struct ef_vi*, unsigned alt_id);
    /* Chooses which receive errors produce discard events. */
    int  (*receive_set_discards)(struct ef_vi* vi,
                                 unsigned discard_err_flags);
    /* The receive errors that produce discard events. */
    uint64_t (*receive_get_discards)(struct ef_vi* vi);
    /* Drops the packets of TX alternative `alt_id`. */
    int  (*transmit_alt_discard)(struct ef_vi*, unsigned alt_id);
    /* Queues one RX buffer without telling the adapter. */
    int  (*receive_init)(struct ef_vi*, ef_addr, ef_request_id);
    void (*receive_push)(struct ef_vi*); /* Tells the adapter about queued RX buffers. */
    /* Reads the hardware timestamp of a received packet. */
    int  (*receive_get_timestamp)(struct ef_vi*, const void* pkt,
                                  ef_precisetime*);
    /* Takes events from the event queue. */
    int  (*eventq_poll)(struct ef_vi*, ef_event*, int evs_len);
    void (*eventq_prime)(struct ef_vi*); /* Asks for a wakeup on the next event. */
    /* Arms the event queue timer if it is not running. */
    void (*eventq_timer_prime)(struct ef_vi*, unsigned v);
    void (*eventq_timer_run)(struct ef_vi*, unsigned v); /* Starts the event queue timer. */
    void (*eventq_timer_clear)(struct ef_vi*); /* Stops the event queue timer. */
    void (*eventq_timer_zero)(struct ef_vi*); /* Makes the event queue timer expire now. */
    int  (*eventq_has_event)(const struct ef_vi*); /* Whether an event is waiting. */
    /* Whether at least `n_events` events are waiting. */
    int  (*eventq_has_many_events)(const struct ef_vi*, int n_events);
    /* Posts the DMA copy of a packet sent by cut-through. */
    int  (*transmit_ctpio_fallback)(struct ef_vi* vi, ef_addr dma_addr,
                                    size_t len, ef_request_id dma_id);
    /* Posts the DMA copy, from several buffers, of a packet sent by cut-through. */
    int  (*transmitv_ctpio_fallback)(struct ef_vi* vi,
                                     const ef_iovec* dma_iov,
                                     int dma_iov_len, ef_request_id dma_id);
    /* Takes receive completions without going through the event queue. */
    int  (*receive_poll)(struct ef_vi*, ef_event* evs, int evs_len);
    /* The id of the filter a received packet matched. */
    int  (*receive_get_filter_id)(struct ef_vi*, const ef_event* ev,
                                  const void* pkt);
    /* Reports a packet that is still arriving. */
    int  (*future_eventq_poll)(struct ef_vi*, ef_event* evs, int evs_len);
  } ops; /* the data path of the VI's architecture */

  /* Hooks used inside the library only; entries may be NULL. */
  struct internal_ops {
    /* Reads the adapter's design parameters. */
    int (*design_parameters)(struct ef_vi*,
                             struct efab_nic_design_parameters*);
    /* Called before a filter is added. */
    int (*pre_filter_add)(struct ef_vi*, bool shared_mode,
                          bool wants_interrupts);
    /* Called after a filter was added. */
    int (*post_filter_add)(struct ef_vi*, const struct ef_filter_spec* fs,
                           const struct ef_filter_cookie* cookie, int rxq,
                           bool shared_mode);
  } internal_ops; /* library-internal hooks */
} ef_vi;

/* Library-private: what a VI running in compatibility mode emulates. */
struct ef_vi_compat_data {
  enum ef_vi_arch underlying_arch;  /* The architecture really underneath. */
#ifdef __cplusplus
  struct ef_vi::ops underlying_ops;
#else
  struct ops underlying_ops;        /* The data path of that architecture. */
#endif
  union {
    struct {
      ef_addr* rx_descriptors;
      void*    tx_dma_buf;
    } ef10;
  } arch; /* Per-architecture state. */
};

/* ------------------------------------------------------------------------
 * VI identity
 * ---------------------------------------------------------------------- */

/* The driver's resource id for the VI. */
ef_vi_inline unsigned ef_vi_resource_id(ef_vi* vi)
{
  return vi->vi_resource_id;
}

/* The flags the VI was allocated with. */
ef_vi_inline enum ef_vi_flags ef_vi_flags(ef_vi* vi)
{
  return vi->vi_flags;
}

/* The VI's instance number on its adapter. */
ef_vi_inline unsigned ef_vi_instance(ef_vi* vi)
{
  return vi->vi_i;
}

/* Version string of the ef_vi library (treat as opaque text). */
extern const char* ef_vi_version_str(void);

/* Identifier of the driver interface this library was built for. */
extern const char* ef_vi_driver_interface_str(void);

/* ------------------------------------------------------------------------
 * Receive
 * ---------------------------------------------------------------------- */

/* Bytes of adapter metadata in front of each received frame (first buffer
 * of a packet only). */
ef_vi_inline int ef_vi_receive_prefix_len(const ef_vi* vi)
{
  return vi->rx_prefix_len;
}

/* Size every RX buffer must have, prefix included. */
ef_vi_inline int ef_vi_receive_buffer_len(const ef_vi* vi)
{
  return vi->rx_buffer_len;
}

/* Change the RX buffer size used by later receive_init/receive_post calls
 * (AF_XDP: only before memory is registered). */
ef_vi_inline void ef_vi_receive_set_buffer_len(ef_vi* vi, unsigned buf_len)
{
  vi->rx_buffer_len = buf_len;
}

/* Free slots in the RX ring. */
ef_vi_inline int ef_vi_receive_space(const ef_vi* vi)
{
  ef_vi_rxq_state* rs = &vi->ep_state->rxq;
  return vi->vi_rxq.mask - (rs->added - rs->removed);
}

/* Slots of the RX ring that currently hold a buffer. */
ef_vi_inline int ef_vi_receive_fill_level(const ef_vi* vi)
{
  ef_vi_rxq_state* rs = &vi->ep_state->rxq;
  return rs->added - rs->removed;
}

/* Usable size of the RX ring. */
ef_vi_inline int ef_vi_receive_capacity(const ef_vi* vi)
{
  return vi->vi_rxq.mask;
}

/* Queue an RX buffer (DMA address addr, token dma_id) without telling the
 * adapter yet.  Returns 0 or a negative errno. */
#define ef_vi_receive_init(vi, addr, dma_id) \
  (vi)->ops.receive_init((vi), (addr), (dma_id))

/* Hand the queued RX buffers to the adapter (7000 series: in batches of 8). */
#define ef_vi_receive_push(vi) (vi)->ops.receive_push((vi))

/* ef_vi_receive_init() followed by ef_vi_receive_push(). */
extern int ef_vi_receive_post(ef_vi* vi, ef_addr addr, ef_request_id dma_id);

/* Superseded by ef_vi_receive_get_precise_timestamp() (still declared without
 * a deprecation attribute: the SDK's own samples call it). */
extern int
ef_vi_receive_get_timestamp(ef_vi* vi, const void* pkt, ef_timespec* ts_out);

/* Superseded by ef_vi_receive_get_precise_timestamp(), as above. */
extern int
ef_vi_receive_get_timestamp_with_sync_flags(ef_vi* vi, const void* pkt,
                                            ef_timespec* ts_out,
                                            unsigned* flags_out);

/* Hardware RX timestamp of the packet whose first buffer is pkt, with
 * sub-nanosecond part and sync flags.  Valid until the next poll.  Returns 0,
 * -ENOMSG (not yet synchronised), -ENODATA (no timestamp) or -EL2NSYNC
 * (synchronisation lost). */
#define ef_vi_receive_get_precise_timestamp(vi, pkt, ts_out) \
  (vi)->ops.receive_get_timestamp((vi), (pkt), (ts_out))

/* RX event merge mode: total length of the packet starting at pkt, prefix
 * excluded. */
extern int
ef_vi_receive_get_bytes(ef_vi* vi, const void* pkt, uint16_t* bytes_out);

/* Deprecated and unused on current adapters. */
extern int
ef_vi_receive_get_user_data(ef_vi* vi, const void* pkt, uint32_t* user_mark,
                            uint8_t* user_flag) __attribute__((deprecated));

/* Most request ids one RX_MULTI event can complete. */
#define EF_VI_RECEIVE_BATCH 15

/* Write the request ids completed by an RX_MULTI or RX_MULTI_DISCARD event
 * into ids[EF_VI_RECEIVE_BATCH]; returns how many. */
extern int ef_vi_receive_unbundle(ef_vi* ep, const ef_event* event,
                                  ef_request_id* ids);

/* Request id the next RX completion will carry. */
extern ef_request_id ef_vi_rxq_next_desc_id(ef_vi* vi);

/* Choose which receive errors (enum ef_vi_rx_discard_err_flags) turn
 * completions into discard events. */
#define ef_vi_receive_set_discards(vi, discard_err_flags) \
  (vi)->ops.receive_set_discards((vi), discard_err_flags)

/* The discard mask currently in force. */
#define ef_vi_receive_get_discards(vi) \
  (vi)->ops.receive_get_discards((vi))

/* Translate the flags of an RX_REF_DISCARD event into the matching
 * EF_EVENT_RX_DISCARD_* subtype.  Bits are examined in this order and the
 * first one set decides: FCS -> CRC_BAD, length -> TRUNC, L4 or L3
 * checksum -> CSUM_BAD, inner L4 or L3 checksum -> INNER_CSUM_BAD, any
 * CLASS_OTHER bit -> OTHER.  With none of these bits set the result is 0. */
ef_vi_inline unsigned
ef_vi_get_rx_discard_subtype_from_flags(unsigned flags)
{
  if( flags & EF_VI_DISCARD_RX_ETH_FCS_ERR )
    return EF_EVENT_RX_DISCARD_CRC_BAD;
  if( flags & EF_VI_DISCARD_RX_ETH_LEN_ERR )
    return EF_EVENT_RX_DISCARD_TRUNC;
  if( flags & (EF_VI_DISCARD_RX_L4_CSUM_ERR | EF_VI_DISCARD_RX_L3_CSUM_ERR) )
    return EF_EVENT_RX_DISCARD_CSUM_BAD;
  if( flags & (EF_VI_DISCARD_RX_INNER_L4_CSUM_ERR |
               EF_VI_DISCARD_RX_INNER_L3_CSUM_ERR) )
    return EF_EVENT_RX_DISCARD_INNER_CSUM_BAD;
  if( flags & (EF_VI_DISCARD_RX_L2_CLASS_OTHER |
               EF_VI_DISCARD_RX_L3_CLASS_OTHER |
               EF_VI_DISCARD_RX_L4_CLASS_OTHER) )
    return EF_EVENT_RX_DISCARD_OTHER;
  return 0;
}

/* Id of the filter that steered a received packet to this VI (needs
 * EF_VI_RX_FILTER_ID and EF_VI_CAP_RX_FILTER_ID).  ev is the RX event and
 * pkt the packet's first buffer.  Returns the id or a negative errno. */
#define ef_vi_receive_get_filter_id(vi, ev, pkt) \
  (vi)->ops.receive_get_filter_id((vi), (ev), (pkt))

/* ------------------------------------------------------------------------
 * Transmit
 * ---------------------------------------------------------------------- */

/* Free slots in the TX ring. */
ef_vi_inline int ef_vi_transmit_space(const ef_vi* vi)
{
  ef_vi_txq_state* ts = &vi->ep_state->txq;
  return vi->vi_txq.mask - (ts->added - ts->removed);
}

/* Slots of the TX ring awaiting completion. */
ef_vi_inline int ef_vi_transmit_fill_level(const ef_vi* vi)
{
  ef_vi_txq_state* ts = &vi->ep_state->txq;
  return ts->added - ts->removed;
}

/* Payload bytes the next packet may use in the cut-through FIFO (may be
 * negative when the FIFO is over-full; large when there is no FIFO).  Zero
 * when the event queue has no unused slot left for another completion. */
ef_vi_inline int ef_vi_transmit_space_bytes(const ef_vi* vi)
{
  ef_vi_txq_state* ts = &vi->ep_state->txq;
  if( vi->evq_vi->ep_state->evq.min_unused_evq_slots <= 0 )
    return 0;
  return vi->vi_txq.ct_fifo_bytes - (ts->ct_added - ts->ct_removed);
}

/* Bytes currently occupying the cut-through FIFO. */
ef_vi_inline int ef_vi_transmit_fill_level_bytes(const ef_vi* vi)
{
  ef_vi_txq_state* ts = &vi->ep_state->txq;
  return ts->ct_added - ts->ct_removed;
}

/* Usable size of the TX ring. */
ef_vi_inline int ef_vi_transmit_capacity(const ef_vi* vi)
{
  return vi->vi_txq.mask;
}

/* Queue one TX descriptor for bytes at addr; -EAGAIN when the ring is
 * full. */
extern int ef_vi_transmit_init(ef_vi* vi, ef_addr addr, int bytes,
                               ef_request_id dma_id);

/* Queue TX descriptors for a packet gathered from iov[0..iov_len). */
#define ef_vi_transmitv_init(vi, iov, iov_len, dma_id) \
  (vi)->ops.transmitv_init((vi), (iov), (iov_len), (dma_id))

/* Deprecated: like ef_vi_transmitv_init() with extra options and buffers
 * that may be remote (the first one must be local). */
extern int ef_vi_transmitv_init_extra(ef_vi* vi,
                                      const struct ef_vi_tx_extra* extra,
                                      const ef_remote_iovec* iov,
                                      int iov_len, ef_request_id dma_id);

/* Tell the adapter about the queued TX descriptors.  Call it only after
 * queueing at least one new descriptor. */
#define ef_vi_transmit_push(vi) (vi)->ops.transmit_push((vi))

/* Queue and push one buffer. */
#define ef_vi_transmit(vi, base, len, dma_id) \
  (vi)->ops.transmit((vi), (base), (len), (dma_id))

/* Queue and push a gathered packet. */
#define ef_vi_transmitv(vi, iov, iov_len, dma_id) \
  (vi)->ops.transmitv((vi), (iov), (iov_len), (dma_id))

/* Send a packet already in the linked PIO region at offset (64-byte
 * aligned, len >= 16). */
#define ef_vi_transmit_pio(vi, offset, len, dma_id) \
  (vi)->ops.transmit_pio((vi), (offset), (len), (dma_id))

/* Copy src_buf into the PIO region at pio_offset and send it. */
#define ef_vi_transmit_copy_pio(vi, pio_offset, src_buf, len, dma_id) \
  (vi)->ops.transmit_copy_pio((vi), (pio_offset), (src_buf), (len), \
                              (dma_id))

/* Deprecated PIO warming; use ef_vi_start_transmit_warm(). */
#define ef_vi_transmit_pio_warm(vi) (vi)->ops.transmit_pio_warm((vi))

/* Deprecated PIO warming; use ef_vi_start_transmit_warm(). */
#define ef_vi_transmit_copy_pio_warm(vi, pio_offset, src_buf, len) \
  (vi)->ops.transmit_copy_pio_warm((vi), (pio_offset), (src_buf), (len))

/* Enter warming mode: the TX ring looks full and sends reach no wire.  The
 * previous TX state goes to saved_state (may be NULL on EFCT). */
#define ef_vi_start_transmit_warm(vi, saved_state, warm_ctpio_mmap_ptr) \
  (vi)->ops.start_transmit_warm((vi), (saved_state), (warm_ctpio_mmap_ptr))

/* Leave warming mode, restoring saved_state. */
#define ef_vi_stop_transmit_warm(vi, saved_state) \
  (vi)->ops.stop_transmit_warm((vi), (saved_state))

/* Drop the TX descriptors queued since the last push. */
extern void ef_vi_transmit_init_undo(ef_vi* vi);

/* Most request ids one TX event can complete. */
#define EF_VI_TRANSMIT_BATCH 64

/* Write the request ids completed by a TX or TX_ERROR event into
 * ids[EF_VI_TRANSMIT_BATCH]; returns how many.  Their buffers are then free
 * for reuse. */
extern int ef_vi_transmit_unbundle(ef_vi* ep, const ef_event* event,
                                   ef_request_id* ids);

/* Number of TX alternatives the VI has. */
extern unsigned ef_vi_transmit_alt_num_ids(ef_vi* vi);

/* Route later sends into TX alternative alt_id. */
#define ef_vi_transmit_alt_select(vi, alt_id) \
  (vi)->ops.transmit_alt_select((vi), (alt_id))

/* Route later sends straight to the wire again. */
#define ef_vi_transmit_alt_select_normal(vi) \
  (vi)->ops.transmit_alt_select_default((vi))

/* Put alternative alt_id in the STOP state (buffer what it receives). */
#define ef_vi_transmit_alt_stop(vi, alt_id) \
  (vi)->ops.transmit_alt_stop((vi), (alt_id))

/* Put alternative alt_id in the GO state (send what it holds). */
#define ef_vi_transmit_alt_go(vi, alt_id) \
  (vi)->ops.transmit_alt_go((vi), (alt_id))

/* Put alternative alt_id in the DISCARD state (drop what it holds). */
#define ef_vi_transmit_alt_discard(vi, alt_id) \
  (vi)->ops.transmit_alt_discard((vi), (alt_id))

/* Fill params with the VI's TX-alternative overheads; -EINVAL when the VI
 * has no alternatives. */
extern int ef_vi_transmit_alt_query_overhead(
    ef_vi* vi, struct ef_vi_transmit_alt_overhead* params);

/* Adapter buffer bytes a packet of pkt_len bytes uses in an alternative:
 * ((pkt_len + pre_round) & mask) + post_round, in 32-bit arithmetic. */
ef_vi_inline ef_vi_pure uint32_t
ef_vi_transmit_alt_usage(const struct ef_vi_transmit_alt_overhead* params,
                         uint32_t pkt_len)
{
  uint32_t n = pkt_len + params->pre_round;
  n &= params->mask;
  return n + params->post_round;
}

/* Outstanding-transmit count at which pushing gives way to doorbells. */
extern void ef_vi_set_tx_push_threshold(ef_vi* vi, unsigned threshold);

/* Cut-through PIO send of frame_len bytes gathered from frame_iov.  Must be
 * followed by a fallback post (ef_vi_transmit_ctpio_fallback() or
 * similar) before the next send on this VI. */
#define ef_vi_transmitv_ctpio(vi, frame_len, frame_iov, frame_iov_len, \
                              ct_threshold)                            \
  (vi)->ops.transmitv_ctpio((vi), (frame_len), (frame_iov),            \
                            (frame_iov_len), (ct_threshold))

/* As ef_vi_transmitv_ctpio(), also copying the frame into fallback. */
#define ef_vi_transmitv_ctpio_copy(vi, frame_len, frame_iov, frame_iov_len, \
                                   ct_threshold, fallback)                  \
  (vi)->ops.transmitv_ctpio_copy((vi), (frame_len), (frame_iov),            \
                                 (frame_iov_len), (ct_threshold),           \
                                 (fallback))

/* Cut-through PIO send of one contiguous frame. */
ef_vi_inline void
ef_vi_transmit_ctpio(ef_vi* vi, const void* frame_buf, size_t frame_len,
                     unsigned ct_threshold)
{
  struct iovec one;
  one.iov_base = (void*) frame_buf;
  one.iov_len = frame_len;
  ef_vi_transmitv_ctpio(vi, frame_len, &one, 1, ct_threshold);
}

/* Post the DMA copy of a frame just sent by CTPIO; it is sent only if the
 * CTPIO send failed.  -EAGAIN when the ring is full. */
#define ef_vi_transmit_ctpio_fallback(vi, dma_addr, len, dma_id) \
  (vi)->ops.transmit_ctpio_fallback((vi), (dma_addr), (len), (dma_id))

/* Gathered variant of ef_vi_transmit_ctpio_fallback(). */
#define ef_vi_transmitv_ctpio_fallback(vi, dma_iov, dma_iov_len, dma_id) \
  (vi)->ops.transmitv_ctpio_fallback((vi), (dma_iov), (dma_iov_len),    \
                                     (dma_id))

/* Cut-through threshold meaning "store and forward". */
#define EF_VI_CTPIO_CT_THRESHOLD_SNF 0xffff

/* ------------------------------------------------------------------------
 * Event queue
 * ---------------------------------------------------------------------- */

/* Non-zero when ef_eventq_poll() would return something. */
#define ef_eventq_has_event(vi) \
  (vi)->ops.eventq_has_event((vi))

/* Non-zero when the event queue holds more than n_events events
 * (n_events must be smaller than the queue size). */
#define ef_eventq_has_many_events(vi, n_events) \
  (vi)->ops.eventq_has_many_events((vi), (n_events))

/* Deprecated spellings of the two queries above. */
#define ef_eventq_check_event(vi, look_ahead) \
  ef_eventq_has_many_events((vi), (look_ahead))
#define ef_eventq_check_event_phase_bit(vi, look_ahead) \
  ef_eventq_has_many_events((vi), (look_ahead))
#define efxdp_ef_eventq_check_event(vi, look_ahead) \
  ef_eventq_has_many_events((vi), (look_ahead))
#define efct_ef_eventq_check_event(vi) \
  ef_eventq_has_event((vi))

/* Arm the interrupt so the caller can block until an event arrives. */
#define ef_eventq_prime(vi) (vi)->ops.eventq_prime((vi))

/* Move up to evs_len (>= EF_VI_EVENT_POLL_MIN_EVS) events into evs and
 * return how many.  Never blocks. */
#define ef_eventq_poll(evq, evs, evs_len) \
  (evq)->ops.eventq_poll((evq), (evs), (evs_len))

/* Like ef_eventq_poll(), but only receive events (EF_VI_CAP_RX_POLL). */
#define ef_receive_poll(evq, evs, evs_len) \
  (evq)->ops.receive_poll((evq), (evs), (evs_len))

/* How many events the queue can hold before it overflows. */
extern int ef_eventq_capacity(ef_vi* vi);

/* Current read position of the event queue (for ef_eventq_wait() and
 * ef_vi_prime()). */
ef_vi_inline unsigned ef_eventq_current(ef_vi* evq)
{
  return (unsigned) evq->ep_state->evq.evq_ptr;
}

/* ------------------------------------------------------------------------
 * Receive buffer layout
 * ---------------------------------------------------------------------- */

/* Kinds of item in the metadata prefix of a received buffer. */
enum ef_vi_layout_type {
  EF_VI_LAYOUT_FRAME,         /* the Ethernet frame itself */
  EF_VI_LAYOUT_MINOR_TICKS,   /* 32-bit hardware timestamp, minor ticks */
  EF_VI_LAYOUT_PACKET_LENGTH, /* 16-bit packet length */
  EF_VI_LAYOUT_COMPAT_TS,     /* 80-bit compatibility timestamp */
  EF_VI_LAYOUT_FILTER_ID      /* id of the matching filter */
};

/* One item of the prefix layout. */
typedef struct {
  enum ef_vi_layout_type evle_type;        /* What the item is. */
  int                    evle_offset;      /* Its offset in the prefix, in bytes. */
  const char*            evle_description; /* A human-readable name. */
} ef_vi_layout_entry;

/* Point *layout_out at the VI's prefix layout table and store its length in
 * *layout_len_out.  The first entry is always EF_VI_LAYOUT_FRAME at offset
 * ef_vi_receive_prefix_len(). */
extern int
ef_vi_receive_query_layout(ef_vi* vi,
                           const ef_vi_layout_entry**const layout_out,
                           int* layout_len_out);

/* Deprecated and unused on current adapters. */
extern int
ef_vi_receive_get_discard_flags(ef_vi* vi, const void* pkt,
                                unsigned* discard_flags)
  __attribute__((deprecated));

/* ------------------------------------------------------------------------
 * Shared event queues and TX error recovery
 * ---------------------------------------------------------------------- */

/* The VI owning the TX queue that a TX event's q_id names; NULL if none. */
#define ef_vi_get_vi_from_q_id(vi, q_id) \
  __ef_vi_get_vi_from_q_id((vi), (q_id))

ef_vi_inline ef_vi*
__ef_vi_get_vi_from_q_id(ef_vi* vi, int q_id)
{
  if( q_id < 0 || q_id >= vi->vi_qs_n )
    return NULL;
  return vi->vi_qs[q_id];
}

/* Restart the TX queue of vi after it reported EF_EVENT_TYPE_TX_ERROR.
 * Nothing may be sent on vi between the error and this call. */
#define ef_vi_reinit_txq_post_error(vi) \
  __ef_vi_reinit_txq_post_error((vi))

/* Behind ef_vi_reinit_txq_post_error(): restarts the TX queue after a TX error event. */
extern int __ef_vi_reinit_txq_post_error(ef_vi* vi);

/* After a TX error and before ef_vi_reinit_txq_post_error(): run the
 * statement that follows once for each request id still waiting for a
 * completion, with dma_id set to it.  Ring slots holding
 * EF_REQUEST_ID_MASK are stepped over without running the statement.  The
 * walk consumes the slots (it advances the ring's removed counter), so a
 * second walk finds nothing.  As in the SDK, the loop runs while
 * removed < added (plain unsigned comparison of the 32-bit counters) and
 * reads ids[removed & mask]. */
#define ef_vi_for_each_tx_error_failed_transmit(vi, dma_id)                 \
  for( ; (vi)->ep_state->txq.removed < (vi)->ep_state->txq.added;         \
       ++(vi)->ep_state->txq.removed )                                     \
    if( (uint32_t)((dma_id) = (vi)->vi_txq.ids[(vi)->ep_state->txq.removed \
                                               & (vi)->vi_txq.mask])       \
        != EF_REQUEST_ID_MASK )

/* Number of buffers later shrub (shared RX buffer server) connections of
 * this VI ask to hold. */
#define ef_vi_set_shrub_client_buffer_count(vi, buffer_count) \
  (vi)->efct_rxqs.ops->set_client_buf_count((vi), (buffer_count))

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_EF_VI_H__ */
