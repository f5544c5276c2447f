//! Conformance of the Rust equivalents in `zf-sys` with the `static inline` functions and
//! macros of `zf/zf.h` (C side: `c/zf_inline.c`, compiled against `vendor-headers/` or
//! `$ZF_INCLUDE_DIR`).
//!
//! Every case runs the C function and the Rust function on identical copies of the same
//! `zf_ds` and header buffer, then requires the two `zf_ds`s and the two buffers to be equal
//! byte for byte; the hand-written cases also check the expected result itself.
//!
//! Not covered: inputs for which the C functions overflow `int` (undefined behaviour in C,
//! so there is nothing to compare against); the random cases keep every sum in range.

use core::ffi::{c_int, c_void};

use sys_conformance as _; // links the C side (c/zf_inline.c)
use zf_sys::zf_ds;

unsafe extern "C" {
    fn conf_zf_delegated_send_tcp_update(ds: *mut zf_ds, bytes: c_int, push: c_int);
    fn conf_zf_delegated_send_tcp_advance(ds: *mut zf_ds, bytes: c_int);
    fn conf_zf_macro(which: c_int) -> u64;
}

/// Size of the header buffers used by the tests.
const BUF: usize = 128;

/// One operation on a delegated send.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `zf_delegated_send_tcp_update(ds, bytes, push)`
    Update(c_int, c_int),
    /// `zf_delegated_send_tcp_advance(ds, bytes)`
    Advance(c_int),
}

/// A `zf_ds` with its own header buffer.
#[derive(Clone)]
struct Ds {
    ds: zf_ds,
    hdr: Box<[u8; BUF]>,
}

impl Ds {
    /// Applies `op` with the C implementation (`c == true`) or the Rust one.
    fn apply(&mut self, op: Op, c: bool) {
        self.ds.headers = self.hdr.as_mut_ptr().cast::<c_void>();
        let ds: *mut zf_ds = &mut self.ds;
        // SAFETY: `ds` points to an initialised zf_ds whose `headers` is the BUF-byte buffer
        // owned by self; every test keeps the accessed offsets inside it and the arithmetic
        // in the range of c_int.
        unsafe {
            match (op, c) {
                (Op::Update(bytes, push), true) => {
                    conf_zf_delegated_send_tcp_update(ds, bytes, push)
                }
                (Op::Update(bytes, push), false) => {
                    zf_sys::zf_delegated_send_tcp_update(ds, bytes, push)
                }
                (Op::Advance(bytes), true) => conf_zf_delegated_send_tcp_advance(ds, bytes),
                (Op::Advance(bytes), false) => zf_sys::zf_delegated_send_tcp_advance(ds, bytes),
            }
        }
        assert_eq!(
            self.ds.headers,
            self.hdr.as_mut_ptr().cast::<c_void>(),
            "headers pointer changed"
        );
    }

    /// Every integer field of the `zf_ds`, in declaration order.
    fn fields(&self) -> [c_int; 10] {
        let d = &self.ds;
        [
            d.headers_size,
            d.headers_len,
            d.mss,
            d.send_wnd,
            d.cong_wnd,
            d.delegated_wnd,
            d.tcp_seq_offset,
            d.ip_len_offset,
            d.ip_tcp_hdr_len,
            d.reserved,
        ]
    }

    fn ip_len(&self) -> u16 {
        let o = self.ds.ip_len_offset as usize;
        u16::from_be_bytes([self.hdr[o], self.hdr[o + 1]])
    }

    fn seq(&self) -> u32 {
        let o = self.ds.tcp_seq_offset as usize;
        u32::from_be_bytes(self.hdr[o..o + 4].try_into().unwrap())
    }

    fn set_seq(&mut self, seq: u32) {
        let o = self.ds.tcp_seq_offset as usize;
        self.hdr[o..o + 4].copy_from_slice(&seq.to_be_bytes());
    }

    fn tcp_flags(&self) -> u8 {
        self.hdr[self.ds.tcp_seq_offset as usize + 9]
    }

    fn set_tcp_flags(&mut self, flags: u8) {
        self.hdr[self.ds.tcp_seq_offset as usize + 9] = flags;
    }
}

/// Runs `ops` in turn on two copies of `start`, one through C and one through Rust, and
/// requires identical state after every step. Returns the final state.
fn run_both(start: &Ds, ops: &[Op]) -> Ds {
    let mut c = start.clone();
    let mut r = start.clone();
    for (i, &op) in ops.iter().enumerate() {
        c.apply(op, true);
        r.apply(op, false);
        assert_eq!(
            c.fields(),
            r.fields(),
            "zf_ds differs after step {i} ({op:?}) of {ops:?}"
        );
        assert_eq!(
            c.hdr[..],
            r.hdr[..],
            "headers differ after step {i} ({op:?}) of {ops:?}"
        );
    }
    r
}

