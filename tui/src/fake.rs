//! A made-up trace for the tests: the UI against a source whose every
//! answer is known.

use crate::source::{
    BreakHit, CallResult, CallState, Detail, Item, MemBlock, Pointer, Row, RunStatus, SearchHit,
    StatRow, Summary, TraceSource, Value, ValueKind,
};
use crate::task::Task;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A trace of `n` calls: every 5th is fd_write("line N\n") to stdout,
/// every 7th (not 5th) a path_open failing with ENOENT, the last a
/// proc_exit(2), the one before (in a trace of more than 12 calls) a
/// path_unlink_file; the rest read the clock. Path_opens at multiples of
/// 14 were injected. Its classes are fd, path and a
/// class wtrace does not have, `teleport`.
pub struct Fake {
    pub n: u64,
    /// Whether it computes the guest's state at a call (a debugger's
    /// source); without, the detail pane shows the call alone.
    pub states: bool,
    /// While set, states are held back: still being computed.
    pub hold: Arc<AtomicBool>,
}

/// A search for this text, or a continue to this breakpoint, runs until
/// it is cancelled.
pub const ENDLESS: &str = "endless";

/// Bytes of the fake guest's memory.
pub const MEMORY_SIZE: u64 = 4096;

/// The fake guest's memory when call `seq` returned: "hello, world!" at
/// 0x10, "missing" at 0x80, the call's number (u64, little-endian) at
/// 0x200, zeros elsewhere.
pub fn memory_at(seq: u64) -> Vec<u8> {
    let mut m = vec![0; MEMORY_SIZE as usize];
    m[0x10..0x1d].copy_from_slice(b"hello, world!");
    m[0x80..0x87].copy_from_slice(b"missing");
    m[0x200..0x208].copy_from_slice(&seq.to_le_bytes());
    m
}

/// A breakpoint of the fake: function names (by part) and a `when=N`.
fn breakpoint_terms(expr: &str) -> Result<(Vec<String>, Option<u64>), String> {
    let mut funcs = Vec::new();
    let mut when = None;
    for word in expr.split_whitespace() {
        match word.strip_prefix("when=") {
            Some(n) => when = Some(n.parse().map_err(|_| format!("bad when={n}"))?),
            None if word == ENDLESS || (0..20).any(|s| func_of(20, s).contains(word)) => {
                funcs.push(word.to_string())
            }
            None => return Err(format!("unknown function {word:?}")),
        }
    }
    Ok((funcs, when))
}

/// The function of call `seq` of `n`.
fn func_of(n: u64, seq: u64) -> &'static str {
    if seq + 1 == n {
        "proc_exit"
    } else if seq + 2 == n && seq > 10 {
        "path_unlink_file"
    } else if seq.is_multiple_of(5) {
        "fd_write"
    } else if seq.is_multiple_of(7) {
        "path_open"
    } else {
        "clock_time_get"
    }
}

impl Fake {
    pub fn new(n: u64) -> Fake {
        Fake {
            n,
            states: false,
            hold: Arc::default(),
        }
    }

    /// A fake that computes states: [`Fake::state`], [`memory_at`].
    pub fn debugger(n: u64) -> Fake {
        Fake {
            states: true,
            ..Fake::new(n)
        }
    }

