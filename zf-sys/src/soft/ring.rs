//! The shared-memory UDP receive path: an `AF_PACKET` socket with a `TPACKET_V2` receive ring.
//!
//! A NIC-backed TCPDirect stack finds received datagrams in memory it polls, with their real IP
//! and UDP headers; no system call is involved. A stack with `CAP_NET_RAW` gets the same shape
//! here: the kernel copies each matching frame into a ring mapped into the process, and the
//! reactor looks at the next slot's status word. An empty poll costs a memory read, and
//! `zfur_pkt_get_header` returns the headers exactly as they arrived.
//!
//! The division of labour with the kernel UDP sockets (which still own the ports, send, and
//! keep the kernel from answering with ICMP port-unreachable):
//!
//! * the ring's filter accepts unfragmented UDP/IPv4 frames addressed to the local IP and port
//!   of a port with receive bindings ([`Ring::set_ports`]), arriving on the stack's interface
//!   or on `lo`, not merely passing by (`PACKET_OTHERHOST`, which the kernel's IP layer drops
//!   too); such ports are on unicast addresses of this host;
//! * of those, datagrams whose UDP length is at most `small` (the stack's MTU minus the IP
//!   header: everything a NIC-backed stack can receive) are copied whole; for larger ones only
//!   the headers are copied, as a doorbell telling the reactor to read the socket;
//! * each UDP socket of such a port has a filter ([`stub_small`]) that cuts datagrams of at
//!   most `small` bytes down to their UDP header, so that the payload of every datagram
//!   arrives by exactly one path. The filter cuts rather than drops because the kernel counts
//!   every datagram a socket filter drops as a UDP receive error (`InErrors` in
//!   `/proc/net/snmp`, in `udp_queue_rcv_one_skb`), and these are no errors; a cut datagram
//!   is queued as an empty stub, which the reactor reads and discards when it has nothing
//!   else to do (see `udp.rs`). The socket's receive buffer is enlarged so that the stubs of
//!   a full ring fit.
//!
//! The packet socket taps every protocol (`ETH_P_ALL`, its filter keeps IPv4), ignoring what
//! the host sends (`PACKET_IGNORE_OUTGOING`; on `lo` each frame is then seen once, as it comes
//! in). A tap is handed each frame before the protocol handlers are, so the ring has a
//! datagram before the IP layer starts on it, and the reactor can work on it while the kernel
//! is still queueing the stub. A socket bound to IPv4 alone would be a protocol handler: on
//! kernels that keep packet sockets in per-namespace handler lists (recent ones; 6.18 here)
//! it would come after the IP layer's own handler, which would then have to copy every frame
//! it shares with the ring, and the ring would see each datagram only after the socket had
//! its stub (in `cargo bench -p zf-sys --bench udp_pingpong`, 1.14-1.28x std's median round
//! trip against 0.74-0.92x with the tap).
//!
//! Without `CAP_NET_RAW` there is no ring and every datagram is read from its socket.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::raw::{c_int, c_uint};
use std::sync::atomic::{AtomicU32, Ordering};

use super::util;

/// Bytes per ring slot (`tpacket2_hdr`, the address, then the IP datagram).
const FRAME_SIZE: usize = 2048;
/// Slots in the ring.
const FRAMES: usize = 512;
const BLOCK_SIZE: usize = 1 << 16;
/// Bytes of a doorbell frame kept for a datagram too large for a slot: room for the largest
/// IP header and the UDP header.
pub(crate) const DOORBELL_SNAP: u32 = 68;
/// Largest UDP length a slot holds whole, behind the slot header, its address and the largest
/// IP header.
const MAX_SMALL: u32 = (FRAME_SIZE - 128 - 60) as u32;
/// Most ports one filter lists (each takes four instructions, and jumps reach 255 ahead).
pub(crate) const MAX_PORTS: usize = 60;

/// cBPF opcodes (linux/bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const LD_H_IND: u16 = 0x48;
const LDX_B_MSH: u16 = 0xb1;
const LD_LEN: u16 = 0x80;
const JEQ_K: u16 = 0x15;
const JGT_K: u16 = 0x25;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;
/// Ancillary loads (linux/filter.h): `SKF_AD_OFF` plus the field.
const AD_PROTOCOL: u32 = 0xffff_f000;
const AD_PKTTYPE: u32 = 0xffff_f000 + 4;
const AD_IFINDEX: u32 = 0xffff_f000 + 8;

