/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * etherfabric/checksum.h -- IP, TCP, UDP and ICMPv6 checksum helpers.
 *
 * The project's own declaration of this part of the ef_vi ABI (pinned SDK:
 * see ../SDK_VERSION).  Names, types and values follow the SDK.
 *
 * The "checksum" functions return the value to store in the header (the
 * header's own checksum field is ignored).  The "is_correct" functions
 * return non-zero when the checksum already in the header is right.
 * Payloads are given as iovec arrays.
 */

#ifndef __EFAB_CHECKSUM_H__
#define __EFAB_CHECKSUM_H__

#include <etherfabric/base.h>

#ifdef __KERNEL__
# include <linux/ip.h>
# include <linux/tcp.h>
# include <linux/udp.h>
#else
# include <netinet/ip.h>
# include <netinet/tcp.h>
# include <netinet/udp.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Only pointers to the header structures are used here.  struct ipv6hdr
 * has no user-space definition; the others come from the system headers
 * above (the declarations keep strict ISO C modes working, where some libc
 * versions hide them). */
struct ipv6hdr;
struct iphdr;
struct udphdr;
struct tcphdr;

/* Checksum of an IPv4 header. */
extern uint32_t ef_ip_checksum(const struct iphdr* ip);

/* UDP checksum over IPv4. */
extern uint32_t
ef_udp_checksum(const struct iphdr* ip, const struct udphdr* udp,
                const struct iovec* iov, int iovlen);

/* UDP checksum over IPv6. */
extern uint32_t
ef_udp_checksum_ip6(const struct ipv6hdr* ip6, const struct udphdr* udp,
                    const struct iovec* iov, int iovlen);

/* UDP checksum; ipx is an IPv6 header when af is AF_INET6, otherwise an
 * IPv4 header. */
extern uint32_t
ef_udp_checksum_ipx(int af, const void* ipx, const struct udphdr* udp,
                    const struct iovec* iov, int iovlen);

/* ef_udp_checksum_ipx() with the payload in one buffer. */
ef_vi_inline uint32_t
ef_udp_checksum_ipx_buf(int af, const void* ipx, const struct udphdr* udp,
                        const void* payload, int paylen)
{
  struct iovec one;
  one.iov_base = (void*) payload;
  one.iov_len = paylen;
  return ef_udp_checksum_ipx(af, ipx, udp, &one, 1);
}

/* TCP checksum over IPv4. */
extern uint32_t
ef_tcp_checksum(const struct iphdr* ip, const struct tcphdr* tcp,
                const struct iovec* iov, int iovlen);

/* TCP checksum over IPv6. */
extern uint32_t
ef_tcp_checksum_ip6(const struct ipv6hdr* ip6, const struct tcphdr* tcp,
                    const struct iovec* iov, int iovlen);

/* TCP checksum; ipx as for ef_udp_checksum_ipx(). */
extern uint32_t
ef_tcp_checksum_ipx(int af, const void* ipx, const struct tcphdr* tcp,
                    const struct iovec* iov, int iovlen);

/* ef_tcp_checksum_ipx() with the payload in one buffer. */
ef_vi_inline uint32_t
ef_tcp_checksum_ipx_buf(int af, const void* ipx, const struct tcphdr* tcp,
                        const void* payload, int paylen)
{
  struct iovec one;
  one.iov_base = (void*) payload;
  one.iov_len = paylen;
  return ef_tcp_checksum_ipx(af, ipx, tcp, &one, 1);
}

/* Verify a UDP checksum over IPv4. */
extern int
ef_udp_checksum_is_correct(const struct iphdr* ip, const struct udphdr* udp,
                           const struct iovec* iov, int iovlen);

/* Verify a UDP checksum over IPv6. */
extern int
ef_udp_checksum_ip6_is_correct(const struct ipv6hdr* ip6,
                               const struct udphdr* udp,
                               const struct iovec* iov, int iovlen);

/* Verify a UDP checksum, payload in one buffer; ipx is an IPv6 header when
 * af is AF_INET6, otherwise an IPv4 header. */
ef_vi_inline int
ef_udp_checksum_ipx_is_correct(int af, const void* ipx,
                               const struct udphdr* udp,
                               const void* payload, int paylen)
{
  struct iovec one;
  one.iov_base = (void*) payload;
  one.iov_len = paylen;
  if( af == AF_INET6 )
    return ef_udp_checksum_ip6_is_correct((const struct ipv6hdr*) ipx, udp,
                                          &one, 1);
  return ef_udp_checksum_is_correct((const struct iphdr*) ipx, udp, &one, 1);
}

/* Verify a TCP checksum over IPv4. */
extern int
ef_tcp_checksum_is_correct(const struct iphdr* ip, const struct tcphdr* tcp,
                           const struct iovec* iov, int iovlen);

/* Verify a TCP checksum over IPv6. */
extern int
ef_tcp_checksum_ip6_is_correct(const struct ipv6hdr* ip6,
                               const struct tcphdr* tcp,
                               const struct iovec* iov, int iovlen);

/* Verify a TCP checksum, payload in one buffer; ipx as above. */
ef_vi_inline int
ef_tcp_checksum_ipx_is_correct(int af, const void* ipx,
                               const struct tcphdr* tcp,
                               const void* payload, int paylen)
{
  struct iovec one;
  one.iov_base = (void*) payload;
  one.iov_len = paylen;
  if( af == AF_INET6 )
    return ef_tcp_checksum_ip6_is_correct((const struct ipv6hdr*) ipx, tcp,
                                          &one, 1);
  return ef_tcp_checksum_is_correct((const struct iphdr*) ipx, tcp, &one, 1);
}

/* ICMPv6 checksum (icmp points at the ICMPv6 header). */
extern uint32_t
ef_icmpv6_checksum(const struct ipv6hdr* ip6, const void* icmp,
                   const struct iovec* iov, int iovlen);

#ifdef __cplusplus
}
#endif

#endif /* __EFAB_CHECKSUM_H__ */
