//! Attributes: the named settings TCPDirect reads when it creates stacks and zockets.

use std::ffi::{CStr, CString, c_char, c_int};
use std::fmt;
use std::ptr::NonNull;

use zf_sys::zf_attr;

use crate::error::{Error, Result};

/// A set of TCPDirect attributes (`struct zf_attr`), freed on drop.
///
/// Every attribute has a name, a type (integer, string or bitmask) and a default;
/// [`Attr::names`] lists those the linked library knows and [`Attr::doc`] describes one.
/// The typed setters cover the common ones; [`Attr::set_int`], [`Attr::set_str`] and
/// [`Attr::set_from_str`] reach any of them by name. An unknown name is
/// [`Error::UnknownAttribute`].
///
/// ```
/// let mut attr = tcpdirect::Attr::from_env()?;
/// attr.set_interface("lo")?.set_max_tcp_endpoints(8)?;
/// assert_eq!(attr.get_int("max_tcp_endpoints")?, 8);
/// assert!(matches!(attr.set_int("no_such_attr", 1),
///                  Err(tcpdirect::Error::UnknownAttribute { .. })));
/// # Ok::<(), tcpdirect::Error>(())
/// ```
pub struct Attr {
    raw: NonNull<zf_attr>,
}

// SAFETY: an attribute object is plain memory owned by this value; TCPDirect keeps no
// reference to it and it has no thread affinity, so it may move between threads. It is not
// Sync: every access goes through `&mut self` or through TCPDirect calls that read it, and
// reads from two threads at once are not documented as safe.
unsafe impl Send for Attr {}

/// The documentation of one attribute, from [`Attr::doc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrDoc {
    /// The attribute's name.
    pub name: String,
    /// Its type: `"int"`, `"str"` or `"bitmask"`.
    pub ty: String,
    /// Its status, e.g. `"stable"`, `"beta"`, `"hidden"`.
    pub status: String,
    /// Its default value, as text.
    pub default: String,
    /// The objects it applies to, e.g. `"zf_stack"`, `"zf_socket"`.
    pub objects: String,
    /// What it does.
    pub description: String,
}

fn cstring(what: &'static str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Nul { what })
}

/// The error for a failed set/get of attribute `name` (`value` when setting).
fn attr_error(call: &'static str, name: &str, value: Option<String>, rc: c_int) -> Error {
    if rc == -libc::ENOENT {
        return Error::UnknownAttribute {
            name: name.to_owned(),
        };
    }
    match value {
        Some(value) => Error::BadAttributeValue {
            name: name.to_owned(),
            value,
            source: std::io::Error::from_raw_os_error(-rc),
        },
        None => Error::call(call, rc.into()),
    }
}

/// Frees what `zf_attr_alloc` handed back, if anything.
fn free_raw(p: *mut zf_attr) {
    if !p.is_null() {
        // SAFETY: `p` came from zf_attr_alloc and is owned by nobody else.
        unsafe { zf_sys::zf_attr_free(p) };
    }
}

