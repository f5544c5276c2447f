/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/vi.h -- VI allocation, VI sets, filters and statistics.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 */

#ifndef __EFAB_VI_H__
#define __EFAB_VI_H__

#include <etherfabric/ef_vi.h>
#include <etherfabric/base.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ef_pd;
struct in6_addr;

/* ------------------------------------------------------------------------
 * Virtual interfaces
 * ---------------------------------------------------------------------- */

/* Allocate a VI in protection domain pd (or resize an existing one).
 * For each capacity: 0 means "none", -1 the default (the EF_VI_EVQ_SIZE,
 * EF_VI_RXQ_SIZE and EF_VI_TXQ_SIZE environment variables, else built-in
 * sizes).  With evq_capacity 0 the VI reports to evq_opt's event queue.
 * Returns the queue id (>= 0) or a negative errno. */
extern int ef_vi_alloc_from_pd(ef_vi* vi, ef_driver_handle vi_dh,
                               struct ef_pd* pd, ef_driver_handle pd_dh,
                               int evq_capacity, int rxq_capacity,
                               int txq_capacity,
                               ef_vi* evq_opt, ef_driver_handle evq_dh,
                               enum ef_vi_flags flags);

/* Release a VI; no further events for it are delivered. */
extern int ef_vi_free(ef_vi* vi, ef_driver_handle nic);

/* Give a VI allocated with EF_VI_TX_ALT num_alts TX alternatives sharing
 * buf_space bytes of adapter buffering.  Packets beyond that space are
 * silently truncated or dropped.  -EINVAL, -EALREADY or -EBUSY on error. */
extern int ef_vi_transmit_alt_alloc(struct ef_vi* vi, ef_driver_handle vi_dh,
                                    int num_alts, size_t buf_space);

/* Release the VI's TX alternatives. */
extern int ef_vi_transmit_alt_free(struct ef_vi* vi, ef_driver_handle vi_dh);

/* Bytes of packet data n_alts alternatives on this VI could hold, or
 * -EINVAL when the VI cannot have alternatives. */
extern int
ef_vi_transmit_alt_query_buffering(struct ef_vi* vi, int ifindex,
                                   ef_driver_handle vi_dh, int n_alts);

/* Flush the VI: afterwards every buffer given to the adapter is free. */
extern int ef_vi_flush(ef_vi* vi, ef_driver_handle nic);

/* Minimum gap between packets of the TX queue: (2^val) * 100ns, or -1 for
 * "in the pacing bin, no gap". */
extern int ef_vi_pace(ef_vi* vi, ef_driver_handle nic, int val);

/* Largest frame (headers included, FCS excluded) the VI can send or
 * receive. */
extern unsigned ef_vi_mtu(ef_vi* vi, ef_driver_handle vi_dh);

/* Store the VI's 6-byte MAC address at mac_out.  Slow: cache it. */
extern int ef_vi_get_mac(ef_vi* vi, ef_driver_handle vi_dh, void* mac_out);

/* Raise an EF_EVENT_TYPE_SW event carrying the low 16 bits of ev_bits
 * (other bits must be 0) on the event queue with this resource id. */
extern int ef_eventq_put(unsigned resource_id, ef_driver_handle evq_dh,
                         unsigned ev_bits);

/* ------------------------------------------------------------------------
 * VI sets (receive-side scaling)
 * ---------------------------------------------------------------------- */

/* A group of VIs that received traffic is spread across. */
typedef struct {
  unsigned      vis_res_id; /* The driver's resource id. */
  struct ef_pd* vis_pd;     /* The protection domain the set belongs to. */
} ef_vi_set;

/* Allocate a set of n_vis VIs in protection domain pd. */
extern int ef_vi_set_alloc_from_pd(ef_vi_set* vi_set,
                                   ef_driver_handle vi_set_dh,
                                   struct ef_pd* pd, ef_driver_handle pd_dh,
                                   int n_vis);

/* Release a VI set. */
extern int ef_vi_set_free(ef_vi_set* vi_set, ef_driver_handle vi_set_dh);

/* Allocate member index_in_vi_set (-1: any) of a VI set; the other
 * arguments are as for ef_vi_alloc_from_pd(). */
extern int ef_vi_alloc_from_set(ef_vi* vi, ef_driver_handle vi_dh,
                                ef_vi_set* vi_set, ef_driver_handle vi_set_dh,
                                int index_in_vi_set, int evq_capacity,
                                int rxq_capacity, int txq_capacity,
                                ef_vi* evq_opt, ef_driver_handle evq_dh,
                                enum ef_vi_flags flags);

/* Arm the VI's interrupt so that its driver handle becomes readable (for
 * poll/select/epoll) when an event arrives after position current_ptr
 * (from ef_eventq_current()). */
