//! The recorded calls as the reproducer stores them: one byte stream in a
//! passive data segment, read front to back by the module's own code
//! (`runtime`), so it is made of what wasm decodes cheaply: LEB128 numbers
//! and raw bytes. `docs/reproducer.md` has the layout; in short, per call:
//!
//! ```text
//! head     uleb  (func << 3) | e: func is the function's id (FuncId: a
//!                preview1 id, or 0x8000 + k); e < 7 says the errno is 0
//!                and `effects` is e, e = 7 that both follow:
//! [result  uleb  the errno, or TRAP when the call trapped in the recording]
//! [effects uleb  (number of memory effects << 1) | 1 if it is a real stdout/stderr write]
//! per effect:
//!   addr   uleb  zigzag(addr - previous effect's addr), wrapping in 32 bits
//!   tag    uleb  (len << 1): len raw bytes follow
//!                (slot << 1) | 1: an 8-byte timestamp follows as
//!                uleb zigzag(value - previous value of clock `slot`)
//! ```
//!
//! Only what replay applies is kept: the function (to detect a divergence),
//! the errno and the memory the host wrote (`Call::writes`). Arguments,
//! reads and timings are left out.

use crate::capture;
use crate::names::Value;
use crate::syscalls::{Func, Kind, Out};
use crate::trace::{Call, Outcome};

/// The `result` of a call that trapped in the recording.
pub const TRAP: u32 = 0x1_0000;
/// The `e` of a head that says `result` and `effects` follow.
pub const HEAD_LONG: u64 = 7;
/// Clocks whose readings are delta-coded (preview1's four clock ids).
pub const CLOCK_SLOTS: u32 = 4;

/// Builds the stream call by call.
#[derive(Default)]
pub struct Encoder {
    pub bytes: Vec<u8>,
    last_addr: u32,
    last_time: [u64; CLOCK_SLOTS as usize],
    pub calls: u64,
}

impl Encoder {
    pub fn call(&mut self, call: &Call) {
        self.calls += 1;
        let result = match &call.outcome {
            Outcome::Errno(e) => u32::from(*e),
            Outcome::Exit(_) => 0,
            Outcome::Trap(_) => TRAP,
        };
        let real = u64::from(is_real_write(call));
        let effects = (call.writes.len() as u64) << 1 | real;
        let func = u64::from(call.func.0) << 3;
        // Most calls succeed with an effect or two: one byte says it all.
        if result == 0 && effects < HEAD_LONG {
            uleb(&mut self.bytes, func | effects);
        } else {
            uleb(&mut self.bytes, func | HEAD_LONG);
            uleb(&mut self.bytes, u64::from(result));
            uleb(&mut self.bytes, effects);
        }
        let slot = clock_slot(call);
        for w in &call.writes {
            let delta = w.addr.wrapping_sub(self.last_addr) as i32;
            self.last_addr = w.addr;
            uleb(&mut self.bytes, zigzag(i64::from(delta)));
            match (slot, timestamp(call, w.param, &w.bytes)) {
                (Some(s), Some(value)) => {
                    uleb(&mut self.bytes, u64::from(s) << 1 | 1);
                    let last = &mut self.last_time[s as usize];
                    uleb(&mut self.bytes, zigzag(value.wrapping_sub(*last) as i64));
                    *last = value;
                }
                _ => {
                    uleb(&mut self.bytes, (w.bytes.len() as u64) << 1);
                    self.bytes.extend_from_slice(&w.bytes);
                }
            }
        }
    }
}

/// A successful fd_write to fd 1 or 2: the reproducer writes it for real.
pub fn is_real_write(call: &Call) -> bool {
    call.func == Func::fd_write && capture::stdio_output(call).is_some()
}

/// The clock a call reads, when it takes a clock id (clock_time_get,
/// clock_res_get): its readings are delta-coded per clock.
fn clock_slot(call: &Call) -> Option<u32> {
    let sys = call.func.syscall()?;
    let i = sys.param_where(|k| k == Kind::Value(Value::ClockId))?;
    let id = u32::try_from(call.arg(i)).ok()?;
    (id < CLOCK_SLOTS).then_some(id)
}

/// The value of an 8-byte timestamp out-parameter.
fn timestamp(call: &Call, param: u8, bytes: &[u8]) -> Option<u64> {
    let sys = call.func.syscall()?;
    let kind = sys.params.get(param as usize)?.kind;
    let b: [u8; 8] = bytes.try_into().ok()?;
    (kind == Kind::Out(Out::Timestamp)).then_some(u64::from_le_bytes(b))
}

pub fn uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// One call read back from the stream: what the reproducer's code does,
/// in Rust, for the tests.
#[cfg(test)]
pub(crate) mod decode {
    use super::*;

