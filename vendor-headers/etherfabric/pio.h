/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/pio.h -- programmed I/O regions.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 */

#ifndef __EFAB_PIO_H__
#define __EFAB_PIO_H__

#include <etherfabric/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 where PIO regions can be used on this CPU architecture. */
#if defined(__x86_64__) || defined(__PPC64__) || defined(__aarch64__)
# define EF_VI_CONFIG_PIO 1
#else
# define EF_VI_CONFIG_PIO 0
#endif

/* A PIO buffer on the adapter. */
typedef struct ef_pio {
  uint8_t* pio_buffer;      /* host-side copy of the region */
  uint8_t* pio_io;          /* mapping of the linked VI's I/O window */
  unsigned pio_resource_id; /* The driver's resource id. */
  unsigned pio_len;         /* Length of the region in bytes. */
} ef_pio;

struct ef_pd;
struct ef_vi;

#if EF_VI_CONFIG_PIO
/* Allocate a PIO region of about len_hint bytes in protection domain pd. */
extern int ef_pio_alloc(ef_pio* pio, ef_driver_handle pio_dh,
                        struct ef_pd* pd, unsigned len_hint,
                        ef_driver_handle pd_dh);
#endif

/* Size of the PIO region linked to vi. */
extern int ef_vi_get_pio_size(ef_vi* vi);

/* Release a PIO region; it must be unlinked first. */
extern int ef_pio_free(ef_pio* pio, ef_driver_handle pio_dh);

/* Attach a PIO region to a VI (one region per VI). */
extern int ef_pio_link_vi(ef_pio* pio, ef_driver_handle pio_dh,
                          struct ef_vi* vi, ef_driver_handle vi_dh);

/* Detach a PIO region from a VI. */
extern int ef_pio_unlink_vi(ef_pio* pio, ef_driver_handle pio_dh,
                            struct ef_vi* vi, ef_driver_handle vi_dh);

/* Copy len bytes from base into vi's PIO region at offset.  Do not
 * overwrite a part of the region that a send is still using. */
extern int ef_pio_memcpy(ef_vi* vi, const void* base, int offset, int len);

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_PIO_H__ */
