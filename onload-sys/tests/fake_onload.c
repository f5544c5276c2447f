/* A stand-in for Onload's libonload.so, preloaded by tests/not_under_onload.rs to check that the
 * software backend's functions reach the definitions of a preloaded library, as they would
 * reach Onload's under `onload ./app`. Each returns a value the stub never returns. */
int onload_is_present(void) { return 1; }
int onload_thread_get_spin(unsigned *state) { *state = 0x5a5a; return 0; }
int onload_stack_opt_get_int(const char *opt, long long *val) { (void)opt; *val = 4242; return 0; }
