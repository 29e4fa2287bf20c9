//! A reader of `.wtrace` files written from `docs/trace-format.md` alone.
//!
//! It shares nothing with wtrace's own reader: no bincode, no serde, no
//! wtrace types. It uses only std, `zstd` (to decompress payloads) and
//! `blake3` (the hash chain), and it learns the function ids and parameters
//! from the table in the spec itself. It is strict: anything the spec does
//! not allow is an error, so that `tests/spec.rs` proves the spec says
//! enough to read every committed trace.
#![allow(dead_code)]

use std::collections::BTreeMap;

mod v4;

pub type Res<T> = Result<T, String>;

// ---------------------------------------------------------------- records

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub format_version: u32,
    pub wtrace_version: String,
    pub wasmtime_version: String,
    pub module_name: String,
    pub module_size: u64,
    pub module_blake3: [u8; 32],
    pub module: Option<Vec<u8>>,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// (host, guest)
    pub preopens: Vec<(String, String)>,
    pub start_unix_ns: u64,
    pub platform: String,
    pub max_wasm_stack: u64,
    pub foreign_imports: Vec<String>,
    /// From version 3: the `--inject` specs.
    pub injections: Vec<String>,
    /// From version 3: `--chaos` as (seed, rate in parts per million).
    pub chaos: Option<(u64, u32)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Errno(u16),
    Exit(i32),
    Trap(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Mem {
    pub param: u8,
    pub addr: u32,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub seq: u64,
    /// The function id as the current version numbers it (version 1's
    /// foreign ids already mapped).
    pub func: u16,
    pub args: Vec<u64>,
    pub outcome: Outcome,
    /// Nanoseconds since the recording started.
    pub start_ns: u64,
    pub dur_ns: u64,
    pub reads: Vec<Mem>,
    pub writes: Vec<Mem>,
    /// From version 3: 0, or what injected the result.
    pub injection: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RunEnd {
    Exit(i32),
    Trap(String),
    Signal(i32),
    WriteFailed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct End {
    pub run_end: RunEnd,
    pub calls: u64,
    pub duration_ns: u64,
    /// From version 6 (and then possibly still `None`).
    pub summary: Option<Summary>,
}

/// Version 6's counts of the calls, as stored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// (func, [calls, errors, ns, injected]), by func.
    pub funcs: Vec<(u16, [u64; 4])>,
    /// (fd, path, [read, written, calls]), by fd and path.
    pub fds: Vec<(u32, String, [u64; 3])>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    pub first_seq: u64,
    pub calls: u32,
    pub offset: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    pub chunks: Vec<IndexEntry>,
    pub end_offset: u64,
}

/// A chunk as found in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    pub offset: u64,
    pub first_seq: u64,
    pub calls: Vec<Call>,
}

/// A whole trace, read by walking every frame.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The version in the magic (byte 7).
    pub version: u8,
    pub header: Header,
    pub chunks: Vec<Chunk>,
    pub end: Option<(u64, End)>,
    pub index: Option<(u64, Index)>,
    /// Number of frames, header included.
    pub frames: usize,
}

impl Trace {
    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.chunks.iter().flat_map(|c| c.calls.iter())
    }
}

// ------------------------------------------------------ bincode, by hand

