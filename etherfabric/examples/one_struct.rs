//! Keeps every ef_vi object an application needs in one struct: the driver, the protection
//! domain, the buffer pool (its memory region), the VI and its filter. No lifetimes tie them
//! together: each holds its parents through shared ownership, so the struct can be built by
//! a function, returned, and moved to another thread as a unit; dropping it frees the VI, then
//! the memory, then the PD, then closes the driver.
//!
//! Run: `cargo run -p etherfabric --example one_struct -- <interface> <local-ip>:<udp-port>`; it
//! prints the datagrams sent there (for example with `nc -u <local-ip> <udp-port>`).

use etherfabric::*;

/// Everything the receiver owns.
#[derive(Debug)]
struct Receiver {
    // Field order does not matter for safety (each object holds its parents), only for the
    // order in which `Drop` runs.
    _filter: Filter,
    vi: Vi,
    pool: BufferPool,
    _pd: ProtectionDomain,
    _driver: Driver,
    events: [Event; 32],
}

impl Receiver {
    fn open(interface: &str, local: &str) -> Result<Receiver> {
        let driver = Driver::open()?;
        let pd = ProtectionDomain::by_name(&driver, interface, PdFlags::empty())?;
        let mut pool = BufferPool::alloc(&pd, 256, DEFAULT_BUF_SIZE)?;
        let mut vi = Vi::builder(&pd).txq_capacity(Some(0)).build(&pool)?;
        vi.refill(&mut pool, 255);
        let spec: FilterSpec = format!("udp:{local}").parse()?;
        let filter = vi.add_filter(&spec)?;
        Ok(Receiver {
            _filter: filter,
            vi,
            pool,
            _pd: pd,
            _driver: driver,
            events: Default::default(),
        })
    }

    /// Polls once; calls `f` with each received frame.
    fn poll(&mut self, mut f: impl FnMut(&[u8])) -> Result<usize> {
        let mut n = 0;
        for ev in self.vi.poll(&mut self.events) {
            match ev.take() {
                Event::Rx(rx) => {
                    f(self.vi.frame(&rx));
                    n += 1;
                    let _ = self.pool.put(rx.buf);
                }
                Event::RxDiscard(d) => {
                    let _ = self.pool.put(d.buf);
                }
                _ => {}
            }
        }
        self.vi.refill(&mut self.pool, 255);
        Ok(n)
    }
}

fn main() -> Result<()> {
    println!("# ef_vi backend: {}", backend());
    let mut args = std::env::args().skip(1);
    let (Some(intf), Some(local)) = (args.next(), args.next()) else {
        eprintln!("usage: one_struct <interface> <local-ip>:<udp-port>");
        std::process::exit(1);
    };
    let rx = Receiver::open(&intf, &local)?;
    // The whole receiver moves to another thread (a Vi is Send).
    let worker = std::thread::spawn(move || -> Result<()> {
        let mut rx = rx;
        loop {
            rx.poll(|frame| {
                println!(
                    "{} bytes: {:02x?}",
                    frame.len(),
                    &frame[..frame.len().min(16)]
                )
            })?;
        }
    });
    worker.join().unwrap_or(Ok(()))
}
