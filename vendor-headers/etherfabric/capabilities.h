/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/capabilities.h -- querying what an adapter can do.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 *
 * A capability describes what the hardware offers in its current
 * configuration (taking licences, firmware and caller privileges into
 * account), not what is free at the moment.
 */

#ifndef __EFAB_CAPABILITIES_H__
#define __EFAB_CAPABILITIES_H__

#include <etherfabric/base.h>
#include <etherfabric/pd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Queryable capabilities.  The values are ABI: members are only ever
 * appended, just before EF_VI_CAP_MAX. */
enum ef_vi_capability {
  EF_VI_CAP_PIO = 0,                         /* PIO supported */
  EF_VI_CAP_PIO_BUFFER_SIZE,                 /* PIO bytes per VI */
  EF_VI_CAP_PIO_BUFFER_COUNT,                /* PIO buffers in total */
  EF_VI_CAP_HW_MULTICAST_LOOPBACK,           /* hardware loopback */
  EF_VI_CAP_HW_MULTICAST_REPLICATION,        /* multicast to many VIs */
  EF_VI_CAP_HW_RX_TIMESTAMPING,              /* RX hardware timestamps */
  EF_VI_CAP_HW_TX_TIMESTAMPING,              /* TX hardware timestamps */
  EF_VI_CAP_PACKED_STREAM,                   /* packed-stream firmware */
  EF_VI_CAP_PACKED_STREAM_BUFFER_SIZES,      /* bitmask of sizes, in kB */
  EF_VI_CAP_VPORTS,                          /* ef_pd_alloc_with_vport */
  EF_VI_CAP_PHYS_MODE,                       /* physical addressing */
  EF_VI_CAP_BUFFER_MODE,                     /* adapter IOMMU addressing */
  EF_VI_CAP_MULTICAST_FILTER_CHAINING,       /* multicast to several filters */
  EF_VI_CAP_MAC_SPOOFING,                    /* filters on foreign MACs */
  EF_VI_CAP_RX_FILTER_TYPE_UDP_LOCAL,        /* filter: UDP local address */
  EF_VI_CAP_RX_FILTER_TYPE_TCP_LOCAL,        /* filter: TCP local address */
  EF_VI_CAP_RX_FILTER_TYPE_UDP_FULL,         /* filter: UDP 4-tuple */
  EF_VI_CAP_RX_FILTER_TYPE_TCP_FULL,         /* filter: TCP 4-tuple */
  EF_VI_CAP_RX_FILTER_TYPE_IP_VLAN,          /* the four above + VLAN */
  EF_VI_CAP_RX_FILTER_TYPE_UDP6_LOCAL,       /* filter: UDP/IPv6 local */
  EF_VI_CAP_RX_FILTER_TYPE_TCP6_LOCAL,       /* filter: TCP/IPv6 local */
  EF_VI_CAP_RX_FILTER_TYPE_UDP6_FULL,        /* filter: UDP/IPv6 4-tuple */
  EF_VI_CAP_RX_FILTER_TYPE_TCP6_FULL,        /* filter: TCP/IPv6 4-tuple */
  EF_VI_CAP_RX_FILTER_TYPE_IP6_VLAN,         /* the four above + VLAN */
  EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL,        /* filter: destination MAC */
  EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL_VLAN,   /* filter: MAC + VLAN */
  EF_VI_CAP_RX_FILTER_TYPE_UCAST_ALL,        /* filter: all unicast */
  EF_VI_CAP_RX_FILTER_TYPE_MCAST_ALL,        /* filter: all multicast */
  EF_VI_CAP_RX_FILTER_TYPE_UCAST_MISMATCH,   /* filter: unmatched unicast */
  EF_VI_CAP_RX_FILTER_TYPE_MCAST_MISMATCH,   /* filter: unmatched multicast */
  EF_VI_CAP_RX_FILTER_TYPE_SNIFF,            /* filter: RX sniffing */
  EF_VI_CAP_TX_FILTER_TYPE_SNIFF,            /* filter: TX sniffing */
  EF_VI_CAP_RX_FILTER_IP4_PROTO,             /* filter: IPv4 protocol */
  EF_VI_CAP_RX_FILTER_ETHERTYPE,             /* filter: EtherType */
  EF_VI_CAP_RXQ_SIZES,                       /* bitmask */
  EF_VI_CAP_TXQ_SIZES,                       /* bitmask */
  EF_VI_CAP_EVQ_SIZES,                       /* bitmask */
  EF_VI_CAP_ZERO_RX_PREFIX,                  /* RX without a prefix */
  EF_VI_CAP_TX_PUSH_ALWAYS,                  /* EF_VI_TX_PUSH_ALWAYS works */
  EF_VI_CAP_NIC_PACE,                        /* per-packet TX pacing */
  EF_VI_CAP_RX_MERGE,                        /* RX event merging */
  EF_VI_CAP_TX_ALTERNATIVES,                 /* TX alternatives */
  EF_VI_CAP_TX_ALTERNATIVES_VFIFOS,          /* TX alternatives: queues */
  EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFERS,      /* TX alternatives: buffers */
  EF_VI_CAP_RX_FW_VARIANT,                   /* RX firmware variant */
  EF_VI_CAP_TX_FW_VARIANT,                   /* TX firmware variant */
  EF_VI_CAP_CTPIO,                           /* cut-through PIO */
  EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFER_SIZE,  /* TX alternatives: buffer bytes */
  EF_VI_CAP_RX_FORCE_EVENT_MERGING,          /* RX event merging always on */
  EF_VI_CAP_MIN_BUFFER_MODE_SIZE,            /* smallest buffer-mode page */
  EF_VI_CAP_CTPIO_ONLY,                      /* no DMA transmit path */
  EF_VI_CAP_RX_SHARED,                       /* RX queues are shared */
  EF_VI_CAP_RX_FILTER_SET_DEST,              /* ef_filter_spec_set_dest */
  EF_VI_CAP_RX_FILTER_MAC_IP4_PROTO,         /* filter: MAC + IPv4 protocol */
  EF_VI_CAP_RX_POLL,                         /* ef_receive_poll */
  EF_VI_CAP_RX_REF,                          /* RX_REF events */
  EF_VI_CAP_EXTRA_DATAPATHS,                 /* enum ef_vi_extra_datapaths */
  EF_VI_CAP_RX_FILTER_ID,                    /* EF_VI_RX_FILTER_ID */
  EF_VI_CAP_MAX                              /* stays last */
};