/// Headers of a TCP/IPv4 packet over Ethernet starting at `base` in the buffer, the buffer
/// around them filled with a pattern, as `zf_delegated_send_prepare()` would leave them.
/// `vlan` adds an 802.1Q tag; `tcp_opts` adds that many bytes of TCP options.
fn prepared(base: usize, vlan: bool, tcp_opts: usize) -> Ds {
    let mut hdr = Box::new([0u8; BUF]);
    for (i, b) in hdr.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0x5a;
    }
    let eth = if vlan { 18 } else { 14 };
    let ip = base + eth;
    let tcp = ip + 20;
    hdr[ip] = 0x45;
    hdr[ip + 2..ip + 4].copy_from_slice(&[0x05, 0xdc]); // 1500
    hdr[tcp + 4..tcp + 8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    hdr[tcp + 12] = (((20 + tcp_opts) / 4) as u8) << 4;
    hdr[tcp + 13] = 0x10; // ACK
    let hdr_len = 40 + tcp_opts as c_int;
    let ds = zf_ds {
        headers: core::ptr::null_mut(),
        headers_size: BUF as c_int,
        headers_len: (eth as c_int) + hdr_len,
        mss: 1460 - tcp_opts as c_int,
        send_wnd: 65535,
        cong_wnd: 14600,
        delegated_wnd: 8000,
        tcp_seq_offset: (tcp + 4) as c_int,
        ip_len_offset: (ip + 2) as c_int,
        ip_tcp_hdr_len: hdr_len,
        reserved: 0x1bad_cafe,
    };
    Ds { ds, hdr }
}

#[test]
fn tcp_update_sets_ip_length_and_psh() {
    for (base, vlan, opts) in [
        (0, false, 0),
        (0, true, 0),
        (0, false, 12),
        (1, false, 0),
        (3, true, 12),
    ] {
        for &bytes in &[0, 1, 100, 1459, 1460, 65535 - 52] {
            for &push in &[0, 1, 2, -1, c_int::MIN, c_int::MAX] {
                for &flags in &[0x00u8, 0x08, 0x10, 0x18, 0xf7, 0xff] {
                    let mut s = prepared(base, vlan, opts);
                    s.set_tcp_flags(flags);
                    let before = s.clone();
                    let after = run_both(&s, &[Op::Update(bytes, push)]);
                    let want_len = (bytes + s.ds.ip_tcp_hdr_len) as u16;
                    assert_eq!(after.ip_len(), want_len);
                    let want_flags = if push != 0 {
                        flags | 0x08
                    } else {
                        flags & !0x08
                    };
                    assert_eq!(
                        after.tcp_flags(),
                        want_flags,
                        "push {push} flags {flags:#x}"
                    );
                    assert_eq!(
                        after.fields(),
                        before.fields(),
                        "update must not touch zf_ds"
                    );
                    assert_eq!(after.seq(), before.seq());
                    // Only the 2 length bytes and the flags byte may change.
                    let ip = s.ds.ip_len_offset as usize;
                    let fl = s.ds.tcp_seq_offset as usize + 9;
                    for i in (0..BUF).filter(|&i| i != ip && i != ip + 1 && i != fl) {
                        assert_eq!(after.hdr[i], before.hdr[i], "byte {i} changed");
                    }
                }
            }
        }
    }
}

#[test]
fn tcp_update_truncates_length_to_16_bits() {
    // bytes + ip_tcp_hdr_len beyond 0xffff or below 0 keeps the low 16 bits, as the
    // conversion to uint16_t for htons() does in C.
    for &bytes in &[
        65535 - 40,
        65536 - 40,
        70000,
        1 << 20,
        -40,
        -41,
        -1000,
        -(1 << 20),
    ] {
        let s = prepared(0, false, 0);
        let after = run_both(&s, &[Op::Update(bytes, 1)]);
        assert_eq!(after.ip_len(), (bytes + 40) as u16, "bytes {bytes}");
    }
}

