/* C side of tests/efvi_ops.rs: the ef_vi macros and inline functions that read a VI's state
 * or dispatch through its ops table.
 *
 * It provides:
 *  - test doubles for every ops slot those macros use (and for the efct_rxqs.ops slot of
 *    ef_vi_set_shrub_client_buffer_count). Each double appends a record of its arguments to a
 *    per-thread call log and behaves like a tiny driver: posts put ids into the TX/RX id rings
 *    and advance the counters, returning -EAGAIN when the ring is full, so the effect of a call
 *    on the ring state can be compared too. The doubles are exported so the Rust side uses the
 *    very same functions;
 *  - a test double for the library function __ef_vi_reinit_txq_post_error(), which
 *    ef_vi_reinit_txq_post_error() expands to: no ef_vi library is linked into the tests
 *    (a weak definition, so a real one wins if some backend provides it);
 *  - efvi_ops_c_*() wrappers, each applying one header macro or inline function to its
 *    arguments, for the Rust test to compare with the Rust equivalent.
 *
 * The log and the configured return value are thread-local, so tests can run in parallel. */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include <etherfabric/ef_vi.h>
#include <etherfabric/timer.h>

/* ---- call log ------------------------------------------------------------------------------ */

#define EFVI_OPS_MAX_CALLS 32
#define EFVI_OPS_MAX_IOV 4

enum efvi_ops_op {
  EFVI_OP_TRANSMIT,
  EFVI_OP_TRANSMITV,
  EFVI_OP_TRANSMITV_INIT,
  EFVI_OP_TRANSMIT_PUSH,
  EFVI_OP_TRANSMIT_PIO,
  EFVI_OP_TRANSMIT_COPY_PIO,
  EFVI_OP_START_TRANSMIT_WARM,
  EFVI_OP_STOP_TRANSMIT_WARM,
  EFVI_OP_TRANSMIT_PIO_WARM,
  EFVI_OP_TRANSMIT_COPY_PIO_WARM,
  EFVI_OP_TRANSMITV_CTPIO,
  EFVI_OP_TRANSMITV_CTPIO_COPY,
  EFVI_OP_TRANSMIT_ALT_SELECT,
  EFVI_OP_TRANSMIT_ALT_SELECT_DEFAULT,
  EFVI_OP_TRANSMIT_ALT_STOP,
  EFVI_OP_TRANSMIT_ALT_GO,
  EFVI_OP_RECEIVE_SET_DISCARDS,
  EFVI_OP_RECEIVE_GET_DISCARDS,
  EFVI_OP_TRANSMIT_ALT_DISCARD,
  EFVI_OP_RECEIVE_INIT,
  EFVI_OP_RECEIVE_PUSH,
  EFVI_OP_RECEIVE_GET_TIMESTAMP,
  EFVI_OP_EVENTQ_POLL,
  EFVI_OP_EVENTQ_PRIME,
  EFVI_OP_EVENTQ_TIMER_PRIME,
  EFVI_OP_EVENTQ_TIMER_RUN,
  EFVI_OP_EVENTQ_TIMER_CLEAR,
  EFVI_OP_EVENTQ_TIMER_ZERO,
  EFVI_OP_TRANSMIT_CTPIO_FALLBACK,
  EFVI_OP_TRANSMITV_CTPIO_FALLBACK,
  EFVI_OP_RECEIVE_POLL,
  EFVI_OP_RECEIVE_GET_FILTER_ID,
  EFVI_OP_SET_CLIENT_BUF_COUNT,
  EFVI_OP_REINIT_TXQ_POST_ERROR,
  EFVI_OP_COUNT
};

