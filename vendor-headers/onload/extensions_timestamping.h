/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: the project's own declaration of the Onload extension
 * timestamping API (the ABI of Xilinx-CNS/onload ef17681d36a1, release
 * 10.0.0; see vendor-headers/SDK_VERSION).  Normally reached through
 * <onload/extensions.h>.
 */

#ifndef __ONLOAD_EXTENSIONS_TIMESTAMPING_H__
#define __ONLOAD_EXTENSIONS_TIMESTAMPING_H__

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Extension timestamping, version 1: onload_timestamping_request()
 * ------------------------------------------------------------------- */

/* A timestamp with sub-nanosecond resolution: the time in seconds is
 * sec + nsec / 10^9 + nsec_frac / (10^9 * 2^24). */
struct onload_timestamp {
  uint64_t sec;            /* whole seconds */
  uint32_t nsec;           /* nanoseconds within the second */
  /* fraction of a nanosecond, in units of 2^-24 ns */
  unsigned nsec_frac : 24;
  /* onload_ts_flags bits */
  unsigned flags     : 8;
};

/* Which timestamps onload_timestamping_request() asks for. */
enum onload_timestamping_flags {
  /* adapter timestamps of sent packets */
  ONLOAD_TIMESTAMPING_FLAG_TX_NIC = 1 << 0,
  /* adapter timestamps of received packets */
  ONLOAD_TIMESTAMPING_FLAG_RX_NIC = 1 << 1,
  /* timestamps of received packets taken from a cPacket trailer (the
   * outermost one), the only external format supported */
  ONLOAD_TIMESTAMPING_FLAG_RX_CPACKET = 1 << 2,
};

/* Bits of onload_timestamp.flags. */
enum onload_ts_flags {
  /* the clock that took the timestamp has been set at some point */
  ONLOAD_TS_FLAG_CLOCK_SET     = 1 << 0,
  /* that clock is synchronised to a suitable reference */
  ONLOAD_TS_FLAG_CLOCK_IN_SYNC = 1 << 1,
  /* the two bits above meet the requirements configured for the stack */
  ONLOAD_TS_FLAG_ACCEPTABLE    = 1 << 7,
};

/* Switches socket `fd` to extended timestamps, as an alternative to
 * setsockopt(SO_TIMESTAMPING): its SCM_TIMESTAMPING control messages then
 * carry an array of struct onload_timestamp, one per kind requested in
 * `flags` (onload_timestamping_flags) for that direction, in the order the
 * flags are listed above; an unavailable timestamp has sec == 0.
 * Returns 0, -EINVAL (unknown flag), -ENOTTY (fd not accelerated) or
 * -EOPNOTSUPP (this Onload has no timestamping). */
extern int onload_timestamping_request(int fd, unsigned flags);

/* ---------------------------------------------------------------------
 * Extension timestamping, version 2: a socket option
 *
 * Enable with setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING_OOEXT, ...), giving
 * the standard SOF_TIMESTAMPING_* flags plus, for trailer timestamps,
 * SOF_TIMESTAMPING_OOEXT_TRAILER.  Timestamps arrive in control messages of
 * type SCM_TIMESTAMPING_OOEXT holding an array of struct
 * scm_timestamping_ooext.  Not usable together with
 * ONLOAD_SOF_TIMESTAMPING_STREAM (use standard TCP timestamping instead).
 * ------------------------------------------------------------------- */

/* Base of Onload's own socket option numbers. */
#define SO_OOEXT_BASE 0x000F5300
/* The socket option that enables version-2 timestamping. */
#define SO_TIMESTAMPING_OOEXT ((SO_OOEXT_BASE) + 0)
/* The control message type carrying version-2 timestamps. */
#define SCM_TIMESTAMPING_OOEXT SO_TIMESTAMPING_OOEXT

/* Onload's SOF_TIMESTAMPING_* flags, allocated downwards from bit 31 so they
 * stay clear of the standard ones. */
#define SOF_TIMESTAMPING_OOEXT_LAST    (1U << 31)
#define SOF_TIMESTAMPING_OOEXT_TRAILER (1U << 31) /* ask for trailer timestamps */
#define SOF_TIMESTAMPING_OOEXT_FIRST   (1U << 31) /* lowest bit of Onload's own */
/* All the SOF_TIMESTAMPING_* bits that are Onload's own. */
#define SOF_TIMESTAMPING_OOEXT_MASK \
  ((((SOF_TIMESTAMPING_OOEXT_LAST) << 1) - 1) - ((SOF_TIMESTAMPING_OOEXT_FIRST) - 1))

/* One timestamp in an SCM_TIMESTAMPING_OOEXT control message. */
struct scm_timestamping_ooext {
  /* what this timestamp is, as SOF_TIMESTAMPING_* bits, e.g.
   * SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE */
  uint32_t type;
  uint32_t padding;                  /* unused */
  struct onload_timestamp timestamp; /* the time */
};

#ifdef __cplusplus
}
#endif
#endif /* __ONLOAD_EXTENSIONS_TIMESTAMPING_H__ */