#[test]
fn tcp_advance_moves_windows_and_sequence() {
    let s = prepared(0, false, 0);
    let after = run_both(&s, &[Op::Advance(1000)]);
    assert_eq!(after.ds.send_wnd, 65535 - 1000);
    assert_eq!(after.ds.cong_wnd, 14600 - 1000);
    assert_eq!(after.ds.delegated_wnd, 8000 - 1000);
    assert_eq!(after.seq(), 0x1234_5678 + 1000);
    assert_eq!(
        (after.ds.mss, after.ds.headers_len, after.ds.reserved),
        (s.ds.mss, s.ds.headers_len, s.ds.reserved)
    );
    // Nothing but the 4 sequence bytes changes in the buffer.
    let o = s.ds.tcp_seq_offset as usize;
    for i in (0..BUF).filter(|i| !(o..o + 4).contains(i)) {
        assert_eq!(after.hdr[i], s.hdr[i], "byte {i} changed");
    }
}

#[test]
fn tcp_advance_by_zero_changes_nothing() {
    let s = prepared(2, true, 12);
    let after = run_both(&s, &[Op::Advance(0)]);
    assert_eq!(after.fields(), s.fields());
    assert_eq!(after.hdr[..], s.hdr[..]);
}

#[test]
fn tcp_advance_windows_reach_zero_and_go_negative() {
    // Exactly the windows: all reach zero.
    let mut s = prepared(0, false, 0);
    (s.ds.send_wnd, s.ds.cong_wnd, s.ds.delegated_wnd) = (1460, 1460, 1460);
    let after = run_both(&s, &[Op::Advance(1460)]);
    assert_eq!(
        (after.ds.send_wnd, after.ds.cong_wnd, after.ds.delegated_wnd),
        (0, 0, 0)
    );

    // Congestion window already zero: it goes negative.
    let mut s = prepared(0, false, 0);
    s.ds.cong_wnd = 0;
    let after = run_both(&s, &[Op::Advance(500)]);
    assert_eq!(after.ds.cong_wnd, -500);

    // Advancing by more than every window.
    let mut s = prepared(0, false, 0);
    (s.ds.send_wnd, s.ds.cong_wnd, s.ds.delegated_wnd) = (1000, 10, 0);
    let after = run_both(&s, &[Op::Advance(3000)]);
    assert_eq!(
        (after.ds.send_wnd, after.ds.cong_wnd, after.ds.delegated_wnd),
        (-2000, -2990, -3000)
    );
    assert_eq!(after.seq(), 0x1234_5678 + 3000);

    // Negative windows keep decreasing.
    let after = run_both(&after, &[Op::Advance(1)]);
    assert_eq!(
        (after.ds.send_wnd, after.ds.cong_wnd, after.ds.delegated_wnd),
        (-2001, -2991, -3001)
    );
}

#[test]
fn tcp_advance_sequence_wraps_around() {
    for (seq, bytes, want) in [
        (0xffff_ffffu32, 1, 0u32),
        (0xffff_ff00, 0x200, 0x100),
        (0xffff_fc00, 1460, 0x1b4),
        (0x8000_0000, 0x7fff_ffff, 0xffff_ffff),
        (0, -1, 0xffff_ffff), // negative advance moves the sequence back
        (5, -10, 0xffff_fffb),
        (0x7fff_ffff, c_int::MAX, 0xffff_fffe),
    ] {
        for base in [0, 1, 2, 3] {
            let mut s = prepared(base, false, 0);
            s.set_seq(seq);
            (s.ds.send_wnd, s.ds.cong_wnd, s.ds.delegated_wnd) = (0, 0, 0);
            let after = run_both(&s, &[Op::Advance(bytes)]);
            assert_eq!(after.seq(), want, "seq {seq:#x} + {bytes}");
            assert_eq!(after.ds.send_wnd, 0i32.wrapping_sub(bytes));
        }
    }
}

#[test]
fn whole_delegated_send_sequence() {
    // Send 5000 reserved bytes in MSS-sized packets; the last, short one gets its length and
    // PSH fixed up first; advance after each packet, as the SDK documents.
    let mut s = prepared(0, false, 0);
    (s.ds.send_wnd, s.ds.cong_wnd, s.ds.delegated_wnd) = (5000, 4380, 5000);
    let mss = s.ds.mss;
    let mut ops = Vec::new();
    let mut left = 5000;
    while left > 0 {
        let n = left.min(mss);
        if n != mss || n == left {
            ops.push(Op::Update(n, 1));
        }
        ops.push(Op::Advance(n));
        left -= n;
    }
    let after = run_both(&s, &ops);
    assert_eq!(after.ds.delegated_wnd, 0);
    assert_eq!(after.ds.send_wnd, 0);
    assert_eq!(after.ds.cong_wnd, 4380 - 5000);
    assert_eq!(after.seq(), 0x1234_5678 + 5000);
    assert_eq!(after.ip_len(), (5000 % 1460 + 40) as u16);
    assert_eq!(after.tcp_flags() & 0x08, 0x08);
}

