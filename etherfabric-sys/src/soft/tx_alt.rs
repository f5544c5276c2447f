//! TX alternatives (`EF_VI_TX_ALT`): queues on the "adapter" that hold packets until the
//! application sends (GO) or drops (DISCARD) them. This file is the state machine and its
//! buffer accounting; the calls are in `tx_alt_ops.rs`, and `tx.rs` hands each packet sent
//! while an alternative is selected to [`TxAlts::accept`].
//!
//! As on an EF10 adapter, the alternatives of a VI share a budget of fixed-size buffers,
//! each packet takes `ef_vi_transmit_alt_usage()` bytes of it (32-byte words plus one word of
//! overhead), and a packet that does not fit is dropped without a word, as `vi.h` warns.

use std::collections::VecDeque;

/// Alternative queues an interface has (`EF_VI_CAP_TX_ALTERNATIVES_VFIFOS`).
pub(crate) const VFIFOS: u32 = 8;
/// Buffers the alternatives share (`EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFERS`).
pub(crate) const CP_BUFFERS: u32 = 128;
/// Bytes per buffer (`EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFER_SIZE`).
pub(crate) const CP_BUFFER_SIZE: u32 = 512;
/// The unit of buffer use: `pre_round` is one less, `mask` clears the low bits, and one unit
/// of overhead (`post_round`) is added per packet.
pub(crate) const WORD: u32 = 32;

/// Bytes of buffering a packet of `len` bytes takes (`ef_vi_transmit_alt_usage`).
pub(crate) fn usage(len: usize) -> usize {
    let w = WORD as usize;
    ((len + w - 1) & !(w - 1)) + w
}

/// Packet bytes `n_alts` alternatives can buffer in all, or `None` for more alternatives
/// than there are queues (each alternative keeps two buffers for itself, as on EF10).
pub(crate) fn buffering(n_alts: u32) -> Option<usize> {
    if n_alts == 0 || n_alts > VFIFOS {
        return None;
    }
    Some((CP_BUFFER_SIZE * CP_BUFFERS.checked_sub(2 * n_alts)?) as usize)
}

/// What an alternative does with packets sent to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AltState {
    /// Hold them.
    Stop,
    /// Send them (those held first).
    Go,
    /// Drop them (those held first).
    Discard,
}

/// What became of a packet sent to an alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// Held in the alternative.
    Held,
    /// To be sent now (the alternative is in GO), with a `TX_ALT` event.
    Send,
    /// Dropped by the alternative (DISCARD), with a `TX_ALT` event.
    Discarded,
    /// Dropped for lack of buffering, silently.
    Overflow,
}

#[derive(Debug)]
struct AltQueue {
    state: AltState,
    held: VecDeque<Vec<u8>>,
}

/// The alternatives of one VI, from `ef_vi_transmit_alt_alloc()` to `_free()`.
#[derive(Debug)]
pub(crate) struct TxAlts {
    /// Bytes of buffering granted, and in use.
    space: usize,
    used: usize,
    /// Where packets go now (`None`: the wire).
    pub(crate) selected: Option<u32>,
    queues: Vec<AltQueue>,
}

impl TxAlts {
    /// `n` alternatives in STOP, sharing `space` bytes.
    pub(crate) fn new(n: u32, space: usize) -> TxAlts {
        TxAlts {
            space,
            used: 0,
            selected: None,
            queues: (0..n)
                .map(|_| AltQueue {
                    state: AltState::Stop,
                    held: VecDeque::new(),
                })
                .collect(),
        }
    }

    /// How many alternatives there are.
    pub(crate) fn len(&self) -> u32 {
        self.queues.len() as u32
    }

    /// Takes a packet sent to alternative `alt` (which exists).
    pub(crate) fn accept(&mut self, alt: u32, frame: &[u8]) -> Accept {
        let room = self.space - self.used;
        let q = &mut self.queues[alt as usize];
        match q.state {
            AltState::Go => Accept::Send,
            AltState::Discard => Accept::Discarded,
            AltState::Stop if usage(frame.len()) > room => Accept::Overflow,
            AltState::Stop => {
                self.used += usage(frame.len());
                q.held.push_back(frame.to_vec());
                Accept::Held
            }
        }
    }

    /// Moves alternative `alt` (which exists) to `state`; returns the packets it held when
    /// the new state lets them go (GO: to send, DISCARD: to drop), in order.
    pub(crate) fn set_state(&mut self, alt: u32, state: AltState) -> Vec<Vec<u8>> {
        let q = &mut self.queues[alt as usize];
        q.state = state;
        if state == AltState::Stop {
            return Vec::new();
        }
        let out: Vec<Vec<u8>> = q.held.drain(..).collect();
        self.used -= out.iter().map(|f| usage(f.len())).sum::<usize>();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_packets_use_whole_words_and_go_or_are_dropped_in_order() {
        assert_eq!(usage(60), 96);
        assert_eq!(usage(64), 96);
        assert_eq!(usage(65), 128);
        assert_eq!(buffering(2), Some(512 * 124));
        assert_eq!(buffering(0), None);
        assert_eq!(buffering(VFIFOS + 1), None);
        let mut a = TxAlts::new(2, 200);
        assert_eq!(a.accept(0, &[1; 60]), Accept::Held);
        assert_eq!(a.accept(0, &[2; 60]), Accept::Held);
        assert_eq!(
            a.accept(1, &[3; 60]),
            Accept::Overflow,
            "192 of 200 bytes used"
        );
        assert_eq!(a.set_state(0, AltState::Go), vec![vec![1; 60], vec![2; 60]]);
        assert_eq!(a.accept(0, &[4; 60]), Accept::Send);
        assert_eq!(a.accept(1, &[5; 60]), Accept::Held, "the space came back");
        assert_eq!(a.set_state(1, AltState::Discard), vec![vec![5; 60]]);
        assert_eq!(a.accept(1, &[6; 60]), Accept::Discarded);
        assert!(a.set_state(1, AltState::Stop).is_empty());
    }
}