    pub fn func(&self, seq: u64) -> &'static str {
        func_of(self.n, seq)
    }

    fn result(&self, seq: u64) -> CallResult {
        let (short, full, is_error) = match self.func(seq) {
            "path_open" => ("44 ENOENT", "44 ENOENT (No such file or directory)", true),
            "proc_exit" => ("? exit 2", "? +++ exited with 2 +++", false),
            _ => ("0", "0", false),
        };
        let injected = short == "44 ENOENT" && seq.is_multiple_of(14);
        CallResult {
            short: short.into(),
            full: if injected {
                format!("{full} (INJECTED)")
            } else {
                full.into()
            },
            is_error,
            injected,
        }
    }

    fn args(&self, seq: u64) -> Vec<Item> {
        let number = |n: u64| Value::scalar(n.to_string(), ValueKind::Number);
        let iovec = |buf: &str, data: &str| {
            Value::Record(vec![
                Item::new("buf", Value::scalar(buf, ValueKind::Address)),
                Item::new("len", number(data.len() as u64)),
                Item {
                    bare: true,
                    ..Item::new("data", Value::scalar(format!("{data:?}"), ValueKind::Str))
                },
            ])
        };
        match self.func(seq) {
            "fd_write" => vec![
                Item::new("fd", Value::Fd { fd: 1, path: None }),
                Item::new(
                    "iovs",
                    Value::List(vec![
                        iovec("0x10", "hello, world!"),
                        iovec("0x20", "a second, longer buffer"),
                    ]),
                ),
            ],
            "path_open" => vec![
                Item::new(
                    "fd",
                    Value::Fd {
                        fd: 3,
                        path: Some("/data".into()),
                    },
                ),
                Item::new("dirflags", Value::scalar("SYMLINK_FOLLOW", ValueKind::Name)),
                Item::new("path", Value::scalar("\"missing\"", ValueKind::Str)),
                Item::new("oflags", Value::scalar("CREAT|TRUNC", ValueKind::Name)),
                Item::new(
                    "fs_rights_base",
                    Value::scalar("FD_READ|FD_SEEK|...(24 rights)", ValueKind::Name),
                ),
            ],
            "path_unlink_file" => vec![
                Item::new(
                    "fd",
                    Value::Fd {
                        fd: 3,
                        path: Some("/data".into()),
                    },
                ),
                Item::new("path", Value::scalar("\"old/notes.txt\"", ValueKind::Str)),
            ],
            "proc_exit" => vec![Item::new("rval", number(2))],
            _ => vec![
                Item::new("id", Value::scalar("MONOTONIC", ValueKind::Name)),
                Item::new("precision", number(1)),
            ],
        }
    }
}

