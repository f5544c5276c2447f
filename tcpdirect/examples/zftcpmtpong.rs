//! Rust port of the TCPDirect sample `zftcpmtpong`: one stack shared by threads. An I/O
//! thread accepts connections and receives; a thread per connection sends back as many
//! (zero) bytes as arrived. The stack and everything on it sit under one `Mutex`; the I/O
//! thread checks `zf_stack_has_pending_work` without the lock and takes it only when there
//! is work, as the C sample does.
//!
//! ```text
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zftcpmtpong -- 127.0.0.1:20030
//! ```

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use tcpdirect::{Event, ListenerKey, MuxerKey, Readiness, Stack, TcpKey};

/// Everything on the stack, under the one lock.
struct App {
    stack: Stack,
    muxer: MuxerKey,
    listener: ListenerKey,
}

/// What the I/O thread and a connection's sender share.
#[derive(Default)]
struct Conn {
    bytes_in: AtomicUsize,
    closed: AtomicBool,
}

fn usage(to_stdout: bool) {
    let text = "usage:\n  zftcpmtpong [options] <local_host:port>\n\noptions:\n  -h       Print this usage message\n  -q       Quiet -- do not emit progress messages\n";
    if to_stdout {
        print!("{text}");
    } else {
        eprint!("{text}");
    }
}

static QUIET: AtomicBool = AtomicBool::new(false);

macro_rules! vlog {
    ($($t:tt)*) => { if !QUIET.load(Ordering::Relaxed) { println!($($t)*); } };
}

fn worker(app: Arc<Mutex<App>>, z: TcpKey, c: Arc<Conn>) {
    let buf = [0u8; 1024];
    let mut bytes_out = 0usize;
    vlog!("worker: starting");
    loop {
        let bytes_in = c.bytes_in.load(Ordering::Acquire);
        if bytes_out != bytes_in {
            let n = (bytes_in - bytes_out).min(buf.len());
            let rc = {
                let a = app.lock().unwrap_or_else(|p| p.into_inner());
                a.stack.tcp_ref(z).and_then(|t| t.send(&buf[..n]))
            };
            match rc {
                Ok(sent) => {
                    vlog!(
                        "worker: backlog={} send={n} rc={sent}",
                        bytes_in - bytes_out
                    );
                    bytes_out += sent;
                }
                Err(e) => {
                    vlog!(
                        "worker: backlog={} send={n} rc=-{}",
                        bytes_in - bytes_out,
                        e.raw_os_error().unwrap_or(0)
                    );
                    vlog!("worker: ERROR: send returned {e}");
                    bytes_out = bytes_in;
                }
            }
        }
        if c.closed.load(Ordering::Acquire) && bytes_out == c.bytes_in.load(Ordering::Acquire) {
            break;
        }
        std::thread::yield_now();
    }
    vlog!("worker: freeing connection");
    let mut a = app.lock().unwrap_or_else(|p| p.into_inner());
    try_or_exit(a.stack.free(z), "zft_free");
}

fn main() {
    let args = getopt("hq");
    for (o, _) in &args.opts {
        match o {
            'h' => {
                usage(true);
                return;
            }
            'q' => QUIET.store(true, Ordering::Relaxed),
            _ => {}
        }
    }
    let [local] = args.rest.as_slice() else {
        usage(false);
        std::process::exit(1);
    };
    let local = lookup_or_exit(local);
    print_backend();
    let attr = attr_from_env();
    let mut stack = try_or_exit(Stack::new(&attr), "zf_stack_alloc");
    let muxer = try_or_exit(stack.muxer(), "zf_muxer_alloc");
    let listener = try_or_exit(stack.listen(local), "zftl_listen");
    try_or_exit(
        stack.muxer_add(muxer, &listener, Readiness::IN, u64::MAX),
        "zf_muxer_add",
    );
    let probe = stack.pending_work_probe();
    let app = Arc::new(Mutex::new(App {
        stack,
        muxer,
        listener,
    }));
    // Connections by muxer data (their index here).
    let mut conns: Vec<(TcpKey, Arc<Conn>)> = Vec::new();
    let mut evs = [Event::default(); 8];
    loop {
        // Take the lock only when there is work (so the senders are not held up).
        if !probe.has_pending_work() {
            std::hint::spin_loop();
            continue;
        }
        let Ok(mut guard) = app.try_lock() else {
            continue;
        };
        let a = &mut *guard;
        let got = try_or_exit(
            a.stack
                .muxer_wait(a.muxer, &mut evs, Some(std::time::Duration::ZERO)),
            "zf_muxer_wait",
        );
        if !got.is_empty() {
            vlog!("iothread: zf_muxer_wait => {}", got.len());
        }
        for &e in got {
            if e.data() == u64::MAX {
                // Every pending connection (the C sample takes one per event; the real
                // library reports each, so this is the same there and sturdier).
                while let Some(z) = try_or_exit(a.stack.accept(a.listener), "zftl_accept") {
                    vlog!("iothread: accepting new connection");
                    try_or_exit(
                        a.stack
                            .muxer_add(a.muxer, &z, Readiness::IN, conns.len() as u64),
                        "zf_muxer_add",
                    );
                    let c = Arc::new(Conn::default());
                    conns.push((z, c.clone()));
                    let app = app.clone();
                    std::thread::spawn(move || worker(app, z, c));
                }
            } else {
                let Some((z, c)) = conns.get(e.data() as usize) else {
                    continue;
                };
                let Ok(mut t) = a.stack.tcp(*z) else { continue };
                let Some(m) = t.zc_recv_max(1) else {
                    vlog!("iothread: zft_zc_recv => iovcnt=0 len=0");
                    continue;
                };
                let len = m.len();
                vlog!("iothread: zft_zc_recv => iovcnt={} len={len}", m.packets());
                let eof = m.is_eof();
                let rc = m.done();
                if len > 0 {
                    c.bytes_in.fetch_add(len, Ordering::Release);
                }
                if eof {
                    vlog!(
                        "iothread: got EOF rc={}",
                        rc.map_or_else(|e| -e.raw_os_error().unwrap_or(0), i32::from)
                    );
                    try_or_exit(a.stack.muxer_delete(z), "zf_muxer_del");
                    c.closed.store(true, Ordering::Release);
                }
            }
        }
    }
}
