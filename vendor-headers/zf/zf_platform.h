/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: compiler and platform glue shared by the TCPDirect headers
 * (ABI of Xilinx-CNS/tcpdirect 9.2.1).  No application-facing API lives here.
 */

#ifndef __ZF_PLATFORM_H__
#define __ZF_PLATFORM_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

#include <stdint.h>
#include <time.h>
#include <sys/types.h>

/* Function attributes and branch hints.  They change code generation only,
 * never behaviour: ZF_LIKELY(e) and ZF_UNLIKELY(e) evaluate to the value of
 * e (as a long) and tell the compiler which outcome to expect. */
#ifdef __GNUC__
# define ZF_HOT         __attribute__((hot))
# define ZF_COLD        __attribute__((cold))
# if defined(__clang__)
   /* clang has no "noclone"; leave it out rather than warn. */
#  define ZF_NOCLONE
# else
#  define ZF_NOCLONE    __attribute__((noclone))
# endif
# define ZF_CONSTFUNC   __attribute__((const))
# define ZF_LIKELY(t)   __builtin_expect((t), 1)
# define ZF_UNLIKELY(t) __builtin_expect((t), 0)
# define ZF_UNREACHABLE __builtin_unreachable
# define ZF_NOINLINE    __attribute__((noinline))
# define ZF_VISIBLE     __attribute__((visibility("default")))
#else
# define ZF_HOT
# define ZF_COLD
# define ZF_NOCLONE
# define ZF_CONSTFUNC
# define ZF_LIKELY(t)   (t)
# define ZF_UNLIKELY(t) (t)
# define ZF_UNREACHABLE() ((void) 0)
# define ZF_NOINLINE
# define ZF_VISIBLE
#endif

#if defined(__x86_64__) || defined(__i386__)
# include <zf/sysdep/x86.h>
#else
# error "TCPDirect supports only x86 and x86-64."
#endif

/* Every library entry point is declared with ZF_LIBENTRY: plain extern in C,
 * C linkage with default visibility in C++. */
#ifdef __cplusplus
# define ZF_LIBENTRY extern "C" __attribute__((visibility("default")))
#else
# define ZF_LIBENTRY extern
#endif

/* Element count used for the trailing iovec arrays of zft_msg and zfur_msg.
 * GNU-compatible compilers (gcc, clang, in C and in C++) get the zero-length
 * array extension, so the structure size excludes the array; any other
 * compiler gets a one-element array. */
#ifdef __GNUC__
# define ZF_FLEXIBLE_ARRAY_COUNT 0
#else
# define ZF_FLEXIBLE_ARRAY_COUNT 1
#endif

#endif /* __ZF_PLATFORM_H__ */
