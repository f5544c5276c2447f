//! The delegated-send conformance harness and its cases, written once for the two structs the
//! SDK gives the same two inline functions: `struct onload_delegated_send` with
//! `onload_delegated_send_tcp_update/advance` (`onload/extensions.h`, test `onload_macros.rs`)
//! and `struct zf_ds` with `zf_delegated_send_tcp_update/advance` (`zf/zf.h`, test
//! `zf_inline.rs`).
//!
//! A test file implements [`DelegatedSend`] for its struct (building it; naming its fields with
//! [`common_accessors!`] and its C and Rust functions with [`ffi_calls!`]) and instantiates
//! every case with [`delegated_send_cases!`].
//!
//! Every case runs the C function and the Rust function on identical copies of the same struct
//! and header buffer, then requires the two structs and the two buffers to be equal field for
//! field and byte for byte; the hand-written cases also check the expected result itself.
//!
//! Not covered: inputs for which the C functions overflow `int` (undefined behaviour in C,
//! so there is nothing to compare against); the random cases keep every sum in range.

use core::ffi::{c_int, c_void};

use sys_conformance::Rng;

/// Size of the header buffers used by the tests.
pub const BUF: usize = 128;

/// Bound of the random field values: keeps every sum and difference inside `c_int`.
pub const RANDOM_LIMIT: c_int = 1 << 28;

/// The fields both structs have, whatever each calls them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Common {
    /// `headers_len`
    pub headers_len: c_int,
    /// `mss`
    pub mss: c_int,
    /// `send_wnd`
    pub send_wnd: c_int,
    /// `cong_wnd`
    pub cong_wnd: c_int,
    /// What the application reserved: `user_size` (Onload), `delegated_wnd` (TCPDirect).
    pub user_wnd: c_int,
    /// `tcp_seq_offset`
    pub tcp_seq_offset: c_int,
    /// `ip_len_offset`
    pub ip_len_offset: c_int,
    /// `ip_tcp_hdr_len`
    pub ip_tcp_hdr_len: c_int,
}

impl Common {
    /// Random values, drawn in this order: the four counts and the reserved window within
    /// [`RANDOM_LIMIT`], then offsets that keep every access inside a [`BUF`]-byte buffer.
    pub fn random(rng: &mut Rng) -> Common {
        Common {
            headers_len: rng.int(RANDOM_LIMIT),
            mss: rng.int(RANDOM_LIMIT),
            send_wnd: rng.int(RANDOM_LIMIT),
            cong_wnd: rng.int(RANDOM_LIMIT),
            user_wnd: rng.int(RANDOM_LIMIT),
            tcp_seq_offset: rng.below(BUF as u64 - 9) as c_int,
            ip_len_offset: rng.below(BUF as u64 - 1) as c_int,
            ip_tcp_hdr_len: rng.below(200) as c_int,
        }
    }

    /// The fields in declaration order.
    fn to_array(self) -> [c_int; 8] {
        [
            self.headers_len,
            self.mss,
            self.send_wnd,
            self.cong_wnd,
            self.user_wnd,
            self.tcp_seq_offset,
            self.ip_len_offset,
            self.ip_tcp_hdr_len,
        ]
    }
}

/// Writes [`DelegatedSend::common`], [`DelegatedSend::set_common`] and
/// [`DelegatedSend::headers`] in an `impl` for a struct whose fields are called as in
/// [`Common`] but for the reserved window, `$user_wnd`.
macro_rules! common_accessors {
    ($user_wnd:ident) => {
        fn headers(&mut self) -> &mut *mut core::ffi::c_void {
            &mut self.headers
        }

        fn common(&self) -> delegated_send::Common {
            delegated_send::Common {
                headers_len: self.headers_len,
                mss: self.mss,
                send_wnd: self.send_wnd,
                cong_wnd: self.cong_wnd,
                user_wnd: self.$user_wnd,
                tcp_seq_offset: self.tcp_seq_offset,
                ip_len_offset: self.ip_len_offset,
                ip_tcp_hdr_len: self.ip_tcp_hdr_len,
            }
        }

        fn set_common(&mut self, c: delegated_send::Common) {
            self.headers_len = c.headers_len;
            self.mss = c.mss;
            self.send_wnd = c.send_wnd;
            self.cong_wnd = c.cong_wnd;
            self.$user_wnd = c.user_wnd;
            self.tcp_seq_offset = c.tcp_seq_offset;
            self.ip_len_offset = c.ip_len_offset;
            self.ip_tcp_hdr_len = c.ip_tcp_hdr_len;
        }
    };
}
pub(crate) use common_accessors;

