/* C side of the Onload Extensions API inline-function and macro conformance tests
 * (sys-conformance/tests/onload_macros.rs).
 *
 * Each conf_onload_* function evaluates one static inline function or macro of
 * <onload/extensions*.h> on its arguments, so that the Rust test can compare the outcome with
 * the Rust equivalent in onload-sys. The two inline functions only touch the
 * onload_delegated_send and its header buffer: no libonload_ext function is called, so no
 * test double is needed.
 */

/* The SDK's onload/extensions.h uses NULL without including <stddef.h>. */
#include <stddef.h>
#include <onload/extensions.h>
#include <onload/extensions_zc.h>
#include <onload/extensions_timestamping.h>

#include <stdint.h>

void conf_onload_delegated_send_tcp_update(struct onload_delegated_send* ds, int bytes,
                                           int push)
{
  onload_delegated_send_tcp_update(ds, bytes, push);
}

void conf_onload_delegated_send_tcp_advance(struct onload_delegated_send* ds, int bytes)
{
  onload_delegated_send_tcp_advance(ds, bytes);
}

/* The pointer-valued macros, as addresses. */
uintptr_t conf_onload_zc_handle_nonzc(void)
{
  return (uintptr_t) ONLOAD_ZC_HANDLE_NONZC;
}

uintptr_t conf_onload_dont_accelerate(void)
{
  return (uintptr_t) ONLOAD_DONT_ACCELERATE;
}

/* Value of the integer macro number `which`, in the order of MACROS in the Rust test; ~0 for
 * an unknown number. */
unsigned long long conf_onload_macro(int which)
{
  switch( which ) {
  /* expanding to libc MSG_* flags: Rust equivalents in onload-sys/src/inline.rs */
  case 0:  return ONLOAD_MSG_DONTWAIT;
  case 1:  return ONLOAD_MSG_MORE;
  case 2:  return ONLOAD_MSG_NOSIGNAL;
  case 3:  return ONLOAD_ZC_RECV_FLAGS_MASK;
  case 4:  return ONLOAD_ZC_RECV_FLAGS_PTHRU_MASK;
  case 5:  return ONLOAD_ZC_SEND_FLAGS_MASK;
  case 6:  return ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK;
  /* plain numbers: bound by bindgen */
  case 7:  return ONLOAD_MSG_WARM;
  case 8:  return ONLOAD_MSG_ONEPKT;
  case 9:  return ONLOAD_SOF_TIMESTAMPING_STREAM;
  case 10: return ONLOAD_SCM_TIMESTAMPING_STREAM;
  case 11: return ONLOAD_DELEGATED_SEND_FLAG_IGNORE_ARP;
  case 12: return ONLOAD_DELEGATED_SEND_FLAG_RESOLVE_ARP;
  case 13: return ONLOAD_MSG_RECV_OS_INLINE;
  case 14: return ONLOAD_ZC_MSG_SHARED;
  case 15: return ONLOAD_ZC_END_OF_BURST;
  case 16: return SO_OOEXT_BASE;
  case 17: return SO_TIMESTAMPING_OOEXT;
  case 18: return SCM_TIMESTAMPING_OOEXT;
  case 19: return SOF_TIMESTAMPING_OOEXT_LAST;
  case 20: return SOF_TIMESTAMPING_OOEXT_TRAILER;
  case 21: return SOF_TIMESTAMPING_OOEXT_FIRST;
  case 22: return SOF_TIMESTAMPING_OOEXT_MASK;
  default: return ~0ull;
  }
}