static const char* const efvi_ops_names[EFVI_OP_COUNT] = {
  [EFVI_OP_TRANSMIT] = "transmit",
  [EFVI_OP_TRANSMITV] = "transmitv",
  [EFVI_OP_TRANSMITV_INIT] = "transmitv_init",
  [EFVI_OP_TRANSMIT_PUSH] = "transmit_push",
  [EFVI_OP_TRANSMIT_PIO] = "transmit_pio",
  [EFVI_OP_TRANSMIT_COPY_PIO] = "transmit_copy_pio",
  [EFVI_OP_START_TRANSMIT_WARM] = "start_transmit_warm",
  [EFVI_OP_STOP_TRANSMIT_WARM] = "stop_transmit_warm",
  [EFVI_OP_TRANSMIT_PIO_WARM] = "transmit_pio_warm",
  [EFVI_OP_TRANSMIT_COPY_PIO_WARM] = "transmit_copy_pio_warm",
  [EFVI_OP_TRANSMITV_CTPIO] = "transmitv_ctpio",
  [EFVI_OP_TRANSMITV_CTPIO_COPY] = "transmitv_ctpio_copy",
  [EFVI_OP_TRANSMIT_ALT_SELECT] = "transmit_alt_select",
  [EFVI_OP_TRANSMIT_ALT_SELECT_DEFAULT] = "transmit_alt_select_default",
  [EFVI_OP_TRANSMIT_ALT_STOP] = "transmit_alt_stop",
  [EFVI_OP_TRANSMIT_ALT_GO] = "transmit_alt_go",
  [EFVI_OP_RECEIVE_SET_DISCARDS] = "receive_set_discards",
  [EFVI_OP_RECEIVE_GET_DISCARDS] = "receive_get_discards",
  [EFVI_OP_TRANSMIT_ALT_DISCARD] = "transmit_alt_discard",
  [EFVI_OP_RECEIVE_INIT] = "receive_init",
  [EFVI_OP_RECEIVE_PUSH] = "receive_push",
  [EFVI_OP_RECEIVE_GET_TIMESTAMP] = "receive_get_timestamp",
  [EFVI_OP_EVENTQ_POLL] = "eventq_poll",
  [EFVI_OP_EVENTQ_PRIME] = "eventq_prime",
  [EFVI_OP_EVENTQ_TIMER_PRIME] = "eventq_timer_prime",
  [EFVI_OP_EVENTQ_TIMER_RUN] = "eventq_timer_run",
  [EFVI_OP_EVENTQ_TIMER_CLEAR] = "eventq_timer_clear",
  [EFVI_OP_EVENTQ_TIMER_ZERO] = "eventq_timer_zero",
  [EFVI_OP_TRANSMIT_CTPIO_FALLBACK] = "transmit_ctpio_fallback",
  [EFVI_OP_TRANSMITV_CTPIO_FALLBACK] = "transmitv_ctpio_fallback",
  [EFVI_OP_RECEIVE_POLL] = "receive_poll",
  [EFVI_OP_RECEIVE_GET_FILTER_ID] = "receive_get_filter_id",
  [EFVI_OP_SET_CLIENT_BUF_COUNT] = "efct_rxqs.set_client_buf_count",
  [EFVI_OP_REINIT_TXQ_POST_ERROR] = "__ef_vi_reinit_txq_post_error",
};

/* One call of a double. Mirrored by `Call` in tests/efvi_ops.rs. */
typedef struct {
  int32_t op;
  uint32_t n_iov;                      /* iovec entries copied below */
  uint64_t vi;                         /* the ef_vi* the double was called with */
  uint64_t arg[6];                     /* other arguments in order, widened to 64 bits */
  uint64_t iov_base[EFVI_OPS_MAX_IOV]; /* copy of the iovec array argument, if any */
  uint64_t iov_len[EFVI_OPS_MAX_IOV];
} efvi_ops_call;

static _Thread_local efvi_ops_call efvi_ops_log[EFVI_OPS_MAX_CALLS];
static _Thread_local int efvi_ops_log_n;
static _Thread_local int64_t efvi_ops_ret;

void efvi_ops_log_reset(void) { efvi_ops_log_n = 0; memset(efvi_ops_log, 0, sizeof(efvi_ops_log)); }
int efvi_ops_log_count(void) { return efvi_ops_log_n; }
const efvi_ops_call* efvi_ops_log_entry(int i)
{
  return (i >= 0 && i < efvi_ops_log_n) ? &efvi_ops_log[i] : NULL;
}
void efvi_ops_set_ret(int64_t v) { efvi_ops_ret = v; }
const char* efvi_ops_op_name(int op)
{
  return (op >= 0 && op < EFVI_OP_COUNT) ? efvi_ops_names[op] : "?";
}

static efvi_ops_call* log_call(int op, const void* vi)
{
  static _Thread_local efvi_ops_call overflow;
  efvi_ops_call* c = efvi_ops_log_n < EFVI_OPS_MAX_CALLS ? &efvi_ops_log[efvi_ops_log_n] : &overflow;
  if( efvi_ops_log_n < EFVI_OPS_MAX_CALLS + 1 )
    ++efvi_ops_log_n;  /* one past the end records "too many calls" */
  memset(c, 0, sizeof(*c));
  c->op = op;
  c->vi = (uint64_t) (uintptr_t) vi;
  return c;
}

static void log_ef_iov(efvi_ops_call* c, const ef_iovec* iov, int n)
{
  int i;
  for( i = 0; i < n && i < EFVI_OPS_MAX_IOV; ++i ) {
    c->iov_base[i] = iov[i].iov_base;
    c->iov_len[i] = iov[i].iov_len;
  }
  c->n_iov = n < 0 ? 0 : (uint32_t) n;
}

static void log_sys_iov(efvi_ops_call* c, const struct iovec* iov, int n)
{
  int i;
  for( i = 0; i < n && i < EFVI_OPS_MAX_IOV; ++i ) {
    c->iov_base[i] = (uint64_t) (uintptr_t) iov[i].iov_base;
    c->iov_len[i] = iov[i].iov_len;
  }
  c->n_iov = n < 0 ? 0 : (uint32_t) n;
}