/// A cursor over a decompressed record: bincode 2's standard configuration
/// as the spec describes it.
struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data, at: 0 }
    }

    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| format!("record ends at byte {} (wanted {n} more)", self.at))?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// u8: one raw byte, never a varint.
    fn u8(&mut self) -> Res<u8> {
        Ok(self.take(1)?[0])
    }

    /// An unsigned varint that must fit in `bits` (16, 32 or 64) bits: one
    /// byte 0..=250 is the value; 251, 252, 253 are followed by a u16, u32,
    /// u64 little-endian. A marker for a wider type than `bits`, and 254
    /// (u128) and 255, are errors.
    fn varint(&mut self, bits: u32) -> Res<u64> {
        let at = self.at;
        let first = self.u8()?;
        let (width, value) = match first {
            0..=250 => return Ok(first as u64),
            251 => (
                16,
                u16::from_le_bytes(self.take(2)?.try_into().unwrap()) as u64,
            ),
            252 => (
                32,
                u32::from_le_bytes(self.take(4)?.try_into().unwrap()) as u64,
            ),
            253 => (64, u64::from_le_bytes(self.take(8)?.try_into().unwrap())),
            other => return Err(format!("byte {at}: varint marker {other}")),
        };
        if width > bits {
            return Err(format!("byte {at}: a u{width} varint where a u{bits} goes"));
        }
        Ok(value)
    }

    fn u16(&mut self) -> Res<u16> {
        Ok(self.varint(16)? as u16)
    }

    fn u32(&mut self) -> Res<u32> {
        Ok(self.varint(32)? as u32)
    }

    fn u64(&mut self) -> Res<u64> {
        self.varint(64)
    }

    /// i32: zigzag (0, -1, 1, -2 … as 0, 1, 2, 3 …), then a u32 varint.
    fn i32(&mut self) -> Res<i32> {
        let z = self.u32()?;
        Ok(((z >> 1) as i32) ^ -((z & 1) as i32))
    }

    /// A sequence length: a u64 varint.
    fn len(&mut self) -> Res<usize> {
        let n = self.u64()?;
        // Every item takes at least one byte: a longer length is damage.
        if n > (self.data.len() - self.at) as u64 {
            return Err(format!("byte {}: length {n} past the record", self.at));
        }
        Ok(n as usize)
    }

    fn byte_vec(&mut self) -> Res<Vec<u8>> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }

    fn string(&mut self) -> Res<String> {
        let at = self.at;
        String::from_utf8(self.byte_vec()?).map_err(|_| format!("byte {at}: not UTF-8"))
    }

    fn vec<T>(&mut self, mut item: impl FnMut(&mut Self) -> Res<T>) -> Res<Vec<T>> {
        let n = self.len()?;
        (0..n).map(|_| item(self)).collect()
    }

    /// Option: one raw byte, 0 (None) or 1 (Some, then the value).
    fn option<T>(&mut self, item: impl FnOnce(&mut Self) -> Res<T>) -> Res<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            1 => item(self).map(Some),
            b => Err(format!("byte {}: option tag {b}", self.at - 1)),
        }
    }

    /// An enum's variant index: a u32 varint.
    fn variant(&mut self) -> Res<u32> {
        self.u32()
    }

    fn done(&self, what: &str) -> Res<()> {
        if self.at != self.data.len() {
            return Err(format!(
                "{what}: {} stray bytes after the record",
                self.data.len() - self.at
            ));
        }
        Ok(())
    }
}

fn header(b: &mut Bytes) -> Res<Header> {
    Ok(Header {
        format_version: b.u32()?,
        wtrace_version: b.string()?,
        wasmtime_version: b.string()?,
        module_name: b.string()?,
        module_size: b.u64()?,
        module_blake3: b.take(32)?.try_into().unwrap(),
        module: b.option(Bytes::byte_vec)?,
        argv: b.vec(Bytes::string)?,
        env: b.vec(|b| Ok((b.string()?, b.string()?)))?,
        preopens: b.vec(|b| Ok((b.string()?, b.string()?)))?,
        start_unix_ns: b.u64()?,
        platform: b.string()?,
        max_wasm_stack: b.u64()?,
        foreign_imports: b.vec(Bytes::string)?,
        injections: Vec::new(),
        chaos: None,
    })
}

/// The faults record that follows the header from version 3 on.
fn faults(b: &mut Bytes, h: &mut Header) -> Res<()> {
    h.injections = b.vec(Bytes::string)?;
    h.chaos = b.option(|b| Ok((b.u64()?, b.u32()?)))?;
    Ok(())
}

fn mem(b: &mut Bytes) -> Res<Mem> {
    Ok(Mem {
        param: b.u8()?,
        addr: b.u32()?,
        bytes: b.byte_vec()?,
    })
}

fn outcome(b: &mut Bytes) -> Res<Outcome> {
    Ok(match b.variant()? {
        0 => Outcome::Errno(b.u16()?),
        1 => Outcome::Exit(b.i32()?),
        2 => Outcome::Trap(b.string()?),
        v => return Err(format!("outcome variant {v}")),
    })
}

