//! A UDP receiver and a TCP sender written with `std::net`, plus the Onload extensions: each
//! socket is created inside a stack-naming guard, `fd_stat` reports whether Onload
//! accelerates it, and the TCP sender uses a templated send when Onload offers one (and an
//! ordinary write when it does not). The same binary runs with and without Onload and says
//! which it found.
//!
//! Run: `cargo run -p onload-ext --example udp_tcp_ext -- [COUNT]` (default 3 messages) on
//! ephemeral ports of 127.0.0.1; under Onload: `onload ./target/debug/examples/udp_tcp_ext`.

use onload_ext::{FdStat, Scope, StackName, StackNameGuard, Template, TemplateOptions, Who};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;

fn main() {
    if let Err(e) = run() {
        eprintln!("udp_tcp_ext: {e}");
        std::process::exit(1);
    }
}

/// Makes a socket with `make` while new sockets go to stack `stack`.
fn in_stack<T>(
    stack: &str,
    make: impl FnOnce() -> std::io::Result<T>,
) -> Result<T, Box<dyn std::error::Error>> {
    let _guard = StackNameGuard::new(Who::ThisThread, Scope::Process, StackName::Named(stack))?;
    Ok(make()?)
}

/// Prints what Onload says of a socket.
fn report(what: &str, fd: &impl AsRawFd) -> Result<(), onload_ext::Error> {
    match onload_ext::fd_stat(fd)? {
        FdStat::Accelerated(s) => println!(
            "{what}: accelerated by Onload, stack {} ({}), endpoint {}",
            s.stack_id,
            s.stack_name.as_deref().unwrap_or("unnamed"),
            s.endpoint_id
        ),
        FdStat::NotAccelerated => println!("{what}: not accelerated (kernel socket)"),
    }
    Ok(())
}

/// Sends `msg` on `stream` through a templated send when possible; says how it went.
fn send_price(stream: &TcpStream, price: u32) -> Result<String, Box<dyn std::error::Error>> {
    let digits = format!("{:04}", price % 10_000);
    match Template::new(stream, &[b"PRICE ", b"0000\n"], TemplateOptions::default()) {
        Ok(mut t) => {
            t.update(6, digits.as_bytes())?;
            t.send(false)?;
            Ok("templated send".into())
        }
        Err(e) if e.is_unsupported() => {
            { stream }.write_all(format!("PRICE {digits}\n").as_bytes())?;
            Ok("plain write (templated sends need Onload)".into())
        }
        Err(e) => {
            // Under Onload without PIO, for example: fall back, but say why.
            { stream }.write_all(format!("PRICE {digits}\n").as_bytes())?;
            Ok(format!("plain write ({e})"))
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let count: u32 = match std::env::args().nth(1) {
        Some(a) => a
            .parse()
            .map_err(|_| format!("COUNT must be a number, not {a:?}"))?,
        None => 3,
    };
    if onload_ext::is_present() {
        println!("Onload: present (sockets may be accelerated; extensions reach Onload)");
    } else {
        println!("Onload: not present (kernel sockets; extensions give their documented answers)");
    }
    println!("extensions library: {}", onload_ext::backend());

    let rx = in_stack("ext_rx", || UdpSocket::bind("127.0.0.1:0"))?;
    let tx = UdpSocket::bind("127.0.0.1:0")?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let sender = in_stack("ext_tx", || TcpStream::connect(listener.local_addr()?))?;
    let (mut sink, _) = listener.accept()?;
    report("UDP receiver", &rx)?;
    report("TCP sender", &sender)?;

    let rx_addr = rx.local_addr()?;
    for i in 0..count {
        tx.send_to(format!("tick {i}").as_bytes(), rx_addr)?;
        let mut buf = [0u8; 64];
        let (n, from) = rx.recv_from(&mut buf)?;
        println!(
            "UDP received {:?} from {from}",
            String::from_utf8_lossy(&buf[..n])
        );

        let how = send_price(&sender, 1000 + i)?;
        let mut line = [0u8; 11];
        sink.read_exact(&mut line)?;
        println!("TCP sent {:?} by {how}", String::from_utf8_lossy(&line));
    }
    Ok(())
}
