//! A TCPDirect UDP echo server on `lo`, written on the raw zf-sys API, with a `std::net` client.
//!
//! Run: `cargo run -p zf-sys --example udp_echo [-- MESSAGES]`
//!
//! The server allocates a stack on `lo`, receives with a `zfur` (zero-copy), reads the real IP
//! and UDP headers of each datagram with `zfur_pkt_get_header`, and answers through a `zfut`.
//! A kernel `UdpSocket` in another thread sends the messages and times each round trip. On a
//! machine without TCPDirect this runs on zf-sys's software backend.

use std::ffi::CString;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use zf_sys::*;

/// A `zfur_msg` with room for one iovec, as TCPDirect callers declare it.
#[repr(C)]
struct OneMsg {
    msg: zfur_msg,
    iov: [iovec; 1],
}

fn check(rc: i32, what: &str) -> i32 {
    if rc < 0 {
        eprintln!("{what} failed: {}", std::io::Error::from_raw_os_error(-rc));
        std::process::exit(1);
    }
    rc
}

fn sockaddr_of(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn main() {
    let messages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    println!("TCPDirect backend: {}", zf_sys::LINKED_BACKEND);
    if let Some(v) = zf_sys::linked_version() {
        println!("TCPDirect version: {}", v.to_string_lossy());
    }

    // A free port on 127.0.0.1 for the server.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let salen = std::mem::size_of::<libc::sockaddr_in>() as socklen_t;

    // SAFETY: the calls follow TCPDirect's rules: every object is allocated before use and
    // freed once, zockets before their stack; the message has room for the iovec it announces
    // and each received message is released before the next receive.
    unsafe {
        check(zf_init(), "zf_init");
        let mut attr: *mut zf_attr = std::ptr::null_mut();
        check(zf_attr_alloc(&mut attr), "zf_attr_alloc");
        let (k, v) = (
            CString::new("interface").unwrap(),
            CString::new("lo").unwrap(),
        );
        check(
            zf_attr_set_str(attr, k.as_ptr(), v.as_ptr()),
            "zf_attr_set_str(interface=lo)",
        );
        let mut stack: *mut zf_stack = std::ptr::null_mut();
        check(zf_stack_alloc(attr, &mut stack), "zf_stack_alloc");
        let mut ur: *mut zfur = std::ptr::null_mut();
        check(zfur_alloc(&mut ur, stack, attr), "zfur_alloc");
        let mut laddr = sockaddr_of(server);
        check(
            zfur_addr_bind(
                ur,
                (&mut laddr as *mut libc::sockaddr_in).cast(),
                salen,
                std::ptr::null(),
                0,
                0,
            ),
            "zfur_addr_bind",
        );
        println!("zfur listening on {server}");

        let client = std::thread::spawn(move || {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut buf = [0u8; 1500];
            for i in 0..messages {
                let text = format!("hello {i}");
                let t0 = Instant::now();
                sock.send_to(text.as_bytes(), server).unwrap();
                let (n, _) = sock.recv_from(&mut buf).expect("echo within 2 s");
                println!(
                    "client: sent {text:?}, echo {:?} after {:.1} us",
                    String::from_utf8_lossy(&buf[..n]),
                    t0.elapsed().as_secs_f64() * 1e6
                );
            }
        });

        let mut ut: *mut zfut = std::ptr::null_mut();
        let mut m: OneMsg = std::mem::zeroed();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut echoed = 0;
        while echoed < messages && Instant::now() < deadline {
            zf_reactor_perform(stack);
            m.msg.iovcnt = 1;
            zfur_zc_recv(ur, &mut m.msg, 0);
            if m.msg.iovcnt == 0 {
                continue;
            }
            let data = std::slice::from_raw_parts(m.iov[0].iov_base as *const u8, m.iov[0].iov_len);
            let (mut ip, mut udp) = (std::ptr::null(), std::ptr::null());
            check(
                zfur_pkt_get_header(ur, &m.msg, &mut ip, &mut udp, 0),
                "zfur_pkt_get_header",
            );
            let (ip, udp) = (&*ip, &*udp);
            let src = SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(ip.saddr)),
                u16::from_be(udp.__bindgen_anon_1.__bindgen_anon_2.source),
            );
            println!(
                "server: {} bytes {:?} from {src} (IP ttl {}, total length {}; UDP length {})",
                data.len(),
                String::from_utf8_lossy(data),
                ip.ttl,
                u16::from_be(ip.tot_len),
                u16::from_be(udp.__bindgen_anon_1.__bindgen_anon_2.len),
            );
            if ut.is_null() {
                let raddr = sockaddr_of(src);
                check(
                    zfut_alloc(
                        &mut ut,
                        stack,
                        (&laddr as *const libc::sockaddr_in).cast(),
                        salen,
                        (&raddr as *const libc::sockaddr_in).cast(),
                        salen,
                        0,
                        attr,
                    ),
                    "zfut_alloc",
                );
            }
            check(
                zfut_send_single(ut, data.as_ptr().cast(), data.len()),
                "zfut_send_single",
            );
            zfur_zc_recv_done(ur, &mut m.msg);
            echoed += 1;
        }
        client.join().unwrap();
        if !ut.is_null() {
            check(zfut_free(ut), "zfut_free");
        }
        check(zfur_free(ur), "zfur_free");
        check(zf_stack_free(stack), "zf_stack_free");
        zf_attr_free(attr);
        check(zf_deinit(), "zf_deinit");
        println!("echoed {echoed} of {messages} datagrams");
        if echoed != messages {
            std::process::exit(1);
        }
    }
}
