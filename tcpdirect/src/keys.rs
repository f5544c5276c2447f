//! Keys: what the application holds for the objects a [`Stack`](crate::Stack) owns.

use std::fmt;

/// Index, generation and owning stack of one slot of a stack's object table.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RawKey {
    pub(crate) stack: u32,
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}.{}", self.stack, self.index, self.generation)
    }
}

macro_rules! key {
    ($(#[$m:meta])* $name:ident, $kind:literal) => {
        $(#[$m])*
        ///
        /// A key is plain data: it does nothing on its own and is checked (stack, slot and
        /// generation) each time it is used, so a key to a freed object, or one from another
        /// stack, gives [`Error::StaleKey`](crate::Error::StaleKey), never another object.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub struct $name(pub(crate) RawKey);

        impl $name {
            pub(crate) const KIND: &'static str = $kind;
        }
    };
}

key!(
    /// A TCP listening zocket (`zftl`) owned by a stack.
    ListenerKey,
    "TCP listener"
);
key!(
    /// A connected (or connecting, or closing) TCP zocket (`zft`) owned by a stack.
    TcpKey,
    "TCP zocket"
);
key!(
    /// A UDP receive zocket (`zfur`) owned by a stack.
    UdpRxKey,
    "UDP receive zocket"
);
key!(
    /// A UDP transmit zocket (`zfut`) owned by a stack.
    UdpTxKey,
    "UDP transmit zocket"
);
key!(
    /// A muxer (`zf_muxer_set`) owned by a stack.
    MuxerKey,
    "muxer"
);
key!(
    /// A TX alternative (`zf_althandle`) owned by a stack.
    AltKey,
    "alternative"
);

/// A TCP zocket not yet connected (`zft_handle`), owned by a stack.
///
/// Unlike the other keys it is neither `Copy` nor `Clone`: it is used up by
/// [`Stack::connect`](crate::Stack::connect), which gives it back on failure, or by
/// [`Stack::free_tcp_handle`](crate::Stack::free_tcp_handle). One dropped unused leaves its
/// handle in the stack until the stack is dropped.
#[derive(PartialEq, Eq, Hash, Debug)]
pub struct TcpHandleKey(pub(crate) RawKey);

impl TcpHandleKey {
    pub(crate) const KIND: &'static str = "TCP handle";
}
