//! A decoded value, typed, and its two renderings: strace-style text and JSON.
//!
//! The decoder builds [`Field`]s; `dump` prints them as text, `dump --json`
//! and `export` emit them as JSON, and the TUI shows them. No reader parses
//! text back. The JSON shapes are documented in `docs/json.md`.

use crate::names;
use serde_json::{json, Map, Value as Json};
use std::borrow::Cow;
use std::fmt::Write as _;

/// One decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// A count, size, offset or timestamp.
    Uint(u64),
    /// A signed value (a file delta, an exit code).
    Int(i64),
    /// A guest address or a userdata tag: hexadecimal in text.
    Hex(u64),
    /// A file descriptor, with the path it was opened from when known.
    Fd {
        fd: u64,
        path: Option<String>,
    },
    /// An enum value: its name from `names`, or its number when it has none.
    Enum {
        raw: u64,
        names: &'static [&'static str],
    },
    /// A set of flags named by bit; bits without a name are kept. Text
    /// shortens long sets when `abbreviate` is set (rights).
    Flags {
        raw: u64,
        names: &'static [&'static str],
        abbreviate: bool,
    },
    /// An errno inside a structure (a poll event's error).
    Errno(u16),
    /// A path or name from guest memory: always shown whole.
    Text(Vec<u8>),
    /// Data from guest memory: `limit` bytes are shown (`dump -s`);
    /// `incomplete` when the guest's buffer cut the item itself short.
    Data {
        bytes: Vec<u8>,
        limit: usize,
        incomplete: bool,
    },
    List(Vec<Field>),
    /// A structure: named fields in their order.
    Record(Vec<Named>),
    /// Something that is not a value: the leftover of a cut item.
    Note(String),
}

/// A field and its name: a parameter, an out-parameter or a structure field.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    pub name: Cow<'static, str>,
    pub field: Field,
    /// Shown without `name=` in text, as strace shows data and tags.
    pub bare: bool,
}

impl Named {
    pub fn new(name: impl Into<Cow<'static, str>>, field: Field) -> Named {
        Named {
            name: name.into(),
            field,
            bare: false,
        }
    }

    /// A field shown without its name in text.
    pub fn bare(name: impl Into<Cow<'static, str>>, field: Field) -> Named {
        Named {
            bare: true,
            ..Named::new(name, field)
        }
    }

    /// `name=value`, or the value alone when bare.
    pub fn write_text(&self, out: &mut String) {
        if !self.bare {
            out.push_str(&self.name);
            out.push('=');
        }
        self.field.write_text(out);
    }
}

impl Field {
    /// Shown data, cut at `limit` bytes.
    pub fn data(bytes: &[u8], limit: usize) -> Field {
        Field::Data {
            bytes: bytes.to_vec(),
            limit,
            incomplete: false,
        }
    }

    /// The strace-style text.
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }

    pub fn write_text(&self, out: &mut String) {
        match self {
            Field::Uint(n) => out.push_str(itoa::Buffer::new().format(*n)),
            Field::Int(n) => out.push_str(itoa::Buffer::new().format(*n)),
            Field::Hex(n) => {
                let _ = write!(out, "{n:#x}");
            }
            Field::Fd { fd, path } => {
                out.push_str(itoa::Buffer::new().format(*fd));
                if let Some(p) = path {
                    let _ = write!(out, "<{p}>");
                }
            }
            Field::Enum { raw, names } => match names.get(*raw as usize) {
                Some(name) => out.push_str(name),
                None => {
                    let _ = write!(out, "{raw}");
                }
            },
            Field::Flags {
                raw,
                names,
                abbreviate,
            } => {
                let n = raw.count_ones();
                if *abbreviate && n > 3 {
                    // The two lowest bits, then how many there are in all.
                    let lowest: u64 = (0..64)
                        .map(|b| 1u64 << b)
                        .filter(|m| raw & m != 0)
                        .take(2)
                        .sum();
                    flag_text(out, lowest, names);
                    let _ = write!(out, "|...({n} rights)");
                } else {
                    flag_text(out, *raw, names);
                }
            }
            Field::Errno(0) => out.push('0'),
            Field::Errno(e) => out.push_str(&names::errno_name(*e)),
            Field::Text(bytes) => quote_into(out, bytes, usize::MAX),
            Field::Data {
                bytes,
                limit,
                incomplete,
            } => {
                quote_into(out, bytes, *limit);
                if *incomplete {
                    out.push_str(" (cut)");
                }
            }
            Field::List(items) => {
                out.push('[');
                write_joined(out, items, Field::write_text);
                out.push(']');
            }
            Field::Record(fields) => {
                out.push('{');
                write_joined(out, fields, Named::write_text);
                out.push('}');
            }
            Field::Note(s) => out.push_str(s),
        }
    }

    /// The typed JSON value (see `docs/json.md`).
    pub fn json(&self) -> Json {
        match self {
            Field::Uint(n) | Field::Hex(n) => json!(n),
            Field::Int(n) => json!(n),
            Field::Fd { fd, .. } => json!(fd),
            Field::Enum { raw, names } => match names.get(*raw as usize) {
                Some(name) => json!(name),
                None => json!(raw),
            },
            Field::Flags { raw, names, .. } => {
                let mut set: Vec<Json> = Vec::new();
                let mut rest = *raw;
                for (bit, name) in names.iter().enumerate() {
                    if raw & (1 << bit) != 0 {
                        set.push(json!(name));
                        rest &= !(1 << bit);
                    }
                }
                if rest != 0 {
                    set.push(json!(format!("{rest:#x}")));
                }
                Json::Array(set)
            }
            Field::Errno(e) => json!(e),
            Field::Text(bytes) => json!(String::from_utf8_lossy(bytes)),
            Field::Data {
                bytes,
                limit,
                incomplete,
            } => {
                let shown = &bytes[..bytes.len().min(*limit)];
                let mut m = Map::new();
                m.insert("len".into(), json!(bytes.len()));
                m.insert("text".into(), json!(String::from_utf8_lossy(shown)));
                m.insert("hex".into(), json!(hex(shown)));
                if shown.len() < bytes.len() {
                    m.insert("truncated".into(), json!(true));
                }
                if *incomplete {
                    m.insert("incomplete".into(), json!(true));
                }
                Json::Object(m)
            }
            Field::List(items) => Json::Array(items.iter().map(Field::json).collect()),
            Field::Record(fields) => object(fields),
            Field::Note(s) => json!(s),
        }
    }
}