/* ---- ring behaviour of the doubles ---------------------------------------------------------- */

/* Posts n_desc TX descriptors; the last carries dma_id, the others EF_REQUEST_ID_MASK (as the
 * real drivers do for multi-buffer frames). push: also hand them to the "NIC". */
static int tx_post(ef_vi* vi, int n_desc, ef_request_id dma_id, int push)
{
  ef_vi_txq_state* qs = &vi->ep_state->txq;
  int i;
  if( n_desc < 1 )
    n_desc = 1;
  if( vi->vi_txq.mask - (qs->added - qs->removed) < (uint32_t) n_desc )
    return -EAGAIN;
  for( i = 0; i < n_desc; ++i ) {
    vi->vi_txq.ids[qs->added & vi->vi_txq.mask] =
      i == n_desc - 1 ? (uint32_t) dma_id : (uint32_t) EF_REQUEST_ID_MASK;
    ++qs->added;
  }
  if( push )
    qs->previous = qs->added;
  return (int) efvi_ops_ret;
}

/* ---- the ops doubles ------------------------------------------------------------------------ */

int efvi_ops_dbl_transmit(ef_vi* vi, ef_addr base, int len, ef_request_id dma_id)
{
  efvi_ops_call* c = log_call(EFVI_OP_TRANSMIT, vi);
  c->arg[0] = base; c->arg[1] = (uint64_t) (int64_t) len; c->arg[2] = (uint64_t) (int64_t) dma_id;
  return tx_post(vi, 1, dma_id, 1);
}

/* What the doubles of the ef_iovec transmit calls share: log the call `op` with (iov, iov_len,
 * dma_id) and the iovec, then post one descriptor per element, pushing when `push`. */
static int dbl_transmit_iov(int op, ef_vi* vi, const ef_iovec* iov, int iov_len,
                            ef_request_id dma_id, int push)
{
  efvi_ops_call* c = log_call(op, vi);
  c->arg[0] = (uint64_t) (uintptr_t) iov; c->arg[1] = (uint64_t) (int64_t) iov_len;
  c->arg[2] = (uint64_t) (int64_t) dma_id;
  log_ef_iov(c, iov, iov_len);
  return tx_post(vi, iov_len, dma_id, push);
}

int efvi_ops_dbl_transmitv(ef_vi* vi, const ef_iovec* iov, int iov_len, ef_request_id dma_id)
{
  return dbl_transmit_iov(EFVI_OP_TRANSMITV, vi, iov, iov_len, dma_id, 1);
}

int efvi_ops_dbl_transmitv_init(ef_vi* vi, const ef_iovec* iov, int iov_len, ef_request_id dma_id)
{
  return dbl_transmit_iov(EFVI_OP_TRANSMITV_INIT, vi, iov, iov_len, dma_id, 0);
}

void efvi_ops_dbl_transmit_push(ef_vi* vi)
{
  log_call(EFVI_OP_TRANSMIT_PUSH, vi);
  vi->ep_state->txq.previous = vi->ep_state->txq.added;
}

int efvi_ops_dbl_transmit_pio(ef_vi* vi, int offset, int len, ef_request_id dma_id)
{
  efvi_ops_call* c = log_call(EFVI_OP_TRANSMIT_PIO, vi);
  c->arg[0] = (uint64_t) (int64_t) offset; c->arg[1] = (uint64_t) (int64_t) len;
  c->arg[2] = (uint64_t) (int64_t) dma_id;
  return tx_post(vi, 1, dma_id, 1);
}

/* Sum of the source bytes, to show the double saw the caller's buffer. */
static uint64_t byte_sum(const void* p, int len)
{
  const unsigned char* b = p;
  uint64_t s = 0;
  int i;
  for( i = 0; i < len; ++i )
    s = s * 31 + b[i];
  return s;
}

int efvi_ops_dbl_transmit_copy_pio(ef_vi* vi, int pio_offset, const void* src_buf, int len,
                                   ef_request_id dma_id)
{
  efvi_ops_call* c = log_call(EFVI_OP_TRANSMIT_COPY_PIO, vi);
  c->arg[0] = (uint64_t) (int64_t) pio_offset; c->arg[1] = (uint64_t) (uintptr_t) src_buf;
  c->arg[2] = (uint64_t) (int64_t) len; c->arg[3] = (uint64_t) (int64_t) dma_id;
  c->arg[4] = byte_sum(src_buf, len);
  return tx_post(vi, 1, dma_id, 1);
}

