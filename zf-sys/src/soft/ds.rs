//! Delegated sends (`zf_delegated_send_*`): the application gets ready-made Ethernet/IP/TCP
//! headers and a window, sends the frames itself, then reports the bytes; the software backend
//! then sends those bytes through the kernel socket so the peer receives them.

use std::os::raw::{c_int, c_uint};

use super::tcp::{self, CLOSE_WAIT, SNDBUF, tcp_mut};
use super::util;

/// `SIOCOUTQNSD`: bytes in the send queue not yet sent.
pub(crate) const SIOCOUTQNSD: libc::Ioctl = 0x894B;

const ETH: usize = 14;
const HDRS: usize = 54;

/// Reserves up to `max_delegated_wnd` bytes for delegated sends and writes the headers of the
/// next segment into `ds->headers`.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `ds` must be null or a readable and writable `zf_ds` whose `headers` point to `headers_size`
///   writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_delegated_send_prepare(
    ts: *mut crate::zft,
    max_delegated_wnd: c_int,
    cong_wnd_override: c_int,
    _flags: c_uint,
    ds: *mut crate::zf_ds,
) -> crate::zf_delegated_send_rc {
    // SAFETY: a live zocket per the API contract.
    let (Some(t), false) = (unsafe { tcp_mut(ts) }, ds.is_null()) else {
        return crate::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_BAD_SOCKET;
    };
    if !t.initialised || !t.can_send() {
        return crate::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_BAD_SOCKET;
    }
    if t.ds_reserved == 0 && util::ioctl_int(&t.fd, SIOCOUTQNSD).unwrap_or(0) > 0 {
        return crate::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_SENDQ_BUSY;
    }
    // SAFETY: non-null `ds` from the application.
    let d = unsafe { &mut *ds };
    d.headers_len = HDRS as c_int;
    if d.headers_size < HDRS as c_int || d.headers.is_null() {
        return crate::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_SMALL_HEADER;
    }
    // SAFETY: a live zocket's stack is live.
    let st = unsafe { &*t.stack };
    let mss = t.mss.max(1);
    let outq = util::ioctl_int(&t.fd, libc::TIOCOUTQ).unwrap_or(0).max(0) as usize;
    let send_wnd = SNDBUF.saturating_sub(outq).min(c_int::MAX as usize) as c_int;
    let cong = util::tcp_info(&t.fd).map_or(10 * mss, |i| {
        let c = i64::from(i.tcpi_snd_cwnd) * i64::from(i.tcpi_snd_mss.max(1));
        let f = i64::from(i.tcpi_unacked) * i64::from(i.tcpi_snd_mss.max(1));
        (c - f).clamp(0, i64::from(c_int::MAX)) as c_int
    });
    let cong = cong.max(cong_wnd_override);
    let want = max_delegated_wnd.max(0);
    let grant = want.min(send_wnd).min(cong).max(t.ds_reserved as c_int);
    t.ds_reserved = grant.max(0) as usize;
    let rc = if send_wnd < want {
        crate::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_NOWIN
    } else if cong < want {
        crate::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_NOCWIN
    } else {
        crate::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_OK
    };
    // Headers: Ethernet (the loopback/unknown peer MAC is all zeros), IPv4 with DF, TCP ACK.
    let mut h = [0u8; HDRS];
    h[6..12].copy_from_slice(&st.mac);
    h[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    util::write_ip_header(
        &mut h[ETH..ETH + 20],
        (40 + mss) as u16,
        0,
        true,
        64,
        0,
        libc::IPPROTO_TCP as u8,
        util::sin_ip(&t.laddr),
        util::sin_ip(&t.raddr),
    );
    let tcp = &mut h[ETH + 20..];
    tcp[0..2].copy_from_slice(&util::sin_port(&t.laddr).to_be_bytes());
    tcp[2..4].copy_from_slice(&util::sin_port(&t.raddr).to_be_bytes());
    let seq = t.isn.wrapping_add(1).wrapping_add(t.tx_bytes as u32);
    let fin = u32::from(t.eof && t.state == CLOSE_WAIT);
    let ack = t
        .irs
        .wrapping_add(1)
        .wrapping_add(t.rx_total as u32)
        .wrapping_add(fin);
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = 0x10;
    tcp[14..16].copy_from_slice(&0xffffu16.to_be_bytes());
    // SAFETY: `headers` has room for headers_size >= HDRS bytes.
    unsafe { std::ptr::copy_nonoverlapping(h.as_ptr(), d.headers.cast::<u8>(), HDRS) };
    d.mss = mss;
    d.send_wnd = send_wnd;
    d.cong_wnd = cong;
    d.delegated_wnd = t.ds_reserved as c_int;
    d.tcp_seq_offset = (ETH + 20 + 4) as c_int;
    d.ip_len_offset = (ETH + 2) as c_int;
    d.ip_tcp_hdr_len = 40;
    rc
}

/// Reports bytes sent by delegation; the backend transmits them through the kernel socket.
/// Returns the bytes completed, `-EMSGSIZE` beyond the reservation, or `-EAGAIN`.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `iov` must be null or an array of `iovlen` iovecs, each naming memory readable for its
///   `iov_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_delegated_send_complete(
    ts: *mut crate::zft,
    iov: *const crate::iovec,
    iovlen: c_int,
    _flags: c_int,
) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some((st, t)) = (unsafe { tcp::with_stack(ts) }) else {
        return -libc::EINVAL;
    };
    if iovlen < 0 || (iov.is_null() && iovlen > 0) {
        return -libc::EINVAL;
    }
    let v: &[libc::iovec] = if iovlen == 0 {
        &[]
    } else {
        // SAFETY: `iovlen` entries; identical iovec layouts.
        unsafe { std::slice::from_raw_parts(iov.cast::<libc::iovec>(), iovlen as usize) }
    };
    let total: usize = v.iter().map(|x| x.iov_len).sum();
    if total > t.ds_reserved {
        return -libc::EMSGSIZE;
    }
    if total == 0 {
        return 0;
    }
    let reserved = t.ds_reserved;
    t.ds_reserved = 0;
    let n = tcp::send_iov(st, t, v, 0);
    if n < 0 {
        t.ds_reserved = reserved;
        return if n == -(libc::EAGAIN as isize) {
            -libc::EAGAIN
        } else {
            n as c_int
        };
    }
    t.ds_reserved = reserved - n as usize;
    n as c_int
}

/// Gives back the rest of the reservation.
///
/// # Safety
///
/// `ts` must be null or a live TCP zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_delegated_send_cancel(ts: *mut crate::zft) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        return -libc::EINVAL;
    };
    t.ds_reserved = 0;
    0
}