const fn ins(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

fn attach(fd: impl AsFd, prog: &[libc::sock_filter]) -> c_int {
    let fp = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr().cast_mut(),
    };
    util::setsockopt_val(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fp)
}

/// UDP header bytes: what a socket filter keeps of a datagram the ring carries.
const UDP_HEADER: u32 = 8;

/// Makes a UDP socket keep only the UDP header of datagrams whose UDP length is at most
/// `small` (a socket filter sees the datagram from its UDP header on): they are read from the
/// socket as empty stubs. A filter that drops them instead would make the kernel count each
/// one as a receive error.
pub(crate) fn stub_small(fd: impl AsFd, small: u32) -> c_int {
    attach(fd, &stub_small_program(small))
}

fn stub_small_program(small: u32) -> [libc::sock_filter; 4] {
    [
        ins(LD_LEN, 0, 0, 0),
        ins(JGT_K, 0, 1, small),
        ins(RET_K, 0, 0, u32::MAX),
        ins(RET_K, 0, 0, UDP_HEADER),
    ]
}

/// Removes a socket's filter: it receives every datagram again.
pub(crate) fn unfilter(fd: impl AsFd) -> c_int {
    util::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_DETACH_FILTER, 0)
}

/// The filter of a ring serving `ports` (host-order local IP and port): see the module docs.
/// Offsets are from the IP header (the socket is `SOCK_DGRAM`).
fn ring_program(ifindex: u32, lo: u32, ports: &[(u32, u16)], small: u32) -> Vec<libc::sock_filter> {
    let mut p = vec![
        // The socket taps every protocol (see `Ring::open`): IPv4 only.
        ins(LD_W_ABS, 0, 0, AD_PROTOCOL),
        ins(JEQ_K, 0, 0, libc::ETH_P_IP as u32), // jf patched: drop
        ins(LD_W_ABS, 0, 0, AD_PKTTYPE),
        ins(JEQ_K, 0, 0, libc::PACKET_OTHERHOST as u32), // jt patched: drop
        ins(LD_W_ABS, 0, 0, AD_IFINDEX),
        ins(JEQ_K, 1, 0, ifindex),
        ins(JEQ_K, 0, 0, lo), // jf patched: drop
        ins(LD_B_ABS, 0, 0, 9),
        ins(JEQ_K, 0, 0, libc::IPPROTO_UDP as u32), // jf patched: drop
        ins(LD_H_ABS, 0, 0, 6),
        ins(JSET_K, 0, 0, 0x3fff), // jt patched: drop (a fragment)
        ins(LDX_B_MSH, 0, 0, 0),
    ];
    let entries = p.len();
    for &(ip, port) in ports {
        p.push(ins(LD_H_IND, 0, 0, 2)); // destination port
        p.push(ins(JEQ_K, 0, 2, u32::from(port)));
        p.push(ins(LD_W_ABS, 0, 0, 16)); // destination address
        p.push(ins(JEQ_K, 0, 0, ip)); // jt patched: accept
    }
    let drop = p.len();
    p.push(ins(RET_K, 0, 0, 0));
    let accept = p.len();
    p.push(ins(LD_H_IND, 0, 0, 4)); // UDP length
    p.push(ins(JGT_K, 0, 1, small));
    p.push(ins(RET_K, 0, 0, DOORBELL_SNAP));
    p.push(ins(RET_K, 0, 0, u32::MAX));
    let to = |from: usize, target: usize| (target - from - 1) as u8;
    p[1].jf = to(1, drop);
    p[3].jt = to(3, drop);
    p[6].jf = to(6, drop);
    p[8].jf = to(8, drop);
    p[10].jt = to(10, drop);
    for i in 0..ports.len() {
        let j = entries + 4 * i + 3;
        p[j].jt = to(j, accept);
    }
    p
}

/// One frame the kernel handed to the ring.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    /// The captured bytes from the IP header on (the whole datagram unless `doorbell`).
    pub ip: &'a [u8],
    /// Only the headers were kept: the datagram is waiting in its socket.
    pub doorbell: bool,
    /// The kernel vouches for the checksums (verified, or the frame was sent by this host).
    pub csum_ok: bool,
    /// The frame was sent by this host with its UDP checksum left for the device to finish
    /// (the field holds only the pseudo-header sum).
    pub csum_partial: bool,
    /// The kernel dropped frames before this one for lack of a free slot.
    pub losing: bool,
    /// When the frame was captured (`CLOCK_REALTIME`).
    pub ts: libc::timespec,
}

