//! Filters, MAC, MTU, statistics and identity of a VI.

use super::*;

impl Vi {
    /// Adds a filter steering matching packets to this VI (`ef_vi_filter_add`); the filter is
    /// removed when the returned guard is dropped: at once when dropped while no `Vi` handle
    /// is left, else by this VI's next [`poll`](Self::poll) (or [`remove_dropped_filters`],
    /// or its drop), because ef_vi calls on one VI must not run on two threads.
    ///
    /// [`remove_dropped_filters`]: Self::remove_dropped_filters
    pub fn add_filter(&mut self, spec: &FilterSpec) -> Result<Filter> {
        self.remove_dropped_filters();
        Filter::add(&self.core, spec)
    }

    /// Removes the filters of this VI dropped since the last poll (`ef_vi_filter_del`).
    #[cold]
    pub fn remove_dropped_filters(&mut self) {
        let mut d = self.core.deferred.lock().unwrap_or_else(|e| e.into_inner());
        self.core.remove_filters(&mut d);
    }

    /// Asks the driver about one of this VI's filters (`ef_vi_filter_query`); the C
    /// `ef_filter_info` is returned as it is.
    pub fn filter_info_raw(&mut self, filter: &Filter) -> Result<ffi::ef_filter_info> {
        filter.query(&self.core)
    }

    /// The VI's MAC address (`ef_vi_get_mac`; not cheap: cache it).
    pub fn mac(&self) -> Result<[u8; 6]> {
        let mut mac = [0u8; 6];
        // SAFETY: the VI is live; `mac` has 6 bytes.
        check("ef_vi_get_mac", unsafe {
            ffi::ef_vi_get_mac(self.raw, self.core.dh, mac.as_mut_ptr().cast())
        })?;
        Ok(mac)
    }

    /// The interface's MTU (`ef_vi_mtu`).
    pub fn mtu(&self) -> u32 {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_mtu(self.raw, self.core.dh) }
    }

    /// The VI's statistics counters by name (`ef_vi_stats_query_layout`,
    /// `ef_vi_stats_query`), optionally resetting them.
    pub fn stats(&mut self, reset: bool) -> Result<Vec<(String, u64)>> {
        let mut layout: *const ffi::ef_vi_stats_layout = std::ptr::null();
        // SAFETY: the VI is live; `layout` is writable.
        check("ef_vi_stats_query_layout", unsafe {
            ffi::ef_vi_stats_query_layout(self.raw, &mut layout)
        })?;
        if layout.is_null() {
            return Ok(Vec::new());
        }
        // SAFETY: the library returned a valid layout that lives as long as the VI.
        let (size, fields) = unsafe {
            let l = &*layout;
            (
                l.evsl_data_size.max(0) as usize,
                l.evsl_fields.as_slice(l.evsl_fields_num.max(0) as usize),
            )
        };
        let mut data = vec![0u8; size];
        // SAFETY: `data` has the layout's size.
        check("ef_vi_stats_query", unsafe {
            ffi::ef_vi_stats_query(
                self.raw,
                self.core.dh,
                data.as_mut_ptr().cast(),
                c_int::from(reset),
            )
        })?;
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            // SAFETY: field names are C strings owned by the layout.
            let name = unsafe { std::ffi::CStr::from_ptr(f.evsfl_name) }
                .to_string_lossy()
                .into_owned();
            let off = f.evsfl_offset.max(0) as usize;
            let sz = f.evsfl_size.max(0) as usize;
            let v = match data.get(off..off + sz) {
                Some(b) if sz == 4 => {
                    u64::from(u32::from_ne_bytes(b.try_into().unwrap_or_default()))
                }
                Some(b) if sz == 8 => u64::from_ne_bytes(b.try_into().unwrap_or_default()),
                _ => continue,
            };
            out.push((name, v));
        }
        Ok(out)
    }

    /// The flags the VI was made with.
    pub fn flags(&self) -> ViFlags {
        self.flags
    }

    /// The queue id the allocation returned.
    pub fn q_id(&self) -> u32 {
        self.q_id
    }

    /// The VI's instance number (`ef_vi_instance`).
    pub fn instance(&self) -> u32 {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_instance(self.raw) }
    }

    /// The VI's resource id (`ef_vi_resource_id`).
    pub fn resource_id(&self) -> u32 {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_resource_id(self.raw) }
    }

    /// True when the VI was made with the pool `pool`.
    pub fn uses_pool(&self, pool: &BufferPool) -> bool {
        Arc::ptr_eq(&self.pool, &pool.shared)
    }
}
