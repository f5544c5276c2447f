//! `mio` integration: the stack's waitable fd as a [`mio::event::Source`].

use std::io;
use std::os::fd::AsRawFd;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::stack::WaitableFd;

/// Register the stack's waitable fd ([`Stack::waitable_fd`](crate::Stack::waitable_fd))
/// with a mio `Poll` for `Interest::READABLE`; prime it ([`WaitableFd::prime`]) before each
/// `poll`, then run the reactor when it fires. The `mio` example shows the loop.
impl mio::event::Source for WaitableFd<'_> {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.as_raw_fd()).register(registry, token, interests)
    }
    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.as_raw_fd()).reregister(registry, token, interests)
    }
    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        SourceFd(&self.as_raw_fd()).deregister(registry)
    }
}
