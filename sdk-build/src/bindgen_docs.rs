//! Documentation for what bindgen cannot carry over from the headers by itself.
//!
//! bindgen turns the headers' comments into doc attributes on functions, types, fields and enum
//! variants. It has no comment for:
//!
//! * object-like macros (`#define NAME 42`): their constants get the comment written directly
//!   before the `#define` or after its value on the same line, read from the headers here;
//! * the C library's types the SDK headers use (`struct iovec`, `socklen_t`, ...): documented
//!   from a table in our own words;
//! * names bindgen invents: anonymous structs and unions (`..__bindgen_ty_N`), its helper types
//!   (`__BindgenBitfieldUnit`, `__IncompleteArrayField`) and filler fields (`_bitfield_N`,
//!   `__bindgen_padding_N`, ...) are hidden from the documentation with `#[doc(hidden)]`;
//!   bit-field accessor methods get a generated one-line doc.
//!
//! Only attributes are added: the generated items themselves are left exactly as bindgen made
//! them.

use std::collections::HashMap;

/// Whether a type name was invented by bindgen for an anonymous C struct, union or enum.
fn is_anonymous_name(name: &str) -> bool {
    name.contains("__bindgen") || name.starts_with("_bindgen_ty_")
}

/// Docs for the C library's structs and unions that the SDK headers use.
const LIBC_TYPES: &[(&str, &str)] = &[
    (
        "iovec",
        "One piece of a scatter/gather buffer list (C library `struct iovec`).",
    ),
    (
        "timespec",
        "A time in seconds and nanoseconds (C library `struct timespec`).",
    ),
    (
        "timeval",
        "A time in seconds and microseconds (C library `struct timeval`).",
    ),
    (
        "in6_addr",
        "An IPv6 address in network byte order (C library `struct in6_addr`).",
    ),
    (
        "iphdr",
        "An IPv4 header as laid out on the wire (C library `struct iphdr`, `<netinet/ip.h>`).",
    ),
    (
        "tcphdr",
        "A TCP header as laid out on the wire (C library `struct tcphdr`, `<netinet/tcp.h>`).",
    ),
    (
        "udphdr",
        "A UDP header as laid out on the wire (C library `struct udphdr`, `<netinet/udp.h>`).",
    ),
    (
        "sockaddr",
        "A socket address of any family (C library `struct sockaddr`).",
    ),
    (
        "msghdr",
        "A message for `sendmsg`/`recvmsg`: address, data pieces and control data (C library `struct msghdr`).",
    ),
    (
        "epoll_event",
        "One readiness event of an epoll set (C library `struct epoll_event`).",
    ),
    (
        "epoll_data",
        "The user data stored with an epoll registration (C library `union epoll_data`).",
    ),
];