/// A packet socket with a mapped `TPACKET_V2` receive ring.
#[derive(Debug)]
pub(crate) struct Ring {
    pub fd: OwnedFd,
    map: *mut u8,
    head: usize,
    ifindex: u32,
    lo: u32,
    small: u32,
}

impl Ring {
    /// Opens a ring for a stack on `ifindex` that receives datagrams of up to `small` bytes of
    /// UDP length through it; initially it accepts nothing. `-EPERM` without `CAP_NET_RAW`.
    pub(crate) fn open(ifindex: u32, small: u32) -> Result<Ring, c_int> {
        let small = small.min(MAX_SMALL);
        // SAFETY: plain system call; the descriptor is owned by the result from here on.
        let fd = util::owned(unsafe {
            libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0)
        })?;
        // SAFETY: a constant C string.
        let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        let mut ring = Ring {
            fd,
            map: std::ptr::null_mut(),
            head: 0,
            ifindex,
            lo,
            small,
        };
        // Until bound with a protocol the socket receives nothing; filter, then size the ring,
        // then bind as a tap for every protocol (see the module docs).
        let req = libc::tpacket_req {
            tp_block_size: BLOCK_SIZE as c_uint,
            tp_block_nr: (FRAMES * FRAME_SIZE / BLOCK_SIZE) as c_uint,
            tp_frame_size: FRAME_SIZE as c_uint,
            tp_frame_nr: FRAMES as c_uint,
        };
        let fd = ring.fd.as_fd();
        let steps = [
            util::setsockopt_int(
                fd,
                libc::SOL_PACKET,
                libc::PACKET_VERSION,
                libc::tpacket_versions::TPACKET_V2 as c_int,
            ),
            util::setsockopt_int(fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1),
            ring.set_ports(&[]),
            util::setsockopt_val(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req),
        ];
        if let Some(&e) = steps.iter().find(|&&rc| rc < 0) {
            return Err(e);
        }
        // SAFETY: mapping the ring the kernel just allocated for this socket, at its size.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                FRAMES * FRAME_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(-util::errno());
        }
        ring.map = map.cast();
        // SAFETY: sockaddr_ll is plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: a valid address of the length given.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(-util::errno());
        }
        Ok(ring)
    }

    /// The UDP length above which datagrams take the socket path.
    pub(crate) fn small(&self) -> u32 {
        self.small
    }

    /// Replaces the filter: accept datagrams for these (local IP, port) pairs, host order.
    pub(crate) fn set_ports(&self, ports: &[(u32, u16)]) -> c_int {
        debug_assert!(ports.len() <= MAX_PORTS);
        attach(
            &self.fd,
            &ring_program(self.ifindex, self.lo, ports, self.small),
        )
    }

    fn slot(&self) -> *mut u8 {
        // SAFETY: `head` < FRAMES, so the slot lies inside the mapping.
        unsafe { self.map.add(self.head * FRAME_SIZE) }
    }

    fn status(&self) -> &AtomicU32 {
        // SAFETY: each slot starts with the 4-byte aligned status word that the kernel and
        // this process hand the slot over with; an atomic view of it is what the protocol needs.
        unsafe { &*self.slot().cast::<AtomicU32>() }
    }

    /// The next frame, if the kernel has filled one; hand it back with [`Ring::release`].
    pub(crate) fn peek(&self) -> Option<Frame<'_>> {
        let status = self.status().load(Ordering::Acquire);
        if status & libc::TP_STATUS_USER == 0 {
            return None;
        }
        // SAFETY: the slot belongs to this process until released; the header at its start
        // and the bytes it points at were written by the kernel before it set the status.
        let (hdr, ip) = unsafe {
            let hdr = std::ptr::read(self.slot().cast::<libc::tpacket2_hdr>());
            let net = usize::from(hdr.tp_net).min(FRAME_SIZE);
            let len = (hdr.tp_snaplen as usize).min(FRAME_SIZE - net);
            (
                hdr,
                std::slice::from_raw_parts(self.slot().add(net).cast_const(), len),
            )
        };
        Some(Frame {
            ip,
            doorbell: hdr.tp_snaplen < hdr.tp_len,
            csum_ok: status & (libc::TP_STATUS_CSUMNOTREADY | libc::TP_STATUS_CSUM_VALID) != 0,
            csum_partial: status & libc::TP_STATUS_CSUMNOTREADY != 0,
            losing: status & libc::TP_STATUS_LOSING != 0,
            ts: libc::timespec {
                tv_sec: hdr.tp_sec.into(),
                tv_nsec: hdr.tp_nsec.into(),
            },
        })
    }

    /// Gives the current frame back to the kernel and moves to the next slot.
    pub(crate) fn release(&mut self) {
        self.status()
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.head = (self.head + 1) % FRAMES;
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if !self.map.is_null() {
            // SAFETY: the mapping made in `open`, unmapped once.
            unsafe { libc::munmap(self.map.cast(), FRAMES * FRAME_SIZE) };
        }
    }
}

