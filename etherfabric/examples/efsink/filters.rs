// efsink's filters: added as the command line asks (with the `-x` / `-s` RX queue flags) and
// described for `-i`.

use std::os::fd::AsRawFd;

use etherfabric::{Error, Filter, FilterFlags, FilterSpec, Result, Vi, ffi};

/// A filter efsink added to its VI.
pub enum Installed {
    /// Through the safe API; removed when dropped.
    Guarded(Filter),
    /// With extra flags on a parsed spec, which the safe API cannot express yet (a
    /// [`FilterSpec`] parsed from text has no way to take flags afterwards), so through
    /// `ef_vi_filter_add` itself. Removed with the VI, as every filter of a VI is.
    Raw(ffi::ef_filter_cookie),
}

/// The crate's error for a failed ef_vi call returning `rc` (a negative errno).
fn call_error(call: &'static str, rc: i32) -> Error {
    let source = std::io::Error::from_raw_os_error(-rc);
    match -rc {
        libc::EOPNOTSUPP | libc::ENOSYS | libc::EPROTONOSUPPORT => {
            Error::Unsupported { call, source }
        }
        _ => Error::Os { call, source },
    }
}

/// Adds `spec` to `vi` with `flags` added to the spec's own.
pub fn install(vi: &mut Vi, spec: &FilterSpec, flags: FilterFlags) -> Result<Installed> {
    if flags.is_empty() {
        return vi.add_filter(spec).map(Installed::Guarded);
    }
    let mut raw = *spec.as_raw();
    raw.flags |= flags.bits();
    let dh = vi.as_raw_fd();
    let mut cookie = ffi::ef_filter_cookie::default();
    // SAFETY: `raw` is an initialised spec (a copy of one) and `cookie` is writable; the VI is
    // live and used by this thread only, and adding a filter posts no descriptor, so the
    // crate's buffer accounting stays right; the pointer is not kept.
    let rc = unsafe { ffi::ef_vi_filter_add(vi.as_raw(), dh, &raw, &mut cookie) };
    if rc < 0 {
        return Err(call_error("ef_vi_filter_add", rc));
    }
    Ok(Installed::Raw(cookie))
}

impl Installed {
    /// What the driver says about the filter (`ef_vi_filter_query`).
    pub fn query(&self, vi: &mut Vi) -> Result<ffi::ef_filter_info> {
        match self {
            Installed::Guarded(f) => vi.filter_info_raw(f),
            Installed::Raw(cookie) => {
                let dh = vi.as_raw_fd();
                // SAFETY: plain C data, for which zeroes are a valid value.
                let mut info: ffi::ef_filter_info = unsafe { std::mem::zeroed() };
                // SAFETY: the VI is live and used by this thread only; `cookie` names one of
                // its filters; `info` is writable for its size; the pointer is not kept.
                let rc = unsafe {
                    ffi::ef_vi_filter_query(
                        vi.as_raw(),
                        dh,
                        cookie,
                        &mut info,
                        std::mem::size_of::<ffi::ef_filter_info>(),
                    )
                };
                if rc < 0 {
                    return Err(call_error("ef_vi_filter_query", rc));
                }
                Ok(info)
            }
        }
    }
}

/// One line about filter `spec`: its hardware filter id and RX queue (where the driver
/// reports them) and whether it owns its queue.
pub fn describe(spec: &str, info: &ffi::ef_filter_info) -> String {
    let has = |field: ffi::ef_filter_info_fields| info.valid_fields & u64::from(field) != 0;
    let id = if has(ffi::ef_filter_info_fields_EF_FILTER_FIELD_ID) {
        info.filter_id.to_string()
    } else {
        "none".into()
    };
    let q = if has(ffi::ef_filter_info_fields_EF_FILTER_FIELD_QUEUE) {
        info.q_id.to_string()
    } else {
        "none".into()
    };
    let exclusive = info.flags & ffi::ef_filter_info_flags_EF_FILTER_IS_EXCLUSIVE != 0;
    format!(
        "filter {spec}: filter_id={id} rxq={q} {}",
        if exclusive { "exclusive" } else { "shared" }
    )
}