/// A calls payload; `version` is the trace's format version.
fn chunk(b: &mut Bytes, version: u32, offset: u64) -> Res<Chunk> {
    if version >= 4 {
        return v4::chunk(b, version, offset);
    }
    let first_seq = b.u64()?;
    let n = b.len()?;
    let mut calls = Vec::with_capacity(n);
    // The first call's delta is from 0, the start of the recording.
    let mut start = 0u64;
    for i in 0..n {
        let func = b.u16()?;
        let func = if version == 1 && func >= 46 {
            0x8000 + (func - 46)
        } else {
            func
        };
        let args = b.vec(Bytes::u64)?;
        let outcome = outcome(b)?;
        start = start
            .checked_add(b.u64()?)
            .ok_or("start times overflow u64")?;
        calls.push(Call {
            seq: first_seq + i as u64,
            func,
            args,
            outcome,
            start_ns: start,
            dur_ns: b.u64()?,
            reads: b.vec(mem)?,
            writes: b.vec(mem)?,
            injection: if version >= 3 { b.u16()? } else { 0 },
        });
    }
    Ok(Chunk {
        offset,
        first_seq,
        calls,
    })
}

fn end(b: &mut Bytes, version: u32) -> Res<End> {
    let run_end = match b.variant()? {
        0 => RunEnd::Exit(b.i32()?),
        1 => RunEnd::Trap(b.string()?),
        2 => RunEnd::Signal(b.i32()?),
        3 => RunEnd::WriteFailed(b.string()?),
        v => return Err(format!("run end variant {v}")),
    };
    let (calls, duration_ns) = (b.u64()?, b.u64()?);
    let tag = if version >= 6 { b.u8()? } else { 0 };
    let summary = match tag {
        0 => None,
        1 => Some(Summary {
            funcs: b.vec(|b| Ok((b.u16()?, [b.u64()?, b.u64()?, b.u64()?, b.u64()?])))?,
            fds: b.vec(|b| Ok((b.u32()?, b.string()?, [b.u64()?, b.u64()?, b.u64()?])))?,
        }),
        tag => return Err(format!("summary option tag {tag}")),
    };
    Ok(End {
        run_end,
        calls,
        duration_ns,
        summary,
    })
}

fn index(b: &mut Bytes) -> Res<Index> {
    Ok(Index {
        chunks: b.vec(|b| {
            Ok(IndexEntry {
                first_seq: b.u64()?,
                calls: b.u32()?,
                offset: b.u64()?,
            })
        })?,
        end_offset: b.u64()?,
    })
}

// ------------------------------------------------------------ the file

const MAGIC: &[u8; 7] = b"WTRACE\0";
const FOOTER_MAGIC: &[u8; 8] = b"WTRCIDX\0";
/// The versions this reader knows.
const VERSIONS: [u8; 6] = [1, 2, 3, 4, 5, 6];

fn unzstd(payload: &[u8]) -> Res<Vec<u8>> {
    zstd::stream::decode_all(payload).map_err(|e| format!("payload: {e}"))
}