/// Whether the IPv4 header checksum and (when present) the UDP checksum of a whole captured
/// datagram are right.
pub(crate) fn checksums_ok(ip: &[u8]) -> bool {
    let ihl = usize::from(ip[0] & 0xf) * 4;
    if ihl < 20 || ip.len() < ihl + 8 || util::ip_checksum(&ip[..ihl]) != 0 {
        return false;
    }
    let udp = &ip[ihl..];
    let stored = [udp[6], udp[7]];
    if stored == [0, 0] {
        // Sent without a checksum.
        return true;
    }
    let ulen = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if ulen < 8 || ulen > udp.len() {
        return false;
    }
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let want = util::udp_checksum(
        be32(&ip[12..16]),
        be32(&ip[16..20]),
        &udp[..8],
        &udp[8..ulen],
    );
    want.to_be_bytes() == stored
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a classic BPF program over `pkt` with the given ancillary values; returns what it
    /// returns. Enough of an interpreter for the instructions this module emits.
    fn run(p: &[libc::sock_filter], pkt: &[u8], pkttype: u32, ifindex: u32) -> u32 {
        run_proto(p, pkt, libc::ETH_P_IP as u32, pkttype, ifindex)
    }

    /// [`run`] for a frame of link-layer protocol `proto`.
    fn run_proto(
        p: &[libc::sock_filter],
        pkt: &[u8],
        proto: u32,
        pkttype: u32,
        ifindex: u32,
    ) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let ld = |off: usize, n: usize| -> u32 {
            pkt[off..off + n]
                .iter()
                .fold(0u32, |v, &b| (v << 8) | u32::from(b))
        };
        loop {
            let i = p[pc];
            pc += 1;
            match i.code {
                LD_W_ABS if i.k == AD_PROTOCOL => a = proto,
                LD_W_ABS if i.k == AD_PKTTYPE => a = pkttype,
                LD_W_ABS if i.k == AD_IFINDEX => a = ifindex,
                LD_W_ABS => a = ld(i.k as usize, 4),
                LD_H_ABS => a = ld(i.k as usize, 2),
                LD_B_ABS => a = ld(i.k as usize, 1),
                LD_H_IND => a = ld(x as usize + i.k as usize, 2),
                LDX_B_MSH => x = u32::from(pkt[i.k as usize] & 0xf) * 4,
                LD_LEN => a = pkt.len() as u32,
                JEQ_K | JGT_K | JSET_K => {
                    let t = match i.code {
                        JEQ_K => a == i.k,
                        JGT_K => a > i.k,
                        _ => a & i.k != 0,
                    };
                    pc += usize::from(if t { i.jt } else { i.jf });
                }
                RET_K => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    fn datagram(dst: u32, dport: u16, payload: usize, frag: u16) -> Vec<u8> {
        let mut d = vec![0u8; 28 + payload];
        d[0] = 0x45;
        d[6..8].copy_from_slice(&frag.to_be_bytes());
        d[9] = 17;
        d[16..20].copy_from_slice(&dst.to_be_bytes());
        d[22..24].copy_from_slice(&dport.to_be_bytes());
        d[24..26].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
        d
    }

    #[test]
    fn ring_filter_takes_exactly_the_listed_ports_unfragmented_for_this_host() {
        const LOCAL: u32 = 0x7f00_0001;
        let ports = [(LOCAL, 5000), (0x0a00_0001, 6000)];
        let p = ring_program(3, 1, &ports, 1480);
        let host = libc::PACKET_HOST as u32;
        let all = |d: &[u8], t, i| run(&p, d, t, i);
        assert_eq!(all(&datagram(LOCAL, 5000, 32, 0), host, 1), u32::MAX);
        assert_eq!(
            all(&datagram(0x0a00_0001, 6000, 32, 0x4000), host, 3),
            u32::MAX
        );
        // Too large for a slot: headers only.
        assert_eq!(all(&datagram(LOCAL, 5000, 1473, 0), host, 1), DOORBELL_SNAP);
        assert_eq!(all(&datagram(LOCAL, 5000, 1472, 0), host, 1), u32::MAX);
        // A broadcast frame to a listed unicast address: the IP layer would take it too.
        let bcast = libc::PACKET_BROADCAST as u32;
        assert_eq!(all(&datagram(LOCAL, 5000, 32, 0), bcast, 1), u32::MAX);
        // Another port, another address for the port, a fragment, another interface,
        // another host, another protocol.
        assert_eq!(all(&datagram(LOCAL, 5001, 32, 0), host, 1), 0);
        assert_eq!(all(&datagram(0x0a00_0001, 5000, 32, 0), host, 1), 0);
        assert_eq!(all(&datagram(LOCAL, 5000, 32, 0x2000), host, 1), 0);
        assert_eq!(all(&datagram(LOCAL, 5000, 32, 0x0010), host, 1), 0);
        assert_eq!(all(&datagram(LOCAL, 5000, 32, 0), host, 2), 0);
        assert_eq!(all(&datagram(LOCAL, 5000, 32, 0), 3, 1), 0);
        // Another link-layer protocol (the socket taps them all), even if the bytes match.
        let d = datagram(LOCAL, 5000, 32, 0);
        assert_eq!(run_proto(&p, &d, libc::ETH_P_IPV6 as u32, host, 1), 0);
        assert_eq!(run_proto(&p, &d, libc::ETH_P_ARP as u32, host, 1), 0);
        let mut tcp = datagram(LOCAL, 5000, 32, 0);
        tcp[9] = 6;
        assert_eq!(all(&tcp, host, 1), 0);
        // IP options move the UDP header.
        let mut opts = vec![0u8; 4];
        let mut d = datagram(LOCAL, 5000, 32, 0);
        d[0] = 0x46;
        d.splice(20..20, opts.drain(..));
        assert_eq!(all(&d, host, 1), u32::MAX);
        // No ports: nothing.
        let none = ring_program(3, 1, &[], 1480);
        assert_eq!(run(&none, &datagram(LOCAL, 5000, 32, 0), host, 1), 0);
    }

    #[test]
    fn full_filter_jumps_stay_in_range() {
        let ports: Vec<(u32, u16)> = (0..MAX_PORTS as u16).map(|i| (0x7f00_0001, i)).collect();
        let p = ring_program(1, 1, &ports, 1480);
        let host = libc::PACKET_HOST as u32;
        for (i, &(_, port)) in ports.iter().enumerate() {
            assert_eq!(
                run(&p, &datagram(0x7f00_0001, port, 8, 0), host, 1),
                u32::MAX,
                "{i}"
            );
        }
        assert_eq!(run(&p, &datagram(0x7f00_0001, 999, 8, 0), host, 1), 0);
    }

    #[test]
    fn socket_filter_cuts_small_datagrams_to_their_udp_header() {
        // The socket filter sees a datagram from its UDP header on. It never drops (the
        // kernel would count a receive error): small datagrams keep their 8 header bytes.
        let prog = stub_small_program(100);
        assert_eq!(run(&prog, &[0u8; 100], 0, 0), 8);
        assert_eq!(run(&prog, &[0u8; 8], 0, 0), 8);
        assert_eq!(run(&prog, &[0u8; 101], 0, 0), u32::MAX);
    }

    #[test]
    fn checksums_are_checked() {
        let mut d = datagram(0x7f00_0001, 5000, 5, 0);
        d[12..16].copy_from_slice(&0x7f00_0001u32.to_be_bytes());
        d[28..].copy_from_slice(b"hello");
        let c = util::ip_checksum(&d[..20]);
        d[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(checksums_ok(&d), "no UDP checksum");
        let mut pseudo = [0u8; 12];
        pseudo[..8].copy_from_slice(&d[12..20]);
        pseudo[9] = 17;
        pseudo[10..12].copy_from_slice(&d[24..26]);
        let u = util::checksum_fold(&[&pseudo, &d[20..]]);
        d[26..28].copy_from_slice(&u.to_be_bytes());
        assert!(checksums_ok(&d));
        d[30] ^= 1;
        assert!(!checksums_ok(&d), "payload corrupted");
        d[30] ^= 1;
        d[8] = 3;
        assert!(!checksums_ok(&d), "IP header corrupted");
    }
}
