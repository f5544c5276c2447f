//! Which filter steered a received packet (`ef_vi_receive_get_filter_id`), for VIs made with
//! [`ViFlags::RX_FILTER_ID`].

use super::*;
use crate::event::RxEvent;
use crate::pd::Capability;

impl Capability {
    /// Whether the adapter reports the filter that matched each packet
    /// (`EF_VI_CAP_RX_FILTER_ID`, for [`ViFlags::RX_FILTER_ID`]).
    pub const RX_FILTER_ID: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_RX_FILTER_ID);
}

impl Vi {
    /// The id of the filter that steered the packet of `rx` to this VI
    /// (`ef_vi_receive_get_filter_id`): the `filter_id` of that [`Filter`]'s
    /// [`cookie`](Filter::cookie). Needs [`ViFlags::RX_FILTER_ID`] and the event of the
    /// packet's first buffer (where the receive prefix is); the buffer must still hold what
    /// the adapter wrote.
    pub fn rx_filter_id(&mut self, rx: &RxEvent) -> Result<u32> {
        if !self.flags.contains(ViFlags::RX_FILTER_ID) {
            return Err(Error::invalid(
                "the VI was made without ViFlags::RX_FILTER_ID",
            ));
        }
        if !self.pool.owns(&rx.buf) {
            return Err(Error::ForeignBuffer);
        }
        if !rx.is_start() {
            return Err(Error::invalid(
                "the filter id is in the prefix of a packet's first buffer; this event is a \
                 continuation",
            ));
        }
        // SAFETY: the VI is live, has RX filter ids and is used by this thread only; the
        // buffer is this pool's, returned by an RX event (so not in the ring) and borrowed
        // for the call; the event is the one polled for it (an `RxEvent` is only made from a
        // polled RX event, and names the buffer it carries).
        let rc = unsafe {
            ffi::ef_vi_receive_get_filter_id(
                self.raw,
                rx.as_raw(),
                self.pool.ptr(rx.buf.index).cast(),
            )
        };
        Ok(check("ef_vi_receive_get_filter_id", rc)? as u32)
    }
}