    #[derive(Debug, PartialEq)]
    pub struct Decoded {
        pub func: u16,
        pub result: u32,
        pub real_write: bool,
        pub effects: Vec<(u32, Vec<u8>)>,
    }

    pub struct Decoder<'a> {
        pub bytes: &'a [u8],
        pos: usize,
        last_addr: u32,
        last_time: [u64; CLOCK_SLOTS as usize],
    }

    impl<'a> Decoder<'a> {
        pub fn new(bytes: &'a [u8]) -> Self {
            Decoder {
                bytes,
                pos: 0,
                last_addr: 0,
                last_time: [0; CLOCK_SLOTS as usize],
            }
        }

        fn uleb(&mut self) -> u64 {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let b = self.bytes[self.pos];
                self.pos += 1;
                v |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    return v;
                }
            }
        }

        fn sleb(&mut self) -> i64 {
            let z = self.uleb();
            (z >> 1) as i64 ^ -((z & 1) as i64)
        }

        pub fn next(&mut self) -> Option<Decoded> {
            if self.pos == self.bytes.len() {
                return None;
            }
            let head = self.uleb();
            let func = (head >> 3) as u16;
            let (result, n) = match head & 7 {
                HEAD_LONG => (self.uleb() as u32, self.uleb()),
                e => (0, e),
            };
            let mut effects = Vec::new();
            for _ in 0..n >> 1 {
                let addr = self.last_addr.wrapping_add(self.sleb() as u32);
                self.last_addr = addr;
                let tag = self.uleb();
                let bytes = if tag & 1 == 1 {
                    let slot = (tag >> 1) as usize;
                    let v = self.last_time[slot].wrapping_add(self.sleb() as u64);
                    self.last_time[slot] = v;
                    v.to_le_bytes().to_vec()
                } else {
                    let len = (tag >> 1) as usize;
                    self.pos += len;
                    self.bytes[self.pos - len..self.pos].to_vec()
                };
                effects.push((addr, bytes));
            }
            Some(Decoded {
                func,
                result,
                real_write: n & 1 == 1,
                effects,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode::{Decoded, Decoder};
    use super::*;
    use crate::syscalls::FuncId;
    use crate::trace::Mem;

    fn mem(param: u8, addr: u32, bytes: &[u8]) -> Mem {
        Mem {
            param,
            addr,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn calls_read_back_as_the_recorded_effects() {
        let t0 = 1_795_560_736_675_180_846u64;
        let clock = |t: u64, id: u64| Call {
            func: Func::clock_time_get.id(),
            args: vec![id, 1000, 0x1000],
            writes: vec![mem(2, 0x1000, &t.to_le_bytes())],
            ..Call::default()
        };
        let write = Call {
            func: Func::fd_write.id(),
            args: vec![1, 0x20, 1, 0x30],
            reads: vec![
                mem(1, 0x20, &[0x40, 0, 0, 0, 2, 0, 0, 0]),
                mem(1, 0x40, b"hi"),
            ],
            writes: vec![mem(3, 0x30, &2u32.to_le_bytes())],
            ..Call::default()
        };
        let failed = Call {
            func: Func::path_open.id(),
            outcome: Outcome::Errno(44),
            ..Call::default()
        };
        let trapped = Call {
            func: FuncId(0x8001),
            outcome: Outcome::Trap("boom".into()),
            ..Call::default()
        };
        let calls = [
            clock(t0, 1),
            clock(t0 + 1234, 1),
            clock(t0 - 7, 0),
            write,
            failed,
            trapped,
        ];
        let mut e = Encoder::default();
        for c in &calls {
            e.call(c);
        }
        let mut d = Decoder::new(&e.bytes);
        for c in &calls {
            let got = d.next().unwrap();
            let want = Decoded {
                func: c.func.0,
                result: match c.outcome {
                    Outcome::Errno(e) => u32::from(e),
                    Outcome::Trap(_) => TRAP,
                    Outcome::Exit(_) => 0,
                },
                real_write: c.func == Func::fd_write,
                effects: c.writes.iter().map(|w| (w.addr, w.bytes.clone())).collect(),
            };
            assert_eq!(got, want);
        }
        assert_eq!(d.next(), None);
        // The second reading of the same clock at the same address: func 5
        // with errno 0 and one effect, addr delta 0, clock slot 1, delta 1234.
        let mut first = Encoder::default();
        first.call(&calls[0]);
        let second = &e.bytes[first.bytes.len()..];
        assert_eq!(&second[..5], &[5 << 3 | 2, 0, 3, 0xa4, 0x13]);
    }
}
