//! The event queue timer (`etherfabric/timer.h`), for VIs made with
//! [`ViFlags::ENABLE_EV_TIMER`].
//!
//! When the timer reaches zero the adapter raises a timeout on the event queue. The library
//! hands the application no event for it: its effect is to wake a VI armed with
//! [`Vi::prime`] (interrupt moderation, or a bounded wait for the next event). Starting or
//! clearing the timer never raises a timeout for the previous run.
//!
//! The software backend implements the timer with a `timerfd` that wakes a primed VI.

use std::ffi::c_uint;

use super::*;

/// The timer's unit is the microsecond, and the library wants a value of at least 1.
fn timer_micros(what: &str, t: Duration) -> Result<c_uint> {
    let us = t.as_nanos().div_ceil(1000);
    match c_uint::try_from(us) {
        Ok(0) => Err(Error::invalid(format!(
            "{what}: a timer of 0 µs (use Vi::timer_zero for an immediate timeout)"
        ))),
        Ok(v) => Ok(v),
        Err(_) => Err(Error::invalid(format!(
            "{what}: a timer of {t:?} is longer than {} µs",
            c_uint::MAX
        ))),
    }
}

impl Vi {
    /// Checks that the timer may be used, and converts `t` (when given) for the library.
    fn timer_check(&self, call: &'static str, t: Option<Duration>) -> Result<c_uint> {
        if !self.flags.contains(ViFlags::ENABLE_EV_TIMER) {
            return Err(Error::invalid(
                "the VI was made without ViFlags::ENABLE_EV_TIMER",
            ));
        }
        self.own_evq_check()?;
        t.map_or(Ok(0), |t| timer_micros(call, t))
    }

    /// Loads the event queue timer with `t` (rounded up to whole microseconds, at least 1;
    /// the adapter adjusts it slightly) to start when the next event arrives
    /// (`ef_eventq_timer_prime`); a running timer is stopped first, without a timeout.
    pub fn timer_prime(&mut self, t: Duration) -> Result<()> {
        let v = self.timer_check("ef_eventq_timer_prime", Some(t))?;
        // SAFETY: the VI is live, has its own event queue and a timer (checked), and is used
        // by this thread only; `v` is at least 1 as the library asserts.
        unsafe { ffi::ef_eventq_timer_prime(self.raw, v) };
        Ok(())
    }

    /// Loads the event queue timer with `t` and starts it now (`ef_eventq_timer_run`); a
    /// running timer is stopped first, without a timeout.
    pub fn timer_run(&mut self, t: Duration) -> Result<()> {
        let v = self.timer_check("ef_eventq_timer_run", Some(t))?;
        // SAFETY: as in `timer_prime`.
        unsafe { ffi::ef_eventq_timer_run(self.raw, v) };
        Ok(())
    }

    /// Stops the event queue timer without a timeout; it does not start with the next event
    /// either (`ef_eventq_timer_clear`).
    pub fn timer_clear(&mut self) -> Result<()> {
        self.timer_check("ef_eventq_timer_clear", None)?;
        // SAFETY: the VI is live, has its own event queue and a timer, and is used by this
        // thread only.
        unsafe { ffi::ef_eventq_timer_clear(self.raw) };
        Ok(())
    }

    /// Primes the event queue timer to time out as soon as the next event arrives
    /// (`ef_eventq_timer_zero`); a running timer is stopped first, without a timeout.
    pub fn timer_zero(&mut self) -> Result<()> {
        self.timer_check("ef_eventq_timer_zero", None)?;
        // SAFETY: as in `timer_clear`.
        unsafe { ffi::ef_eventq_timer_zero(self.raw) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_values_are_whole_microseconds_of_at_least_one() {
        assert_eq!(timer_micros("t", Duration::from_nanos(1)).unwrap(), 1);
        assert_eq!(timer_micros("t", Duration::from_micros(250)).unwrap(), 250);
        assert_eq!(
            timer_micros("t", Duration::from_nanos(250_001)).unwrap(),
            251
        );
        let e = timer_micros("t", Duration::ZERO).unwrap_err();
        assert!(e.to_string().contains("0 µs"), "{e}");
        let e = timer_micros("t", Duration::from_secs(5000)).unwrap_err();
        assert!(e.to_string().contains("longer than"), "{e}");
    }
}
