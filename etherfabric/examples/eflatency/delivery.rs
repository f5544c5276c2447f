// eflatency's event handling: received packets (read with `-d r`), transmit completions
// (and the TX_ALT events of alternatives) and the discards CTPIO under-runs cause, on the
// receiving or the sending VI.

use etherfabric::*;

use crate::{Config, N_RX_BUFS, common};

/// The VI of a [`Side`]: borrowed from where it is owned, with its TX alternatives in the
/// alternatives mode (the guard borrows the VI and derefs to it).
pub enum ViHandle<'v> {
    Plain(&'v mut Vi),
    Alts(TxAlternatives<'v>),
}

impl<'v> ViHandle<'v> {
    /// The alternatives, or an error naming the mode if there are none.
    pub fn alts(&mut self) -> Result<&mut TxAlternatives<'v>> {
        match self {
            ViHandle::Alts(a) => Ok(a),
            ViHandle::Plain(_) => Err(Error::InvalidArgument {
                what: "the alternatives TX mode on a VI without TX alternatives".into(),
            }),
        }
    }
}

impl std::ops::Deref for ViHandle<'_> {
    type Target = Vi;
    fn deref(&self) -> &Vi {
        match self {
            ViHandle::Plain(v) => v,
            ViHandle::Alts(a) => a,
        }
    }
}

impl std::ops::DerefMut for ViHandle<'_> {
    fn deref_mut(&mut self) -> &mut Vi {
        match self {
            ViHandle::Plain(v) => v,
            ViHandle::Alts(a) => a,
        }
    }
}

/// A VI with its pool and event batch.
pub struct Side<'v> {
    pub vi: ViHandle<'v>,
    pub pool: BufferPool,
    pub events: [Event; 16],
    pub pending: usize,
    pub n_pending: usize,
}

impl<'v> Side<'v> {
    /// The side of `vi`, whose buffers are `pool`'s.
    pub fn new(vi: ViHandle<'v>, pool: BufferPool) -> Side<'v> {
        Side {
            vi,
            pool,
            events: Default::default(),
            pending: 0,
            n_pending: 0,
        }
    }
}

/// What handling a VI's events needs besides the VI.
pub struct Delivery<'a> {
    pub cfg: &'a Config,
    pub tx_free: &'a mut Vec<PacketBuf>,
    pub payload_len: usize,
    pub app_buf: &'a mut Vec<u8>,
    pub posts: bool,
    /// `EF_EVENT_TYPE_TX_ALT` events seen: alternatives sent (or discarded).
    pub tx_alt_done: &'a mut u32,
}

impl Delivery<'_> {
    /// `-d r`: copies the payload out, checking its length is the one sent.
    fn read(&mut self, frame: &[u8]) -> Result<()> {
        match common::udp_payload(frame) {
            Some((_, p)) if p.len() == self.payload_len => {
                self.app_buf[..p.len()].copy_from_slice(p);
                Ok(())
            }
            Some((_, p)) => Err(Error::InvalidArgument {
                what: format!(
                    "-d r: received a UDP payload of {} bytes, expected {}",
                    p.len(),
                    self.payload_len
                ),
            }),
            None => Err(Error::InvalidArgument {
                what: "-d r: received a frame that is not UDP over IPv4".into(),
            }),
        }
    }

    /// Polls once (or goes on with events of the previous poll); true when a packet came.
    pub fn poll_once(&mut self, s: &mut Side<'_>, rx_only: bool) -> Result<bool> {
        if s.pending == s.n_pending {
            s.n_pending = if rx_only {
                s.vi.poll_rx(&mut s.events).len()
            } else {
                s.vi.poll(&mut s.events).len()
            };
            s.pending = 0;
            // `-d p`: while waiting, warm the cache line the next packet will land in (the C
            // sample reads it; a prefetch does the same without touching the buffer, which
            // the adapter owns).
            if s.n_pending == 0 && self.cfg.peek_data {
                s.vi.prefetch_next_rx();
            }
        }
        while s.pending < s.n_pending {
            let ev = s.events[s.pending].take();
            s.pending += 1;
            match ev {
                Event::Rx(rx) => {
                    if self.cfg.read_data {
                        self.read(s.vi.frame(&rx))?;
                    }
                    s.vi.post(rx.buf)?;
                    return Ok(true);
                }
                Event::RxMulti(m) => {
                    let discard = m.discard();
                    let mut bufs = Vec::new();
                    let n = s.vi.receive_unbundle(m, |p| bufs.push(p));
                    let mut r = Ok(());
                    for p in bufs {
                        if self.cfg.read_data && discard.is_none() && r.is_ok() {
                            let b = s.pool.bytes(&p.buf);
                            let end = (p.offset + p.len.unwrap_or(0)).min(b.len());
                            r = self.read(&b[p.offset.min(end)..end]);
                        }
                        let _ = s.pool.put(p.buf);
                    }
                    r?;
                    if self.posts {
                        s.vi.refill(&mut s.pool, N_RX_BUFS);
                    }
                    if n > 0 && discard.is_none() {
                        return Ok(true);
                    }
                }
                Event::RxRef(r) => {
                    if let Some((flags, kind)) = r.discard() {
                        let _ = s.vi.rx_ref_release(r);
                        // A poisoned CTPIO frame is followed by a good copy.
                        if flags & DiscardFlags::ETH_FCS_ERR.bits() != 0 {
                            continue;
                        }
                        return Err(Error::InvalidArgument {
                            what: format!("unexpected ref discard flags={flags:#x} ({kind:?})"),
                        });
                    }
                    if self.cfg.read_data {
                        let p = s.vi.rx_ref(r)?;
                        let frame: &[u8] = &p;
                        let res = self.read(frame);
                        drop(p);
                        res?;
                    } else {
                        let _ = s.vi.rx_ref_release(r);
                    }
                    return Ok(true);
                }
                Event::Tx(c) => {
                    let free = &mut *self.tx_free;
                    s.vi.transmit_unbundle(c, |b| free.push(b));
                }
                Event::TxAlt { .. } => *self.tx_alt_done = self.tx_alt_done.wrapping_add(1),
                Event::RxDiscard(d) => {
                    // A poisoned CTPIO frame is followed by a good copy.
                    s.vi.post(d.buf)?;
                }
                other => {
                    eprintln!("ERROR: unexpected event {other:?}");
                    std::process::exit(1);
                }
            }
        }
        Ok(false)
    }
}
