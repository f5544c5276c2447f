/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: the project's own declaration of the TCPDirect public API
 * (the ABI of Xilinx-CNS/tcpdirect 96d8c69d8083, release 9.2.1; see
 * vendor-headers/SDK_VERSION).
 *
 * zf/zf.h is the only header an application includes: it pulls in every
 * other zf/ header in the order they depend on each other.  The other
 * headers refuse to be included on their own.
 */

#ifndef __ZF_TOP_H__
#define __ZF_TOP_H__
#define __IN_ZF_TOP_H__

#include <zf/zf_platform.h>
#include <zf/zf_stack.h>
#include <zf/muxer.h>
#include <zf/attr.h>
#include <zf/zf_udp.h>
#include <zf/zf_tcp.h>
#include <zf/zf_reactor.h>
#include <zf/types.h>
#include <zf/zf_alts.h>
#include <zf/zf_ds.h>

#undef __IN_ZF_TOP_H__
#endif /* __ZF_TOP_H__ */
