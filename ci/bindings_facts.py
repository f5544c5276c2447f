"""Facts read out of a bindgen-generated bindings.rs, shared by ci/abi-check and
ci/gen-layout-tests: sizes, alignments and member offsets (from bindgen's layout tests), each
struct's members with their normalised types, constants and function signatures."""
import re

C_ALIASES = {
    "c_char": "i8", "c_schar": "i8", "c_uchar": "u8", "c_short": "i16", "c_ushort": "u16",
    "c_int": "i32", "c_uint": "u32", "c_long": "i64", "c_ulong": "u64", "c_longlong": "i64",
    "c_ulonglong": "u64",
}


def split_top(s):
    """Splits on commas that are not inside <>, () or []."""
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "<([":
            depth += 1
        elif ch in ">)]" and not (ch == ">" and cur.endswith("-")):
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def norm(t):
    """A function-signature type, whitespace-normalised as the reference spells it."""
    return re.sub(r"\s+", " ", t.strip()).replace("< ", "<").replace(" >", ">")


def norm_member_type(t):
    """A member type as the reference spells it: no paths, no parameter names, C integer
    aliases as Rust integers, no whitespace, no `usize` suffix on array lengths."""
    t = re.sub(r"(?:::)?(?:std|core)::(?:os::raw|ffi|option|mem)::", "", t)
    t = re.sub(r"\b(c_[a-z]+)\b", lambda m: C_ALIASES.get(m.group(1), m.group(1)), t)
    t = re.sub(r"(\d+)usize\b", r"\1", t)
    t = re.sub(r"([(,]\s*)\w+\s*:\s*(?!:)", r"\1", t)  # parameter names in fn(...)
    t = re.sub(r"\s+", "", t)
    return re.sub(r",(?=[)>])", "", t)  # rustfmt's trailing commas


def members(text):
    """Struct/union name -> {member: normalised type}, in declaration order."""
    out = {}
    for name, body in re.findall(r"pub (?:struct|union) (\w+) \{(.*?)\n\}", text, re.S):
        body = re.sub(r'#\[doc\s*=\s*"(?:[^"\\]|\\.)*"\]', "", body)
        body = re.sub(r"#\[[^\]]*\]", "", body)
        body = re.sub(r"//[^\n]*", "", body)
        fields = {}
        for part in split_top(re.sub(r"\s+", " ", body)):
            m = re.match(r"pub (\w+)\s*:\s*(.+)$", part)
            if m:
                fields[m.group(1)] = norm_member_type(m.group(2))
        out[name] = fields
    return out


def layout(text):
    """(sizes, aligns, offsets) from bindgen's layout tests; offsets keyed by (struct, member)."""
    flat = re.sub(r"\s+", " ", text)
    sizes = {n: int(v) for n, v in re.findall(
        r'\["Size of (\w+)"\]\s*\[\s*::std::mem::size_of::<\w+>\(\) - (\d+)usize\s*\]', flat)}
    aligns = {n: int(v) for n, v in re.findall(
        r'\["Alignment of (\w+)"\]\s*\[\s*::std::mem::align_of::<\w+>\(\) - (\d+)usize\s*\]', flat)}
    offsets = {(s, f): int(v) for s, f, v in re.findall(
        r'\["Offset of field: (\w+)::(\w+)"\]\s*\[\s*::std::mem::offset_of!\(\s*\w+\s*,\s*\w+\s*\)'
        r' - (\d+)usize\s*\]', flat)}
    return sizes, aligns, offsets


def constants(text):
    flat = re.sub(r"\s+", " ", text)
    return {n: int(v) for n, v in re.findall(r"pub const (\w+): [\w:]+ = (-?\d+)(?:\w+)?;", flat)}


def functions(text):
    """Name -> ([argument types], return type) of every extern "C" declaration."""
    flat = re.sub(r"\s+", " ", text)
    funcs = {}
    for block in re.findall(r'extern "C" \{(.*?)\}', flat):
        for name, args, ret in re.findall(r"pub fn (\w+)\s*\((.*?)\)\s*(?:->\s*([^;]+?))?\s*;", block):
            types = []
            for a in split_top(args):
                if a == "...":  # variadic marker: not an argument type
                    continue
                types.append(norm(a.split(":", 1)[1]) if ":" in a and not a.startswith("::") else norm(a))
            funcs[name] = (types, norm(ret) if ret else "()")
    return funcs