/// What the harness needs of one delegated-send struct.
pub trait DelegatedSend: Clone {
    /// The struct's C name, for messages.
    const NAME: &'static str;

    /// The struct with these fields, a null `headers` and fixed values in its other fields.
    fn new(common: Common) -> Self;

    /// A struct with every field random: [`Common::random`] and the struct's other fields,
    /// drawn in declaration order.
    fn random(rng: &mut Rng) -> Self;

    /// The fields both structs have (see [`common_accessors!`]).
    fn common(&self) -> Common;

    /// Sets the fields both structs have (see [`common_accessors!`]).
    fn set_common(&mut self, common: Common);

    /// The `headers` pointer (see [`common_accessors!`]).
    fn headers(&mut self) -> &mut *mut c_void;

    /// Every integer field that is not in [`Common`]: the reserved ones (and `zf_ds`'s
    /// `headers_size`), which neither function changes.
    fn others(&self) -> Vec<c_int>;

    /// Calls the C header's `*_delegated_send_tcp_update(ds, bytes, push)`.
    ///
    /// # Safety
    ///
    /// `ds` points to a valid struct whose `headers` and offsets allow the access, with
    /// `bytes + ip_tcp_hdr_len` in range of `c_int`.
    unsafe fn c_update(ds: *mut Self, bytes: c_int, push: c_int);

    /// Calls the -sys crate's Rust `*_delegated_send_tcp_update(ds, bytes, push)`.
    ///
    /// # Safety
    ///
    /// As for [`DelegatedSend::c_update`].
    unsafe fn rust_update(ds: *mut Self, bytes: c_int, push: c_int);

    /// Calls the C header's `*_delegated_send_tcp_advance(ds, bytes)`.
    ///
    /// # Safety
    ///
    /// `ds` points to a valid struct whose `headers` and offsets allow the access, with the
    /// windows minus `bytes` in range of `c_int`.
    unsafe fn c_advance(ds: *mut Self, bytes: c_int);

    /// Calls the -sys crate's Rust `*_delegated_send_tcp_advance(ds, bytes)`.
    ///
    /// # Safety
    ///
    /// As for [`DelegatedSend::c_advance`].
    unsafe fn rust_advance(ds: *mut Self, bytes: c_int);
}

/// Writes the four `unsafe fn`s of [`DelegatedSend`] in an `impl`: `c_update`/`c_advance` call
/// the C wrappers of the header's inlines, `rust_update`/`rust_advance` the -sys crate's
/// equivalents.
macro_rules! ffi_calls {
    (update: $c_update:path, $rust_update:path; advance: $c_advance:path, $rust_advance:path) => {
        unsafe fn c_update(ds: *mut Self, bytes: core::ffi::c_int, push: core::ffi::c_int) {
            // SAFETY: the caller's promise is the function's contract.
            unsafe { $c_update(ds, bytes, push) }
        }

        unsafe fn rust_update(ds: *mut Self, bytes: core::ffi::c_int, push: core::ffi::c_int) {
            // SAFETY: as above.
            unsafe { $rust_update(ds, bytes, push) }
        }

        unsafe fn c_advance(ds: *mut Self, bytes: core::ffi::c_int) {
            // SAFETY: as above.
            unsafe { $c_advance(ds, bytes) }
        }

        unsafe fn rust_advance(ds: *mut Self, bytes: core::ffi::c_int) {
            // SAFETY: as above.
            unsafe { $rust_advance(ds, bytes) }
        }
    };
}
pub(crate) use ffi_calls;