void efvi_ops_dbl_start_transmit_warm(ef_vi* vi, ef_vi_tx_warm_state* saved, char* warm_ctpio)
{
  efvi_ops_call* c = log_call(EFVI_OP_START_TRANSMIT_WARM, vi);
  c->arg[0] = (uint64_t) (uintptr_t) saved; c->arg[1] = (uint64_t) (uintptr_t) warm_ctpio;
  if( saved != NULL ) {
    saved->removed = vi->ep_state->txq.removed;
    saved->vi_ctpio_mmap_ptr = vi->vi_ctpio_mmap_ptr;
  }
  vi->vi_ctpio_mmap_ptr = warm_ctpio;
  /* Make the ring look full while warming. */
  vi->ep_state->txq.removed = vi->ep_state->txq.added - vi->vi_txq.mask;
}

void efvi_ops_dbl_stop_transmit_warm(ef_vi* vi, ef_vi_tx_warm_state* saved)
{
  efvi_ops_call* c = log_call(EFVI_OP_STOP_TRANSMIT_WARM, vi);
  c->arg[0] = (uint64_t) (uintptr_t) saved;
  if( saved != NULL ) {
    vi->ep_state->txq.removed = saved->removed;
    vi->vi_ctpio_mmap_ptr = saved->vi_ctpio_mmap_ptr;
  }
}

void efvi_ops_dbl_transmit_pio_warm(ef_vi* vi)
{
  log_call(EFVI_OP_TRANSMIT_PIO_WARM, vi);
}

void efvi_ops_dbl_transmit_copy_pio_warm(ef_vi* vi, int pio_offset, const void* src_buf, int len)
{
  efvi_ops_call* c = log_call(EFVI_OP_TRANSMIT_COPY_PIO_WARM, vi);
  c->arg[0] = (uint64_t) (int64_t) pio_offset; c->arg[1] = (uint64_t) (uintptr_t) src_buf;
  c->arg[2] = (uint64_t) (int64_t) len; c->arg[3] = byte_sum(src_buf, len);
}

void efvi_ops_dbl_transmitv_ctpio(ef_vi* vi, size_t frame_len, const struct iovec* iov,
                                  int iov_len, unsigned threshold)
{
  efvi_ops_call* c = log_call(EFVI_OP_TRANSMITV_CTPIO, vi);
  c->arg[0] = frame_len; c->arg[1] = (uint64_t) (uintptr_t) iov;
  c->arg[2] = (uint64_t) (int64_t) iov_len; c->arg[3] = threshold;
  log_sys_iov(c, iov, iov_len);
  vi->ep_state->txq.ct_added += (uint32_t) frame_len;
}

void efvi_ops_dbl_transmitv_ctpio_copy(ef_vi* vi, size_t frame_len, const struct iovec* iov,
                                       int iov_len, unsigned threshold, void* fallback)
{
  efvi_ops_call* c = log_call(EFVI_OP_TRANSMITV_CTPIO_COPY, vi);
  char* out = fallback;
  int i;
  c->arg[0] = frame_len; c->arg[1] = (uint64_t) (uintptr_t) iov;
  c->arg[2] = (uint64_t) (int64_t) iov_len; c->arg[3] = threshold;
  c->arg[4] = (uint64_t) (uintptr_t) fallback;
  log_sys_iov(c, iov, iov_len);
  for( i = 0; i < iov_len; ++i ) {
    memcpy(out, iov[i].iov_base, iov[i].iov_len);
    out += iov[i].iov_len;
  }
  vi->ep_state->txq.ct_added += (uint32_t) frame_len;
}

static int alt_op(int op, ef_vi* vi, unsigned alt_id, int has_id)
{
  efvi_ops_call* c = log_call(op, vi);
  if( has_id )
    c->arg[0] = alt_id;
  return (int) efvi_ops_ret;
}

int efvi_ops_dbl_transmit_alt_select(ef_vi* vi, unsigned alt_id)
{ return alt_op(EFVI_OP_TRANSMIT_ALT_SELECT, vi, alt_id, 1); }
int efvi_ops_dbl_transmit_alt_select_default(ef_vi* vi)
{ return alt_op(EFVI_OP_TRANSMIT_ALT_SELECT_DEFAULT, vi, 0, 0); }
int efvi_ops_dbl_transmit_alt_stop(ef_vi* vi, unsigned alt_id)
{ return alt_op(EFVI_OP_TRANSMIT_ALT_STOP, vi, alt_id, 1); }
int efvi_ops_dbl_transmit_alt_go(ef_vi* vi, unsigned alt_id)
{ return alt_op(EFVI_OP_TRANSMIT_ALT_GO, vi, alt_id, 1); }
int efvi_ops_dbl_transmit_alt_discard(ef_vi* vi, unsigned alt_id)
{ return alt_op(EFVI_OP_TRANSMIT_ALT_DISCARD, vi, alt_id, 1); }

int efvi_ops_dbl_receive_set_discards(ef_vi* vi, unsigned discard_err_flags)
{
  efvi_ops_call* c = log_call(EFVI_OP_RECEIVE_SET_DISCARDS, vi);
  c->arg[0] = discard_err_flags;
  vi->rx_discard_mask = discard_err_flags;
  return (int) efvi_ops_ret;
}