/// Reads a finished or unfinished trace by walking all of its frames,
/// checking the chain, the frame order, every record, the index and the
/// footer.
pub fn read(file: &[u8]) -> Res<Trace> {
    if file.len() < 8 || &file[..7] != MAGIC {
        return Err("no magic".into());
    }
    let version = file[7];
    if !VERSIONS.contains(&version) {
        return Err(format!("format version {version} is not one I read"));
    }
    let mut at = 8u64;
    let mut prev = [0u8; 32];
    let mut frames = 0;
    let mut header_rec = None;
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut end_rec = None;
    let mut index_rec = None;
    let mut calls_so_far = 0u64;
    let mut footer = false;
    while (at as usize) < file.len() {
        let rest = &file[at as usize..];
        // After the index frame comes the footer, and the file ends.
        if let Some((index_offset, _)) = &index_rec {
            if rest.len() != 16 || &rest[8..] != FOOTER_MAGIC {
                return Err(format!("byte {at}: not a footer after the index"));
            }
            if u64::from_le_bytes(rest[..8].try_into().unwrap()) != *index_offset {
                return Err("the footer does not point at the index".into());
            }
            footer = true;
            break;
        }
        if rest.len() < 37 {
            return Err(format!("byte {at}: cut inside a frame header"));
        }
        let kind = rest[0];
        let len = u32::from_le_bytes(rest[1..5].try_into().unwrap()) as usize;
        let chain: [u8; 32] = rest[5..37].try_into().unwrap();
        let payload = rest
            .get(37..37 + len)
            .ok_or_else(|| format!("byte {at}: cut inside a frame"))?;
        let mut h = blake3::Hasher::new();
        h.update(&prev);
        h.update(&[kind]);
        h.update(payload);
        if *h.finalize().as_bytes() != chain {
            return Err(format!("byte {at}: the chain does not match"));
        }
        prev = chain;
        let raw = unzstd(payload)?;
        let mut b = Bytes::new(&raw);
        match (kind, frames) {
            (1, 0) => {
                let mut h = header(&mut b)?;
                if h.format_version >= 3 {
                    faults(&mut b, &mut h)?;
                }
                b.done("header")?;
                if h.format_version != version as u32 {
                    return Err(format!(
                        "the magic says version {version}, the header {}",
                        h.format_version
                    ));
                }
                header_rec = Some(h);
            }
            (2, 1..) if end_rec.is_none() => {
                let c = chunk(&mut b, version as u32, at)?;
                b.done("chunk")?;
                if c.first_seq != calls_so_far || c.calls.is_empty() {
                    return Err(format!("byte {at}: chunk does not follow on"));
                }
                calls_so_far += c.calls.len() as u64;
                chunks.push(c);
            }
            (3, 1..) if end_rec.is_none() => {
                let e = end(&mut b, version as u32)?;
                b.done("end")?;
                end_rec = Some((at, e));
            }
            (4, 1..) if end_rec.is_some() => {
                let i = index(&mut b)?;
                b.done("index")?;
                index_rec = Some((at, i));
            }
            (kind, n) => return Err(format!("byte {at}: frame kind {kind} as frame {n}")),
        }
        frames += 1;
        at += 37 + len as u64;
    }
    let header = header_rec.ok_or("no header")?;
    if index_rec.is_some() && !footer {
        return Err("no footer after the index".into());
    }
    if let Some((_, i)) = &index_rec {
        let listed: Vec<IndexEntry> = chunks
            .iter()
            .map(|c| IndexEntry {
                first_seq: c.first_seq,
                calls: c.calls.len() as u32,
                offset: c.offset,
            })
            .collect();
        if i.chunks != listed {
            return Err("the index does not list the chunks".into());
        }
        if Some(i.end_offset) != end_rec.as_ref().map(|(o, _)| *o) {
            return Err("the index does not point at the end record".into());
        }
    }
    if let Some((_, e)) = &end_rec {
        if e.calls != calls_so_far {
            return Err("the end record counts other calls".into());
        }
    }
    Ok(Trace {
        version,
        header,
        chunks,
        end: end_rec,
        index: index_rec,
        frames,
    })
}

// ---------------------------------------------- the function table

/// A parameter as the spec's table describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    /// What follows `name: `, or "" for a length (a bare name).
    pub kind: String,
}

impl Param {
    /// True for parameters whose memory the host reads or writes.
    pub fn is_pointer(&self) -> bool {
        [
            "string",
            "ciovec list",
            "iovec list",
            "buffer",
            "subscriptions",
            "events",
            "pointer array",
            "string buffer",
            "out ",
        ]
        .iter()
        .any(|k| self.kind.starts_with(k))
    }

    /// Bytes an out-pointer receives: `out NAME (N bytes)`.
    pub fn out_size(&self) -> Option<usize> {
        let rest = self.kind.strip_prefix("out ")?;
        let n = rest.split_once('(')?.1.split_once(" bytes)")?.0;
        n.parse().ok()
    }
}

/// The table between the markers in the spec: id → (name, parameters).
pub fn functions(spec: &str) -> Res<BTreeMap<u16, (String, Vec<Param>)>> {
    let start = spec
        .find("<!-- function-table:start")
        .ok_or("no table start marker")?;
    let end = spec
        .find("<!-- function-table:end")
        .ok_or("no table end marker")?;
    let mut table = BTreeMap::new();
    for line in spec[start..end].lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | id | function | parameters |
        let [_, id, name, params, _] = cells[..] else {
            continue;
        };
        let Ok(id) = id.parse::<u16>() else {
            continue;
        };
        let name = name.trim_matches('`').to_string();
        let params = split_top_level(params.trim_matches('`'))
            .into_iter()
            .filter(|p| !p.is_empty() && *p != "—")
            .map(|p| match p.split_once(": ") {
                Some((n, k)) => Param {
                    name: n.to_string(),
                    kind: k.to_string(),
                },
                None => Param {
                    name: p.to_string(),
                    kind: String::new(),
                },
            })
            .collect();
        table.insert(id, (name, params));
    }
    Ok(table)
}

