/* One row of the generated layout tables (c/<lib>_layout.c, written by ci/gen-layout-tests):
 * the name of a size, alignment or field offset and its value as C computes it. A table ends
 * with a row whose name is null. The Rust side is sys_conformance::LayoutFact. */
#ifndef SYS_CONFORMANCE_LAYOUT_FACT_H
#define SYS_CONFORMANCE_LAYOUT_FACT_H

#include <stddef.h>

struct layout_fact {
  const char* name;
  size_t value;
};

#endif