/// Docs for the fields of [`LIBC_TYPES`]: per type, (field, doc).
const LIBC_FIELDS: &[(&str, &[(&str, &str)])] = &[
    (
        "iovec",
        &[
            ("iov_base", "Start of the piece."),
            ("iov_len", "Length of the piece in bytes."),
        ],
    ),
    (
        "timespec",
        &[
            ("tv_sec", "Whole seconds."),
            ("tv_nsec", "Nanoseconds, 0 to 999 999 999."),
        ],
    ),
    (
        "in6_addr",
        &[(
            "__in6_u",
            "The 16 address bytes, also seen as 16- or 32-bit words.",
        )],
    ),
    (
        "timeval",
        &[
            ("tv_sec", "Whole seconds."),
            ("tv_usec", "Microseconds, 0 to 999 999."),
        ],
    ),
    (
        "iphdr",
        &[
            ("tos", "Type of service (DSCP and ECN bits)."),
            (
                "tot_len",
                "Length of the datagram, header included (network byte order).",
            ),
            (
                "id",
                "Identification, for reassembly of fragments (network byte order).",
            ),
            (
                "frag_off",
                "Fragment flags and offset (network byte order).",
            ),
            ("ttl", "Time to live."),
            ("protocol", "Protocol of the payload (`IPPROTO_*`)."),
            ("check", "Header checksum (network byte order)."),
            ("saddr", "Source address (network byte order)."),
            ("daddr", "Destination address (network byte order)."),
        ],
    ),
    (
        "udphdr",
        &[
            ("source", "Source port (network byte order)."),
            ("dest", "Destination port (network byte order)."),
            ("len", "Length of header and payload (network byte order)."),
            (
                "check",
                "Checksum, 0 when unused over IPv4 (network byte order).",
            ),
        ],
    ),
    (
        "sockaddr",
        &[
            ("sa_family", "Address family (`AF_*`)."),
            ("sa_data", "Address bytes, laid out as the family defines."),
        ],
    ),
    (
        "msghdr",
        &[
            ("msg_name", "Peer address, or null."),
            ("msg_namelen", "Size of the buffer at `msg_name`."),
            ("msg_iov", "Data pieces."),
            ("msg_iovlen", "Number of pieces at `msg_iov`."),
            ("msg_control", "Control data (`cmsg` records), or null."),
            ("msg_controllen", "Size of the buffer at `msg_control`."),
            ("msg_flags", "Flags reported by `recvmsg` (`MSG_*`)."),
        ],
    ),
    (
        "epoll_event",
        &[
            ("events", "Readiness bits (`EPOLLIN`, `EPOLLOUT`, ...)."),
            ("data", "The user data given at registration."),
        ],
    ),
    (
        "epoll_data",
        &[
            ("ptr", "User data as a pointer."),
            ("fd", "User data as a file descriptor."),
            ("u32_", "User data as a 32-bit number."),
            ("u64_", "User data as a 64-bit number."),
        ],
    ),
];

/// Docs for the C library's type aliases that the SDK headers use.
const LIBC_ALIASES: &[(&str, &str)] = &[
    (
        "__time_t",
        "The C library's internal type of `time_t` (seconds).",
    ),
    (
        "__suseconds_t",
        "The C library's internal type of `suseconds_t` (microseconds).",
    ),
    (
        "__syscall_slong_t",
        "The C library's `long` as the kernel interface sees it.",
    ),
    (
        "__socklen_t",
        "The C library's internal type of `socklen_t`.",
    ),
    (
        "socklen_t",
        "A length of a socket address or option (C library `socklen_t`).",
    ),
    (
        "sa_family_t",
        "An address family number (C library `sa_family_t`).",
    ),
    ("__off_t", "The C library's internal type of `off_t`."),
    ("off_t", "A file offset (C library `off_t`)."),
    (
        "epoll_data_t",
        "The user data stored with an epoll registration (C library `epoll_data_t`).",
    ),
    (
        "tcp_seq",
        "A TCP sequence number (C library `tcp_seq`, `<netinet/tcp.h>`).",
    ),
];

/// Looks `key` up in a (name, doc) table.
fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, d)| *d)
}

/// A doc attribute's inner tokens (`doc = " text"`), in bindgen's style of a leading space.
fn doc_attr(text: &str) -> String {
    let body: Vec<String> = text.lines().map(|l| format!(" {l}")).collect();
    format!("doc = {:?}", body.join("\n"))
}

/// The attributes to add to a generated struct or union named `name` (for bindgen's
/// `ParseCallbacks::add_attributes`, which wants whole attributes).
pub(crate) fn type_attributes(name: &str) -> Vec<String> {
    if is_anonymous_name(name) {
        vec!["#[doc(hidden)]".into()]
    } else if let Some(doc) = lookup(LIBC_TYPES, name) {
        vec![format!("#[{}]", doc_attr(doc))]
    } else {
        vec![]
    }
}

/// The attributes to add to field `field` of `type_name` (for bindgen's
/// `ParseCallbacks::field_attributes`, which wants the attributes' inner tokens).
pub(crate) fn field_attributes(type_name: &str, field: &str) -> Vec<String> {
    let fields = LIBC_FIELDS.iter().find(|(t, _)| *t == type_name);
    if let Some(doc) = fields.and_then(|(_, fields)| lookup(fields, field)) {
        return vec![doc_attr(doc)];
    }
    if field.starts_with("__bindgen_anon_") {
        return vec![doc_attr(
            "The members of an unnamed C struct or union, reached through this field.",
        )];
    }
    vec![]
}

