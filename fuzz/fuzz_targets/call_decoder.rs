//! Any call, however malformed (wrong argument counts, ranges of any size
//! for any parameter, unknown function ids): decoding it as text, as JSON
//! and through the filter must not panic.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wtrace::decode::{call_json, Decoder};
use wtrace::syscalls::FuncId;
use wtrace::trace::{Call, Header, Mem, Outcome, Preopen};

fn header() -> Header {
    Header {
        format_version: wtrace::trace::FORMAT_VERSION,
        wtrace_version: "fuzz".into(),
        wasmtime_version: "48.0.8".into(),
        module_name: "m.wasm".into(),
        module_size: 0,
        module_blake3: [0; 32],
        module: None,
        argv: vec!["m.wasm".into()],
        env: vec![],
        preopens: vec![Preopen { host: "/tmp".into(), guest: "/work".into() }],
        start_unix_ns: 0,
        platform: "fuzz".into(),
        max_wasm_stack: 1 << 20,
        foreign_imports: vec!["env::f".into()],
        faults: wtrace::trace::Faults {
            injections: vec!["fd_write:fd=1:short=2".into()],
            chaos: None,
        },
    }
}

fn call(u: &mut Unstructured<'_>, seq: u64) -> arbitrary::Result<Call> {
    // Preview1 ids, unknown ids past them, and foreign imports (known or not).
    let func = match u.int_in_range(0..=2)? {
        0 => FuncId(u16::arbitrary(u)? % 50),
        1 => FuncId(FuncId::FOREIGN_BASE + u16::arbitrary(u)? % 3),
        _ => FuncId(u16::arbitrary(u)?),
    };
    let args = (0..u.int_in_range(0..=10)?).map(|_| u64::arbitrary(u)).collect::<Result<_, _>>()?;
    let outcome = match u.int_in_range(0..=2)? {
        0 => Outcome::Errno(u16::arbitrary(u)? % 80),
        1 => Outcome::Exit(i32::arbitrary(u)?),
        _ => Outcome::Trap(String::arbitrary(u)?),
    };
    let mems = |u: &mut Unstructured<'_>| -> arbitrary::Result<Vec<Mem>> {
        (0..u.int_in_range(0..=4)?)
            .map(|_| Ok(Mem { param: u8::arbitrary(u)? % 10, addr: u32::arbitrary(u)?, bytes: Vec::<u8>::arbitrary(u)? }))
            .collect()
    };
    let reads = mems(u)?;
    let writes = mems(u)?;
    Ok(Call { seq, func, args, outcome, start_ns: u64::arbitrary(u)?, dur_ns: u64::arbitrary(u)?, reads, writes, injection: wtrace::trace::Injection(u16::arbitrary(u)?) })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let header = header();
    let mut printer = Decoder::new(16);
    let filter = wtrace::filter::Filter::parse(&["trace=%fd,!clock_time_get".into()], true).unwrap();
    let mut seq = 0;
    while let Ok(c) = call(&mut u, seq) {
        let d = printer.decode(&header, &c);
        let _ = d.line();
        let _ = call_json(&c, &d);
        let _ = filter.matches(&c);
        seq += 1;
        if u.is_empty() {
            break;
        }
    }
});
