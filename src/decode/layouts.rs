//! The byte layouts of preview1's structures (`typenames.witx`), decoded
//! into [`Field`]s: out-pointer values, `fdstat`, `filestat`, `prestat`,
//! poll subscriptions and events, and `fd_readdir`'s dirents.
//!
//! Every read is bounds-checked: a short or damaged range decodes as zeros,
//! never a panic.

use super::field::{Field, Named};
use crate::capture::{EVENT_SIZE, SUBSCRIPTION_SIZE};
use crate::names;
use crate::syscalls::Out;

/// The little-endian integer of `width` bytes at `at`; 0 when out of range.
fn le(bytes: &[u8], at: usize, width: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(src) = bytes.get(at..at + width) {
        b[..width].copy_from_slice(src);
    }
    u64::from_le_bytes(b)
}

fn filetype(raw: u64) -> Field {
    Field::Enum {
        raw,
        names: &names::FILETYPES,
    }
}

fn flags(raw: u64, names: &'static [&'static str]) -> Field {
    Field::Flags {
        raw,
        names,
        abbreviate: false,
    }
}

/// What the host stored at an out-pointer. `abbreviate_rights` shortens
/// long rights sets in text.
pub fn out_value(o: Out, b: &[u8], abbreviate_rights: bool) -> Field {
    let rights = |raw| Field::Flags {
        raw,
        names: &names::RIGHTS,
        abbreviate: abbreviate_rights,
    };
    match o {
        Out::Size | Out::Fd => Field::Uint(le(b, 0, 4)),
        Out::Timestamp | Out::FileSize => Field::Uint(le(b, 0, 8)),
        Out::RoFlags => flags(le(b, 0, 2), &names::ROFLAGS),
        Out::Fdstat => Field::Record(vec![
            Named::new("filetype", filetype(le(b, 0, 1))),
            Named::new("flags", flags(le(b, 2, 2), &names::FDFLAGS)),
            Named::new("rights_base", rights(le(b, 8, 8))),
            Named::new("rights_inheriting", rights(le(b, 16, 8))),
        ]),
        Out::Filestat => Field::Record(vec![
            Named::new("dev", Field::Uint(le(b, 0, 8))),
            Named::new("ino", Field::Uint(le(b, 8, 8))),
            Named::new("filetype", filetype(le(b, 16, 1))),
            Named::new("nlink", Field::Uint(le(b, 24, 8))),
            Named::new("size", Field::Uint(le(b, 32, 8))),
            Named::new("atim", Field::Uint(le(b, 40, 8))),
            Named::new("mtim", Field::Uint(le(b, 48, 8))),
            Named::new("ctim", Field::Uint(le(b, 56, 8))),
        ]),
        Out::Prestat => Field::Record(vec![
            Named::new(
                "tag",
                Field::Enum {
                    raw: le(b, 0, 1),
                    names: &names::PREOPENTYPES,
                },
            ),
            Named::new("name_len", Field::Uint(le(b, 4, 4))),
        ]),
    }
}

/// poll_oneoff's subscriptions, 48 bytes each.
pub fn subscriptions(b: &[u8]) -> Field {
    let items = b.chunks(SUBSCRIPTION_SIZE as usize).map(|s| {
        let tag = le(s, 8, 1);
        let mut fields = vec![Named::new("userdata", Field::Hex(le(s, 0, 8)))];
        let kind = Field::Enum {
            raw: tag,
            names: &names::EVENT_TYPES,
        };
        match tag {
            0 => fields.extend([
                Named::bare("type", kind),
                Named::new(
                    "id",
                    Field::Enum {
                        raw: le(s, 16, 4),
                        names: &names::CLOCK_IDS,
                    },
                ),
                Named::new("timeout", Field::Uint(le(s, 24, 8))),
                Named::new("precision", Field::Uint(le(s, 32, 8))),
                Named::new("flags", flags(le(s, 40, 2), &names::SUBCLOCKFLAGS)),
            ]),
            1 | 2 => fields.extend([
                Named::bare("type", kind),
                Named::new("fd", Field::Uint(le(s, 16, 4))),
            ]),
            _ => fields.push(Named::new("type", kind)),
        }
        Field::Record(fields)
    });
    Field::List(items.collect())
}