uint64_t efvi_ops_dbl_receive_get_discards(ef_vi* vi)
{
  log_call(EFVI_OP_RECEIVE_GET_DISCARDS, vi);
  return vi->rx_discard_mask;
}

int efvi_ops_dbl_receive_init(ef_vi* vi, ef_addr addr, ef_request_id dma_id)
{
  efvi_ops_call* c = log_call(EFVI_OP_RECEIVE_INIT, vi);
  ef_vi_rxq_state* qs = &vi->ep_state->rxq;
  c->arg[0] = addr; c->arg[1] = (uint64_t) (int64_t) dma_id;
  if( qs->added - qs->removed >= vi->vi_rxq.mask )
    return -EAGAIN;
  vi->vi_rxq.ids[qs->added & vi->vi_rxq.mask] = (uint32_t) dma_id;
  ++qs->added;
  return (int) efvi_ops_ret;
}

void efvi_ops_dbl_receive_push(ef_vi* vi)
{
  log_call(EFVI_OP_RECEIVE_PUSH, vi);
  vi->ep_state->rxq.posted = vi->ep_state->rxq.added;
}

int efvi_ops_dbl_receive_get_timestamp(ef_vi* vi, const void* pkt, ef_precisetime* ts_out)
{
  efvi_ops_call* c = log_call(EFVI_OP_RECEIVE_GET_TIMESTAMP, vi);
  uint32_t nsec;
  c->arg[0] = (uint64_t) (uintptr_t) pkt; c->arg[1] = (uint64_t) (uintptr_t) ts_out;
  memcpy(&nsec, pkt, sizeof(nsec));
  ts_out->tv_sec = 1700000000 + efvi_ops_ret;
  ts_out->tv_nsec = nsec;
  ts_out->tv_nsec_frac = 0x8000;
  ts_out->tv_flags = EF_VI_SYNC_FLAG_CLOCK_SET | EF_VI_SYNC_FLAG_CLOCK_IN_SYNC;
  return (int) efvi_ops_ret;
}

/* Writes min(evs_len, configured return) TX events numbered from the counter. */
static int poll_events(int op, ef_vi* evq, ef_event* evs, int evs_len)
{
  efvi_ops_call* c = log_call(op, evq);
  int n = evs_len < efvi_ops_ret ? evs_len : (int) efvi_ops_ret;
  int i;
  c->arg[0] = (uint64_t) (uintptr_t) evs; c->arg[1] = (uint64_t) (int64_t) evs_len;
  for( i = 0; i < n; ++i ) {
    memset(&evs[i], 0, sizeof(evs[i]));
    evs[i].rx.type = op == EFVI_OP_RECEIVE_POLL ? EF_EVENT_TYPE_RX : EF_EVENT_TYPE_TX;
    evs[i].rx.q_id = (unsigned) i;
    evs[i].rx.rq_id = 1000u + (unsigned) i;
    evs[i].rx.len = 60u + (unsigned) i;
  }
  return n < 0 ? 0 : n;
}

int efvi_ops_dbl_eventq_poll(ef_vi* evq, ef_event* evs, int evs_len)
{ return poll_events(EFVI_OP_EVENTQ_POLL, evq, evs, evs_len); }
int efvi_ops_dbl_receive_poll(ef_vi* evq, ef_event* evs, int evs_len)
{ return poll_events(EFVI_OP_RECEIVE_POLL, evq, evs, evs_len); }

void efvi_ops_dbl_eventq_prime(ef_vi* vi) { log_call(EFVI_OP_EVENTQ_PRIME, vi); }
void efvi_ops_dbl_eventq_timer_prime(ef_vi* vi, unsigned v)
{ log_call(EFVI_OP_EVENTQ_TIMER_PRIME, vi)->arg[0] = v; }
void efvi_ops_dbl_eventq_timer_run(ef_vi* vi, unsigned v)
{ log_call(EFVI_OP_EVENTQ_TIMER_RUN, vi)->arg[0] = v; }
void efvi_ops_dbl_eventq_timer_clear(ef_vi* vi) { log_call(EFVI_OP_EVENTQ_TIMER_CLEAR, vi); }
void efvi_ops_dbl_eventq_timer_zero(ef_vi* vi) { log_call(EFVI_OP_EVENTQ_TIMER_ZERO, vi); }

int efvi_ops_dbl_transmit_ctpio_fallback(ef_vi* vi, ef_addr dma_addr, size_t len,
                                         ef_request_id dma_id)
{
  efvi_ops_call* c = log_call(EFVI_OP_TRANSMIT_CTPIO_FALLBACK, vi);
  c->arg[0] = dma_addr; c->arg[1] = len; c->arg[2] = (uint64_t) (int64_t) dma_id;
  return tx_post(vi, 1, dma_id, 1);
}

