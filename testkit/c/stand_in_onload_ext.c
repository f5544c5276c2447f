/* More of a stand-in for Onload's libonload.so, for onload-ext's tests. It is compiled into
 * ONE shared library together with fake_onload.c (which defines
 * onload_is_present, onload_thread_get_spin and onload_stack_opt_get_int), then preloaded,
 * so that the software backend's functions reach these definitions as they would reach
 * Onload's under `onload ./app`.
 *
 * It models just enough of Onload to check the safe types' handling of its answers:
 *   - a per-thread stack name with save/restore, reported by onload_fd_stat() for sockets
 *     (a simplification: real Onload reports the stack a socket was created in);
 *   - zero-copy buffers from malloc, counted, with sends and receives done through the
 *     kernel socket; datagrams over 1000 bytes arrive in two chained buffers, of which only
 *     the first is released (as Onload's rule says);
 *   - templates copied into malloc'ed memory, counted, sent with send();
 *   - delegated sends with made-up Ethernet/IPv4/TCP headers.
 * stand_in_*() functions let the tests look at the counters (found with dlsym). */
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <onload/extensions.h>
#include <onload/extensions_zc.h>

#define NAME_LEN 64
#define SAVE_DEPTH 16

static __thread char current_name[NAME_LEN] = "default";
static __thread char saved_names[SAVE_DEPTH][NAME_LEN];
static __thread int saved_depth;

int stand_in_saved_depth(void) { return saved_depth; }

int onload_set_stackname(enum onload_stackname_who who, enum onload_stackname_scope scope,
                         const char* name)
{
  (void) who; (void) scope;
  if( name == NULL )
    name = "<not accelerated>";
  if( strlen(name) >= NAME_LEN )
    return -EINVAL;
  strcpy(current_name, name);
  return 0;
}

int onload_stackname_save(void)
{
  if( saved_depth == SAVE_DEPTH )
    return -ENOMEM;
  strcpy(saved_names[saved_depth++], current_name);
  return 0;
}

int onload_stackname_restore(void)
{
  if( saved_depth == 0 )
    return -EINVAL;
  strcpy(current_name, saved_names[--saved_depth]);
  return 0;
}

