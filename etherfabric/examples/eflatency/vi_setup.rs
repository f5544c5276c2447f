// eflatency's VI setup: the lowest-latency TX mode `-m` allows and the adapter offers, tried
// in the SDK sample's order.

use etherfabric::*;

use crate::delivery::Side;
use crate::{Config, common};

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Mode {
    Ctpio,
    Pio,
    Dma,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ctpio => "CTPIO",
            Mode::Pio => "PIO",
            Mode::Dma => "DMA",
        }
    }
}

/// What one [`open`] made: the VI's side, the TX mode it can use, and its domain.
pub struct Opened {
    pub side: Side,
    pub mode: Mode,
    pub pd: ProtectionDomain,
}

/// Allocates a VI on `intf` the way the sample does: CTPIO if allowed and offered, TX
/// alternatives (absent here), then a plain VI, retried with event merging where the
/// adapter demands it; then PIO or DMA for a VI without CTPIO.
pub fn open(cfg: &Config, driver: &Driver, intf: &str, n_bufs: usize) -> Result<Opened> {
    let (name, pd_flags) = common::parse_interface(intf)?;
    let pd = ProtectionDomain::by_name(driver, &name, pd_flags)?;
    let pool = BufferPool::alloc(&pd, n_bufs as u32, DEFAULT_BUF_SIZE)?;
    let mut flags = cfg.vi_flags;
    if cfg.no_poison {
        flags |= ViFlags::TX_CTPIO_NO_POISON;
    }
    let mut vi = None;
    if cfg.modes.contains('c') && pd.capability(Capability::CTPIO).unwrap_or(0) != 0 {
        match Vi::builder(&pd)
            .flags(flags | ViFlags::TX_CTPIO)
            .build(&pool)
        {
            Ok(v) => vi = Some(v),
            Err(_) => eprintln!("Failed to allocate VI with CTPIO."),
        }
    }
    // This crate has no TX alternatives API (no `ef_vi_transmit_alt_*`), so where the adapter
    // offers them the attempt fails as the C program's does when it cannot allocate them, and
    // the next mode is tried; where the adapter lacks them, they are skipped, as in C.
    if vi.is_none()
        && cfg.modes.contains('a')
        && pd
            .capability(Capability(ffi::ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES))
            .unwrap_or(0)
            != 0
    {
        eprintln!(
            "Failed to allocate VI with TX alternatives: TX alternatives are not supported \
             by the etherfabric crate."
        );
    }
    let ctpio = vi.is_some();
    let mut vi = match vi {
        Some(v) => v,
        None => {
            let plain = flags - ViFlags::TX_CTPIO_NO_POISON;
            match Vi::builder(&pd).flags(plain).build(&pool) {
                Ok(v) => v,
                Err(Error::Permission { .. }) => {
                    eprintln!("Failed to allocate VI without event merging");
                    Vi::builder(&pd)
                        .flags(plain | ViFlags::RX_EVENT_MERGE)
                        .build(&pool)?
                }
                Err(e) => return Err(e),
            }
        }
    };
    let ctpio_only = pd.capability(Capability::CTPIO_ONLY).unwrap_or(0) != 0;
    let mode = if ctpio_only && !ctpio {
        eprintln!("Failed to allocate VI with CTPIO, but CTPIO is only supported TX mode");
        std::process::exit(1);
    } else if ctpio {
        Mode::Ctpio
    } else if cfg.modes.contains('p')
        && Pio::alloc(&pd, 4096).is_ok_and(|pio| vi.link_pio(pio).is_ok())
    {
        Mode::Pio
    } else if cfg.modes.contains('d') {
        Mode::Dma
    } else {
        eprintln!("No compatible mode found");
        std::process::exit(1);
    };
    Ok(Opened {
        side: Side {
            vi,
            pool,
            events: Default::default(),
            pending: 0,
            n_pending: 0,
        },
        mode,
        pd,
    })
}
