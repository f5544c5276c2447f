//! Wire-ordered epoll: readable sockets in the order their data arrived on the wire.

use crate::error::{Error, Result, check_open, minus_one_errno, neg_errno, to_c_int};
use onload_sys as ffi;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// One readable descriptor from [`OrderedEpoll::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderedEvent {
    /// The epoll event bits (`libc::EPOLLIN`, ...).
    pub events: u32,
    /// The `data` registered with `epoll_ctl`.
    pub data: u64,
    /// Hardware timestamp of the first readable data; `None` when the descriptor is not
    /// ordered relative to the others.
    pub timestamp: Option<Duration>,
    /// Bytes that may be read while keeping wire order.
    pub bytes: i32,
}

/// Buffers for [`OrderedEpoll::wait`], allocated once.
#[derive(Debug)]
pub struct OrderedEpoll {
    events: Vec<libc::epoll_event>,
    ordered: Vec<ffi::onload_ordered_epoll_event>,
}

impl OrderedEpoll {
    /// Room for up to `max_events` events per wait (at least 1).
    pub fn with_capacity(max_events: usize) -> OrderedEpoll {
        let n = max_events.max(1);
        OrderedEpoll {
            events: vec![libc::epoll_event { events: 0, u64: 0 }; n],
            ordered: vec![ffi::onload_ordered_epoll_event::default(); n],
        }
    }

    /// Waits up to `timeout` (`None`: forever) on epoll set `epfd` and returns the readable
    /// descriptors in wire order. The set must hold accelerated sockets of one stack, without
    /// `EPOLLET` or `EPOLLONESHOT`.
    ///
    /// * **Under Onload:** the events (possibly none at timeout).
    /// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`): use plain
    ///   `epoll_wait`.
    ///
    /// `epfd` must be open ([`Error::BadFd`]).
    pub fn wait<F: AsRawFd + ?Sized>(
        &mut self,
        epfd: &F,
        timeout: Option<Duration>,
    ) -> Result<impl ExactSizeIterator<Item = OrderedEvent> + '_> {
        const CALL: &str = "onload_ordered_epoll_wait";
        let epfd = epfd.as_raw_fd();
        check_open(CALL, epfd)?;
        let max = to_c_int(CALL, "max_events", self.events.len())?;
        let timeout_ms = match timeout {
            None => -1,
            Some(d) => i32::try_from(d.as_millis()).map_err(|_| {
                Error::invalid(CALL, format!("timeout {d:?} exceeds i32::MAX milliseconds"))
            })?,
        };
        // SAFETY: both arrays hold `max` writable elements; libc's epoll_event is the C
        // struct that the bindings declare opaque.
        let rc = unsafe {
            ffi::onload_ordered_epoll_wait(
                epfd,
                self.events.as_mut_ptr().cast(),
                self.ordered.as_mut_ptr(),
                max,
                timeout_ms,
            )
        };
        let n = if rc == -1 {
            minus_one_errno(CALL, rc)?
        } else {
            neg_errno(CALL, rc)?
        } as usize;
        let n = n.min(self.events.len());
        Ok(self.events[..n]
            .iter()
            .zip(&self.ordered[..n])
            .map(|(e, o)| OrderedEvent {
                events: e.events,
                data: e.u64,
                timestamp: timestamp(o.ts.tv_sec, o.ts.tv_nsec),
                bytes: o.bytes,
            }))
    }
}

/// A timestamp Onload reported (`tv_sec` 0: none); `None` too for values out of range.
fn timestamp(sec: i64, nsec: i64) -> Option<Duration> {
    let sec = u64::try_from(sec).ok().filter(|&s| s != 0)?;
    let nsec = u32::try_from(nsec).ok().filter(|&n| n < 1_000_000_000)?;
    Some(Duration::new(sec, nsec))
}

#[cfg(test)]
mod tests {
    use super::timestamp;
    use std::time::Duration;

    #[test]
    fn timestamps_out_of_range_are_none() {
        assert_eq!(timestamp(0, 5), None, "tv_sec 0 means no timestamp");
        assert_eq!(timestamp(-1, 0), None);
        assert_eq!(timestamp(3, -1), None);
        assert_eq!(timestamp(3, 1_000_000_000), None);
        assert_eq!(timestamp(3, 7), Some(Duration::new(3, 7)));
    }
}