/// One operation on a delegated send.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// `*_delegated_send_tcp_update(ds, bytes, push)`
    Update(c_int, c_int),
    /// `*_delegated_send_tcp_advance(ds, bytes)`
    Advance(c_int),
}

/// A delegated-send struct with its own header buffer.
#[derive(Clone)]
pub struct Ds<T> {
    /// The struct; its `headers` is set to `hdr` before every operation.
    pub ds: T,
    /// The header buffer.
    pub hdr: Box<[u8; BUF]>,
}

impl<T: DelegatedSend> Ds<T> {
    /// Applies `op` with the C implementation (`c == true`) or the Rust one.
    fn apply(&mut self, op: Op, c: bool) {
        *self.ds.headers() = self.hdr.as_mut_ptr().cast::<c_void>();
        let ds: *mut T = &mut self.ds;
        // SAFETY: `ds` points to an initialised struct whose `headers` is the BUF-byte buffer
        // owned by self; every test keeps the accessed offsets inside it and the arithmetic
        // in the range of c_int.
        unsafe {
            match (op, c) {
                (Op::Update(bytes, push), true) => T::c_update(ds, bytes, push),
                (Op::Update(bytes, push), false) => T::rust_update(ds, bytes, push),
                (Op::Advance(bytes), true) => T::c_advance(ds, bytes),
                (Op::Advance(bytes), false) => T::rust_advance(ds, bytes),
            }
        }
        assert_eq!(
            *self.ds.headers(),
            self.hdr.as_mut_ptr().cast::<c_void>(),
            "headers pointer changed"
        );
    }

    /// The fields both structs have.
    fn common(&self) -> Common {
        self.ds.common()
    }

    /// Every integer field of the struct: those of [`Common`], then the others.
    fn fields(&self) -> Vec<c_int> {
        let mut v = self.common().to_array().to_vec();
        v.extend(self.ds.others());
        v
    }

    /// Changes the fields both structs have with `f`.
    fn edit(&mut self, f: impl FnOnce(&mut Common)) {
        let mut c = self.ds.common();
        f(&mut c);
        self.ds.set_common(c);
    }

    /// `(send_wnd, cong_wnd, user_wnd)`.
    fn windows(&self) -> (c_int, c_int, c_int) {
        let c = self.common();
        (c.send_wnd, c.cong_wnd, c.user_wnd)
    }

    fn ip_len(&self) -> u16 {
        let o = self.common().ip_len_offset as usize;
        u16::from_be_bytes([self.hdr[o], self.hdr[o + 1]])
    }

    fn seq(&self) -> u32 {
        let o = self.common().tcp_seq_offset as usize;
        u32::from_be_bytes(self.hdr[o..o + 4].try_into().unwrap())
    }

    fn set_seq(&mut self, seq: u32) {
        let o = self.common().tcp_seq_offset as usize;
        self.hdr[o..o + 4].copy_from_slice(&seq.to_be_bytes());
    }

    fn tcp_flags(&self) -> u8 {
        self.hdr[self.common().tcp_seq_offset as usize + 9]
    }

    fn set_tcp_flags(&mut self, flags: u8) {
        self.hdr[self.common().tcp_seq_offset as usize + 9] = flags;
    }
}