extern int ef_vi_prime(ef_vi* vi, ef_driver_handle dh, unsigned current_ptr);

/* ------------------------------------------------------------------------
 * Filters
 * ---------------------------------------------------------------------- */

/* Options of a filter. */
enum ef_filter_flags {
  EF_FILTER_FLAG_NONE               = 0x0,  /* no options */
  EF_FILTER_FLAG_MCAST_LOOP_RECEIVE = 0x2,  /* also match looped-back TX */
  EF_FILTER_FLAG_EXCLUSIVE_RXQ      = 0x4,  /* X3: RX queue not shared */
  EF_FILTER_FLAG_SHARED_RXQ         = 0x8,  /* RX queue may be shared */
  EF_FILTER_FLAG_REQUEST_WAKEUPS    = 0x10  /* want interrupt wakeups */
};

/* What a filter matches; build it with ef_filter_spec_init() and the
 * ef_filter_spec_set_*() calls. */
typedef struct ef_filter_spec {
  unsigned type;     /* What kind of match (library-private encoding). */
  unsigned flags;    /* EF_FILTER_FLAG_* options. */
  unsigned data[12]; /* The values to match (library-private encoding). */
} ef_filter_spec;

/* vlan_id meaning "any VLAN". */
enum {
  EF_FILTER_VLAN_ID_ANY = -1 /* match any VLAN, or none */
};

/* Names an installed filter, for ef_vi_filter_del(). */
typedef struct ef_filter_cookie {
  int filter_id;   /* The driver's id of the filter. */
  int filter_type; /* What kind of filter it is. */
} ef_filter_cookie;

/* Bits of ef_filter_info.valid_fields: which members were filled in. */
enum ef_filter_info_fields {
  EF_FILTER_FIELD_ID    = 0x1, /* filter_id */
  EF_FILTER_FIELD_QUEUE = 0x2  /* q_id */
};

/* Bits of ef_filter_info.flags. */
enum ef_filter_info_flags {
  EF_FILTER_IS_EXCLUSIVE = 0x4 /* the filter owns its RX queue */
};

/* Facts about an installed filter, from ef_vi_filter_query(). */
typedef struct {
  uint64_t valid_fields; /* enum ef_filter_info_fields: which members below are set */
  unsigned flags;        /* enum ef_filter_info_flags */
  unsigned filter_id;    /* hardware filter id */
  unsigned q_id;         /* hardware RX queue */
} ef_filter_info;

/* Clear a filter spec and give it flags.  Call this before anything else. */
extern void ef_filter_spec_init(ef_filter_spec* filter_spec,
                                enum ef_filter_flags flags);

/* The ef_filter_spec_set_*() calls return 0, or -EPROTONOSUPPORT when the
 * spec already holds something the new match cannot be combined with.
 * Addresses and ports are in network byte order; there are no wildcards or
 * ranges. */

/* Local IPv4 address and port, protocol IPPROTO_TCP or IPPROTO_UDP. */
extern int ef_filter_spec_set_ip4_local(ef_filter_spec* filter_spec,
                                        int protocol,
                                        unsigned host_be32, int port_be16);

/* Local and remote IPv4 addresses and ports. */
extern int ef_filter_spec_set_ip4_full(ef_filter_spec* filter_spec,
                                       int protocol,
                                       unsigned host_be32, int port_be16,
                                       unsigned rhost_be32, int rport_be16);

/* Local IPv6 address and port. */
extern int ef_filter_spec_set_ip6_local(ef_filter_spec* filter_spec,
                                        int protocol,
                                        const struct in6_addr* host,
                                        int port_be16);

/* Local and remote IPv6 addresses and ports. */
extern int ef_filter_spec_set_ip6_full(ef_filter_spec* filter_spec,
                                       int protocol,
                                       const struct in6_addr* host,
                                       int port_be16,
                                       const struct in6_addr* rhost,
                                       int rport_be16);

/* Also require VLAN vlan_id (combines with MAC, EtherType, IP protocol
 * and, on some adapters, IPv4 matches). */
extern int ef_filter_spec_set_vlan(ef_filter_spec* filter_spec,
                                   int vlan_id);

/* Destination MAC (6 bytes) on VLAN vlan_id or EF_FILTER_VLAN_ID_ANY. */
extern int ef_filter_spec_set_eth_local(ef_filter_spec* filter_spec,
                                        int vlan_id, const void* mac);

/* Every unicast packet (ARP included: use with care). */
extern int ef_filter_spec_set_unicast_all(ef_filter_spec* filter_spec);

/* Every multicast packet (IGMP included: use with care). */
extern int ef_filter_spec_set_multicast_all(ef_filter_spec* filter_spec);

/* Unicast packets nothing else wants. */
extern int ef_filter_spec_set_unicast_mismatch(ef_filter_spec* filter_spec);

