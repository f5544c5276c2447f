/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/memreg.h -- registering memory for DMA.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 */

#ifndef __EFAB_MEMREG_H__
#define __EFAB_MEMREG_H__

#include <etherfabric/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A region of host memory registered for DMA. */
typedef struct ef_memreg {
  ef_addr* mr_dma_addrs;      /* DMA address of each NIC page */
  ef_addr* mr_dma_addrs_base; /* allocation holding the array above */
} ef_memreg;

struct ef_pd;

/* Register len_bytes of memory at p_mem (4KiB aligned; a multiple of the
 * 2048-byte packet buffer size) with protection domain pd.  The memory is
 * pinned.  After fork() use MAP_SHARED or MADV_DONTFORK memory, or the
 * child's copy-on-write pages will not be the registered ones. */
extern int ef_memreg_alloc(ef_memreg* mr, ef_driver_handle mr_dh,
                           struct ef_pd* pd, ef_driver_handle pd_dh,
                           void* p_mem, size_t len_bytes);

/* Unregister a region (its driver handle must be closed too). */
extern int ef_memreg_free(ef_memreg* mr, ef_driver_handle mr_dh);

/* DMA address of the byte at offset within the region: the address of its
 * NIC page with the offset inside that page added. */
ef_vi_inline ef_addr ef_memreg_dma_addr(ef_memreg* mr, size_t offset)
{
  ef_addr page = mr->mr_dma_addrs[offset >> EF_VI_NIC_PAGE_SHIFT];
  return page | (offset & (EF_VI_NIC_PAGE_SIZE - 1));
}

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_MEMREG_H__ */