/// xorshift64* generator, so that the random cases are reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A value in [-limit, limit], biased towards small values and the edges.
    fn int(&mut self, limit: c_int) -> c_int {
        let l = i64::from(limit);
        let v = match self.below(4) {
            0 => self.below(2000) as i64 - 1000,
            1 => self.below(70_000) as i64,
            2 => [0, 1, -1, l, -l][self.below(5) as usize],
            _ => self.below(2 * l as u64 + 1) as i64 - l,
        };
        v as c_int
    }
}

#[test]
fn random_operation_sequences() {
    const LIMIT: c_int = 1 << 28; // keeps every sum and difference inside c_int
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let mut hdr = Box::new([0u8; BUF]);
        for b in hdr.iter_mut() {
            *b = rng.next() as u8;
        }
        let ds = zf_ds {
            headers: core::ptr::null_mut(),
            headers_size: rng.int(LIMIT),
            headers_len: rng.int(LIMIT),
            mss: rng.int(LIMIT),
            send_wnd: rng.int(LIMIT),
            cong_wnd: rng.int(LIMIT),
            delegated_wnd: rng.int(LIMIT),
            tcp_seq_offset: rng.below(BUF as u64 - 9) as c_int,
            ip_len_offset: rng.below(BUF as u64 - 1) as c_int,
            ip_tcp_hdr_len: rng.below(200) as c_int,
            reserved: rng.next() as c_int,
        };
        let start = Ds { ds, hdr };
        let ops: Vec<Op> = (0..rng.below(8) + 1)
            .map(|_| {
                if rng.below(2) == 0 {
                    Op::Update(rng.int(LIMIT), rng.int(c_int::MAX))
                } else {
                    Op::Advance(rng.int(LIMIT / 8))
                }
            })
            .collect();
        run_both(&start, &ops);
    }
}

#[test]
fn macros_match_c() {
    let macros: [(&str, u64); 13] = [
        ("EPOLLSTACKHUP", u64::from(zf_sys::EPOLLSTACKHUP)),
        (
            "ZF_EPOLLIN_OVERLAPPED",
            u64::from(zf_sys::ZF_EPOLLIN_OVERLAPPED),
        ),
        (
            "ZFUT_FLAG_DONT_FRAGMENT",
            u64::from(zf_sys::ZFUT_FLAG_DONT_FRAGMENT),
        ),
        (
            "ZF_FLEXIBLE_ARRAY_COUNT",
            u64::from(zf_sys::ZF_FLEXIBLE_ARRAY_COUNT),
        ),
        (
            "ZF_PKT_REPORT_CLOCK_SET",
            u64::from(zf_sys::ZF_PKT_REPORT_CLOCK_SET),
        ),
        (
            "ZF_PKT_REPORT_IN_SYNC",
            u64::from(zf_sys::ZF_PKT_REPORT_IN_SYNC),
        ),
        (
            "ZF_PKT_REPORT_NO_TIMESTAMP",
            u64::from(zf_sys::ZF_PKT_REPORT_NO_TIMESTAMP),
        ),
        (
            "ZF_PKT_REPORT_DROPPED",
            u64::from(zf_sys::ZF_PKT_REPORT_DROPPED),
        ),
        (
            "ZF_PKT_REPORT_TCP_RETRANS",
            u64::from(zf_sys::ZF_PKT_REPORT_TCP_RETRANS),
        ),
        (
            "ZF_PKT_REPORT_TCP_SYN",
            u64::from(zf_sys::ZF_PKT_REPORT_TCP_SYN),
        ),
        (
            "ZF_PKT_REPORT_TCP_FIN",
            u64::from(zf_sys::ZF_PKT_REPORT_TCP_FIN),
        ),
        (
            "ZF_DELEGATED_SEND_RC_FATAL",
            u64::from(zf_sys::ZF_DELEGATED_SEND_RC_FATAL),
        ),
        ("ZF_CACHE_LINE_SIZE", u64::from(zf_sys::ZF_CACHE_LINE_SIZE)),
    ];
    for (i, (name, rust)) in macros.iter().enumerate() {
        // SAFETY: conf_zf_macro takes any int and only returns a value.
        let c = unsafe { conf_zf_macro(i as c_int) };
        assert_eq!(*rust, c, "{name}");
    }
    // SAFETY: as above.
    let past_end = unsafe { conf_zf_macro(macros.len() as c_int) };
    assert_eq!(past_end, !0, "C table is longer than the Rust one");
    assert_eq!(zf_sys::EPOLLSTACKHUP, libc::EPOLLRDHUP as u32);
}
