//! Drives a TCPDirect stack from a mio event loop: a UDP echo server that sleeps in
//! `mio::Poll` on the stack's waitable fd instead of spinning, next to an ordinary mio
//! timer-less loop. A `std::net` client thread sends the messages.
//!
//! ```text
//! cargo run -p tcpdirect --features mio --example mio_echo [-- MESSAGES]
//! ```
//!
//! The interface is `lo` unless `ZF_ATTR` names one.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use mio::{Events, Interest, Poll, Token};
use tcpdirect::{Attr, Stack};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let messages: usize = std::env::args().nth(1).map_or(Ok(5), |a| a.parse())?;
    println!("TCPDirect backend: {}", tcpdirect::backend());
    let mut attr = Attr::from_env()?;
    if std::env::var("ZF_ATTR").map_or(true, |v| !v.contains("interface")) {
        attr.set_interface("lo")?;
    }
    let mut st = Stack::new(&attr)?;
    let server: SocketAddr = "127.0.0.1:31010".parse()?;
    let client: SocketAddr = "127.0.0.1:31011".parse()?;
    let (rx, _) = st.udp_bind(server, None)?;
    let tx = st.udp_sender(server, client)?;

    let mut poll = Poll::new()?;
    const STACK: Token = Token(0);
    poll.registry()
        .register(&mut st.waitable_fd()?, STACK, Interest::READABLE)?;

    let peer = std::thread::spawn(move || -> std::io::Result<()> {
        let s = UdpSocket::bind(client)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut b = [0u8; 64];
        for i in 0..messages {
            let msg = format!("hello {i}");
            s.send_to(msg.as_bytes(), server)?;
            let (n, _) = s.recv_from(&mut b)?;
            println!("client: echo {:?}", String::from_utf8_lossy(&b[..n]));
        }
        Ok(())
    });

    let mut events = Events::with_capacity(8);
    let mut echoed = 0;
    while echoed < messages {
        // Arm the fd, then sleep until the stack has something (or 5 s pass).
        st.waitable_fd()?.prime()?;
        poll.poll(&mut events, Some(Duration::from_secs(5)))?;
        if events.is_empty() {
            return Err("no datagram within 5 s".into());
        }
        // Run the reactor until it is idle, echoing whatever arrived.
        loop {
            let busy = st.reactor_perform();
            let mut r = st.udp_rx(rx)?;
            let mut got = false;
            while let Some(m) = r.zc_recv() {
                m.stack().udp_tx(tx)?.send(m.data())?;
                echoed += 1;
                got = true;
            }
            if !busy && !got {
                break;
            }
        }
    }
    poll.registry().deregister(&mut st.waitable_fd()?)?;
    peer.join().map_err(|_| "client panicked")??;
    println!("echoed {echoed} datagrams from a mio loop");
    Ok(())
}
