//! Any bytes as a trace file: opening, reading every call, dumping,
//! counting (from the end record's summary, whatever it says) and verifying
//! must return errors, never panic. Seeded from traces/.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use wtrace::trace::TraceReader;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("wtrace-fuzz-{}.wtrace", std::process::id()));
    std::fs::File::create(&path).and_then(|mut f| f.write_all(data)).expect("temp file");
    if let Ok(mut r) = TraceReader::open(&path) {
        let n = r.call_count();
        let _ = r.calls().take(100_000).count();
        if n > 0 {
            let _ = r.call(n - 1);
            let _ = r.call(n / 2);
        }
        let opts = wtrace::dump::DumpOptions { strsize: 32, json: n % 2 == 0, ..Default::default() };
        let _ = wtrace::dump::dump(&mut r, &opts, &mut std::io::sink());
        let _ = wtrace::report::stats::stats(&mut r);
    }
    let _ = wtrace::report::verify::verify(&path, wtrace::trace::VerifyDepth::Frames);
    let _ = wtrace::report::verify::verify(&path, wtrace::trace::VerifyDepth::Calls);
});
