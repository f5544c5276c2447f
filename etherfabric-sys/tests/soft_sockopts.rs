// Software backend: a receiving VI needs PACKET_AUXDATA (VLAN tags and checksum status) and
// SO_TIMESTAMPNS (receive times) on its packet socket. When the kernel refuses one, allocating
// the VI fails with the kernel's error instead of silently losing what the option brings.
// Likewise a filter whose frames need a packet membership (a multicast group) is not
// installed when the kernel refuses the membership.
// The refusal is simulated with a seccomp filter on the test's thread that fails that one
// setsockopt() with ENOPROTOOPT (the thread ends with the test, and the filter with it).
// Each test runs in a network namespace of its own (see testkit); a test that cannot prints
// `SKIPPED <name>: <reason>` on the terminal.
#![cfg(all(soft_backend, any(target_arch = "x86_64", target_arch = "aarch64")))]

mod common;

use common::*;

/// `struct sock_filter`.
#[repr(C)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

const LD_ABS_W: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;
// Offsets in `struct seccomp_data`: nr, arch, then the arguments (low words, little-endian).
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG1: u32 = 16 + 8;
const ARG2: u32 = 16 + 2 * 8;

/// Makes every later `setsockopt(_, level, opt, ...)` of the calling thread fail with
/// `ENOPROTOOPT`.
fn refuse_sockopt(level: i32, opt: i32) {
    let insn = |code, jt, jf, k| SockFilter { code, jt, jf, k };
    let prog = [
        insn(LD_ABS_W, 0, 0, ARCH),
        insn(JEQ_K, 0, 7, AUDIT_ARCH),
        insn(LD_ABS_W, 0, 0, NR),
        insn(JEQ_K, 0, 5, libc::SYS_setsockopt as u32),
        insn(LD_ABS_W, 0, 0, ARG1),
        insn(JEQ_K, 0, 3, level as u32),
        insn(LD_ABS_W, 0, 0, ARG2),
        insn(JEQ_K, 0, 1, opt as u32),
        insn(
            RET_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | libc::ENOPROTOOPT as u32,
        ),
        insn(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    let fprog = SockFprog {
        len: prog.len() as u16,
        filter: prog.as_ptr(),
    };
    // SAFETY: plain prctl calls; the program outlives the call that copies it. Both apply to
    // the calling thread only.
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        assert_eq!(
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &fprog as *const SockFprog
            ),
            0,
            "installing the seccomp filter: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Refuses `level`/`opt` on this thread, then checks that a receiving VI cannot be allocated
/// and a transmit-only one (which needs neither option) can.
fn receiving_vi_needs(level: i32, opt: i32) {
    refuse_sockopt(level, opt);
    assert_eq!(
        TestVi::open("lo", -1, -1, 0).err(),
        Some(-libc::ENOPROTOOPT),
        "a receiving VI whose socket lacks the option"
    );
    assert!(
        TestVi::open("lo", 0, -1, 0).is_ok(),
        "a transmit-only VI does not need the option"
    );
}

#[test]
fn receiving_vi_needs_packet_auxdata() {
    if !can_run("receiving_vi_needs_packet_auxdata") {
        return;
    }
    const PACKET_AUXDATA: i32 = 8;
    receiving_vi_needs(libc::SOL_PACKET, PACKET_AUXDATA);
}

#[test]
fn receiving_vi_needs_so_timestampns() {
    if !can_run("receiving_vi_needs_so_timestampns") {
        return;
    }
    receiving_vi_needs(libc::SOL_SOCKET, libc::SO_TIMESTAMPNS);
}

#[test]
fn multicast_filter_fails_when_the_interface_refuses_the_membership() {
    if !can_run("multicast_filter_fails_when_the_interface_refuses_the_membership") {
        return;
    }
    const PACKET_ADD_MEMBERSHIP: i32 = 1;
    let mut t = TestVi::open("lo", -1, -1, 0).expect("VI on lo");
    refuse_sockopt(libc::SOL_PACKET, PACKET_ADD_MEMBERSHIP);
    let group = udp_local(std::net::Ipv4Addr::new(239, 1, 2, 3), 5000);
    assert_eq!(t.add_filter(&group).err(), Some(-libc::ENOPROTOOPT));
    // Not installed: adding it again fails the same way, not with -EEXIST.
    assert_eq!(t.add_filter(&group).err(), Some(-libc::ENOPROTOOPT));
    // A unicast filter needs no membership.
    let unicast = udp_local(std::net::Ipv4Addr::LOCALHOST, 5000);
    assert!(t.add_filter(&unicast).is_ok());
}
