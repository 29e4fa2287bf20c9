//! `docs/trace-format.md` checked against the code:
//!
//! - bincode 2's standard configuration, as the spec describes it, pinned
//!   byte by byte on test values;
//! - every record as wtrace's own writer stores it, pinned byte by byte;
//! - the function table in the spec, generated from `SYSCALLS`
//!   (`WTRACE_BLESS=1 cargo test --test spec` rewrites it);
//! - an independent reader written from the spec alone
//!   (`tests/independent/`) reads every committed trace and agrees with
//!   `TraceReader` on every field of every call;
//! - what readers do with versions, unknown ids, unknown frames and bytes
//!   after the footer.

mod common;
mod independent;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use wtrace::syscalls::{Fill, FuncId, Kind, Syscall, SYSCALLS};
use wtrace::trace::{
    func_name, Call, Chaos, End, Faults, Header, Injection, Mem, Outcome, PerFd, PerFunc, Preopen,
    RunEnd, Summary, TraceReader, TraceWriter, VerifyDepth, FORMAT_VERSION,
};

// ------------------------------------------------ bincode 2, standard config

fn enc<T: Serialize>(value: T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).unwrap()
}

fn dec<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    match bincode::serde::decode_from_slice::<T, _>(bytes, bincode::config::standard()) {
        Ok((v, used)) if used == bytes.len() => Ok(v),
        Ok((_, used)) => Err(format!("{} bytes left", bytes.len() - used)),
        Err(e) => Err(e.to_string()),
    }
}