/// Runs `ops` in turn on two copies of `start`, one through C and one through Rust, and
/// requires identical state after every step. Returns the final state.
fn run_both<T: DelegatedSend>(start: &Ds<T>, ops: &[Op]) -> Ds<T> {
    let mut c = start.clone();
    let mut r = start.clone();
    for (i, &op) in ops.iter().enumerate() {
        c.apply(op, true);
        r.apply(op, false);
        assert_eq!(
            c.fields(),
            r.fields(),
            "{} differs after step {i} ({op:?}) of {ops:?}",
            T::NAME
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
/// around them filled with a pattern, as `*_delegated_send_prepare()` would leave them.
/// `vlan` adds an 802.1Q tag; `tcp_opts` adds that many bytes of TCP options.
fn prepared<T: DelegatedSend>(base: usize, vlan: bool, tcp_opts: usize) -> Ds<T> {
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
    let ds = T::new(Common {
        headers_len: (eth as c_int) + hdr_len,
        mss: 1460 - tcp_opts as c_int,
        send_wnd: 65535,
        cong_wnd: 14600,
        user_wnd: 8000,
        tcp_seq_offset: (tcp + 4) as c_int,
        ip_len_offset: (ip + 2) as c_int,
        ip_tcp_hdr_len: hdr_len,
    });
    Ds { ds, hdr }
}

/// Instantiates every case of this module as a `#[test]` for the [`DelegatedSend`] struct `$ty`.
macro_rules! delegated_send_cases {
    ($ty:ty) => {
        $crate::delegated_send::delegated_send_cases!(
            @each $ty;
            tcp_update_sets_ip_length_and_psh,
            tcp_update_truncates_length_to_16_bits,
            tcp_advance_moves_windows_and_sequence,
            tcp_advance_by_zero_changes_nothing,
            tcp_advance_windows_reach_zero_and_go_negative,
            tcp_advance_sequence_wraps_around,
            whole_delegated_send_sequence,
            random_operation_sequences
        );
    };
    (@each $ty:ty; $($case:ident),+) => {
        $(
            #[test]
            fn $case() {
                $crate::delegated_send::$case::<$ty>();
            }
        )+
    };
}
pub(crate) use delegated_send_cases;

/// Update sets the IP length and the PSH flag, and touches nothing else.
pub fn tcp_update_sets_ip_length_and_psh<T: DelegatedSend>() {
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
                    let mut s = prepared::<T>(base, vlan, opts);
                    s.set_tcp_flags(flags);
                    let before = s.clone();
                    let after = run_both(&s, &[Op::Update(bytes, push)]);
                    let want_len = (bytes + s.common().ip_tcp_hdr_len) as u16;
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
                        "update must not touch {}",
                        T::NAME
                    );
                    assert_eq!(after.seq(), before.seq());
                    // Only the 2 length bytes and the flags byte may change.
                    let ip = s.common().ip_len_offset as usize;
                    let fl = s.common().tcp_seq_offset as usize + 9;
                    for i in (0..BUF).filter(|&i| i != ip && i != ip + 1 && i != fl) {
                        assert_eq!(after.hdr[i], before.hdr[i], "byte {i} changed");
                    }
                }
            }
        }
    }
}

/// Update keeps the low 16 bits of a length out of range.
pub fn tcp_update_truncates_length_to_16_bits<T: DelegatedSend>() {
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
        let s = prepared::<T>(0, false, 0);
        let after = run_both(&s, &[Op::Update(bytes, 1)]);
        assert_eq!(after.ip_len(), (bytes + 40) as u16, "bytes {bytes}");
    }
}

/// Advance shrinks the three windows and moves the sequence number, and nothing else.
pub fn tcp_advance_moves_windows_and_sequence<T: DelegatedSend>() {
    let s = prepared::<T>(0, false, 0);
    let after = run_both(&s, &[Op::Advance(1000)]);
    let (a, b) = (after.common(), s.common());
    assert_eq!(a.send_wnd, 65535 - 1000);
    assert_eq!(a.cong_wnd, 14600 - 1000);
    assert_eq!(a.user_wnd, 8000 - 1000);
    assert_eq!(after.seq(), 0x1234_5678 + 1000);
    assert_eq!(
        (a.mss, a.headers_len, after.ds.others()),
        (b.mss, b.headers_len, s.ds.others())
    );
    // Nothing but the 4 sequence bytes changes in the buffer.
    let o = b.tcp_seq_offset as usize;
    for i in (0..BUF).filter(|i| !(o..o + 4).contains(i)) {
        assert_eq!(after.hdr[i], s.hdr[i], "byte {i} changed");
    }
}

