//! Finds and links the vendor library (or links nothing), and optionally regenerates the
//! bindings. All the logic lives in the shared `sdk-build` crate.

fn main() {
    sdk_build::ONLOAD_EXT.build();
}