/// Concatenates byte strings.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn unsigned_integers_are_varints_of_one_three_five_or_nine_bytes() {
    for v in [0u64, 1, 250] {
        assert_eq!(enc(v), [v as u8]);
        assert_eq!(enc(v as u32), [v as u8]);
        assert_eq!(enc(v as u16), [v as u8]);
    }
    assert_eq!(enc(251u64), [251, 251, 0]);
    assert_eq!(enc(251u16), [251, 251, 0]);
    assert_eq!(enc(300u32), [251, 0x2c, 0x01]);
    assert_eq!(enc(65535u64), [251, 0xff, 0xff]);
    assert_eq!(enc(65535u16), [251, 0xff, 0xff]);
    assert_eq!(enc(65536u64), [252, 0, 0, 1, 0]);
    assert_eq!(enc(65536u32), [252, 0, 0, 1, 0]);
    assert_eq!(enc(u32::MAX as u64), [252, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(enc(u32::MAX), [252, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(enc(1u64 << 32), [253, 0, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(
        enc(u64::MAX),
        [253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    );
    // usize (sequence lengths) is a u64 varint.
    assert_eq!(enc(70000usize), enc(70000u64));
    // 254 is u128's marker (no trace field is a u128); 255 is unused.
    assert_eq!(
        enc(1u128 << 64),
        cat(&[&[254], &(1u128 << 64).to_le_bytes()])
    );
}

#[test]
fn varint_decoding_takes_any_width_up_to_the_type_s_and_no_wider() {
    // Not the shortest form, but accepted: writers never produce it.
    assert_eq!(dec::<u64>(&[251, 5, 0]), Ok(5));
    assert_eq!(dec::<u64>(&[253, 5, 0, 0, 0, 0, 0, 0, 0]), Ok(5));
    assert_eq!(dec::<u16>(&[251, 0x01, 0x80]), Ok(0x8001));
    // A marker for a wider type than the field's is an error.
    assert!(dec::<u16>(&[252, 5, 0, 0, 0]).is_err());
    assert!(dec::<u32>(&[253, 5, 0, 0, 0, 0, 0, 0, 0]).is_err());
    assert!(dec::<u64>(&[254, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    assert!(dec::<u64>(&[255]).is_err());
    assert!(dec::<u64>(&[251, 5]).is_err());
}

#[test]
fn u8_is_one_raw_byte_and_never_a_varint() {
    assert_eq!(enc(0u8), [0]);
    assert_eq!(enc(250u8), [250]);
    assert_eq!(enc(251u8), [251]);
    assert_eq!(enc(255u8), [255]);
    assert_eq!(dec::<u8>(&[253]), Ok(253));
}

#[test]
fn signed_integers_are_zigzagged_then_varints() {
    let cases: [(i32, &[u8]); 9] = [
        (0, &[0]),
        (-1, &[1]),
        (1, &[2]),
        (-2, &[3]),
        (61, &[122]),
        (125, &[250]),
        (-126, &[251, 251, 0]),
        (i32::MAX, &[252, 0xfe, 0xff, 0xff, 0xff]),
        (i32::MIN, &[252, 0xff, 0xff, 0xff, 0xff]),
    ];
    for (v, bytes) in cases {
        assert_eq!(enc(v), bytes, "{v}");
        assert_eq!(dec::<i32>(bytes), Ok(v));
    }
}

#[test]
fn byte_arrays_strings_options_tuples_and_sequences() {
    // [u8; 32]: the 32 bytes, no length.
    let hash: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
    assert_eq!(enc(hash), hash);
    // Vec<u8>: a varint length, then the bytes; serde_bytes changes nothing.
    let bytes: Vec<u8> = (0..300).map(|i| i as u8).collect();
    let want = cat(&[&[251, 0x2c, 0x01], &bytes]);
    assert_eq!(enc(&bytes), want);
    assert_eq!(enc(serde_bytes::Bytes::new(&bytes)), want);
    assert_eq!(enc(Vec::<u8>::new()), [0]);
    // String: a varint length in bytes, then UTF-8.
    assert_eq!(enc("héllo"), cat(&[&[6], "héllo".as_bytes()]));
    assert!(dec::<String>(&[2, 0xc3, 0x28]).is_err());
    // Option: a raw byte 0 (None) or 1 (Some) then the value.
    assert_eq!(enc(None::<u64>), [0]);
    assert_eq!(enc(Some(300u64)), [1, 251, 0x2c, 0x01]);
    assert!(dec::<Option<u64>>(&[2, 0]).is_err());
    // Tuples and structs: the fields in order, no count, no names.
    assert_eq!(enc(("A", "1")), [1, b'A', 1, b'1']);
    assert_eq!(
        enc(Preopen {
            host: "/tmp".into(),
            guest: "/t".into()
        }),
        cat(&[&[4], b"/tmp", &[2], b"/t"])
    );
    // Vec<T>: a varint count, then the items.
    assert_eq!(enc(vec![1u64, 300]), [2, 1, 251, 0x2c, 0x01]);
    assert_eq!(enc(vec![("A", "1")]), [1, 1, b'A', 1, b'1']);
}

#[test]
fn enums_are_a_u32_varint_variant_index_then_the_fields() {
    assert_eq!(enc(Outcome::Errno(0)), [0, 0]);
    assert_eq!(enc(Outcome::Errno(44)), [0, 44]);
    assert_eq!(enc(Outcome::Errno(300)), [0, 251, 0x2c, 0x01]);
    assert_eq!(enc(Outcome::Exit(61)), [1, 122]);
    assert_eq!(enc(Outcome::Exit(-1)), [1, 1]);
    assert_eq!(enc(Outcome::Trap("x".into())), [2, 1, b'x']);
    assert_eq!(enc(RunEnd::Exit(0)), [0, 0]);
    assert_eq!(enc(RunEnd::Trap("t".into())), [1, 1, b't']);
    assert_eq!(enc(RunEnd::Signal(15)), [2, 30]);
    assert_eq!(enc(RunEnd::WriteFailed("w".into())), [3, 1, b'w']);
    // The index is read as a varint: a longer form of 2 is still Trap.
    assert_eq!(
        dec::<Outcome>(&[251, 2, 0, 1, b'x']),
        Ok(Outcome::Trap("x".into()))
    );
    assert!(dec::<Outcome>(&[3, 0]).is_err());
    // The spec's worked example.
    let end = End {
        run_end: RunEnd::Exit(61),
        calls: 8,
        duration_ns: 70000,
        summary: None,
    };
    assert_eq!(enc(end), [0x00, 0x7a, 0x08, 0xfc, 0x70, 0x11, 0x01, 0x00]);
}

#[test]
fn function_ids_and_memory_ranges_encode_as_the_spec_says() {
    // FuncId is a plain u16 varint.
    assert_eq!(enc(FuncId(26)), [26]);
    assert_eq!(enc(FuncId(0x8000)), [251, 0x00, 0x80]);
    assert_eq!(enc(FuncId(0x8001)), [251, 0x01, 0x80]);
    // Mem: param a raw u8, addr a u32 varint, bytes with a length.
    let mem = Mem {
        param: 255,
        addr: 70000,
        bytes: b"hi".to_vec(),
    };
    assert_eq!(enc(&mem), [255, 252, 0x70, 0x11, 0x01, 0x00, 2, b'h', b'i']);
}

// ------------------------------------- the records as the writer stores them

/// A frame as found in a file: offset, kind, stored chain, decompressed payload.
struct RawFrame {
    offset: u64,
    kind: u8,
    len: u32,
    chain: [u8; 32],
    record: Vec<u8>,
}

/// Walks the frames of a finished trace by hand; returns them and the footer.
fn raw_frames(file: &[u8]) -> (Vec<RawFrame>, [u8; 16]) {
    let mut at = 8;
    let mut frames = Vec::new();
    while at < file.len() - 16 {
        let kind = file[at];
        let len = u32::from_le_bytes(file[at + 1..at + 5].try_into().unwrap());
        let chain: [u8; 32] = file[at + 5..at + 37].try_into().unwrap();
        let payload = &file[at + 37..at + 37 + len as usize];
        // One zstd frame, with its content checksum.
        assert_eq!(&payload[..4], [0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
        assert_ne!(payload[4] & 0x04, 0, "zstd content checksum flag");
        frames.push(RawFrame {
            offset: at as u64,
            kind,
            len,
            chain,
            record: zstd::stream::decode_all(payload).unwrap(),
        });
        at += 37 + len as usize;
    }
    (frames, file[at..].try_into().unwrap())
}

fn chain(prev: &[u8; 32], kind: u8, payload: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(prev);
    h.update(&[kind]);
    h.update(payload);
    *h.finalize().as_bytes()
}

/// 300 bytes that do not compress: the header frame ends past offset 250.
fn module() -> Vec<u8> {
    let mut m = vec![0u8; 300];
    blake3::Hasher::new()
        .update(b"module")
        .finalize_xof()
        .fill(&mut m);
    m
}

fn sample_header() -> Header {
    Header {
        format_version: FORMAT_VERSION,
        wtrace_version: "0.1.0".into(),
        wasmtime_version: "48.0.8".into(),
        module_name: "m.wat".into(),
        module_size: 300,
        module_blake3: *blake3::hash(&module()).as_bytes(),
        module: Some(module()),
        argv: vec!["m.wat".into(), "x".into()],
        env: vec![("A".into(), "1".into())],
        preopens: vec![Preopen {
            host: "/tmp".into(),
            guest: "/t".into(),
        }],
        start_unix_ns: 1_795_560_736_675_180_846,
        platform: "x86_64-linux".into(),
        max_wasm_stack: 1 << 20,
        foreign_imports: vec!["env::f".into(), "env::g".into()],
        faults: Faults {
            injections: vec!["fd_write:fd=1:short=2".into()],
            chaos: Some(Chaos {
                seed: 42,
                rate_ppm: 20_000,
            }),
        },
    }
}

/// Two chunks: fd_write and clock_time_get, then a foreign call that traps.
fn sample_chunks() -> Vec<Vec<Call>> {
    let iovec = cat(&[&64u32.to_le_bytes(), &3u32.to_le_bytes()]);
    vec![
        vec![
            Call {
                seq: 0,
                func: FuncId(26), // fd_write(fd=1, iovs=16, iovs_len=1, nwritten=8)
                args: vec![1, 16, 1, 8],
                outcome: Outcome::Errno(0),
                start_ns: 1000,
                dur_ns: 300,
                reads: vec![
                    Mem {
                        param: 1,
                        addr: 16,
                        bytes: iovec,
                    },
                    Mem {
                        param: 1,
                        addr: 64,
                        bytes: b"hi\n".to_vec(),
                    },
                ],
                writes: vec![Mem {
                    param: 3,
                    addr: 8,
                    bytes: 3u32.to_le_bytes().to_vec(),
                }],
                injection: Injection::NONE,
            },
            Call {
                seq: 1,
                func: FuncId(5), // clock_time_get(id=0, precision=1000, time=24)
                args: vec![0, 1000, 24],
                outcome: Outcome::Errno(0),
                start_ns: 1500,
                dur_ns: 251,
                reads: vec![],
                writes: vec![Mem {
                    param: 2,
                    addr: 24,
                    bytes: 1_795_560_736_675_180_846u64.to_le_bytes().to_vec(),
                }],
                injection: Injection::CHAOS,
            },
            Call {
                seq: 2,
                func: FuncId(5), // the same again: it refers back to it
                args: vec![0, 1000, 24],
                outcome: Outcome::Errno(0),
                start_ns: 2000,
                dur_ns: 5,
                reads: vec![],
                writes: vec![Mem {
                    param: 2,
                    addr: 24,
                    bytes: 1_795_560_736_675_181_340u64.to_le_bytes().to_vec(),
                }],
                injection: Injection::NONE,
            },
        ],
        vec![Call {
            seq: 3,
            func: FuncId(0x8001), // env::g(300, -2 as i64)
            args: vec![300, (-2i64) as u64],
            outcome: Outcome::Trap("boom".into()),
            start_ns: 70_000,
            dur_ns: 0,
            reads: vec![],
            writes: vec![],
            injection: Injection::spec(0),
        }],
    ]
}

/// The end record of the sample, with the summary the writer adds.
fn sample_end() -> End {
    let func = |calls, errors, ns, injected| PerFunc {
        calls,
        errors,
        ns,
        injected,
    };
    let stdout = PerFd {
        read: 0,
        written: 3,
        calls: 1,
    };
    End {
        run_end: RunEnd::Trap("boom".into()),
        calls: 4,
        duration_ns: 80_000,
        summary: Some(Summary {
            funcs: vec![
                (FuncId(5), func(2, 0, 256, 1)),
                (FuncId(26), func(1, 0, 300, 0)),
                (FuncId(0x8001), func(1, 1, 0, 1)),
            ],
            fds: vec![(1, "<stdout>".into(), stdout)],
        }),
    }
}

/// Writes the sample trace with wtrace's writer; returns its path.
fn write_sample(dir: &Path) -> PathBuf {
    let path = dir.join("sample.wtrace");
    let mut w = TraceWriter::create(&path, &sample_header()).unwrap();
    for chunk in sample_chunks() {
        w.write_calls(chunk).unwrap();
    }
    w.finish(sample_end()).unwrap();
    path
}

#[test]
fn the_writer_stores_every_record_byte_for_byte_as_the_spec_says() {
    let dir = common::tempdir();
    let file = std::fs::read(write_sample(dir.path())).unwrap();
    assert_eq!(&file[..8], b"WTRACE\0\x06");
    let (frames, footer) = raw_frames(&file);
    let kinds: Vec<u8> = frames.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [1, 2, 2, 3, 4]);

    // Offsets are absolute; each frame is 37 bytes of frame header and its payload.
    assert_eq!(frames[0].offset, 8);
    for w in frames.windows(2) {
        assert_eq!(w[1].offset, w[0].offset + 37 + w[0].len as u64);
    }
    // The chain starts from 32 zero bytes and covers kind and compressed payload.
    let mut prev = [0u8; 32];
    for f in &frames {
        let at = f.offset as usize + 37;
        let payload = &file[at..at + f.len as usize];
        assert_eq!(f.chain, chain(&prev, f.kind, payload));
        prev = f.chain;
    }

    let h = sample_header();
    #[rustfmt::skip]
    let header = cat(&[
        &[6],                 // format_version
        &[5], b"0.1.0",       // wtrace_version
        &[6], b"48.0.8",      // wasmtime_version
        &[5], b"m.wat",       // module_name
        &[251, 0x2c, 0x01],   // module_size 300
        &h.module_blake3,     // module_blake3: 32 raw bytes
        &[1, 251, 0x2c, 0x01], &module(), // module: Some, 300 bytes
        &[2, 5], b"m.wat", &[1], b"x", // argv
        &[1, 1], b"A", &[1], b"1",     // env
        &[1, 4], b"/tmp", &[2], b"/t", // preopens
        &[253], &1_795_560_736_675_180_846u64.to_le_bytes(), // start_unix_ns
        &[12], b"x86_64-linux",        // platform
        &[252, 0, 0, 0x10, 0],         // max_wasm_stack = 1 MiB
        &[2, 6], b"env::f", &[6], b"env::g", // foreign_imports
        // Faults (version 3), right after the header:
        &[1, 21], b"fd_write:fd=1:short=2", // injections
        &[1, 42, 251], &20_000u16.to_le_bytes(), // chaos: Some, seed 42, rate_ppm 20000
    ]);
    assert_eq!(frames[0].record, header);

    // Versions 4 and 5: each call starts with a head byte: bits 0-2 how
    // many calls back its function and arguments are (0: written here),
    // bit 3 its ranges too, bit 4 success, bit 5 injected.
    #[rustfmt::skip]
    let chunk0 = cat(&[
        &[0, 3], // first_seq 0, 3 calls
        // fd_write
        &[0x10],                           // head: success
        &[26, 4, 1, 16, 1, 8],             // func, args
        &[251, 0xe8, 0x03],                // start_delta_ns 1000 (from 0)
        &[251, 0x2c, 0x01],                // dur_ns 300
        &[2],                              // 2 reads
        &[1, 16, 8, 64, 0, 0, 0, 3, 0, 0, 0], // param 1, addr 16, the iovec
        &[1, 64, 3], b"hi\n",              // param 1, addr 64, the buffer
        &[1, 3, 8, 4, 3, 0, 0, 0],         // 1 write: param 3, addr 8, nwritten
        // clock_time_get
        &[0x30],                           // head: success, injected
        &[5, 3, 0, 251, 0xe8, 0x03, 24],   // func, args
        &[251, 0xf4, 0x01],                // start_delta_ns 500 = 1500 - 1000
        &[251, 251, 0],                    // dur_ns 251
        &[0],                              // no reads
        &[1, 2, 24, 8], &1_795_560_736_675_180_846u64.to_le_bytes(),
        &[251, 0xff, 0xff],                // injection: chaos
        // clock_time_get again
        &[0x59],                           // head: 1 back, its ranges, success, timed
        &[251, 0xf4, 0x01],                // start_delta_ns 500
        &[5],                              // dur_ns 5
        // Version 5: its 8-byte write as a drift: the time moved 494 ns in
        // the 500 ns between the starts: -6, zigzagged 11 (timed: without
        // it, 494 zigzagged, 3 bytes).
        &[11],
    ]);
    assert_eq!(frames[1].record, chunk0);

    #[rustfmt::skip]
    let chunk1 = cat(&[
        &[3, 1],                             // first_seq 3, 1 call
        &[0x20],                             // head: injected
        &[251, 0x01, 0x80],                  // func 0x8001
        &[2, 251, 0x2c, 0x01],               // args 300,
        &[253], &(-2i64 as u64).to_le_bytes(), // and -2 as u64
        &[2, 4], b"boom",                    // Trap("boom")
        &[252], &70_000u32.to_le_bytes(),    // start_delta_ns: from 0, not from call 1
        &[0, 0, 0],                          // dur_ns, no reads, no writes
        &[1],                                // injection: --inject spec 0
    ]);
    assert_eq!(frames[2].record, chunk1);

    #[rustfmt::skip]
    let end = cat(&[
        &[1, 4], b"boom", &[4], &[252], &80_000u32.to_le_bytes(),
        // Version 6: the summary. Some, 3 functions by id: (id, calls,
        // errors, ns, injected).
        &[1, 3],
        &[5, 2, 0, 251, 0x00, 0x01, 1],         // clock_time_get: 256 ns, 1 injected
        &[26, 1, 0, 251, 0x2c, 0x01, 0],        // fd_write: 300 ns
        &[251, 0x01, 0x80, 1, 1, 0, 1],         // env::g: a trap is an error
        // 1 fd: (fd, path, read, written, calls).
        &[1, 1, 8], b"<stdout>", &[0, 3, 1],
    ]);
    assert_eq!(frames[3].record, end);

    let (c0, c1, e) = (frames[1].offset, frames[2].offset, frames[3].offset);
    assert!(c0 > 250 && c0 < 65536 && c1 < 65536 && e < 65536);
    #[rustfmt::skip]
    let index = cat(&[
        &[2],
        &[0, 3, 251], &(c0 as u16).to_le_bytes(),
        &[3, 1, 251], &(c1 as u16).to_le_bytes(),
        &[251], &(e as u16).to_le_bytes(),
    ]);
    assert_eq!(frames[4].record, index);

    // The footer: the index frame's offset, u64 little-endian, then the tag.
    assert_eq!(footer[..8], frames[4].offset.to_le_bytes());
    assert_eq!(&footer[8..], b"WTRCIDX\0");

    // And the independent reader agrees with wtrace's on all of it.
    let path = dir.path().join("sample.wtrace");
    let t = independent::read(&file).unwrap();
    compare(&path, &t, &spec_table());
}

// ---------------------------------------------------------- the function table

const SPEC: &str = "docs/trace-format.md";
const TABLE_START: &str = "<!-- function-table:start";
const TABLE_END: &str = "<!-- function-table:end -->";

fn kind_text(sys: &Syscall, kind: Kind) -> String {
    let name = |i: usize| sys.params[i].name;
    match kind {
        Kind::Value(v) => {
            let t = format!("{v:?}").to_lowercase();
            if v.is_i64() {
                format!("{t} (i64)")
            } else {
                t
            }
        }
        Kind::Str { len } => format!("string (len: {})", name(len)),
        Kind::Ciovecs { count, consumed } => format!(
            "ciovec list (count: {}, consumed: {})",
            name(count),
            name(consumed)
        ),
        Kind::Iovecs { count, filled } => format!(
            "iovec list (count: {}, filled: {})",
            name(count),
            name(filled)
        ),
        Kind::Buf { len, filled, holds } => {
            let filled = match filled {
                Fill::All => "all".to_string(),
                Fill::Used(i) => name(i).to_string(),
            };
            let holds = format!("{holds:?}").to_lowercase();
            format!("buffer of {holds} (len: {}, filled: {filled})", name(len))
        }
        Kind::Subscriptions { count } => format!("subscriptions (count: {})", name(count)),
        Kind::Events { filled } => format!("events (count: {})", name(filled)),
        Kind::StringPtrs(list) => format!("pointer array ({})", format!("{list:?}").to_lowercase()),
        Kind::StringBuf(list) => format!("string buffer ({})", format!("{list:?}").to_lowercase()),
        Kind::Len => String::new(),
        Kind::Out(o) => format!(
            "out {} ({} bytes)",
            format!("{o:?}").to_lowercase(),
            o.size()
        ),
    }
}

/// The table as it must stand in the spec.
fn function_table() -> String {
    let mut t = String::from("| id | function | parameters |\n|---:|---|---|\n");
    for sys in SYSCALLS {
        let params: Vec<String> = sys
            .params
            .iter()
            .map(|p| match kind_text(sys, p.kind) {
                k if k.is_empty() => p.name.to_string(),
                k => format!("{}: {k}", p.name),
            })
            .collect();
        let params = if params.is_empty() {
            "—".to_string()
        } else {
            params.join(", ")
        };
        t += &format!("| {} | {} | {params} |\n", sys.func.id(), sys.name);
    }
    t
}

#[test]
fn the_spec_s_function_table_is_the_code_s() {
    let path = common::root().join(SPEC);
    let spec = std::fs::read_to_string(&path).unwrap();
    let start = spec.find(TABLE_START).expect("the table's start marker");
    let start = start + spec[start..].find('\n').unwrap() + 1;
    let end = spec.find(TABLE_END).expect("the table's end marker");
    let want = function_table();
    if spec[start..end] == want {
        return;
    }
    if std::env::var("WTRACE_BLESS").as_deref() == Ok("1") {
        let new = format!("{}{want}{}", &spec[..start], &spec[end..]);
        std::fs::write(&path, new).unwrap();
        return;
    }
    panic!(
        "the function table in {SPEC} differs from src/syscalls.rs.\n\
         Regenerate it with: WTRACE_BLESS=1 cargo test --test spec the_spec_s_function_table\n\
         --- in the spec:\n{}\n--- from the code:\n{want}",
        &spec[start..end]
    );
}

// ------------------------------------------- the independent reader, compared

/// Compares what the independent reader found with what wtrace reads.
fn compare(path: &Path, t: &independent::Trace, table: &Table) {
    let what = path.display().to_string();
    let mut r = TraceReader::open(path).unwrap();
    let h = &r.header;
    let th = &t.header;
    assert_eq!(th.format_version, h.format_version, "{what}");
    assert_eq!(th.wtrace_version, h.wtrace_version, "{what}");
    assert_eq!(th.wasmtime_version, h.wasmtime_version, "{what}");
    assert_eq!(th.module_name, h.module_name, "{what}");
    assert_eq!(th.module_size, h.module_size, "{what}");
    assert_eq!(th.module_blake3, h.module_blake3, "{what}");
    // The reader keeps the embedded module apart from the header.
    assert_eq!(h.module, None, "{what}");
    assert_eq!(th.module, r.module, "{what}");
    assert_eq!(th.argv, h.argv, "{what}");
    assert_eq!(th.env, h.env, "{what}");
    let preopens: Vec<(String, String)> = h
        .preopens
        .iter()
        .map(|p| (p.host.clone(), p.guest.clone()))
        .collect();
    assert_eq!(th.preopens, preopens, "{what}");
    assert_eq!(th.start_unix_ns, h.start_unix_ns, "{what}");
    assert_eq!(th.platform, h.platform, "{what}");
    assert_eq!(th.max_wasm_stack, h.max_wasm_stack, "{what}");
    assert_eq!(th.foreign_imports, h.foreign_imports, "{what}");
    assert_eq!(th.injections, h.faults.injections, "{what}");
    assert_eq!(
        th.chaos,
        h.faults.chaos.map(|c| (c.seed, c.rate_ppm)),
        "{what}"
    );
    if let Some(module) = &th.module {
        assert_eq!(module.len() as u64, th.module_size, "{what}");
        assert_eq!(*blake3::hash(module).as_bytes(), th.module_blake3, "{what}");
    }

    let chunks: Vec<(u64, u32, u64)> = r
        .chunks()
        .iter()
        .map(|c| (c.first_seq, c.calls, c.offset))
        .collect();
    let tchunks: Vec<(u64, u32, u64)> = t
        .chunks
        .iter()
        .map(|c| (c.first_seq, c.calls.len() as u32, c.offset))
        .collect();
    assert_eq!(tchunks, chunks, "{what}: chunks");

    let header = r.header.clone();
    let calls: Vec<Call> = r.calls().map(Result::unwrap).collect();
    assert_eq!(t.calls().count(), calls.len(), "{what}");
    for (tc, c) in t.calls().zip(&calls) {
        let at = format!("{what} call #{}", c.seq);
        assert_eq!(tc.seq, c.seq, "{at}");
        assert_eq!(tc.func, c.func.0, "{at}");
        assert_eq!(tc.args, c.args, "{at}");
        match (&tc.outcome, &c.outcome) {
            (independent::Outcome::Errno(a), Outcome::Errno(b)) => assert_eq!(a, b, "{at}"),
            (independent::Outcome::Exit(a), Outcome::Exit(b)) => assert_eq!(a, b, "{at}"),
            (independent::Outcome::Trap(a), Outcome::Trap(b)) => assert_eq!(a, b, "{at}"),
            (a, b) => panic!("{at}: {a:?} vs {b:?}"),
        }
        assert_eq!(tc.start_ns, c.start_ns, "{at}");
        assert_eq!(tc.dur_ns, c.dur_ns, "{at}");
        let mems = |m: &[Mem]| -> Vec<(u8, u32, Vec<u8>)> {
            m.iter()
                .map(|m| (m.param, m.addr, m.bytes.clone()))
                .collect()
        };
        let tmems = |m: &[independent::Mem]| -> Vec<(u8, u32, Vec<u8>)> {
            m.iter()
                .map(|m| (m.param, m.addr, m.bytes.clone()))
                .collect()
        };
        assert_eq!(tmems(&tc.reads), mems(&c.reads), "{at}: reads");
        assert_eq!(tmems(&tc.writes), mems(&c.writes), "{at}: writes");
        assert_eq!(tc.injection, c.injection.0, "{at}: injection");
        // The independent reader names functions from the spec's table.
        assert_eq!(
            spec_name(table, &t.header, tc.func),
            func_name(&header, c.func),
            "{at}"
        );
    }

    match (&t.end, &r.end) {
        (Some((_, te)), Some(e)) => {
            assert_eq!(te.calls, e.calls, "{what}");
            assert_eq!(te.duration_ns, e.duration_ns, "{what}");
            let summary = e.summary.as_ref().map(|s| independent::Summary {
                funcs: (s.funcs.iter())
                    .map(|(f, n)| (f.0, [n.calls, n.errors, n.ns, n.injected]))
                    .collect(),
                fds: (s.fds.iter())
                    .map(|(fd, path, n)| (*fd, path.clone(), [n.read, n.written, n.calls]))
                    .collect(),
            });
            assert_eq!(te.summary, summary, "{what}");
            assert_eq!(summary.is_some(), t.version >= 6, "{what}");
            if let Some(summary) = summary {
                assert_eq!(summary, independent::summarize(t, table), "{what}");
            }
            use independent::RunEnd as T;
            match (&te.run_end, &e.run_end) {
                (T::Exit(a), RunEnd::Exit(b)) | (T::Signal(a), RunEnd::Signal(b)) => {
                    assert_eq!(a, b, "{what}")
                }
                (T::Trap(a), RunEnd::Trap(b)) | (T::WriteFailed(a), RunEnd::WriteFailed(b)) => {
                    assert_eq!(a, b, "{what}")
                }
                (a, b) => panic!("{what}: {a:?} vs {b:?}"),
            }
        }
        (None, None) => {}
        (a, b) => panic!("{what}: end {a:?} vs {b:?}"),
    }
    assert_eq!(t.index.is_some(), r.is_finished(), "{what}");

    for depth in [VerifyDepth::Frames, VerifyDepth::Calls] {
        let report = TraceReader::verify(path, depth).unwrap();
        assert_eq!(report.damage, None, "{what}, {depth:?}");
        assert_eq!(report.frames as usize, t.frames, "{what}, {depth:?}");
        assert_eq!(report.calls, r.call_count(), "{what}, {depth:?}");
    }
}

/// A function's name from the spec alone: the table, or the header's
/// foreign imports.
fn spec_name(table: &Table, h: &independent::Header, func: u16) -> String {
    if let Some((name, _)) = table.get(&func) {
        return name.clone();
    }
    func.checked_sub(0x8000)
        .and_then(|k| h.foreign_imports.get(k as usize))
        .cloned()
        .unwrap_or_else(|| format!("func#{func}"))
}

/// The function table as the spec's text gives it: id → (name, parameters).
type Table = std::collections::BTreeMap<u16, (String, Vec<independent::Param>)>;

fn spec_table() -> Table {
    let spec = std::fs::read_to_string(common::root().join(SPEC)).unwrap();
    independent::functions(&spec).unwrap()
}

#[test]
fn a_reader_written_from_the_spec_reads_every_committed_trace_as_wtrace_does() {
    let table = spec_table();
    assert_eq!(table.len(), SYSCALLS.len(), "rows in the spec's table");
    let mut versions = std::collections::BTreeSet::new();
    // What the samples cover, all of it needed by the spec's claims.
    let (mut chunks, mut traps, mut foreign, mut env, mut empty) = (0, 0, [0; 6], 0, 0);
    let mut injected = 0;
    for path in common::committed_traces() {
        let what = path.display().to_string();
        let file = std::fs::read(&path).unwrap();
        let t = independent::read(&file).unwrap_or_else(|e| panic!("{what}: {e}"));
        versions.insert(t.version);
        assert!(t.end.is_some() && t.index.is_some(), "{what} is finished");
        check_calls_against_the_table(&t, &table, &what);
        compare(&path, &t, &table);
        chunks = chunks.max(t.chunks.len());
        if let Some((_, end)) = &t.end {
            traps += matches!(end.run_end, independent::RunEnd::Trap(_)) as usize;
        }
        let foreign_calls = t.calls().filter(|c| c.func >= 0x8000).count();
        foreign[t.version as usize - 1] += foreign_calls;
        env += t.header.env.len();
        injected += t.calls().filter(|c| c.injection != 0).count();
        empty += t
            .calls()
            .flat_map(|c| c.reads.iter().chain(&c.writes))
            .filter(|m| m.bytes.is_empty())
            .count();
    }
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    assert!(injected >= 3, "injected calls (version 3)");
    assert!(chunks >= 3, "a trace with several chunks");
    assert!(traps >= 2, "traces that end in a trap");
    // In version 1 too: its ids 46 + k are read as 0x8000 + k.
    assert!(
        foreign[0] >= 1 && foreign[1] >= 1,
        "calls of foreign imports in both versions"
    );
    assert!(env >= 1, "a trace with an environment");
    assert!(empty >= 1, "a zero-length range");
}

/// What the spec says of each call, checked on a real trace: the argument
/// count, which parameters memory ranges belong to, the size of what an
/// out-pointer receives, the reads of a ciovec list, writes only on success.
fn check_calls_against_the_table(t: &independent::Trace, table: &Table, what: &str) {
    let mut prev_end = 0;
    for c in t.calls() {
        let at = format!("{what} call #{}", c.seq);
        assert!(c.start_ns >= prev_end, "{at}: calls do not overlap");
        prev_end = c.start_ns + c.dur_ns;
        if c.func >= 0x8000 {
            let k = (c.func - 0x8000) as usize;
            assert!(k < t.header.foreign_imports.len(), "{at}");
            assert!(matches!(c.outcome, independent::Outcome::Trap(_)), "{at}");
            assert!(c.reads.is_empty() && c.writes.is_empty(), "{at}");
            continue;
        }
        let (name, params) = &table[&c.func];
        assert_eq!(c.args.len(), params.len(), "{at}: {name}");
        if name == "proc_exit" {
            assert!(matches!(c.outcome, independent::Outcome::Exit(_)), "{at}");
        }
        if c.outcome != independent::Outcome::Errno(0) {
            assert!(c.writes.is_empty(), "{at}: writes after a failure");
        }
        for m in c.reads.iter().chain(&c.writes) {
            let p = &params[m.param as usize];
            assert!(p.is_pointer(), "{at}: a range for {}", p.name);
        }
        for m in &c.writes {
            if let Some(n) = params[m.param as usize].out_size() {
                assert_eq!(m.bytes.len(), n, "{at}: {}", params[m.param as usize].name);
            }
        }
        for (i, p) in params.iter().enumerate() {
            if let Some(rest) = p.kind.strip_prefix("ciovec list (count: ") {
                let count_name = rest.split(',').next().unwrap();
                let count = params.iter().position(|q| q.name == count_name).unwrap();
                let n = c.reads.iter().filter(|m| m.param as usize == i).count();
                assert_eq!(
                    n as u64,
                    1 + c.args[count],
                    "{at}: the list, then each buffer"
                );
            }
        }
    }
    if let Some((_, e)) = &t.end {
        assert!(
            e.duration_ns >= prev_end,
            "{what}: the run ends after its last call"
        );
    }
}

// ---------------------------------------------------------- what readers refuse

#[test]
fn versions_newer_than_the_reader_s_and_unknown_ones_are_refused() {
    let dir = common::tempdir();
    let file = std::fs::read(write_sample(dir.path())).unwrap();
    let cases: [(u8, &str); 3] = [
        (FORMAT_VERSION as u8 + 1, "newer wtrace"),
        (0, "format version 0"),
        // The magic says 1, the header the current version.
        (1, "says version"),
    ];
    for (version, msg) in cases {
        let mut bad = file.clone();
        bad[7] = version;
        let path = dir.path().join(format!("v{version}.wtrace"));
        std::fs::write(&path, &bad).unwrap();
        let err = format!("{:#}", TraceReader::open(&path).err().unwrap());
        assert!(err.contains(msg), "version {version}: {err}");
        assert!(independent::read(&bad).is_err());
    }
}

#[test]
fn an_unknown_function_id_is_named_by_its_number() {
    let h = sample_header();
    // Ids not in the table (a function added by a later wtrace) and foreign
    // ids past the header's list.
    assert_eq!(func_name(&h, FuncId(1000)), "func#1000");
    assert_eq!(func_name(&h, FuncId(0x8002)), "func#32770");
    assert_eq!(func_name(&h, FuncId(0x8001)), "env::g");
    assert_eq!(func_name(&h, FuncId(26)), "fd_write");
    // And such a call reads back as written.
    let dir = common::tempdir();
    let path = dir.path().join("u.wtrace");
    let mut w = TraceWriter::create(&path, &h).unwrap();
    let call = Call {
        func: FuncId(1000),
        args: vec![7],
        ..Call::default()
    };
    w.write_calls(vec![call.clone()]).unwrap();
    w.finish(End {
        run_end: RunEnd::Exit(0),
        calls: 1,
        duration_ns: 1,
        summary: None,
    })
    .unwrap();
    let mut r = TraceReader::open(&path).unwrap();
    assert_eq!(r.call(0).unwrap(), call);
    assert_eq!(
        TraceReader::verify(&path, VerifyDepth::Calls)
            .unwrap()
            .damage,
        None
    );
    // wtrace dump shows it by number.
    let dump = common::output(common::wtrace().arg("dump").arg(&path));
    assert_eq!(dump.status.code(), Some(0));
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(text.starts_with("#0 func#1000("), "{text}");
}

/// The sample trace cut after its first chunk, with a frame of kind 9
/// (valid chain) appended.
fn with_unknown_frame(file: &[u8]) -> Vec<u8> {
    let (frames, _) = raw_frames(file);
    let cut = frames[2].offset as usize;
    let mut out = file[..cut].to_vec();
    let payload = zstd::bulk::compress(&[0u8], 3).unwrap();
    let c = chain(&frames[1].chain, 9, &payload);
    out.push(9);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&c);
    out.extend_from_slice(&payload);
    out
}

#[test]
fn an_unknown_frame_kind_ends_what_a_reader_keeps() {
    let dir = common::tempdir();
    let file = std::fs::read(write_sample(dir.path())).unwrap();
    let path = dir.path().join("kind9.wtrace");
    std::fs::write(&path, with_unknown_frame(&file)).unwrap();
    let r = TraceReader::open(&path).unwrap();
    assert_eq!(r.call_count(), 3, "the chunk before it is kept");
    assert_eq!(r.end, None);
    let why = r.unfinished.as_deref().unwrap();
    assert!(why.contains("unknown frame"), "{why}");
    let report = TraceReader::verify(&path, VerifyDepth::Frames).unwrap();
    assert!(report.damage.unwrap().contains("Unknown(9)"));
    assert!(independent::read(&with_unknown_frame(&file)).is_err());
}

#[test]
fn bytes_after_the_footer_are_damage_but_the_calls_stay_readable() {
    let dir = common::tempdir();
    let mut file = std::fs::read(write_sample(dir.path())).unwrap();
    file.push(0);
    let path = dir.path().join("tail.wtrace");
    std::fs::write(&path, &file).unwrap();
    let r = TraceReader::open(&path).unwrap();
    assert_eq!(r.call_count(), 4);
    assert_eq!(r.end, Some(sample_end()));
    let report = TraceReader::verify(&path, VerifyDepth::Frames).unwrap();
    assert_eq!(
        report.damage.as_deref(),
        Some("1 stray bytes after the footer")
    );
    assert!(independent::read(&file).is_err());
}

#[test]
fn extreme_values_read_the_same_through_both_readers() {
    let dir = common::tempdir();
    let calls = vec![
        Call {
            seq: 0,
            func: FuncId(0x7fff),
            args: vec![
                u64::MAX,
                0,
                250,
                251,
                65535,
                65536,
                u32::MAX as u64,
                1 << 32,
            ],
            outcome: Outcome::Errno(u16::MAX),
            start_ns: 0,
            dur_ns: u64::MAX / 4,
            reads: vec![Mem {
                param: 255,
                addr: u32::MAX,
                bytes: vec![],
            }],
            writes: vec![Mem {
                param: 0,
                addr: 0,
                bytes: (0..70000).map(|i| (i % 251) as u8).collect(),
            }],
            injection: Injection(u16::MAX - 1),
        },
        Call {
            seq: 1,
            func: FuncId(38),
            outcome: Outcome::Exit(i32::MIN),
            start_ns: u64::MAX / 2,
            ..Call::default()
        },
        Call {
            seq: 2,
            func: FuncId(u16::MAX),
            outcome: Outcome::Exit(-1),
            start_ns: u64::MAX / 2 + 1,
            ..Call::default()
        },
    ];
    let ends = [
        RunEnd::Exit(i32::MAX),
        RunEnd::Trap("é\n".into()),
        RunEnd::Signal(i32::MIN),
        RunEnd::WriteFailed(String::new()),
    ];
    for (i, run_end) in ends.into_iter().enumerate() {
        let path = dir.path().join(format!("x{i}.wtrace"));
        let mut w = TraceWriter::create(&path, &sample_header()).unwrap();
        w.write_calls(calls.clone()).unwrap();
        w.finish(End {
            run_end,
            calls: 3,
            duration_ns: u64::MAX,
            summary: None,
        })
        .unwrap();
        let t = independent::read(&std::fs::read(&path).unwrap()).unwrap();
        compare(&path, &t, &spec_table());
    }
}

/// The summary a recording keeps in its end record is what the spec says
/// of its calls, on every example module (files opened, read, written and
/// closed, a failed open, a trap, foreign calls, an environment) and, with
/// Go, on programs that read a preopened directory and stdin, write,
/// rename and remove files.
#[test]
fn every_recording_s_summary_is_what_the_spec_says_of_its_calls() {
    let dir = common::tempdir();
    let root = common::root();
    let data = format!("{}::/data", root.join("examples/data").display());
    let table = spec_table();
    let mut traces = vec![];
    for entry in std::fs::read_dir(root.join("examples/wat")).unwrap() {
        let module = entry.unwrap().path();
        let name = module.file_stem().unwrap().to_string_lossy().into_owned();
        let args = ["--dir", &data, "--trap-unknown-imports"];
        traces.push(common::record_in(dir.path(), &name, &args, &module, &["x"]));
    }
    let go = [
        ("files", "scratch::/work", "/work"),
        ("mixed", &data, "/data"),
    ];
    let mut with_go = false;
    for (name, preopen, arg) in go {
        let Some(wasm) = common::go_example(name) else {
            eprintln!("NOTE: no Go for wasip1: the Go programs' summaries are not checked");
            break;
        };
        std::fs::create_dir_all(dir.path().join("scratch")).unwrap();
        let args = ["--dir", preopen];
        traces.push(common::record_in(dir.path(), name, &args, &wasm, &[arg]));
        with_go = true;
    }
    let (mut fds, mut errors) = (0, 0);
    for path in &traces {
        let what = path.display().to_string();
        let t = independent::read(&std::fs::read(path).unwrap()).unwrap();
        let summary = t.end.as_ref().unwrap().1.summary.clone().unwrap();
        assert_eq!(summary, independent::summarize(&t, &table), "{what}");
        compare(path, &t, &table);
        fds += summary.fds.len();
        errors += summary.funcs.iter().map(|f| f.1[1]).sum::<u64>();
    }
    assert!(fds >= 3 && errors >= 2, "{fds} fds, {errors} errors");
    if with_go {
        assert!(fds >= 8, "{fds} fds with Go");
    }
}

/// `file` with its end record replaced by `end`, encoded as the spec says,
/// and the chain, the index frame and the footer made anew after it: a
/// trace whose hashes all check out, whatever `end` claims.
fn with_end(file: &[u8], end: &End) -> Vec<u8> {
    rewritten(file, |kind, payload| match kind {
        3 => zstd_frame(&cat(&[&enc(end), &enc(&end.summary)])),
        _ => payload.to_vec(),
    })
}

/// `file` with each frame's payload (but the index's) what `replace` makes
/// of it and its kind, and the chain, the index and the footer made anew:
/// a trace whose hashes and index all check out, whatever its records say.
fn rewritten(file: &[u8], replace: impl Fn(u8, &[u8]) -> Vec<u8>) -> Vec<u8> {
    let (frames, _) = raw_frames(file);
    let mut out = file[..8].to_vec();
    let (mut prev, mut index_offset, mut end_offset) = ([0u8; 32], 0u64, 0u64);
    let mut chunk_offsets = Vec::new();
    for f in &frames {
        let at = f.offset as usize + 37;
        let here = out.len() as u64;
        let payload = match f.kind {
            4 => {
                let (listed, _): (Vec<(u64, u32, u64)>, u64) = dec(&f.record).unwrap();
                let listed = listed.iter().zip(&chunk_offsets);
                let listed: Vec<_> = listed.map(|(&(seq, n, _), &o)| (seq, n, o)).collect();
                index_offset = here;
                zstd_frame(&enc((listed, end_offset)))
            }
            kind => replace(kind, &file[at..at + f.len as usize]),
        };
        match f.kind {
            2 => chunk_offsets.push(here),
            3 => end_offset = here,
            _ => {}
        }
        prev = chain(&prev, f.kind, &payload);
        out.push(f.kind);
        out.extend((payload.len() as u32).to_le_bytes());
        out.extend(prev);
        out.extend(payload);
    }
    out.extend(index_offset.to_le_bytes());
    out.extend(b"WTRCIDX\0");
    out
}

/// `record` as a frame's payload: one zstd frame with its checksum.
fn zstd_frame(record: &[u8]) -> Vec<u8> {
    let mut z = zstd::bulk::Compressor::new(3).unwrap();
    z.include_checksum(true).unwrap();
    z.compress(record).unwrap()
}

/// Plain `verify` reads and hashes every byte but decompresses no call: a
/// calls record no reader can decode, in a frame whose hash checks out
/// (what only a recorder with a bug, or a hand, writes), passes it and
/// fails `verify --deep`, which names the chunk.
#[test]
fn only_verify_deep_decodes_the_calls() {
    let dir = common::tempdir();
    let file = std::fs::read(common::root().join("traces/readfile-v6.wtrace")).unwrap();
    let path = dir.path().join("cut-record.wtrace");
    let cut_record = |kind, payload: &[u8]| match kind {
        2 => {
            let record = zstd::stream::decode_all(payload).unwrap();
            zstd_frame(&record[..record.len() - 1])
        }
        _ => payload.to_vec(),
    };
    std::fs::write(&path, rewritten(&file, cut_record)).unwrap();
    let chunk_at = TraceReader::open(&path).unwrap().chunks()[0].offset;
    let verify = |args: &[&str]| {
        let o = common::output(common::wtrace().arg("verify").args(args).arg(&path));
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    assert_eq!(
        verify(&[]),
        (
            Some(0),
            "ok: 4 frames, 1 chunk(s), 8 calls, finished\n".into()
        )
    );
    assert_eq!(
        verify(&["--deep"]),
        (
            Some(1),
            format!("damaged: chunk at byte {chunk_at}: call chunk: cut short\n  intact before it: 4 frames, 0 chunk(s), 0 calls\n")
        )
    );
}

/// A summary that says other than the calls is damage to `verify --deep`
/// (its hashes check out: anyone can compute them), named by the first
/// function or fd it gets wrong; plain `verify`, which decodes no call,
/// holds its total of calls to the index's and its order to the spec's.
/// `stats` shows what the summary says.
#[test]
fn verify_refuses_a_summary_that_is_not_what_the_calls_say() {
    let dir = common::tempdir();
    let fixture = common::root().join("traces/readfile-v6.wtrace");
    let file = std::fs::read(&fixture).unwrap();
    let end = TraceReader::open(&fixture).unwrap().end.unwrap();
    let summary = end.summary.clone().unwrap();
    let fd_read = summary
        .funcs
        .iter()
        .position(|f| f.0 == FuncId(20))
        .unwrap();
    type Change = fn(&mut Summary, usize);
    let out_of_order = "the end record's summary lists a function or an fd out of order or twice";
    // The change, what `--deep` says, what plain `verify` says (None: intact).
    let cases: [(Change, &str, Option<&str>); 7] = [
        (
            |s, i| s.funcs[i].1.calls += 1,
            "the end record's summary counts 2 fd_read calls, the trace 1",
            Some("the end record's summary counts 9 calls, the trace 8"),
        ),
        (
            |s, i| {
                for (_, f) in &mut s.funcs[i - 1..] {
                    (f.calls, f.errors, f.ns, f.injected) = (u64::MAX, u64::MAX, u64::MAX, 1);
                }
                s.fds[1].2 = PerFd {
                    read: u64::MAX,
                    written: u64::MAX,
                    calls: u64::MAX,
                };
            },
            "the end record's summary counts 18446744073709551615 fd_close calls, the trace 1",
            Some("the end record's summary counts 18446744073709551615 calls, the trace 8"),
        ),
        (
            |s, i| s.funcs[i].1.ns += 1,
            "the end record's summary has other errors, times or injections for fd_read than its 1 calls",
            None,
        ),
        (
            |s, _| s.funcs.push((FuncId(0x8003), PerFunc::default())),
            "the end record's summary lists func#32771 with no calls",
            None,
        ),
        (
            |s, _| s.fds[1].2.read += 1,
            "the end record's summary says fd 4 (/data/greeting.txt) moved 62 bytes in 1 calls, its calls 61 in 1",
            None,
        ),
        (
            |s, i| s.funcs.swap(i, i + 1),
            out_of_order,
            Some(out_of_order),
        ),
        (
            |s, _| s.fds.pop().map(drop).unwrap(),
            "the end record's summary says fd 4 (/data/greeting.txt) moved 0 bytes in 0 calls, its calls 61 in 1",
            None,
        ),
    ];
    let verify = |deep: bool, path: &Path| {
        let mut cmd = common::wtrace();
        cmd.arg("verify");
        if deep {
            cmd.arg("--deep");
        }
        let o = common::output(cmd.arg(path));
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        (o.status.code(), stdout)
    };
    let intact = "ok: 4 frames, 1 chunk(s), 8 calls, finished\n";
    let damaged =
        |why: &str| format!("damaged: {why}\n  intact before it: 4 frames, 1 chunk(s), 8 calls\n");
    // Unchanged, it passes: the rewriting itself keeps the trace intact.
    let same = dir.path().join("same.wtrace");
    std::fs::write(&same, with_end(&file, &end)).unwrap();
    for deep in [false, true] {
        assert_eq!(verify(deep, &same), (Some(0), intact.to_string()));
    }
    for (k, (change, deep_why, plain_why)) in cases.into_iter().enumerate() {
        let mut bad = summary.clone();
        change(&mut bad, fd_read);
        let path = dir.path().join(format!("bad{k}.wtrace"));
        let lying = End {
            summary: Some(bad),
            ..end.clone()
        };
        std::fs::write(&path, with_end(&file, &lying)).unwrap();
        assert_eq!(
            verify(true, &path),
            (Some(1), damaged(deep_why)),
            "case {k}, --deep"
        );
        let plain = match plain_why {
            Some(why) => (Some(1), damaged(why)),
            None => (Some(0), intact.to_string()),
        };
        assert_eq!(verify(false, &path), plain, "case {k}");
        // stats shows what the summary says, whatever it says.
        let stats = common::output(common::wtrace().arg("stats").arg(&path));
        assert_eq!(stats.status.code(), Some(0), "case {k}");
    }
}