impl TraceSource for Fake {
    fn summary(&self) -> Summary {
        Summary {
            module: "fake.wasm".into(),
            blake3: "0123456789abcdef0123".into(),
            argv: vec!["fake.wasm".into(), "x".into(), "two words".into()],
            status: RunStatus::Exited(2),
            calls: self.n,
            duration_ns: self.n * 1000,
        }
    }
    fn filter_words(&self) -> Vec<String> {
        [
            "%fd",
            "%path",
            "%teleport",
            "fd_write",
            "path_open",
            "--failed",
        ]
        .map(String::from)
        .to_vec()
    }
    fn len(&self) -> u64 {
        self.n
    }
    fn rows(&mut self, start: u64, count: usize) -> Vec<Row> {
        (start..(start + count as u64).min(self.n))
            .map(|seq| Row {
                seq,
                time_ns: seq * 1000,
                func: self.func(seq).into(),
                args: self.args(seq),
                result: self.result(seq),
            })
            .collect()
    }
    fn detail(&mut self, seq: u64) -> Option<Detail> {
        (seq < self.n).then(|| Detail {
            seq,
            func: self.func(seq).into(),
            args: self.args(seq),
            result: self.result(seq),
            outs: vec![],
            time_ns: seq * 1000,
            dur_ns: 2000,
            memory: vec![MemBlock {
                label: "read iovs".into(),
                addr: 0x10,
                bytes: b"hello, world!".to_vec(),
            }],
        })
    }
    fn output_at(&mut self, seq: u64, _max: usize) -> (Vec<u8>, Vec<u8>) {
        let out: String = (0..=seq)
            .filter(|s| s.is_multiple_of(5))
            .map(|s| format!("line {s}\n"))
            .collect();
        (out.into_bytes(), Vec::new())
    }
    /// Function names only; [`ENDLESS`] never ends by itself.
    fn search(&mut self, from: u64, forward: bool, text: &str) -> Task<Option<SearchHit>> {
        let (n, text) = (self.n, text.to_string());
        Task::spawn(n, move |progress| {
            while text == ENDLESS && !progress.cancelled() {
                progress.report(n / 3);
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let hit = |s: &u64| func_of(n, *s).contains(&text);
            let (mut first, mut then): (
                Box<dyn Iterator<Item = u64>>,
                Box<dyn Iterator<Item = u64>>,
            ) = match forward {
                true => (Box::new(from + 1..n), Box::new(0..=from)),
                false => (Box::new((0..from).rev()), Box::new((from..n).rev())),
            };
            let found = match first.find(hit) {
                Some(seq) => Some(SearchHit {
                    seq,
                    wrapped: false,
                }),
                None => then.find(hit).map(|seq| SearchHit { seq, wrapped: true }),
            };
            (!progress.cancelled()).then_some(found)
        })
    }
    /// One word: `%fd` or `%path` (their one function each), `--failed`
    /// (the path_opens), or `%teleport` (nothing).
    fn select(&mut self, expr: &str) -> Result<Task<Vec<u64>>, String> {
        let func = match expr {
            "%fd" => "fd_write",
            "%path" | "--failed" => "path_open",
            "%teleport" => return Ok(Task::ready(Vec::new())),
            _ => return Err(format!("unknown filter {expr:?}")),
        };
        Ok(Task::ready(
            (0..self.n).filter(|s| self.func(*s) == func).collect(),
        ))
    }
    /// Two frames, the global `seq`, and the pointers of the call's data.
    fn state(&mut self, seq: u64) -> Option<Task<Result<CallState, String>>> {
        if !self.states {
            return None;
        }
        let func = self.func(seq);
        let pointer = |name: &str, addr, len| Pointer {
            name: name.into(),
            addr,
            len,
        };
        let pointers = match func {
            "fd_write" => vec![pointer("iovs", 0x300, 16), pointer("buf", 0x10, 13)],
            "path_open" => vec![pointer("path", 0x80, 7)],
            _ => vec![],
        };
        let state = CallState {
            seq,
            frames: vec![format!("fake::{func}"), "fake::main".into()],
            globals: vec![("seq".into(), seq.to_string())],
            memory_size: MEMORY_SIZE,
            pointers,
        };
        let hold = self.hold.clone();
        Some(Task::spawn(seq + 1, move |progress| {
            // Held, it says the replay got half way, as a waiting
            // time machine does.
            while hold.load(Ordering::Relaxed) && !progress.cancelled() {
                progress.report(seq / 2);
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Some(Ok(state))
        }))
    }
    fn memory(&mut self, seq: u64, addr: u32, len: u32) -> Task<Result<Vec<u8>, String>> {
        let m = memory_at(seq);
        let end = (addr as usize + len as usize).min(m.len());
        Task::ready(match (addr as usize) < m.len() {
            true => Ok(m[addr as usize..end].to_vec()),
            false => Err(format!("{addr:#x} is past the end")),
        })
    }
    fn check_breakpoint(&self, expr: &str) -> Result<(), String> {
        breakpoint_terms(expr).map(drop)
    }
    /// Counts each breakpoint's matches from call 0; [`ENDLESS`] never
    /// ends by itself.
    fn continue_to(
        &mut self,
        from: u64,
        forward: bool,
        breakpoints: &[String],
    ) -> Result<Task<Option<BreakHit>>, String> {
        let bps = breakpoints
            .iter()
            .map(|b| breakpoint_terms(b))
            .collect::<Result<Vec<_>, _>>()?;
        let n = self.n;
        Ok(Task::spawn(n, move |progress| {
            let endless = bps.iter().any(|(f, _)| f.iter().any(|w| w == ENDLESS));
            while endless && !progress.cancelled() {
                progress.report(n / 2);
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let mut hits = vec![0; bps.len()];
            let mut found = None;
            for seq in 0..n {
                for (b, (funcs, when)) in bps.iter().enumerate() {
                    if !funcs.iter().all(|f| func_of(n, seq).contains(f.as_str())) {
                        continue;
                    }
                    hits[b] += 1;
                    let fires = when.is_none_or(|w| w == hits[b]);
                    let wanted = if forward { seq > from } else { seq < from };
                    // Forward the first; back the last (the first set, at one call).
                    let better = found.is_none_or(|h: BreakHit| !forward && h.seq < seq);
                    if fires && wanted && better {
                        found = Some(BreakHit { seq, breakpoint: b });
                    }
                }
            }
            (!progress.cancelled()).then_some(found)
        }))
    }
    fn density(&mut self, buckets: usize) -> Option<Vec<u64>> {
        Some(vec![1; buckets])
    }
    fn stats(&mut self) -> (Vec<StatRow>, Vec<String>) {
        (
            vec![StatRow {
                name: "fd_write".into(),
                calls: 20,
                errors: 0,
                ns: 5000,
            }],
            vec!["fd 1 <stdout>".into()],
        )
    }
}
