//! The sample traces committed in `traces/` are format fixtures: every later
//! version of wtrace must read them, decode them to the committed `.dump`
//! text, verify them and replay them. Do not re-record them to make this
//! test pass; a change of format bumps the version and keeps old readers.

mod common;

use common::{output, tempdir, wtrace};

fn fixture(name: &str) -> std::path::PathBuf {
    common::root().join("traces").join(name)
}

#[test]
fn every_committed_trace_decodes_to_its_committed_dump() {
    let mut seen = 0;
    for entry in std::fs::read_dir(common::root().join("traces")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "wtrace") {
            continue;
        }
        let expected_path = path.with_extension("dump");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no {}", path.display(), expected_path.display()));
        // go-files.dump was made with -s 64, readfile.dump with the default.
        let strsize = if path.ends_with("go-files.wtrace") {
            "64"
        } else {
            "32"
        };
        let dump = output(wtrace().args(["dump", "-s", strsize]).arg(&path));
        assert_eq!(dump.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&dump.stdout),
            expected,
            "{}",
            path.display()
        );
        let verify = output(wtrace().arg("verify").arg(&path));
        assert_eq!(
            verify.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );
        seen += 1;
    }
    assert_eq!(seen, REPLAYS.len(), "the fixtures are missing");
}

/// Every committed trace, with the exit code and the stdout its replay must
/// give, and a piece of its stderr.
const REPLAYS: &[(&str, i32, &str, &str)] = &[
    (
        "readfile",
        61,
        "Hello from a preopened directory!\nwtrace recorded this read.\n",
        "",
    ),
    (
        "go-files",
        0,
        "notes.txt has 23 bytes: \"first line\\nsecond line\\n\"\nnotes.txt is gone after the rename\n\
         sub holds: [empty (0 bytes) renamed.txt (23 bytes)]\nremoving a non-empty directory fails: true\n\
         reading a missing file fails: true\n",
        "",
    ),
    ("manycalls", 0, "10000 sched_yield calls\n", ""),
    ("manycalls-v4", 0, "10000 sched_yield calls\n", ""),
    ("clocks-v5", 0, "1000 clock readings\n", ""),
    (
        "readfile-v6",
        61,
        "Hello from a preopened directory!\nwtrace recorded this read.\n",
        "",
    ),
    ("trap", 134, "about to trap\n", "unreachable"),
    (
        "foreign",
        134,
        "calling env::host_log\n",
        "unknown import env::host_log was called",
    ),
    (
        "foreign-v1",
        134,
        "calling env::host_log\n",
        "unknown import env::host_log was called",
    ),
    // Injected (version 3): fd_read cut to 5 bytes, whose write chaos
    // failed with EINTR, so nothing is printed.
    ("injected", 5, "", ""),
    (
        "argsenv",
        3,
        "examples/wat/argsenv.wat\none\ntwo words\nGREETING=hello\nEMPTY=\n",
        "",
    ),
];

#[test]
fn the_committed_traces_replay_without_their_files() {
    let mut names: Vec<String> = std::fs::read_dir(common::root().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wtrace"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut listed: Vec<&str> = REPLAYS.iter().map(|r| r.0).collect();
    listed.sort();
    assert_eq!(
        names, listed,
        "every committed trace needs a line in REPLAYS"
    );

    for &(name, code, stdout, stderr) in REPLAYS {
        let empty = tempdir();
        let r = output(
            wtrace()
                .current_dir(empty.path())
                .arg("replay")
                .arg(fixture(&format!("{name}.wtrace"))),
        );
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(code), "{name}: {err}");
        assert_eq!(String::from_utf8_lossy(&r.stdout), stdout, "{name}");
        assert!(err.contains(stderr), "{name}: {err}");
        assert_eq!(
            std::fs::read_dir(empty.path()).unwrap().count(),
            0,
            "{name} left files behind"
        );
    }
}
