// eflatency's VI setup: the lowest-latency TX mode `-m` allows and the adapter offers, tried
// in the SDK sample's order (CTPIO, TX alternatives, PIO, DMA).

use etherfabric::*;

use crate::{Config, common};

/// How many TX alternatives the alternatives mode uses: one holds the next reply while the
/// other's goes out (the sample's `N_TX_ALT`).
pub const N_TX_ALT: u32 = 2;
/// Bytes of alternative buffering per alternative: one packet buffer (the sample's
/// `BUF_SIZE`); a frame whose buffer usage is larger is refused.
pub const ALT_BUF_SPACE: usize = 2048;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Mode {
    Ctpio,
    /// Each reply is queued in a TX alternative ahead of time and released with `go`.
    Alternatives,
    Pio,
    Dma,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ctpio => "CTPIO",
            Mode::Alternatives => "Alternatives",
            Mode::Pio => "PIO",
            Mode::Dma => "DMA",
        }
    }
}

/// What one [`open`] made: the VI, its buffers, the TX mode it can use, and its domain.
/// [`Mode::Alternatives`] means the VI was made with [`ViFlags::TX_ALT`]; its alternatives
/// are allocated on it next ([`Vi::tx_alternatives`] borrows the VI, so the caller, which
/// owns it, does that), and where that fails [`plain_vi`] and [`select_mode`] replace it.
pub struct Opened {
    pub vi: Vi,
    pub pool: BufferPool,
    pub mode: Mode,
    pub pd: ProtectionDomain,
}

/// Allocates a VI on `intf` the way the sample does: CTPIO if allowed and offered, then TX
/// alternatives if allowed and offered, then a plain VI, retried with event merging where
/// the adapter demands it; then PIO or DMA for a VI without CTPIO or alternatives.
pub fn open(cfg: &Config, driver: &Driver, intf: &str, n_bufs: usize) -> Result<Opened> {
    let (name, pd_flags) = common::parse_interface(intf)?;
    let pd = ProtectionDomain::by_name(driver, &name, pd_flags)?;
    let pool = BufferPool::alloc(&pd, n_bufs as u32, DEFAULT_BUF_SIZE)?;
    let mut flags = cfg.vi_flags;
    if cfg.no_poison {
        flags |= ViFlags::TX_CTPIO_NO_POISON;
    }
    let mut vi = None;
    let mut ctpio = false;
    if cfg.modes.contains('c') && pd.capability(Capability::CTPIO).unwrap_or(0) != 0 {
        match Vi::builder(&pd)
            .flags(flags | ViFlags::TX_CTPIO)
            .build(&pool)
        {
            Ok(v) => {
                vi = Some(v);
                ctpio = true;
            }
            Err(_) => eprintln!("Failed to allocate VI with CTPIO."),
        }
    }
    let mut alt = false;
    if vi.is_none()
        && cfg.modes.contains('a')
        && pd.capability(Capability::TX_ALTERNATIVES).unwrap_or(0) != 0
    {
        match Vi::builder(&pd)
            .flags(plain_flags(cfg) | ViFlags::TX_ALT)
            .build(&pool)
        {
            Ok(v) => {
                vi = Some(v);
                alt = true;
            }
            Err(_) => eprintln!("Failed to allocate VI with TX alternatives."),
        }
    }
    let mut vi = match vi {
        Some(v) => v,
        None => plain_vi(cfg, &pd, &pool)?,
    };
    let mode = select_mode(cfg, &pd, &mut vi, ctpio, alt);
    Ok(Opened { vi, pool, mode, pd })
}

/// The flags of a VI without CTPIO.
fn plain_flags(cfg: &Config) -> ViFlags {
    cfg.vi_flags - ViFlags::TX_CTPIO_NO_POISON
}

/// A VI without CTPIO or alternatives, made with event merging if the adapter refuses it
/// without (as the sample retries on `EPERM`).
pub fn plain_vi(cfg: &Config, pd: &ProtectionDomain, pool: &BufferPool) -> Result<Vi> {
    let plain = plain_flags(cfg);
    match Vi::builder(pd).flags(plain).build(pool) {
        Ok(v) => Ok(v),
        Err(Error::Permission { .. }) => {
            eprintln!("Failed to allocate VI without event merging");
            Vi::builder(pd)
                .flags(plain | ViFlags::RX_EVENT_MERGE)
                .build(pool)
        }
        Err(e) => Err(e),
    }
}

/// The TX mode of `vi` (made with CTPIO if `ctpio`, with TX_ALT if `alt`), linking a PIO
/// region to it for PIO; exits with the sample's message when `-m` allows none.
pub fn select_mode(
    cfg: &Config,
    pd: &ProtectionDomain,
    vi: &mut Vi,
    ctpio: bool,
    alt: bool,
) -> Mode {
    let ctpio_only = pd.capability(Capability::CTPIO_ONLY).unwrap_or(0) != 0;
    if ctpio_only && !ctpio {
        eprintln!("Failed to allocate VI with CTPIO, but CTPIO is only supported TX mode");
        std::process::exit(1);
    } else if ctpio {
        Mode::Ctpio
    } else if alt {
        Mode::Alternatives
    } else if cfg.modes.contains('p')
        && Pio::alloc(pd, 4096).is_ok_and(|pio| vi.link_pio(pio).is_ok())
    {
        Mode::Pio
    } else if cfg.modes.contains('d') {
        Mode::Dma
    } else {
        eprintln!("No compatible mode found");
        std::process::exit(1);
    }
}