/// Strips the comment markers of one C comment (`/* ... */` or `//` lines) and its continuation
/// lines' leading `*`.
fn comment_text(raw: &str) -> String {
    let raw = raw.trim();
    let inner = if let Some(body) = raw.strip_prefix("/*") {
        body.strip_suffix("*/").unwrap_or(body)
    } else {
        raw
    };
    let lines: Vec<&str> = inner
        .lines()
        .map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("//").unwrap_or(l);
            let l = if l.starts_with("*") && !l.starts_with("*/") {
                &l[1..]
            } else {
                l
            };
            l.trim()
        })
        .collect();
    let first = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let last = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(first, |i| i + 1);
    lines[first..last].join("\n")
}

/// The name of the object-like macro `line` defines (`#define NAME value`), if it does.
fn defined_macro(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("define")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    // A function-like macro has `(` right after its name; bindgen makes no constant of it.
    (!name.is_empty() && !rest[end..].starts_with('(')).then_some(name)
}

/// Whether a (trimmed) line is a conditional preprocessor directive.
fn is_conditional(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('#') else {
        return false;
    };
    let word = rest.trim_start().split([' ', '\t']).next().unwrap_or("");
    matches!(word, "if" | "ifdef" | "ifndef" | "elif" | "else" | "endif")
}

/// The comment of every object-like macro in one header: the comment ending on the line before
/// the `#define` (conditional directives in between are allowed), else a `/* ... */` after the
/// value on the same line. The first `#define` of a name with a comment wins.
pub(crate) fn macro_docs(header: &str, docs: &mut HashMap<String, String>) {
    let lines: Vec<&str> = header.lines().collect();
    // Line index where the last comment ended, and its text.
    let mut last_comment: Option<(usize, String)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with("/*") {
            let start = i;
            while !lines[i].contains("*/") && i + 1 < lines.len() {
                i += 1;
            }
            last_comment = Some((i, comment_text(&lines[start..=i].join("\n"))));
        } else if trimmed.starts_with("//") {
            let start = i;
            while i + 1 < lines.len() && lines[i + 1].trim_start().starts_with("//") {
                i += 1;
            }
            last_comment = Some((i, comment_text(&lines[start..=i].join("\n"))));
        } else if is_conditional(trimmed) {
            // `/* doc */ #if A  #define X 1  #else  #define X 2 #endif`: the comment stays
            // attached across the conditionals.
            if let Some((end, _)) = last_comment.as_mut() {
                if *end + 1 == i {
                    *end = i;
                }
            }
        } else if let Some(name) = defined_macro(line) {
            let trailing = line
                .find("/*")
                .map(|at| comment_text(&line[at..]))
                .filter(|t| !t.is_empty());
            let before = last_comment
                .as_ref()
                .filter(|(end, text)| *end + 1 == i && !text.is_empty())
                .map(|(_, text)| text.clone());
            if let Some(doc) = trailing.or(before) {
                docs.entry(name.to_string()).or_insert(doc);
            }
        }
        i += 1;
    }
}

