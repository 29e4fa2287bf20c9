//! The decoder against hand-made calls: exact text and JSON.

use super::*;
use crate::syscalls::Func;
use crate::trace::Preopen;

fn header() -> Header {
    Header {
        format_version: 1,
        wtrace_version: "0".into(),
        wasmtime_version: "48".into(),
        module_name: "m.wasm".into(),
        module_size: 0,
        module_blake3: [0; 32],
        module: None,
        argv: vec![],
        env: vec![],
        preopens: vec![Preopen {
            host: "/tmp/w".into(),
            guest: "/work".into(),
        }],
        start_unix_ns: 0,
        platform: "x".into(),
        max_wasm_stack: 0,
        foreign_imports: vec![],
        faults: Default::default(),
    }
}

fn call(func: Func, args: Vec<u64>, errno: u16, reads: Vec<Mem>, writes: Vec<Mem>) -> Call {
    Call {
        seq: 0,
        func: func.id(),
        args,
        outcome: Outcome::Errno(errno),
        start_ns: 0,
        dur_ns: 0,
        reads,
        writes,
        ..Call::default()
    }
}

/// Bytes of iovec records.
fn iovec_bytes(entries: &[(u32, u32)]) -> Vec<u8> {
    entries
        .iter()
        .flat_map(|(buf, len)| [buf.to_le_bytes(), len.to_le_bytes()].concat())
        .collect()
}

fn m(param: u8, addr: u32, bytes: &[u8]) -> Mem {
    Mem {
        param,
        addr,
        bytes: bytes.to_vec(),
    }
}

#[test]
fn path_open_then_read_shows_paths_data_and_errors() {
    let h = header();
    let mut p = Decoder::default();
    let open = call(
        Func::path_open,
        vec![3, 1, 100, 14, 0, 2, 0, 0, 200],
        0,
        vec![m(2, 100, b"input/data.txt")],
        vec![m(8, 200, &4u32.to_le_bytes())],
    );
    assert_eq!(
        p.line(&h, &open),
        "path_open(fd=3</work>, dirflags=SYMLINK_FOLLOW, path=\"input/data.txt\", oflags=0, fs_rights_base=FD_READ, fs_rights_inheriting=0, fdflags=0) = 0 (opened_fd=4)"
    );
    let read = call(
        Func::fd_read,
        vec![4, 16, 1, 300],
        0,
        vec![m(1, 16, &iovec_bytes(&[(0x1000, 4096)]))],
        vec![
            m(1, 0x1000, b"line one\nline two\n"),
            m(3, 300, &18u32.to_le_bytes()),
        ],
    );
    assert_eq!(
        p.line(&h, &read),
        "fd_read(fd=4</work/input/data.txt>, iovs=[{buf=0x1000, len=4096}]) = 0 (nread=18, \"line one\\nline two\\n\")"
    );
    let missing = call(
        Func::path_open,
        vec![3, 1, 100, 7, 0, 0, 0, 0, 200],
        44,
        vec![m(2, 100, b"missing")],
        vec![],
    );
    assert!(p
        .line(&h, &missing)
        .ends_with(") = 44 ENOENT (No such file or directory)"));
}

#[test]
fn clock_time_get_and_exit() {
    let h = header();
    let mut p = Decoder::default();
    let c = call(
        Func::clock_time_get,
        vec![1, 1, 64],
        0,
        vec![],
        vec![m(2, 64, &123u64.to_le_bytes())],
    );
    assert_eq!(
        p.line(&h, &c),
        "clock_time_get(id=MONOTONIC, precision=1) = 0 (time=123)"
    );
    let mut exit = call(Func::proc_exit, vec![2], 0, vec![], vec![]);
    exit.outcome = Outcome::Exit(2);
    assert_eq!(
        p.line(&h, &exit),
        "proc_exit(rval=2) = ? +++ exited with 2 +++"
    );
}

#[test]
fn json_is_typed_numbers_strings_flag_lists_and_data() {
    let h = header();
    let mut d = Decoder::default();
    let open = call(
        Func::path_open,
        vec![3, 1, 100, 13, 9, 2 | 4, 0, 0, 200],
        0,
        vec![m(2, 100, b"out/items.txt")],
        vec![m(8, 200, &4u32.to_le_bytes())],
    );
    let decoded = d.decode(&h, &open);
    let j = call_json(&open, &decoded);
    assert_eq!(j["func"], "path_open");
    assert_eq!(j["class"], "path");
    assert_eq!(
        j["args"],
        serde_json::json!({
            "fd": 3, "fd_path": "/work", "dirflags": ["SYMLINK_FOLLOW"],
            "path": "out/items.txt", "oflags": ["CREAT", "TRUNC"],
            "fs_rights_base": ["FD_READ", "FD_SEEK"], "fs_rights_inheriting": [], "fdflags": []
        })
    );
    assert_eq!(
        j["result"],
        serde_json::json!({"errno": 0, "name": "ESUCCESS", "error": false})
    );
    assert_eq!(j["outs"], serde_json::json!({"opened_fd": 4}));

    let read = call(
        Func::fd_read,
        vec![4, 16, 1, 300],
        0,
        vec![m(1, 16, &iovec_bytes(&[(0x1000, 4096)]))],
        vec![m(1, 0x1000, b"hi\n"), m(3, 300, &3u32.to_le_bytes())],
    );
    let j = call_json(&read, &d.decode(&h, &read));
    assert_eq!(j["args"]["fd_path"], "/work/out/items.txt");
    assert_eq!(
        j["args"]["iovs"],
        serde_json::json!([{"buf": 4096, "len": 4096}])
    );
    assert_eq!(
        j["outs"],
        serde_json::json!({"nread": 3, "data": {"len": 3, "text": "hi\n", "hex": "68690a"}})
    );

    let mut exit = call(Func::proc_exit, vec![2], 0, vec![], vec![]);
    exit.outcome = Outcome::Exit(2);
    let decoded = d.decode(&h, &exit);
    assert!(!decoded.is_error, "proc_exit is not an error");
    assert_eq!(
        call_json(&exit, &decoded)["result"],
        serde_json::json!({"exit": 2, "error": false})
    );
}

#[test]
fn fds_follow_renumber_close_and_preopen_names() {
    let h = header();
    let mut d = Decoder::default();
    let name = call(
        Func::fd_prestat_dir_name,
        vec![3, 64, 4],
        0,
        vec![],
        vec![m(1, 64, b"/new")],
    );
    d.decode(&h, &name);
    assert_eq!(d.fd_path(3), Some("/new"));
    d.decode(&h, &call(Func::fd_renumber, vec![3, 9], 0, vec![], vec![]));
    assert_eq!((d.fd_path(3), d.fd_path(9)), (None, Some("/new")));
    d.decode(&h, &call(Func::fd_close, vec![9], 0, vec![], vec![]));
    assert_eq!(d.fd_path(9), None);
    // A failed close changes nothing.
    d.decode(&h, &name);
    d.decode(&h, &call(Func::fd_close, vec![3], 8, vec![], vec![]));
    assert_eq!(d.fd_path(3), Some("/new"));
}
