/* Stand-ins for the vendor libraries, used only by ci/check-discovery to prove that the build
 * scripts find, link and report a library given by environment variable. Each defines just the
 * version query the crates call, and what the safe crates' first open needs (ef_vi's driver
 * open/close, zf_init/zf_deinit). */
const char *ef_vi_version_str(void) { return "fake-ef_vi-1.2.3"; }
/* Opening and closing the driver, so that a program opening a Driver links; the safe crate
 * must refuse before it calls these when the version differs. */
int ef_driver_open(int *dh) { *dh = 1000; return 0; }
int ef_driver_close(int dh) { (void)dh; return 0; }
const char *zf_version(void) { return "fake-tcpdirect-4.5.6"; }
int zf_init(void) { return 0; }
int zf_deinit(void) { return 0; }
int onload_is_present(void) { return 1; }