/// The name a line declares at the top level of the generated file, if it begins with `prefix`
/// (`pub const `, `pub type `).
fn declared_name<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(prefix)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The doc of a bit-field accessor that bindgen generated in `impl` blocks, from the method's
/// signature line, if it is one.
fn accessor_doc(signature: &str) -> Option<String> {
    let sig = signature.trim_start();
    let name_of = |s: &str| -> String {
        let end = s.find('(').unwrap_or(s.len());
        let n = &s[..end];
        // bindgen appends `_` to names that are Rust keywords (`type_`); the C name has none.
        n.strip_suffix('_').unwrap_or(n).to_string()
    };
    if let Some(rest) = sig.strip_prefix("pub unsafe fn set_") {
        let name = rest.split('(').next()?.strip_suffix("_raw")?;
        let name = name_of(name);
        return Some(format!(
            "Writes bit-field `{name}` through a raw pointer, without making a reference.\n\n\
             # Safety\n\n`this` must point to a valid, writable value."
        ));
    }
    if let Some(rest) = sig.strip_prefix("pub unsafe fn ") {
        let name = rest.split('(').next()?.strip_suffix("_raw")?;
        let name = name_of(name);
        return Some(format!(
            "Reads bit-field `{name}` through a raw pointer, without making a reference.\n\n\
             # Safety\n\n`this` must point to a valid value."
        ));
    }
    if let Some(rest) = sig.strip_prefix("pub fn new_bitfield_") {
        let n = rest.split('(').next()?;
        return Some(format!(
            "Packs the given values of the bit-fields into storage unit `_bitfield_{n}`."
        ));
    }
    if let Some(rest) = sig.strip_prefix("pub fn set_") {
        if rest.contains("(&mut self, val: ") {
            return Some(format!("Writes bit-field `{}`.", name_of(rest)));
        }
    }
    if let Some(rest) = sig.strip_prefix("pub fn ") {
        if rest.contains("(&self) -> ") {
            return Some(format!("Reads bit-field `{}`.", name_of(rest)));
        }
    }
    None
}

/// Whether a field line (`    pub NAME: ...`) declares a filler field bindgen invented.
fn is_filler_field(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("    pub ") else {
        return false;
    };
    let name = rest.split(':').next().unwrap_or("");
    name.starts_with("_bitfield_")
        || name.starts_with("__bindgen_padding_")
        || name == "_bindgen_align"
        || name == "_address"
}