static int is_socket(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int onload_fd_stat(int fd, struct onload_stat* stat)
{
  if( ! is_socket(fd) )
    return 0;
  stat->stack_id = 7;
  stat->stack_name = strdup(current_name);
  stat->endpoint_id = fd;
  stat->endpoint_state = 0x55;
  return 1;
}

int onload_fd_check_feature(int fd, enum onload_fd_feature feature)
{
  (void) fd;
  return feature == ONLOAD_FD_FEAT_MSG_WARM ? 1 : 0;
}

int onload_get_tcp_info(int fd, struct onload_tcp_info* info, int* len)
{
  (void) fd;
  if( *len < (int) sizeof(*info) )
    return errno = EINVAL, -1;
  memset(info, 0, sizeof(*info));
  info->so_recvbuf = 1001;
  info->snd_mss = 1448;
  info->cong_window = 14480;
  *len = sizeof(*info);
  return 0;
}

int onload_timestamping_request(int fd, unsigned flags)
{
  (void) fd;
  return flags & ~7u ? -EINVAL : 0;
}

/* ---- zero-copy ---- */

#define BUF_MAGIC 0x7a63627546u
#define BUF_SIZE 2048

struct oo_zc_buf {
  unsigned long magic;
  struct oo_zc_buf* next;   /* chained buffers of one received datagram */
  char data[BUF_SIZE];
};

static int zc_outstanding;
int stand_in_zc_outstanding(void) { return __atomic_load_n(&zc_outstanding, __ATOMIC_SEQ_CST); }

static struct oo_zc_buf* buf_new(void)
{
  struct oo_zc_buf* b = calloc(1, sizeof(*b));
  if( b == NULL )
    return NULL;
  b->magic = BUF_MAGIC;
  __atomic_add_fetch(&zc_outstanding, 1, __ATOMIC_SEQ_CST);
  return b;
}

static int buf_free_chain(struct oo_zc_buf* b)
{
  while( b != NULL ) {
    struct oo_zc_buf* next = b->next;
    if( b->magic != BUF_MAGIC )
      return -EINVAL;
    b->magic = 0;
    free(b);
    __atomic_sub_fetch(&zc_outstanding, 1, __ATOMIC_SEQ_CST);
    b = next;
  }
  return 0;
}

static void set_iov(struct onload_zc_iovec* iov, struct oo_zc_buf* b, size_t len)
{
  memset(iov, 0, sizeof(*iov));
  iov->iov_base = b->data;
  iov->iov_len = len;
  iov->buf = b;
}

int onload_zc_alloc_buffers(int fd, struct onload_zc_iovec* iovecs, int n,
                            enum onload_zc_buffer_type_flags flags)
{
  (void) flags;
  if( ! is_socket(fd) )
    return -ESOCKTNOSUPPORT;
  for( int i = 0; i < n; ++i ) {
    struct oo_zc_buf* b = buf_new();
    if( b == NULL ) {
      while( i-- )
        buf_free_chain(iovecs[i].buf);
      return -ENOMEM;
    }
    set_iov(&iovecs[i], b, BUF_SIZE);
  }
  return 0;
}

int onload_zc_release_buffers(int fd, onload_zc_handle* bufs, int n)
{
  (void) fd;
  for( int i = 0; i < n; ++i ) {
    int rc = buf_free_chain(bufs[i]);
    if( rc < 0 )
      return rc;
  }
  return 0;
}

int onload_zc_send(struct onload_zc_mmsg* msgs, int mlen, int flags)
{
  for( int m = 0; m < mlen; ++m ) {
    struct onload_zc_msg* msg = &msgs[m].msg;
    struct iovec iov[64];
    size_t total = 0;
    int n = (int) msg->msghdr.msg_iovlen;
    if( n > 64 )
      return -EINVAL;
    for( int i = 0; i < n; ++i ) {
      iov[i].iov_base = msg->iov[i].iov_base;
      iov[i].iov_len = msg->iov[i].iov_len;
      total += iov[i].iov_len;
    }
    if( flags & ONLOAD_MSG_WARM ) {
      msgs[m].rc = (int) total;     /* nothing sent; buffers stay with the caller */
      continue;
    }
    struct msghdr h = { .msg_name = msg->msghdr.msg_name,
                        .msg_namelen = msg->msghdr.msg_namelen,
                        .msg_iov = iov, .msg_iovlen = n };
    ssize_t rc = sendmsg(msgs[m].fd, &h, flags & ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK);
    if( rc < 0 ) {
      msgs[m].rc = -errno;
      continue;
    }
    msgs[m].rc = (int) rc;
    for( int i = 0; i < n; ++i )
      buf_free_chain(msg->iov[i].buf);
  }
  return mlen;
}

int onload_zc_recv(int fd, struct onload_zc_recv_args* args)
{
  socklen_t name_cap = args->msg.msghdr.msg_namelen;
  int delivered = 0;
  for( ;; ) {
    char data[2 * BUF_SIZE];
    int dontwait = delivered || (args->flags & ONLOAD_MSG_DONTWAIT);
    args->msg.msghdr.msg_namelen = name_cap;
    ssize_t len = recvfrom(fd, data, sizeof(data), dontwait ? MSG_DONTWAIT : 0,
                           args->msg.msghdr.msg_name,
                           args->msg.msghdr.msg_name ? &args->msg.msghdr.msg_namelen : NULL);
    if( len < 0 ) {
      if( errno == EAGAIN && delivered )
        return 0;
      return -errno;
    }
    struct onload_zc_iovec iov[2];
    struct oo_zc_buf* first = buf_new();
    if( first == NULL )
      return -ENOMEM;
    size_t len1 = len > 1000 ? 1000 : (size_t) len;
    memcpy(first->data, data, len1);
    set_iov(&iov[0], first, len1);
    args->msg.msghdr.msg_iovlen = 1;
    if( (size_t) len > len1 ) {
      struct oo_zc_buf* second = buf_new();
      if( second == NULL ) {
        buf_free_chain(first);
        return -ENOMEM;
      }
      first->next = second;
      memcpy(second->data, data + len1, len - len1);
      set_iov(&iov[1], second, len - len1);
      iov[1].buf = NULL;   /* only the first handle is the message's */
      args->msg.msghdr.msg_iovlen = 2;
    }
    args->msg.iov = iov;
    ++delivered;
    enum onload_zc_callback_rc rc = args->cb(args, ONLOAD_ZC_END_OF_BURST);
    if( ! (rc & ONLOAD_ZC_KEEP) )
      buf_free_chain(first);
    args->msg.iov = NULL;
    if( rc & ONLOAD_ZC_TERMINATE )
      return 0;
  }
}

/* ---- templates ---- */

#define TMPL_MAGIC 0x746d706cu

struct oo_msg_template {
  unsigned magic;
  size_t len;
  char data[];
};

static int templates_outstanding;
int stand_in_templates_outstanding(void)
{
  return __atomic_load_n(&templates_outstanding, __ATOMIC_SEQ_CST);
}
static int templates_sent;
int stand_in_templates_sent(void) { return __atomic_load_n(&templates_sent, __ATOMIC_SEQ_CST); }

int onload_msg_template_alloc(int fd, const struct iovec* iov, int n,
                              onload_template_handle* handle, unsigned flags)
{
  (void) flags;
  if( ! is_socket(fd) )
    return -ESOCKTNOSUPPORT;
  size_t len = 0;
  for( int i = 0; i < n; ++i )
    len += iov[i].iov_len;
  struct oo_msg_template* t = malloc(sizeof(*t) + len);
  if( t == NULL )
    return -ENOMEM;
  t->magic = TMPL_MAGIC;
  t->len = 0;
  for( int i = 0; i < n; ++i ) {
    memcpy(t->data + t->len, iov[i].iov_base, iov[i].iov_len);
    t->len += iov[i].iov_len;
  }
  __atomic_add_fetch(&templates_outstanding, 1, __ATOMIC_SEQ_CST);
  *handle = t;
  return 0;
}

static void template_free(struct oo_msg_template* t)
{
  t->magic = 0;
  free(t);
  __atomic_sub_fetch(&templates_outstanding, 1, __ATOMIC_SEQ_CST);
}

int onload_msg_template_update(int fd, onload_template_handle t,
                               const struct onload_template_msg_update_iovec* u, int n,
                               unsigned flags)
{
  if( t == NULL || t->magic != TMPL_MAGIC )
    return -EINVAL;
  for( int i = 0; i < n; ++i ) {
    if( u[i].otmu_offset < 0 || (size_t) u[i].otmu_offset + u[i].otmu_len > t->len )
      return -EINVAL;
    memcpy(t->data + u[i].otmu_offset, u[i].otmu_base, u[i].otmu_len);
  }
  if( flags & ONLOAD_TEMPLATE_FLAGS_SEND_NOW ) {
    ssize_t rc = send(fd, t->data, t->len,
                      MSG_NOSIGNAL | (flags & ONLOAD_TEMPLATE_FLAGS_DONTWAIT ? MSG_DONTWAIT : 0));
    int err = errno;
    template_free(t);   /* Onload owns it from SEND_NOW on, whatever the result */
    if( rc < 0 )
      return -err;
    __atomic_add_fetch(&templates_sent, 1, __ATOMIC_SEQ_CST);
  }
  return 0;
}

int onload_msg_template_abort(int fd, onload_template_handle t)
{
  (void) fd;
  if( t == NULL || t->magic != TMPL_MAGIC )
    return -EINVAL;
  template_free(t);
  return 0;
}

/* ---- delegated sends ---- */

#define DS_HDR_LEN 54   /* Ethernet 14 + IPv4 20 + TCP 20 */

static int ds_completed;
int stand_in_ds_completed(void) { return __atomic_load_n(&ds_completed, __ATOMIC_SEQ_CST); }
static int ds_cancelled;
int stand_in_ds_cancelled(void) { return __atomic_load_n(&ds_cancelled, __ATOMIC_SEQ_CST); }

enum onload_delegated_send_rc
onload_delegated_send_prepare(int fd, int size, unsigned flags, struct onload_delegated_send* ds)
{
  (void) flags;
  if( ! is_socket(fd) )
    return ONLOAD_DELEGATED_SEND_RC_BAD_SOCKET;
  if( ds->headers_len < DS_HDR_LEN ) {
    ds->headers_len = DS_HDR_LEN;
    return ONLOAD_DELEGATED_SEND_RC_SMALL_HEADER;
  }
  static const unsigned char hdr[DS_HDR_LEN] = {
    /* Ethernet: dst 02:00:00:00:00:02, src 02:00:00:00:00:01, IPv4 */
    2, 0, 0, 0, 0, 2,  2, 0, 0, 0, 0, 1,  0x08, 0x00,
    /* IPv4: total length 40 + 1448 = 1488 */
    0x45, 0, 0x05, 0xd0,  0, 0, 0x40, 0,  64, 6, 0, 0,  10, 0, 0, 1,  10, 0, 0, 2,
    /* TCP: ports 1000 -> 2000, seq 0x01020304, ack 0x0a0b0c0d, flags ACK, window 512 */
    0x03, 0xe8, 0x07, 0xd0,  1, 2, 3, 4,  0x0a, 0x0b, 0x0c, 0x0d,  0x50, 0x10, 0x02, 0x00,
    0, 0, 0, 0,
  };
  memcpy(ds->headers, hdr, DS_HDR_LEN);
  ds->headers_len = DS_HDR_LEN;
  ds->mss = 1448;
  ds->send_wnd = 65535;
  ds->cong_wnd = 10 * 1448;
  ds->user_size = size;
  ds->tcp_seq_offset = 14 + 20 + 4;
  ds->ip_len_offset = 14 + 2;
  ds->ip_tcp_hdr_len = 40;
  return ONLOAD_DELEGATED_SEND_RC_OK;
}

int onload_delegated_send_complete(int fd, const struct iovec* iov, int n, int flags)
{
  (void) fd; (void) flags;
  for( int i = 0; i < n; ++i )
    __atomic_add_fetch(&ds_completed, (int) iov[i].iov_len, __ATOMIC_SEQ_CST);
  return 0;
}

int onload_delegated_send_cancel(int fd)
{
  (void) fd;
  __atomic_add_fetch(&ds_cancelled, 1, __ATOMIC_SEQ_CST);
  return 0;
}

/* ---- string options: a long value, to make the caller grow its buffer ---- */

int onload_stack_opt_get_str(const char* opt, char* val, size_t* len)
{
  char value[200];
  memset(value, 'v', sizeof(value) - 1);
  value[sizeof(value) - 1] = '\0';
  memcpy(value, opt, strlen(opt) < 20 ? strlen(opt) : 20);
  if( *len < sizeof(value) ) {
    *len = sizeof(value);
    return -ENOSPC;
  }
  memcpy(val, value, sizeof(value));
  return 0;
}

/* ---- moving sockets: only TCP ones ---- */

int onload_move_fd(int fd)
{
  int type = 0;
  socklen_t len = sizeof(type);
  if( getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM )
    return errno = EINVAL, -1;
  return 0;
}

/* ---- kernel-path datagrams: a plain recvmsg ---- */

int onload_recvmsg_kernel(int fd, struct msghdr* msg, int flags)
{
  ssize_t rc = recvmsg(fd, msg, flags);
  return rc < 0 ? -errno : (int) rc;
}

/* ---- receive filter: remembered; stand_in_run_filter() plays a message to it ---- */

static onload_zc_recv_filter_callback filter_cb;
static void* filter_arg;

int onload_set_recv_filter(int fd, onload_zc_recv_filter_callback cb, void* arg, int flags)
{
  (void) fd;
  if( flags != 0 )
    return -EINVAL;
  filter_cb = cb;
  filter_arg = arg;
  return 0;
}

int stand_in_run_filter(const char* data, int len)
{
  if( filter_cb == NULL )
    return -1;
  struct oo_zc_buf* b = buf_new();
  if( b == NULL )
    return -1;
  memcpy(b->data, data, (size_t) len);
  struct onload_zc_iovec iov;
  set_iov(&iov, b, (size_t) len);
  struct onload_zc_msg msg;
  memset(&msg, 0, sizeof(msg));
  msg.iov = &iov;
  msg.msghdr.msg_iovlen = 1;
  int rc = (int) filter_cb(&msg, filter_arg, ONLOAD_ZC_MSG_SHARED);
  buf_free_chain(b);
  return rc;
}

/* ---- ordered epoll: epoll_wait, with made-up timestamps (second n+1 for event n) ---- */

int onload_ordered_epoll_wait(int epfd, struct epoll_event* events,
                              struct onload_ordered_epoll_event* oo, int max, int timeout)
{
  int n = epoll_wait(epfd, events, max, timeout);
  if( n < 0 )
    return -errno;
  for( int i = 0; i < n; ++i ) {
    oo[i].ts.tv_sec = i + 1;
    oo[i].ts.tv_nsec = 500;
    oo[i].bytes = 100 * (i + 1);
  }
  return n;
}
