/* Stand-ins for the vendor libraries, used only by ci/check-discovery to prove that the build
 * scripts find, link and report a library given by environment variable. Each defines just the
 * version query the crates call. */
const char *ef_vi_version_str(void) { return "fake-ef_vi-1.2.3"; }
const char *zf_version(void) { return "fake-tcpdirect-4.5.6"; }
int onload_is_present(void) { return 1; }
