/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * solarflare-rs: TCPDirect attribute objects (ABI of Xilinx-CNS/tcpdirect
 * 9.2.1).  Include <zf/zf.h>, not this file.
 */

#ifndef __ZF_ATTR_H__
#define __ZF_ATTR_H__

#ifndef __IN_ZF_TOP_H__
# error "TCPDirect headers must be reached through <zf/zf.h>."
#endif

/* A complete set of named attribute values ("interface", "log_level",
 * "max_udp_rx_endpoints", ...).  Objects are created from an attribute set
 * and read only the attributes that concern them.  Defaults can be
 * overridden from the environment variable ZF_ATTR, e.g.
 * ZF_ATTR="interface=eth0;log_level=3".  The set of attributes may change
 * between releases, so be prepared for a name to be rejected. */
struct zf_attr;

/* Creates an attribute set holding the defaults (and ZF_ATTR).  Returns 0,
 * -ENOMEM, or -EINVAL when ZF_ATTR cannot be parsed. */
ZF_LIBENTRY int  zf_attr_alloc(struct zf_attr** attr_out);

/* Frees an attribute set. */
ZF_LIBENTRY void zf_attr_free(struct zf_attr* attr);

/* Puts every attribute back to its default. */
ZF_LIBENTRY void zf_attr_reset(struct zf_attr* attr);

/* Sets an integer attribute.  Returns 0, -ENOENT (no such attribute) or
 * -EOVERFLOW (value out of range). */
ZF_LIBENTRY int zf_attr_set_int(struct zf_attr* attr,
                                const char* name, int64_t val);

/* Reads an integer attribute into *val.  Returns 0, -ENOENT (no such
 * attribute) or -EINVAL (not an integer attribute). */
ZF_LIBENTRY int zf_attr_get_int(struct zf_attr* attr,
                                const char* name, int64_t* val);

/* Sets a string attribute (val may be NULL).  Returns 0, -ENOENT (no such
 * attribute) or -ENOMSG (not a string attribute). */
ZF_LIBENTRY int zf_attr_set_str(struct zf_attr* attr,
                                const char* name, const char* val);

/* Reads a string attribute.  *val receives a copy made with strdup() (the
 * caller free()s it) or NULL.  Returns 0, -ENOENT (no such attribute),
 * -EINVAL (not a string attribute) or -ENOMEM. */
ZF_LIBENTRY int zf_attr_get_str(struct zf_attr* attr,
                                const char* name, char** val);

/* Sets an attribute of any type from its text form.  Returns 0, -ENOENT (no
 * such attribute), -EINVAL (text not valid for the attribute) or -EOVERFLOW
 * (value out of range). */
ZF_LIBENTRY int zf_attr_set_from_str(struct zf_attr* attr,
                                     const char* name, const char* val);

/* zf_attr_set_from_str() with the text built by printf-style formatting. */
ZF_LIBENTRY int zf_attr_set_from_fmt(struct zf_attr* attr,
                                     const char* name, const char* fmt, ...);

/* Returns a new attribute set with the same values as `attr`. */
ZF_LIBENTRY struct zf_attr* zf_attr_dup(const struct zf_attr* attr);

/* Documentation lookup.  With the name of an attribute, *docs_out receives
 * an array of six strings: name, type ("int", "str", ...), status ("stable",
 * "hidden", "beta", ...), default value, object types it applies to, and
 * description.  With NULL or "", the array lists every attribute name.
 * *docs_len_out receives the array length; free the array (not the strings)
 * with free().  Returns 0 or a negative errno value. */
ZF_LIBENTRY int zf_attr_doc(const char* attr_name_opt,
                            const char*** docs_out, int* docs_len_out);

#endif /* __ZF_ATTR_H__ */