/// Advance by 0 changes nothing.
pub fn tcp_advance_by_zero_changes_nothing<T: DelegatedSend>() {
    let s = prepared::<T>(2, true, 12);
    let after = run_both(&s, &[Op::Advance(0)]);
    assert_eq!(after.fields(), s.fields());
    assert_eq!(after.hdr[..], s.hdr[..]);
}

/// The windows may reach zero and go negative.
pub fn tcp_advance_windows_reach_zero_and_go_negative<T: DelegatedSend>() {
    // Exactly the windows: all reach zero.
    let mut s = prepared::<T>(0, false, 0);
    s.edit(|c| (c.send_wnd, c.cong_wnd, c.user_wnd) = (1460, 1460, 1460));
    let after = run_both(&s, &[Op::Advance(1460)]);
    assert_eq!(after.windows(), (0, 0, 0));

    // Congestion window already zero: it goes negative.
    let mut s = prepared::<T>(0, false, 0);
    s.edit(|c| c.cong_wnd = 0);
    let after = run_both(&s, &[Op::Advance(500)]);
    assert_eq!(after.common().cong_wnd, -500);

    // Advancing by more than every window.
    let mut s = prepared::<T>(0, false, 0);
    s.edit(|c| (c.send_wnd, c.cong_wnd, c.user_wnd) = (1000, 10, 0));
    let after = run_both(&s, &[Op::Advance(3000)]);
    assert_eq!(after.windows(), (-2000, -2990, -3000));
    assert_eq!(after.seq(), 0x1234_5678 + 3000);

    // Negative windows keep decreasing.
    let after = run_both(&after, &[Op::Advance(1)]);
    assert_eq!(after.windows(), (-2001, -2991, -3001));
}

/// The sequence number wraps around 2^32, both ways.
pub fn tcp_advance_sequence_wraps_around<T: DelegatedSend>() {
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
            let mut s = prepared::<T>(base, false, 0);
            s.set_seq(seq);
            s.edit(|c| (c.send_wnd, c.cong_wnd, c.user_wnd) = (0, 0, 0));
            let after = run_both(&s, &[Op::Advance(bytes)]);
            assert_eq!(after.seq(), want, "seq {seq:#x} + {bytes}");
            assert_eq!(after.common().send_wnd, 0i32.wrapping_sub(bytes));
        }
    }
}

/// A whole send as the SDK documents it.
pub fn whole_delegated_send_sequence<T: DelegatedSend>() {
    // Send 5000 reserved bytes in MSS-sized packets; the last, short one gets its length and
    // PSH fixed up first; advance after each packet, as the SDK documents.
    let mut s = prepared::<T>(0, false, 0);
    s.edit(|c| (c.send_wnd, c.cong_wnd, c.user_wnd) = (5000, 4380, 5000));
    let mss = s.common().mss;
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
    assert_eq!(after.common().user_wnd, 0);
    assert_eq!(after.common().send_wnd, 0);
    assert_eq!(after.common().cong_wnd, 4380 - 5000);
    assert_eq!(after.seq(), 0x1234_5678 + 5000);
    assert_eq!(after.ip_len(), (5000 % 1460 + 40) as u16);
    assert_eq!(after.tcp_flags() & 0x08, 0x08);
}

/// 3000 random structs, buffers and operation sequences, C against Rust.
pub fn random_operation_sequences<T: DelegatedSend>() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let mut hdr = Box::new([0u8; BUF]);
        for b in hdr.iter_mut() {
            *b = rng.next_u64() as u8;
        }
        let start = Ds {
            ds: T::random(&mut rng),
            hdr,
        };
        let ops: Vec<Op> = (0..rng.below(8) + 1)
            .map(|_| {
                if rng.below(2) == 0 {
                    Op::Update(rng.int(RANDOM_LIMIT), rng.int(c_int::MAX))
                } else {
                    Op::Advance(rng.int(RANDOM_LIMIT / 8))
                }
            })
            .collect();
        run_both(&start, &ops);
    }
}
