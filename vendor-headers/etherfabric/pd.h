/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/pd.h -- protection domains.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 */

#ifndef __EFAB_PD_H__
#define __EFAB_PD_H__

#include <etherfabric/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Options for a protection domain. */
enum ef_pd_flags {
  EF_PD_DEFAULT          = 0x0,  /* no options */
  EF_PD_VF               = 0x1,  /* use a VF and the system IOMMU */
  EF_PD_PHYS_MODE        = 0x2,  /* physical addressing */
  EF_PD_RX_PACKED_STREAM = 0x4,  /* ef10: packed-stream receive */
  EF_PD_VPORT            = 0x8,  /* ef10: virtual ports */
  EF_PD_MCAST_LOOP       = 0x10, /* ef10: hardware multicast loopback */
  EF_PD_MEMREG_64KiB     = 0x20, /* ef10: map registered memory in 64KiB */
  EF_PD_IGNORE_BLACKLIST = 0x40, /* bypass the interface blacklist
                                  * (needs CAP_NET_ADMIN) */
  EF_PD_EXPRESS          = 0x80  /* use the express (low latency) datapath */
};

/* vlan_id for ef_pd_alloc_with_vport(): no VLAN. */
#define EF_PD_VLAN_NONE -1

/* A protection domain: the set of memory its VIs may DMA to and from. */
typedef struct ef_pd {
  enum ef_pd_flags pd_flags;                     /* Options it was allocated with. */
  unsigned         pd_resource_id;               /* The driver's resource id. */
  char*            pd_intf_name;                 /* Name of its interface, or NULL. */
  /* Application-cluster bookkeeping. */
  char*            pd_cluster_name;
  int              pd_cluster_sock; /* Socket that holds the cluster membership, or -1. */
  ef_driver_handle pd_cluster_dh;                /* Driver handle of the cluster. */
  unsigned         pd_cluster_viset_resource_id; /* Resource id of the cluster's VI set. */
  int              pd_cluster_viset_index;       /* Index of this member in the cluster's VI set. */
} ef_pd;

/* Allocate a protection domain on the interface with index ifindex (the
 * physical port, not a bond or VLAN). */
extern int ef_pd_alloc(ef_pd* pd, ef_driver_handle pd_dh, int ifindex,
                       enum ef_pd_flags flags);

/* Allocate a protection domain from the application cluster called
 * cluster_or_intf_name (optionally "N@cluster" for channel N) or, when no
 * such cluster exists, on the interface of that name. */
extern int ef_pd_alloc_by_name(ef_pd* pd, ef_driver_handle pd_dh,
                               const char* cluster_or_intf_name,
                               enum ef_pd_flags flags);

/* Allocate a protection domain with an extra virtual port on intf_name,
 * tagged with vlan_id or EF_PD_VLAN_NONE.  Needs full-featured firmware. */
extern int ef_pd_alloc_with_vport(ef_pd* pd, ef_driver_handle pd_dh,
                                  const char* intf_name,
                                  enum ef_pd_flags flags, int vlan_id);

/* Name of the protection domain's interface, or NULL if not visible. */
extern const char* ef_pd_interface_name(ef_pd* pd);

/* Release a protection domain (its driver handle must be closed too). */
extern int ef_pd_free(ef_pd* pd, ef_driver_handle pd_dh);

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_PD_H__ */