/* Bits that may be ORed into a capability to qualify the query. */
enum ef_vi_capability_flags {
  EF_VI_CAP_F_LLCT = 0x80000000, /* ask about the low-latency datapath */
  EF_VI_CAP_F_ALL  = 0x80000000  /* every qualifier bit */
};

/* Bits of the EF_VI_CAP_EXTRA_DATAPATHS value. */
enum ef_vi_extra_datapaths {
  EF_VI_EXTRA_DATAPATH_EXPRESS = 0x1 /* usable with EF_PD_EXPRESS */
};

/* Store the value of capability cap of interface ifindex (the physical
 * port) in *value.  Returns 0, -EOPNOTSUPP (not supported), -ENOSYS (this
 * library cannot tell) or another negative errno. */
extern int
ef_vi_capabilities_get(ef_driver_handle handle, int ifindex,
                       enum ef_vi_capability cap, unsigned long* value);

/* As ef_vi_capabilities_get(), for the interface and datapath of an
 * allocated protection domain. */
extern int
ef_pd_capabilities_get(ef_driver_handle handle, struct ef_pd* pd,
                       ef_driver_handle pd_dh, enum ef_vi_capability cap,
                       unsigned long* value);

/* As ef_vi_capabilities_get(), for a protection domain that would be
 * allocated on ifindex with pd_flags. */
extern int
ef_vi_capabilities_get_from_pd_flags(ef_driver_handle handle, int ifindex,
                                     enum ef_pd_flags pd_flags,
                                     enum ef_vi_capability cap,
                                     unsigned long* value);

/* Highest capability value this library knows (iterate 0..max). */
extern int
ef_vi_capabilities_max(void);

/* Human-readable name of a capability. */
extern const char*
ef_vi_capabilities_name(enum ef_vi_capability cap);

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_CAPABILITIES_H__ */