/// Splits at commas outside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

// ------------------------------------------------------ version 6's summary

/// The summary of `t`'s calls as "End (frame kind 3)" defines it, the
/// functions' parameters from the spec's table: what a version 6 writer
/// must have stored.
pub fn summarize(t: &Trace, table: &BTreeMap<u16, (String, Vec<Param>)>) -> Summary {
    let mut funcs: BTreeMap<u16, [u64; 4]> = BTreeMap::new();
    let mut fds: BTreeMap<(u32, String), [u64; 3]> = BTreeMap::new();
    let mut paths: BTreeMap<u32, String> = BTreeMap::new();
    for (i, p) in t.header.preopens.iter().enumerate() {
        paths.insert(3 + i as u32, p.1.clone());
    }
    for c in t.calls() {
        let f = funcs.entry(c.func).or_default();
        f[0] += 1;
        f[1] += !matches!(c.outcome, Outcome::Errno(0) | Outcome::Exit(_)) as u64;
        f[2] += c.dur_ns;
        f[3] += (c.injection != 0) as u64;
        let Some((name, params)) = table.get(&c.func) else {
            continue;
        };
        if c.outcome != Outcome::Errno(0) {
            continue;
        }
        let index_of = |want: &str| params.iter().position(|p| p.name == want);
        let write_of = |i: Option<usize>| c.writes.iter().find(|m| Some(m.param as usize) == i);
        let u32_of = |m: &Mem| u32::from_le_bytes(m.bytes[..4].try_into().unwrap());
        let (mut read, mut written) = (0, 0);
        for (i, p) in params.iter().enumerate() {
            if p.kind.starts_with("iovec list") {
                let filled = c.writes.iter().filter(|m| m.param as usize == i);
                read += filled.map(|m| m.bytes.len() as u64).sum::<u64>();
            } else if let Some(rest) = p.kind.strip_prefix("ciovec list") {
                let consumed = rest
                    .split("consumed: ")
                    .nth(1)
                    .unwrap()
                    .trim_end_matches(')');
                written += write_of(index_of(consumed)).map_or(0, |m| u32_of(m) as u64);
            }
        }
        let fd = params
            .iter()
            .position(|p| p.kind == "fd")
            .map(|i| c.args[i] as u32);
        if read + written > 0 {
            let fd = fd.unwrap();
            let path = match fd {
                0 => "<stdin>".to_string(),
                1 => "<stdout>".to_string(),
                2 => "<stderr>".to_string(),
                _ => paths.get(&fd).cloned().unwrap_or_else(|| "?".into()),
            };
            let e = fds.entry((fd, path)).or_default();
            e[0] += read;
            e[1] += written;
            e[2] += 1;
        }
        let text = |m: &Mem| String::from_utf8_lossy(&m.bytes).into_owned();
        let opened = || write_of(index_of("opened_fd")).map(u32_of);
        match name.as_str() {
            "path_open" => {
                let path = c
                    .reads
                    .iter()
                    .find(|m| Some(m.param as usize) == index_of("path"));
                let (Some(new_fd), Some(path)) = (opened(), path.map(text)) else {
                    continue;
                };
                let joined = match paths.get(&fd.unwrap()) {
                    Some(dir) if path.starts_with('/') || dir.is_empty() => path,
                    Some(dir) if dir.ends_with('/') => format!("{dir}{path}"),
                    Some(dir) => format!("{dir}/{path}"),
                    None => path,
                };
                paths.insert(new_fd, joined);
            }
            "sock_accept" => {
                if let Some(new_fd) = opened() {
                    paths.remove(&new_fd);
                }
            }
            "fd_prestat_dir_name" => {
                if let Some(m) = write_of(index_of("path")) {
                    paths.insert(fd.unwrap(), text(m));
                }
            }
            "fd_close" => {
                paths.remove(&fd.unwrap());
            }
            "fd_renumber" => {
                let to = c.args[1] as u32;
                match paths.remove(&fd.unwrap()) {
                    Some(p) => paths.insert(to, p),
                    None => paths.remove(&to),
                };
            }
            _ => {}
        }
    }
    Summary {
        funcs: funcs.into_iter().collect(),
        fds: fds
            .into_iter()
            .map(|((fd, path), n)| (fd, path, n))
            .collect(),
    }
}