int efvi_ops_dbl_transmitv_ctpio_fallback(ef_vi* vi, const ef_iovec* dma_iov, int dma_iov_len,
                                          ef_request_id dma_id)
{
  return dbl_transmit_iov(EFVI_OP_TRANSMITV_CTPIO_FALLBACK, vi, dma_iov, dma_iov_len, dma_id, 1);
}

int32_t efvi_ops_dbl_receive_get_filter_id(ef_vi* vi, const ef_event* rx_event,
                                           const void* rx_packet)
{
  efvi_ops_call* c = log_call(EFVI_OP_RECEIVE_GET_FILTER_ID, vi);
  c->arg[0] = (uint64_t) (uintptr_t) rx_event; c->arg[1] = (uint64_t) (uintptr_t) rx_packet;
  if( rx_packet == NULL )
    return -ENODATA;
  return (int32_t) rx_event->rx.rq_id + (int32_t) efvi_ops_ret;
}

int efvi_ops_dbl_set_client_buf_count(ef_vi* vi, size_t n)
{
  log_call(EFVI_OP_SET_CLIENT_BUF_COUNT, vi)->arg[0] = n;
  return (int) efvi_ops_ret;
}

/* Test double of the libciul function that ef_vi_reinit_txq_post_error() expands to: the tests
 * link no ef_vi library. Like the real one, it leaves the TXQ empty. It is bound to the library's
 * name by a weak alias, so that a real definition (the SDK's, or the software backend's in
 * etherfabric-sys) takes precedence instead of clashing; efvi_ops_reinit_double_linked() tells
 * the test which one it got. */
int efvi_ops_dbl_reinit_txq_post_error(ef_vi* vi)
{
  ef_vi_txq_state* qs = &vi->ep_state->txq;
  log_call(EFVI_OP_REINIT_TXQ_POST_ERROR, vi);
  qs->removed = qs->added;
  qs->previous = qs->added;
  return (int) efvi_ops_ret;
}

int __ef_vi_reinit_txq_post_error(ef_vi* vi)
  __attribute__((weak, alias("efvi_ops_dbl_reinit_txq_post_error")));

int efvi_ops_reinit_double_linked(void)
{
  return &__ef_vi_reinit_txq_post_error == &efvi_ops_dbl_reinit_txq_post_error;
}

/* Points every ops slot used by the macros under test at the doubles above (the efct_rxqs ops
 * table too, when vi->efct_rxqs.ops is set). */
void efvi_ops_install(ef_vi* vi)
{
  vi->ops.transmit = efvi_ops_dbl_transmit;
  vi->ops.transmitv = efvi_ops_dbl_transmitv;
  vi->ops.transmitv_init = efvi_ops_dbl_transmitv_init;
  vi->ops.transmit_push = efvi_ops_dbl_transmit_push;
  vi->ops.transmit_pio = efvi_ops_dbl_transmit_pio;
  vi->ops.transmit_copy_pio = efvi_ops_dbl_transmit_copy_pio;
  vi->ops.start_transmit_warm = efvi_ops_dbl_start_transmit_warm;
  vi->ops.stop_transmit_warm = efvi_ops_dbl_stop_transmit_warm;
  vi->ops.transmit_pio_warm = efvi_ops_dbl_transmit_pio_warm;
  vi->ops.transmit_copy_pio_warm = efvi_ops_dbl_transmit_copy_pio_warm;
  vi->ops.transmitv_ctpio = efvi_ops_dbl_transmitv_ctpio;
  vi->ops.transmitv_ctpio_copy = efvi_ops_dbl_transmitv_ctpio_copy;
  vi->ops.transmit_alt_select = efvi_ops_dbl_transmit_alt_select;
  vi->ops.transmit_alt_select_default = efvi_ops_dbl_transmit_alt_select_default;
  vi->ops.transmit_alt_stop = efvi_ops_dbl_transmit_alt_stop;
  vi->ops.transmit_alt_go = efvi_ops_dbl_transmit_alt_go;
  vi->ops.receive_set_discards = efvi_ops_dbl_receive_set_discards;
  vi->ops.receive_get_discards = efvi_ops_dbl_receive_get_discards;
  vi->ops.transmit_alt_discard = efvi_ops_dbl_transmit_alt_discard;
  vi->ops.receive_init = efvi_ops_dbl_receive_init;
  vi->ops.receive_push = efvi_ops_dbl_receive_push;
  vi->ops.receive_get_timestamp = efvi_ops_dbl_receive_get_timestamp;
  vi->ops.eventq_poll = efvi_ops_dbl_eventq_poll;
  vi->ops.eventq_prime = efvi_ops_dbl_eventq_prime;
  vi->ops.eventq_timer_prime = efvi_ops_dbl_eventq_timer_prime;
  vi->ops.eventq_timer_run = efvi_ops_dbl_eventq_timer_run;
  vi->ops.eventq_timer_clear = efvi_ops_dbl_eventq_timer_clear;
  vi->ops.eventq_timer_zero = efvi_ops_dbl_eventq_timer_zero;
  vi->ops.transmit_ctpio_fallback = efvi_ops_dbl_transmit_ctpio_fallback;
  vi->ops.transmitv_ctpio_fallback = efvi_ops_dbl_transmitv_ctpio_fallback;
  vi->ops.receive_poll = efvi_ops_dbl_receive_poll;
  vi->ops.receive_get_filter_id = efvi_ops_dbl_receive_get_filter_id;
  if( vi->efct_rxqs.ops != NULL )
    vi->efct_rxqs.ops->set_client_buf_count = efvi_ops_dbl_set_client_buf_count;
}