macro_rules! int_setters {
    ($($(#[$m:meta])* $fn:ident($ty:ty) => $name:literal;)*) => {$(
        $(#[$m])*
        #[doc = concat!("\n\nSets `", $name, "`.")]
        pub fn $fn(&mut self, value: $ty) -> Result<&mut Self> {
            self.set_int($name, i64::from(value))?;
            Ok(self)
        }
    )*};
}

impl Attr {
    /// Allocates an attribute set with the library's defaults, then applies the `ZF_ATTR`
    /// environment variable (`name=value;name=value`), as `zf_attr_alloc` does.
    ///
    /// A `ZF_ATTR` that TCPDirect cannot parse is [`Error::BadZfAttr`]; whatever the library
    /// allocated before refusing it is freed.
    pub fn from_env() -> Result<Attr> {
        crate::init()?;
        let mut p: *mut zf_attr = std::ptr::null_mut();
        // SAFETY: valid out pointer.
        let rc = unsafe { zf_sys::zf_attr_alloc(&mut p) };
        if rc < 0 {
            // The real library returns an allocated object even when it refuses ZF_ATTR.
            free_raw(p);
            let value = std::env::var("ZF_ATTR").unwrap_or_default();
            return Err(if value.is_empty() {
                Error::call("zf_attr_alloc", rc.into())
            } else {
                Error::BadZfAttr {
                    value,
                    source: std::io::Error::from_raw_os_error(-rc),
                }
            });
        }
        match NonNull::new(p) {
            Some(raw) => Ok(Attr { raw }),
            None => Err(Error::call("zf_attr_alloc", -(libc::ENOMEM as i64))),
        }
    }

    /// The raw `struct zf_attr*`, for calls this crate does not wrap. It stays owned by `self`.
    pub fn as_ptr(&self) -> *mut zf_attr {
        self.raw.as_ptr()
    }

    /// Returns every attribute to its default (`zf_attr_reset`; `ZF_ATTR` is not re-applied).
    pub fn reset(&mut self) {
        // SAFETY: live attribute object owned by self.
        unsafe { zf_sys::zf_attr_reset(self.as_ptr()) }
    }

    /// Sets an integer (or bitmask) attribute by name.
    pub fn set_int(&mut self, name: &str, value: i64) -> Result<&mut Self> {
        let n = cstring("attribute name", name)?;
        // SAFETY: live attribute object, C string.
        let rc = unsafe { zf_sys::zf_attr_set_int(self.as_ptr(), n.as_ptr(), value) };
        if rc < 0 {
            return Err(attr_error(
                "zf_attr_set_int",
                name,
                Some(value.to_string()),
                rc,
            ));
        }
        Ok(self)
    }

    /// Reads an integer (or bitmask) attribute by name.
    pub fn get_int(&self, name: &str) -> Result<i64> {
        let n = cstring("attribute name", name)?;
        let mut v = 0i64;
        // SAFETY: live attribute object, C string, valid out pointer.
        let rc = unsafe { zf_sys::zf_attr_get_int(self.as_ptr(), n.as_ptr(), &mut v) };
        if rc < 0 {
            return Err(attr_error("zf_attr_get_int", name, None, rc));
        }
        Ok(v)
    }

    /// Sets a string attribute by name.
    pub fn set_str(&mut self, name: &str, value: &str) -> Result<&mut Self> {
        let n = cstring("attribute name", name)?;
        let v = cstring("attribute value", value)?;
        // SAFETY: live attribute object, C strings.
        let rc = unsafe { zf_sys::zf_attr_set_str(self.as_ptr(), n.as_ptr(), v.as_ptr()) };
        if rc < 0 {
            return Err(attr_error("zf_attr_set_str", name, Some(value.into()), rc));
        }
        Ok(self)
    }

    /// Reads a string attribute by name; `None` when it has no value.
    pub fn get_str(&self, name: &str) -> Result<Option<String>> {
        let n = cstring("attribute name", name)?;
        let mut p: *mut c_char = std::ptr::null_mut();
        // SAFETY: live attribute object, C string, valid out pointer.
        let rc = unsafe { zf_sys::zf_attr_get_str(self.as_ptr(), n.as_ptr(), &mut p) };
        if rc < 0 {
            return Err(attr_error("zf_attr_get_str", name, None, rc));
        }
        if p.is_null() {
            return Ok(None);
        }
        // SAFETY: zf_attr_get_str returns a malloc'ed NUL-terminated copy, ours to free.
        let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
        // SAFETY: as above; freed once.
        unsafe { libc::free(p.cast()) };
        Ok(Some(s))
    }

    /// Sets any attribute from its text form, as `ZF_ATTR` would (`zf_attr_set_from_str`).
    pub fn set_from_str(&mut self, name: &str, value: &str) -> Result<&mut Self> {
        let n = cstring("attribute name", name)?;
        let v = cstring("attribute value", value)?;
        // SAFETY: live attribute object, C strings.
        let rc = unsafe { zf_sys::zf_attr_set_from_str(self.as_ptr(), n.as_ptr(), v.as_ptr()) };
        if rc < 0 {
            return Err(attr_error(
                "zf_attr_set_from_str",
                name,
                Some(value.into()),
                rc,
            ));
        }
        Ok(self)
    }

    /// Applies a `ZF_ATTR`-style list, `name=value;name=value`.
    pub fn apply(&mut self, list: &str) -> Result<&mut Self> {
        for item in list.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((n, v)) = item.split_once('=') else {
                return Err(Error::InvalidArgument {
                    what: format!("attribute list item {item:?} is not name=value"),
                });
            };
            self.set_from_str(n.trim(), v.trim())?;
        }
        Ok(self)
    }

    /// Sets the network interface the stack binds to (`interface`).
    pub fn set_interface(&mut self, name: &str) -> Result<&mut Self> {
        self.set_str("interface", name)
    }

    /// Sets the stack's name, shown by TCPDirect's tools (`name`).
    pub fn set_name(&mut self, name: &str) -> Result<&mut Self> {
        self.set_str("name", name)
    }

    int_setters! {
        /// The most TCP zockets a stack can hold (at most 64).
        set_max_tcp_endpoints(u32) => "max_tcp_endpoints";
        /// The most TCP listening zockets a stack can hold.
        set_max_tcp_listen_endpoints(u32) => "max_tcp_listen_endpoints";
        /// The most UDP receive zockets a stack can hold.
        set_max_udp_rx_endpoints(u32) => "max_udp_rx_endpoints";
        /// The most UDP transmit zockets a stack can hold.
        set_max_udp_tx_endpoints(u32) => "max_udp_tx_endpoints";
        /// How many TX alternatives a stack has (0: none; needed by alternatives).
        set_alt_count(u32) => "alt_count";
        /// The buffer space shared by a stack's alternatives, in bytes.
        set_alt_buf_size(u32) => "alt_buf_size";
        /// How many times the reactor polls before it returns with nothing done.
        set_reactor_spin_count(u32) => "reactor_spin_count";
        /// Whether to time-stamp received packets (0 or 1).
        set_rx_timestamping(u8) => "rx_timestamping";
        /// Whether to time-stamp transmitted packets and report them (0 or 1).
        set_tx_timestamping(u8) => "tx_timestamping";
        /// Whether TCP delays its ACKs (0 or 1).
        set_tcp_delayed_ack(u8) => "tcp_delayed_ack";
        /// Whether a stack counts TIME_WAIT connections as not quiescent (0 or 1).
        set_tcp_wait_for_time_wait(u8) => "tcp_wait_for_time_wait";
        /// How long TIME_WAIT lasts, in milliseconds.
        set_tcp_timewait_ms(u32) => "tcp_timewait_ms";
        /// The IP TTL of UDP datagrams sent.
        set_udp_ttl(u8) => "udp_ttl";
        /// Whether to use PIO (0 off, 1 if available, 2 required).
        set_pio(u8) => "pio";
        /// Whether to use CTPIO (0 off, 1 if available, 2 required).
        set_ctpio(u8) => "ctpio";
    }

    /// A copy of every attribute (`zf_attr_dup`).
    pub fn try_clone(&self) -> Result<Attr> {
        // SAFETY: live attribute object.
        let p = unsafe { zf_sys::zf_attr_dup(self.as_ptr()) };
        NonNull::new(p)
            .map(|raw| Attr { raw })
            .ok_or_else(|| Error::call("zf_attr_dup", -(libc::ENOMEM as i64)))
    }

    /// The names of every attribute the linked library knows (`zf_attr_doc(NULL)`).
    pub fn names() -> Result<Vec<String>> {
        doc_strings(None)
    }

    /// The documentation of one attribute (`zf_attr_doc(name)`).
    pub fn doc(name: &str) -> Result<AttrDoc> {
        let n = cstring("attribute name", name)?;
        let v = doc_strings(Some(&n)).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => Error::UnknownAttribute { name: name.into() },
            _ => e,
        })?;
        let mut it = v.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Ok(AttrDoc {
            name: next(),
            ty: next(),
            status: next(),
            default: next(),
            objects: next(),
            description: next(),
        })
    }
}

