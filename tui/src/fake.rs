//! A made-up trace for the tests: the UI against a source whose every
//! answer is known.

use crate::source::{
    CallResult, Detail, Filter, Item, MemBlock, Row, RunStatus, StatRow, Summary, TraceSource,
    Value, ValueKind,
};

/// A trace of `n` calls: every 5th is fd_write("line N\n") to stdout,
/// every 7th (not 5th) a path_open failing with ENOENT, the last a
/// proc_exit(2); the rest read the clock. Path_opens at multiples of 14
/// were injected. Its classes are fd, path and a
/// class wtrace does not have, `teleport`.
pub struct Fake {
    pub n: u64,
}

impl Fake {
    pub fn func(&self, seq: u64) -> &'static str {
        if seq + 1 == self.n {
            "proc_exit"
        } else if seq.is_multiple_of(5) {
            "fd_write"
        } else if seq.is_multiple_of(7) {
            "path_open"
        } else {
            "clock_time_get"
        }
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
                Item::new("path", Value::scalar("\"missing\"", ValueKind::Str)),
                Item::new("oflags", Value::scalar("CREAT|TRUNC", ValueKind::Name)),
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
    fn classes(&self) -> Vec<String> {
        vec!["fd".into(), "path".into(), "teleport".into()]
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
                args: format!("arg={seq}"),
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
    fn search(&mut self, from: u64, forward: bool, text: &str) -> Option<u64> {
        let hit = |s: &u64| self.func(*s).contains(text);
        if forward {
            (from + 1..self.n).chain(0..=from).find(hit)
        } else {
            (0..from).rev().chain((from..self.n).rev()).find(hit)
        }
    }
    fn select(&mut self, filter: &Filter) -> Vec<u64> {
        let func = match filter {
            Filter::Class(c) if c == "fd" => "fd_write",
            Filter::Class(c) if c == "path" => "path_open",
            Filter::Class(_) => return Vec::new(),
            Filter::Errors => "path_open",
        };
        (0..self.n).filter(|s| self.func(*s) == func).collect()
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