/* Multicast packets nothing else wants. */
extern int
ef_filter_spec_set_multicast_mismatch(ef_filter_spec* filter_spec);

/* Sniff the port: filters copy instead of steal; with promiscuous set,
 * copy every packet. */
extern int ef_filter_spec_set_port_sniff(ef_filter_spec* filter_spec,
                                         int promiscuous);

/* Receive a copy of every packet the port sends. */
extern int ef_filter_spec_set_tx_port_sniff(ef_filter_spec* filter_spec);

/* Keep all packets away from the kernel. */
extern int ef_filter_spec_set_block_kernel(ef_filter_spec* filter_spec);

/* Keep multicast packets away from the kernel. */
extern int
ef_filter_spec_set_block_kernel_multicast(ef_filter_spec* filter_spec);

/* Match an EtherType (network order); combines with a MAC match.  IPv4
 * and IPv6 EtherTypes are accepted but not supported by firmware. */
extern int
ef_filter_spec_set_eth_type(ef_filter_spec* filter_spec,
                            uint16_t ether_type_be16);

/* Match an IP protocol number; combines with a MAC match.  TCP and UDP
 * are accepted but not supported by firmware. */
extern int
ef_filter_spec_set_ip_proto(ef_filter_spec* filter_spec, uint8_t ip_proto);

/* Deprecated: declared by the SDK but not provided by its library. */
extern int
ef_filter_spec_set_user_mark(ef_filter_spec* filter_spec, uint32_t user_mark,
                             int flags) __attribute__((deprecated));

/* Deprecated: declared by the SDK but not provided by its library. */
extern int
ef_filter_spec_set_user_flag(ef_filter_spec* filter_spec, uint8_t user_flag,
                             int flags) __attribute__((deprecated));

/* Keep unicast packets away from the kernel. */
extern int ef_filter_spec_set_block_kernel_unicast(ef_filter_spec* filter_spec);

/* Deliver matches to hardware RX queue dest (EF_VI_CAP_RX_FILTER_SET_DEST
 * adapters only). */
extern int ef_filter_spec_set_dest(ef_filter_spec* filter_spec, int dest,
                                   unsigned flags);

/* Install a filter on a VI; filter_cookie_out (may be NULL) receives the
 * cookie needed to remove it.  The spec may be discarded afterwards. */
extern int ef_vi_filter_add(ef_vi* vi, ef_driver_handle vi_dh,
                            const ef_filter_spec* filter_spec,
                            ef_filter_cookie* filter_cookie_out);

/* Remove a filter installed by ef_vi_filter_add(). */
extern int ef_vi_filter_del(ef_vi* vi, ef_driver_handle vi_dh,
                            ef_filter_cookie* filter_cookie);

/* Describe an installed filter in *filter_info, whose size in bytes is
 * filter_info_len. */
extern int ef_vi_filter_query(ef_vi* vi, ef_driver_handle vi_dh,
                              const ef_filter_cookie* filter_cookie,
                              ef_filter_info* filter_info,
                              size_t filter_info_len);

/* Install a filter on a VI set. */
extern int ef_vi_set_filter_add(ef_vi_set* vi_set, ef_driver_handle vi_set_dh,
                                const ef_filter_spec* filter_spec,
                                ef_filter_cookie* filter_cookie_out);

/* Remove a filter from a VI set. */
extern int ef_vi_set_filter_del(ef_vi_set* vi_set, ef_driver_handle vi_set_dh,
                                ef_filter_cookie* filter_cookie);

/* ------------------------------------------------------------------------
 * Adapter statistics
 * ---------------------------------------------------------------------- */

/* Where one statistic lives in the buffer filled by ef_vi_stats_query(). */
typedef struct {
  char* evsfl_name;   /* Name of the statistic. */
  int   evsfl_offset; /* bytes */
  int   evsfl_size;   /* bytes */
} ef_vi_stats_field_layout;

/* Layout of the statistics buffer. */
typedef struct {
  int                      evsl_data_size;  /* bytes the buffer needs */
  int                      evsl_fields_num; /* Entries in `evsl_fields`. */
  ef_vi_stats_field_layout evsl_fields[];   /* One entry per statistic. */
} ef_vi_stats_layout;

/* Point *layout_out at the statistics layout of vi. */
extern int
ef_vi_stats_query_layout(ef_vi* vi,
                         const ef_vi_stats_layout**const layout_out);

/* Read the statistics into data (evsl_data_size bytes), then reset them if
 * do_reset.  Needs full-featured firmware (otherwise the values are
 * meaningless and no error is reported). */
extern int
ef_vi_stats_query(ef_vi* vi, ef_driver_handle vi_dh,
                  void* data, int do_reset);

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_VI_H__ */
