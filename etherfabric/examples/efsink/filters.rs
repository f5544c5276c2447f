// efsink's filters: described for `-i`.

use etherfabric::ffi;

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