/// poll_oneoff's events, 32 bytes each.
pub fn events(b: &[u8]) -> Field {
    let items = b.chunks(EVENT_SIZE as usize).map(|e| {
        let tag = le(e, 10, 1);
        let mut fields = vec![
            Named::new("userdata", Field::Hex(le(e, 0, 8))),
            Named::new("error", Field::Errno(le(e, 8, 2) as u16)),
            Named::new(
                "type",
                Field::Enum {
                    raw: tag,
                    names: &names::EVENT_TYPES,
                },
            ),
        ];
        // fd_readwrite: bytes available and whether the peer hung up.
        if tag != 0 {
            fields.push(Named::new("nbytes", Field::Uint(le(e, 16, 8))));
            fields.push(Named::new(
                "flags",
                flags(le(e, 24, 2), &names::EVENTRWFLAGS),
            ));
        }
        Field::Record(fields)
    });
    Field::List(items.collect())
}

/// Dirents as fd_readdir writes them: a 24-byte header and the name; the
/// last may be cut by the buffer's end.
pub fn dirents(b: &[u8], strsize: usize) -> Field {
    const HEADER: usize = 24;
    let mut items = Vec::new();
    let mut at = 0usize;
    while at + HEADER <= b.len() {
        let namlen = le(b, at + 16, 4) as usize;
        let name_end = (at + HEADER).saturating_add(namlen).min(b.len());
        items.push(Field::Record(vec![
            Named::new("d_next", Field::Uint(le(b, at, 8))),
            Named::new("d_ino", Field::Uint(le(b, at + 8, 8))),
            Named::new("d_type", filetype(le(b, at + 20, 1))),
            Named::new(
                "name",
                Field::Data {
                    bytes: b[at + HEADER..name_end].to_vec(),
                    limit: strsize,
                    incomplete: name_end - (at + HEADER) < namlen,
                },
            ),
        ]));
        at = name_end;
    }
    if at < b.len() {
        items.push(Field::Note(format!(
            "<{} bytes of a cut entry>",
            b.len() - at
        )));
    }
    Field::List(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_damaged_ranges_decode_as_zeros() {
        assert_eq!(out_value(Out::Size, &[7], false).text(), "0");
        assert_eq!(
            out_value(Out::Prestat, &[0, 0, 0, 0, 5, 0, 0, 0], false).text(),
            "{tag=DIR, name_len=5}"
        );
        assert_eq!(
            out_value(Out::Filestat, &[], false).text(),
            "{dev=0, ino=0, filetype=UNKNOWN, nlink=0, size=0, atim=0, mtim=0, ctim=0}"
        );
    }

    #[test]
    fn a_dirent_cut_by_the_buffer_says_so() {
        let mut b = vec![0u8; 24];
        b[0] = 1; // d_next
        b[16] = 5; // d_namlen
        b[20] = 4; // REGULAR_FILE
        b.extend_from_slice(b"abc");
        assert_eq!(
            dirents(&b, 32).text(),
            "[{d_next=1, d_ino=0, d_type=REGULAR_FILE, name=\"abc\" (cut)}]"
        );
        assert_eq!(dirents(&b[..10], 32).text(), "[<10 bytes of a cut entry>]");
    }

    #[test]
    fn subscriptions_and_events_name_their_types() {
        let mut sub = vec![0u8; 48];
        sub[0] = 0x2a;
        sub[16] = 1; // MONOTONIC
        sub[24] = 100;
        sub[40] = 1; // ABSTIME
        assert_eq!(
            subscriptions(&sub).text(),
            "[{userdata=0x2a, CLOCK, id=MONOTONIC, timeout=100, precision=0, flags=ABSTIME}]"
        );
        let mut ev = vec![0u8; 32];
        ev[8] = 8; // EBADF
        ev[10] = 1; // FD_READ
        ev[16] = 3;
        assert_eq!(
            events(&ev).text(),
            "[{userdata=0x0, error=EBADF, type=FD_READ, nbytes=3, flags=0}]"
        );
    }
}