/// Named fields as one JSON object; a fd's known path is added as
/// `<name>_path`.
pub fn object(fields: &[Named]) -> Json {
    let mut m = Map::new();
    for f in fields {
        m.insert(f.name.to_string(), f.field.json());
        if let Field::Fd { path: Some(p), .. } = &f.field {
            m.insert(format!("{}_path", f.name), json!(p));
        }
    }
    Json::Object(m)
}

/// Each item's text, separated by `, `.
pub fn write_joined<T>(out: &mut String, items: &[T], write: impl Fn(&T, &mut String)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write(item, out);
    }
}

/// `A|B|0x40`, or `0` when no bit is set.
fn flag_text(out: &mut String, raw: u64, names: &[&str]) {
    if raw == 0 {
        out.push('0');
        return;
    }
    let mut rest = raw;
    let mut first = true;
    for (bit, name) in names.iter().enumerate() {
        let mask = 1u64 << bit;
        if raw & mask != 0 {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            first = false;
            rest &= !mask;
        }
    }
    if rest != 0 {
        if !first {
            out.push('|');
        }
        let _ = write!(out, "{rest:#x}");
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Quotes bytes as strace does: C escapes, `\xNN` for the rest, `...` after
/// the closing quote when cut at `max` bytes.
pub fn quote(bytes: &[u8], max: usize) -> String {
    let mut s = String::with_capacity(bytes.len().min(max) + 2);
    quote_into(&mut s, bytes, max);
    s
}

/// Appends [`quote`]'s text to `s`.
fn quote_into(s: &mut String, bytes: &[u8], max: usize) {
    let shown = &bytes[..bytes.len().min(max)];
    s.push('"');
    for &b in shown {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    if bytes.len() > shown.len() {
        s.push_str("...");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(raw: u64, names: &'static [&'static str]) -> Field {
        Field::Flags {
            raw,
            names,
            abbreviate: false,
        }
    }

    #[test]
    fn flags_and_enums_print_like_strace_and_emit_names_in_json() {
        assert_eq!(flags(1 | 8, &names::OFLAGS).text(), "CREAT|TRUNC");
        assert_eq!(flags(0, &names::OFLAGS).text(), "0");
        assert_eq!(flags(4 | 0x100, &names::FDFLAGS).text(), "NONBLOCK|0x100");
        assert_eq!(
            flags(4 | 0x100, &names::FDFLAGS).json(),
            json!(["NONBLOCK", "0x100"])
        );
        assert_eq!(flags(0, &names::FDFLAGS).json(), json!([]));
        let clock = |raw| Field::Enum {
            raw,
            names: &names::CLOCK_IDS,
        };
        assert_eq!(clock(1).text(), "MONOTONIC");
        assert_eq!(clock(1).json(), json!("MONOTONIC"));
        assert_eq!(clock(9).text(), "9");
        assert_eq!(clock(9).json(), json!(9));
        let rights = Field::Flags {
            raw: 0b1_0111,
            names: &names::RIGHTS,
            abbreviate: true,
        };
        assert_eq!(rights.text(), "FD_DATASYNC|FD_READ|...(4 rights)");
        assert_eq!(rights.json().as_array().unwrap().len(), 4);
    }

    #[test]
    fn data_is_escaped_and_cut_like_strace_and_typed_in_json() {
        assert_eq!(quote(b"a\"b\\\n\x01", 32), "\"a\\\"b\\\\\\n\\x01\"");
        assert_eq!(quote(b"abcdef", 3), "\"abc\"...");
        let d = Field::data(b"abc\xff", 3);
        assert_eq!(d.text(), "\"abc\"...");
        assert_eq!(
            d.json(),
            json!({"len": 4, "text": "abc", "hex": "616263", "truncated": true})
        );
        assert_eq!(
            Field::Text(b"out/items.txt".to_vec()).json(),
            json!("out/items.txt")
        );
        let fd = Named::new(
            "fd",
            Field::Fd {
                fd: 4,
                path: Some("/data/x".into()),
            },
        );
        assert_eq!(
            object(std::slice::from_ref(&fd)),
            json!({"fd": 4, "fd_path": "/data/x"})
        );
        let mut s = String::new();
        fd.write_text(&mut s);
        assert_eq!(s, "fd=4</data/x>");
    }
}
