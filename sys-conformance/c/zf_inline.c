/* C side of the TCPDirect inline-function and macro conformance tests
 * (sys-conformance/tests/zf_inline.rs).
 *
 * Each conf_zf_* function evaluates one static inline function or macro of <zf/zf.h> on its
 * arguments, so that the Rust test can compare the outcome with the Rust equivalent in zf-sys.
 * The two inline functions only touch the zf_ds and its header buffer: no TCPDirect library
 * function is called, so no test double is needed.
 */

#include <zf/zf.h>

void conf_zf_delegated_send_tcp_update(struct zf_ds* ds, int bytes, int push)
{
  zf_delegated_send_tcp_update(ds, bytes, push);
}

void conf_zf_delegated_send_tcp_advance(struct zf_ds* ds, int bytes)
{
  zf_delegated_send_tcp_advance(ds, bytes);
}

/* Value of the macro number `which`, in the order of MACROS in the Rust test; ~0 for an
 * unknown number. */
unsigned long long conf_zf_macro(int which)
{
  switch( which ) {
  case 0:  return EPOLLSTACKHUP;
  case 1:  return ZF_EPOLLIN_OVERLAPPED;
  case 2:  return ZFUT_FLAG_DONT_FRAGMENT;
  case 3:  return ZF_FLEXIBLE_ARRAY_COUNT;
  case 4:  return ZF_PKT_REPORT_CLOCK_SET;
  case 5:  return ZF_PKT_REPORT_IN_SYNC;
  case 6:  return ZF_PKT_REPORT_NO_TIMESTAMP;
  case 7:  return ZF_PKT_REPORT_DROPPED;
  case 8:  return ZF_PKT_REPORT_TCP_RETRANS;
  case 9:  return ZF_PKT_REPORT_TCP_SYN;
  case 10: return ZF_PKT_REPORT_TCP_FIN;
  case 11: return ZF_DELEGATED_SEND_RC_FATAL;
  case 12: return ZF_CACHE_LINE_SIZE;
  default: return ~0ull;
  }
}
