/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: TCPDirect definitions specific to x86 and x86-64
 * (ABI of Xilinx-CNS/tcpdirect 9.2.1).  Reached through zf/zf_platform.h;
 * nothing here is meant to be used directly.
 */

#ifndef __ZF_SYSDEP_X86_H__
#define __ZF_SYSDEP_X86_H__

/* Size in bytes of a CPU cache line on this architecture. */
#define ZF_CACHE_LINE_SIZE 64u

#endif /* __ZF_SYSDEP_X86_H__ */