/// The strings `zf_attr_doc` returns; the array is freed here (the strings are the
/// library's own).
fn doc_strings(name: Option<&CStr>) -> Result<Vec<String>> {
    crate::init()?;
    let mut docs: *mut *const c_char = std::ptr::null_mut();
    let mut len: c_int = 0;
    let np = name.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: null or a C string; valid out pointers.
    let rc = unsafe { zf_sys::zf_attr_doc(np, &mut docs, &mut len) };
    if rc < 0 {
        return Err(Error::call("zf_attr_doc", rc.into()));
    }
    let mut out = Vec::with_capacity(len.max(0) as usize);
    if !docs.is_null() {
        for i in 0..len.max(0) as usize {
            // SAFETY: zf_attr_doc returned `len` entries.
            let p = unsafe { *docs.add(i) };
            if !p.is_null() {
                // SAFETY: each entry is a NUL-terminated string owned by the library.
                out.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
            }
        }
        // SAFETY: the array was malloc'ed for the caller, who frees it once.
        unsafe { libc::free(docs.cast()) };
    }
    Ok(out)
}

impl Drop for Attr {
    fn drop(&mut self) {
        free_raw(self.as_ptr());
    }
}

impl fmt::Debug for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Attr");
        if let Ok(Some(i)) = self.get_str("interface") {
            d.field("interface", &i);
        }
        d.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_errors() {
        let mut a = Attr::from_env().unwrap();
        a.set_interface("lo").unwrap();
        assert_eq!(a.get_str("interface").unwrap().as_deref(), Some("lo"));
        a.set_from_str("max_tcp_endpoints", "5").unwrap();
        assert_eq!(a.get_int("max_tcp_endpoints").unwrap(), 5);
        let e = a.set_int("definitely_not_an_attr", 1).unwrap_err();
        assert!(matches!(&e, Error::UnknownAttribute { name } if name == "definitely_not_an_attr"));
        assert!(e.to_string().contains("definitely_not_an_attr"));
        assert!(matches!(
            a.get_int("nope"),
            Err(Error::UnknownAttribute { .. })
        ));
        assert!(matches!(a.set_str("na\0me", "x"), Err(Error::Nul { .. })));
        let b = a.try_clone().unwrap();
        assert_eq!(b.get_int("max_tcp_endpoints").unwrap(), 5);
        a.reset();
        assert_ne!(a.get_int("max_tcp_endpoints").unwrap(), 5);
        assert!(a.apply("bogus").is_err());
        a.apply("max_tcp_endpoints=3; tcp_delayed_ack=0").unwrap();
        assert_eq!(a.get_int("max_tcp_endpoints").unwrap(), 3);
    }

    #[test]
    fn docs() {
        let names = Attr::names().unwrap();
        assert!(names.iter().any(|n| n == "interface"), "{names:?}");
        let d = Attr::doc("max_tcp_endpoints").unwrap();
        assert_eq!(d.name, "max_tcp_endpoints");
        assert_eq!(d.ty, "int");
        assert!(matches!(
            Attr::doc("nope"),
            Err(Error::UnknownAttribute { .. })
        ));
    }
}