/* ---- wrappers: one header macro / inline function each ------------------------------------ */

unsigned efvi_ops_c_resource_id(ef_vi* vi) { return ef_vi_resource_id(vi); }
uint64_t efvi_ops_c_flags(ef_vi* vi) { return (uint64_t) ef_vi_flags(vi); }
unsigned efvi_ops_c_instance(ef_vi* vi) { return ef_vi_instance(vi); }
int efvi_ops_c_receive_prefix_len(const ef_vi* vi) { return ef_vi_receive_prefix_len(vi); }
int efvi_ops_c_receive_buffer_len(const ef_vi* vi) { return ef_vi_receive_buffer_len(vi); }
void efvi_ops_c_receive_set_buffer_len(ef_vi* vi, unsigned n) { ef_vi_receive_set_buffer_len(vi, n); }
int efvi_ops_c_receive_space(const ef_vi* vi) { return ef_vi_receive_space(vi); }
int efvi_ops_c_receive_fill_level(const ef_vi* vi) { return ef_vi_receive_fill_level(vi); }
int efvi_ops_c_receive_capacity(const ef_vi* vi) { return ef_vi_receive_capacity(vi); }
int efvi_ops_c_transmit_space(const ef_vi* vi) { return ef_vi_transmit_space(vi); }
int efvi_ops_c_transmit_fill_level(const ef_vi* vi) { return ef_vi_transmit_fill_level(vi); }
int efvi_ops_c_transmit_space_bytes(const ef_vi* vi) { return ef_vi_transmit_space_bytes(vi); }
int efvi_ops_c_transmit_fill_level_bytes(const ef_vi* vi)
{ return ef_vi_transmit_fill_level_bytes(vi); }
int efvi_ops_c_transmit_capacity(const ef_vi* vi) { return ef_vi_transmit_capacity(vi); }
uint32_t efvi_ops_c_transmit_alt_usage(const struct ef_vi_transmit_alt_overhead* p, uint32_t len)
{ return ef_vi_transmit_alt_usage(p, len); }

int efvi_ops_c_receive_init(ef_vi* vi, ef_addr addr, ef_request_id id)
{ return ef_vi_receive_init(vi, addr, id); }
void efvi_ops_c_receive_push(ef_vi* vi) { ef_vi_receive_push(vi); }
int efvi_ops_c_receive_get_precise_timestamp(ef_vi* vi, const void* pkt, ef_precisetime* ts)
{ return ef_vi_receive_get_precise_timestamp(vi, pkt, ts); }
int efvi_ops_c_receive_set_discards(ef_vi* vi, unsigned flags)
{ return ef_vi_receive_set_discards(vi, flags); }
uint64_t efvi_ops_c_receive_get_discards(ef_vi* vi) { return ef_vi_receive_get_discards(vi); }
int32_t efvi_ops_c_receive_get_filter_id(ef_vi* vi, const ef_event* ev, const void* pkt)
{ return ef_vi_receive_get_filter_id(vi, ev, pkt); }

