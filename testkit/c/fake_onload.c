/* A stand-in for Onload's libonload.so, preloaded by tests/not_under_onload.rs to check that the
 * software backend's functions reach the definitions of a preloaded library, as they would
 * reach Onload's under `onload ./app`. Each returns a value the stub never returns. */
int onload_is_present(void) { return 1; }
int onload_thread_get_spin(unsigned *state) { *state = 0x5a5a; return 0; }
int onload_stack_opt_get_int(const char *opt, long long *val) { (void)opt; *val = 4242; return 0; }

/* The extensions ABI version Onload exports; tests choose it with FAKE_ONLOAD_EXT_VERSION
 * ("major.minor.micro") to see how onload_sys::check_linked_version judges it. */
#include <stdio.h>
#include <stdlib.h>
unsigned onload_lib_ext_version[3] = {1, 2, 0};
__attribute__((constructor)) static void fake_onload_init(void)
{
  const char *v = getenv("FAKE_ONLOAD_EXT_VERSION");
  if( v != NULL )
    sscanf(v, "%u.%u.%u", &onload_lib_ext_version[0], &onload_lib_ext_version[1],
           &onload_lib_ext_version[2]);
}
