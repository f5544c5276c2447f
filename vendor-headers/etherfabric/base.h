/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/base.h -- driver handles, blocking wait, page constants.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 */

#ifndef __EFAB_BASE_H__
#define __EFAB_BASE_H__

#include <etherfabric/ef_vi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* DMA addresses are contiguous only within NIC pages: log2 of their size. */
#define EF_VI_NIC_PAGE_SHIFT 12
#define EF_VI_NIC_PAGE_SIZE  (1 << EF_VI_NIC_PAGE_SHIFT) /* NIC page size in bytes */

struct timeval;

/* printf conversion for an ef_addr. */
#define EF_ADDR_FMT "%" PRIx64
/* A DMA address that never refers to a buffer. */
#define EF_INVALID_ADDR ((ef_addr) -1)

/* Sleep until the event queue of vi is not empty (or timeout passes; a
 * NULL or zero timeout waits for ever).  current_ptr comes from
 * ef_eventq_current().  Enables interrupts.  Returns 0 or -ETIMEDOUT or
 * another negative errno.  An event is likely, not certain, on return. */
extern int ef_eventq_wait(ef_vi* vi, ef_driver_handle vi_dh,
                          unsigned current_ptr,
                          const struct timeval* timeout);

/* Open a handle on the ef_vi driver. */
extern int ef_driver_open(ef_driver_handle* dh_out);

/* Close a driver handle.  Nothing allocated through it may be used
 * afterwards.  Process exit releases everything anyway. */
extern int ef_driver_close(ef_driver_handle dh);

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_BASE_H__ */