/// Adds the doc attributes bindgen could not produce to the formatted bindings `text`:
/// `macro_docs` for macro constants, [`LIBC_ALIASES`] for type aliases, `#[doc(hidden)]` on
/// bindgen's helper types, filler fields and the integer types of anonymous enums, and docs
/// for bit-field accessors.
pub(crate) fn add_missing_docs(text: &str, macro_docs: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut prev = "";
    // Inside a top-level `impl` block of a type with a name of its own.
    let mut in_named_impl = false;
    let push_doc = |out: &mut String, indent: &str, inner: String| {
        out.push_str(indent);
        out.push_str("#[");
        out.push_str(&inner);
        out.push_str("]\n");
    };
    let lines: Vec<&str> = text.lines().collect();
    for (i, &line) in lines.iter().enumerate() {
        let documented = prev.trim_start().starts_with("#[doc");
        if line.starts_with("impl") {
            in_named_impl = line.ends_with('{')
                && !line.contains(" for ")
                && !line.contains('<')
                && !is_anonymous_name(line);
        } else if line == "}" {
            in_named_impl = false;
        }
        if declared_name(line, "pub type ").is_some_and(is_anonymous_name) {
            // The integer type bindgen names for an anonymous C enum (`_bindgen_ty_N`).
            push_doc(&mut out, "", "doc(hidden)".into());
        }
        if !documented {
            if let Some(name) = declared_name(line, "pub const ") {
                if let Some(doc) = macro_docs.get(name) {
                    push_doc(&mut out, "", doc_attr(doc));
                }
            } else if let Some(name) = declared_name(line, "pub type ") {
                if let Some(doc) = lookup(LIBC_ALIASES, name) {
                    push_doc(&mut out, "", doc_attr(doc));
                }
            } else if line.starts_with("pub struct __BindgenBitfieldUnit<")
                || line.starts_with("pub struct __IncompleteArrayField<")
            {
                push_doc(&mut out, "", "doc(hidden)".into());
            } else if is_filler_field(line) {
                push_doc(&mut out, "    ", "doc(hidden)".into());
            } else if in_named_impl && line == "    #[inline]" {
                // The signature follows the method's attributes.
                let sig = lines[i + 1..]
                    .iter()
                    .find(|l| !l.trim_start().starts_with("#["));
                if let Some(doc) = sig.and_then(|s| accessor_doc(s)) {
                    push_doc(&mut out, "    ", doc_attr(&doc));
                }
            }
        }
        out.push_str(line);
        out.push('\n');
        prev = line;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_comment_before_or_after_the_define() {
        let header = "\
/* Not this one: a blank line follows. */

/* Largest number of widgets,
 * per gadget. */
#define MAX_WIDGETS 32
#define FLAG_A 0x1  /* the A flag */
#define FN_LIKE(x) (x)
#  define INDENTED 7
// line comment
#define LINE_DOC 1
#define UNDOCUMENTED 2
/* Chosen per architecture. */
#if defined(__powerpc__)
# define ALIGN 128
#else
# define ALIGN 64
#endif
#define AFTER_ALIGN 3
";
        let mut docs = HashMap::new();
        macro_docs(header, &mut docs);
        assert_eq!(
            docs["MAX_WIDGETS"],
            "Largest number of widgets,\nper gadget."
        );
        assert_eq!(docs["FLAG_A"], "the A flag");
        assert_eq!(docs["LINE_DOC"], "line comment");
        assert!(!docs.contains_key("FN_LIKE"));
        assert!(!docs.contains_key("INDENTED"));
        assert!(!docs.contains_key("UNDOCUMENTED"));
        assert_eq!(docs["ALIGN"], "Chosen per architecture.");
        assert!(!docs.contains_key("AFTER_ALIGN"));
    }

    #[test]
    fn adds_docs_only_where_missing() {
        let text = "\
pub const MAX_WIDGETS: u32 = 32;
#[doc = \" kept\"]
pub const FLAG_A: u32 = 1;
pub type socklen_t = __socklen_t;
#[doc = \" an anonymous enum\"]
pub type _bindgen_ty_3 = ::std::os::raw::c_uint;
pub struct __BindgenBitfieldUnit<Storage> {
pub struct s {
    pub _bitfield_1: __BindgenBitfieldUnit<[u8; 1usize]>,
    pub real: u8,
}
impl s {
    #[inline]
    #[allow(unnecessary_transmutes)]
    pub fn type_(&self) -> u32 {
    #[inline]
    pub unsafe fn set_type_raw(this: *mut Self, val: u32) {
}
impl s__bindgen_ty_1 {
    #[inline]
    pub fn x(&self) -> u32 {
}
";
        let mut docs = HashMap::new();
        docs.insert("MAX_WIDGETS".to_string(), "widgets".to_string());
        docs.insert("FLAG_A".to_string(), "not used".to_string());
        let out = add_missing_docs(text, &docs);
        assert!(out.starts_with("#[doc = \" widgets\"]\npub const MAX_WIDGETS"));
        assert!(!out.contains("not used"));
        assert!(out.contains("(C library `socklen_t`).\"]\npub type socklen_t"));
        assert!(out.contains("#[doc(hidden)]\npub struct __BindgenBitfieldUnit"));
        assert!(out.contains("#[doc(hidden)]\npub type _bindgen_ty_3"));
        assert!(out.contains("    #[doc(hidden)]\n    pub _bitfield_1"));
        assert!(!out.contains("#[doc(hidden)]\n    pub real"));
        assert!(out.contains("#[doc = \" Reads bit-field `type`.\"]\n    #[inline]"));
        assert!(out.contains("Writes bit-field `type` through a raw pointer"));
        assert!(!out.contains("bit-field `x`"));
    }

    #[test]
    fn anonymous_types_are_hidden_libc_types_documented() {
        assert_eq!(
            type_attributes("ef_event__bindgen_ty_1"),
            ["#[doc(hidden)]"]
        );
        assert!(type_attributes("iovec")[0].starts_with("#[doc = \" One piece"));
        assert!(type_attributes("ef_vi").is_empty());
        assert!(field_attributes("iovec", "iov_len")[0].starts_with("doc = "));
        assert!(!field_attributes("ef_vi", "__bindgen_anon_1").is_empty());
        assert!(field_attributes("ef_vi", "dh").is_empty());
    }
}