int efvi_ops_c_transmitv_init(ef_vi* vi, const ef_iovec* iov, int n, ef_request_id id)
{ return ef_vi_transmitv_init(vi, iov, n, id); }
void efvi_ops_c_transmit_push(ef_vi* vi) { ef_vi_transmit_push(vi); }
int efvi_ops_c_transmit(ef_vi* vi, ef_addr base, int len, ef_request_id id)
{ return ef_vi_transmit(vi, base, len, id); }
int efvi_ops_c_transmitv(ef_vi* vi, const ef_iovec* iov, int n, ef_request_id id)
{ return ef_vi_transmitv(vi, iov, n, id); }
int efvi_ops_c_transmit_pio(ef_vi* vi, int offset, int len, ef_request_id id)
{ return ef_vi_transmit_pio(vi, offset, len, id); }
int efvi_ops_c_transmit_copy_pio(ef_vi* vi, int offset, const void* src, int len, ef_request_id id)
{ return ef_vi_transmit_copy_pio(vi, offset, src, len, id); }
void efvi_ops_c_transmit_pio_warm(ef_vi* vi) { ef_vi_transmit_pio_warm(vi); }
void efvi_ops_c_transmit_copy_pio_warm(ef_vi* vi, int offset, const void* src, int len)
{ ef_vi_transmit_copy_pio_warm(vi, offset, src, len); }
void efvi_ops_c_start_transmit_warm(ef_vi* vi, ef_vi_tx_warm_state* saved, char* ctpio)
{ ef_vi_start_transmit_warm(vi, saved, ctpio); }
void efvi_ops_c_stop_transmit_warm(ef_vi* vi, ef_vi_tx_warm_state* saved)
{ ef_vi_stop_transmit_warm(vi, saved); }
int efvi_ops_c_transmit_alt_select(ef_vi* vi, unsigned alt) { return ef_vi_transmit_alt_select(vi, alt); }
int efvi_ops_c_transmit_alt_select_normal(ef_vi* vi) { return ef_vi_transmit_alt_select_normal(vi); }
int efvi_ops_c_transmit_alt_stop(ef_vi* vi, unsigned alt) { return ef_vi_transmit_alt_stop(vi, alt); }
int efvi_ops_c_transmit_alt_go(ef_vi* vi, unsigned alt) { return ef_vi_transmit_alt_go(vi, alt); }
int efvi_ops_c_transmit_alt_discard(ef_vi* vi, unsigned alt)
{ return ef_vi_transmit_alt_discard(vi, alt); }
void efvi_ops_c_transmitv_ctpio(ef_vi* vi, size_t frame_len, const struct iovec* iov, int n,
                                unsigned threshold)
{ ef_vi_transmitv_ctpio(vi, frame_len, iov, n, threshold); }
void efvi_ops_c_transmitv_ctpio_copy(ef_vi* vi, size_t frame_len, const struct iovec* iov, int n,
                                     unsigned threshold, void* fallback)
{ ef_vi_transmitv_ctpio_copy(vi, frame_len, iov, n, threshold, fallback); }
void efvi_ops_c_transmit_ctpio(ef_vi* vi, const void* buf, size_t len, unsigned threshold)
{ ef_vi_transmit_ctpio(vi, buf, len, threshold); }
int efvi_ops_c_transmit_ctpio_fallback(ef_vi* vi, ef_addr addr, size_t len, ef_request_id id)
{ return ef_vi_transmit_ctpio_fallback(vi, addr, len, id); }
int efvi_ops_c_transmitv_ctpio_fallback(ef_vi* vi, const ef_iovec* iov, int n, ef_request_id id)
{ return ef_vi_transmitv_ctpio_fallback(vi, iov, n, id); }

int efvi_ops_c_eventq_poll(ef_vi* evq, ef_event* evs, int n) { return ef_eventq_poll(evq, evs, n); }
int efvi_ops_c_receive_poll(ef_vi* evq, ef_event* evs, int n) { return ef_receive_poll(evq, evs, n); }
void efvi_ops_c_eventq_prime(ef_vi* vi) { ef_eventq_prime(vi); }
void efvi_ops_c_eventq_timer_prime(ef_vi* vi, unsigned v) { ef_eventq_timer_prime(vi, v); }
void efvi_ops_c_eventq_timer_run(ef_vi* vi, unsigned v) { ef_eventq_timer_run(vi, v); }
void efvi_ops_c_eventq_timer_clear(ef_vi* vi) { ef_eventq_timer_clear(vi); }
void efvi_ops_c_eventq_timer_zero(ef_vi* vi) { ef_eventq_timer_zero(vi); }

ef_vi* efvi_ops_c_get_vi_from_q_id(ef_vi* vi, int q_id) { return ef_vi_get_vi_from_q_id(vi, q_id); }
int efvi_ops_c_reinit_txq_post_error(ef_vi* vi) { return ef_vi_reinit_txq_post_error(vi); }
int efvi_ops_c_set_shrub_client_buffer_count(ef_vi* vi, size_t n)
{ return ef_vi_set_shrub_client_buffer_count(vi, n); }

/* Runs the loop macro. Each dma_id the loop body sees is stored in out[] (up to max); the body
 * breaks out of the loop when it has seen break_after ids (break_after > 0), and when
 * shrink_added is set it also takes one descriptor off txq.added each time (to show that the
 * loop condition reads the state again on every iteration). Returns how many ids the body saw. */
int efvi_ops_c_for_each_failed(ef_vi* vi, ef_request_id* out, int max, int break_after,
                               int shrink_added)
{
  ef_request_id dma_id = 0;
  int n = 0;
  ef_vi_for_each_tx_error_failed_transmit(vi, dma_id) {
    if( n < max )
      out[n] = dma_id;
    ++n;
    if( shrink_added )
      --vi->ep_state->txq.added;
    if( break_after > 0 && n >= break_after )
      break;
  }
  return n;
}
