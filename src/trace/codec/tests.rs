//! The hand-written encoder and decoder against bincode, versions, damage.

use super::*;
use crate::trace::{Call, Injection, Mem, MemsView, Outcome};
use serde::Serialize;

/// The calls record as serde and bincode encode it: the reference the
/// hand-written encoder and decoder are checked against.
#[derive(Serialize)]
struct WireChunkRef<'a> {
    first_seq: u64,
    calls: WireCalls<'a>,
}

/// A batch's calls as format `version` (2 or 3) lays them out.
struct WireCalls<'a>(&'a CallBatch, u32);

impl Serialize for WireCalls<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut prev_start = 0;
        s.collect_seq(self.0.views().map(|c| {
            let start_delta_ns = c.start_ns.saturating_sub(prev_start);
            prev_start = c.start_ns;
            let call = WireCallV2Ref {
                func: c.func,
                args: c.args,
                outcome: c.outcome,
                start_delta_ns,
                dur_ns: c.dur_ns,
                reads: WireMems(c.reads),
                writes: WireMems(c.writes),
            };
            match self.1 {
                ..=2 => WireCallRef::V2(call),
                _ => WireCallRef::V3(call, c.injection),
            }
        }))
    }
}

/// A call of version 3: version 2's, then its injection. (Untagged: the
/// variant's fields are encoded without the variant's index.)
#[derive(Serialize)]
#[serde(untagged)]
enum WireCallRef<'a> {
    V2(WireCallV2Ref<'a>),
    V3(WireCallV2Ref<'a>, Injection),
}

#[derive(Serialize)]
struct WireCallV2Ref<'a> {
    func: FuncId,
    args: &'a [u64],
    outcome: &'a Outcome,
    start_delta_ns: u64,
    dur_ns: u64,
    reads: WireMems<'a>,
    writes: WireMems<'a>,
}

struct WireMems<'a>(MemsView<'a>);

impl Serialize for WireMems<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.0
                .iter()
                .map(|(param, addr, bytes)| WireMemRef { param, addr, bytes }),
        )
    }
}

/// Encodes as `Mem` does.
#[derive(Serialize)]
struct WireMemRef<'a> {
    param: u8,
    addr: u32,
    #[serde(with = "serde_bytes")]
    bytes: &'a [u8],
}

#[test]
fn version_1_foreign_ids_are_read_as_today_s() {
    let calls: Vec<Call> = [5u16, 45, 46, 47]
        .iter()
        .enumerate()
        .map(|(i, &id)| Call {
            seq: i as u64,
            func: FuncId(id),
            ..Call::default()
        })
        .collect();
    // As versions 1 and 2 lay calls out (no injection).
    let batch = CallBatch::from_calls(&calls);
    let wire = WireChunkRef {
        first_seq: 0,
        calls: WireCalls(&batch, 2),
    };
    let raw = bincode::serde::encode_to_vec(&wire, config()).unwrap();
    let payload = zstd::bulk::compress(&raw, 1).unwrap();
    let ids = |version| -> Vec<u16> {
        decode_calls(&payload, version)
            .unwrap()
            .iter()
            .map(|c| c.func.0)
            .collect()
    };
    assert_eq!(ids(1), [5, 45, 0x8000, 0x8001]);
    assert_eq!(ids(2), [5, 45, 46, 47]);
}

/// Calls with values on both sides of every varint width.
pub(super) fn varied_calls() -> Vec<Call> {
    let values = [0u64, 250, 251, 65535, 65536, u32::MAX as u64, u64::MAX];
    let outcomes = [
        Outcome::Errno(0),
        Outcome::Errno(300),
        Outcome::Exit(-1),
        Outcome::Exit(i32::MIN),
        Outcome::Exit(i32::MAX),
        Outcome::Trap("unreachable\nbacktrace: é".into()),
    ];
    (0..40u64)
        .map(|i| Call {
            seq: 1000 + i,
            func: FuncId([0, 26, 250, 251, 0x8000, 0xffff][i as usize % 6]),
            args: values.iter().take(i as usize % 8).copied().collect(),
            outcome: outcomes[i as usize % outcomes.len()].clone(),
            start_ns: 1000 * i + values[i as usize % 7] % 1000,
            dur_ns: values[(i as usize + 3) % 7],
            reads: (0..i % 3)
                .map(|k| Mem {
                    param: (k * 100) as u8,
                    addr: values[(i + k) as usize % 5] as u32,
                    bytes: vec![k as u8; (i * 13 % 300) as usize],
                })
                .collect(),
            writes: (0..i % 2)
                .map(|_| Mem {
                    param: 255,
                    addr: u32::MAX,
                    bytes: vec![],
                })
                .collect(),
            injection: [
                Injection::NONE,
                Injection::spec(0),
                Injection::CHAOS,
                Injection::spec(300),
            ][i as usize % 4],
        })
        .collect()
}

/// Version 3 calls, as bincode lays them out, read back as they went in
/// (wtrace wrote version 3 by hand until version 4).
#[test]
fn version_3_chunks_read_as_bincode_wrote_them() {
    let calls = varied_calls();
    let wire = WireChunkRef {
        first_seq: 1000,
        calls: WireCalls(&CallBatch::from_calls(&calls), 3),
    };
    let raw = bincode::serde::encode_to_vec(&wire, config()).unwrap();
    let payload = zstd::bulk::compress(&raw, 1).unwrap();
    assert_eq!(decode_calls(&payload, 3).unwrap(), calls);
}

#[test]
fn the_hand_decoder_reads_what_the_encoder_writes() {
    let calls = varied_calls();
    let payload = ChunkEncoder::new()
        .unwrap()
        .encode(&CallBatch::from_calls(&calls))
        .unwrap();
    assert_eq!(decode_calls(&payload, FORMAT_VERSION).unwrap(), calls);
    // A reused decoder and batch give the same again.
    let mut decoder = ChunkDecoder::default();
    let mut batch = CallBatch::default();
    for _ in 0..2 {
        decoder
            .decode_into(&payload, FORMAT_VERSION, &mut batch)
            .unwrap();
        let again: Vec<Call> = (0..batch.len()).map(|i| batch.call(i)).collect();
        assert_eq!(again, calls);
    }
}

#[test]
fn a_damaged_version_3_chunk_is_an_error_never_a_panic() {
    let calls = varied_calls();
    let mut raw = Vec::new();
    let wire = WireChunkRef {
        first_seq: 1000,
        calls: WireCalls(&CallBatch::from_calls(&calls), 3),
    };
    bincode::serde::encode_into_std_write(&wire, &mut raw, config()).unwrap();
    let compress = |b: &[u8]| zstd::bulk::compress(b, 1).unwrap();
    let mut decoder = ChunkDecoder::default();
    let mut batch = CallBatch::default();
    for cut in 0..raw.len() {
        let r = decoder.decode_into(&compress(&raw[..cut]), 3, &mut batch);
        assert!(r.is_err(), "a chunk cut at {cut} of {} decoded", raw.len());
    }
    for at in (0..raw.len()).step_by(7) {
        let mut bad = raw.clone();
        bad[at] ^= 0xa5;
        // Decodes to something or fails; must not panic or run away.
        let _ = decoder.decode_into(&compress(&bad), 3, &mut batch);
    }
    let mut long = raw.clone();
    long.push(0);
    let err = decoder
        .decode_into(&compress(&long), 3, &mut batch)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "call chunk: 1 stray bytes after the record"
    );
}
