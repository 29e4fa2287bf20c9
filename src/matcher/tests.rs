use super::*;
use crate::syscalls::Func;
use crate::trace::{Call, CallBatch, Mem};

fn mem(param: u8, addr: u32, bytes: &[u8]) -> Mem {
    Mem {
        param,
        addr,
        bytes: bytes.to_vec(),
    }
}

fn iovec(buf: u32, len: u32) -> Vec<u8> {
    [buf.to_le_bytes(), len.to_le_bytes()].concat()
}

/// #0 path_open("etc/config.toml") = ENOENT, #1 fd_write(fd=2, "hello") = 0,
/// #2 fd_read(fd=4, 4 of 8192 bytes) = 0, #3 fd_seek(offset=-5, END),
/// #4 path_open(O_CREAT|O_TRUNC "out") = 0 (opened_fd=5).
fn calls() -> CallBatch {
    let open = |seq, path: &[u8], oflags: u64, errno, writes| Call {
        seq,
        func: Func::path_open.id(),
        args: vec![3, 1, 100, path.len() as u64, oflags, 0, 0, 0, 200],
        outcome: Outcome::Errno(errno),
        reads: vec![mem(2, 100, path)],
        writes,
        ..Call::default()
    };
    CallBatch::from_calls(&[
        open(0, b"etc/config.toml", 0, 44, vec![]),
        Call {
            seq: 1,
            func: Func::fd_write.id(),
            args: vec![2, 300, 1, 400],
            reads: vec![mem(1, 300, &iovec(500, 5)), mem(1, 500, b"hello")],
            writes: vec![mem(3, 400, &5u32.to_le_bytes())],
            ..Call::default()
        },
        Call {
            seq: 2,
            func: Func::fd_read.id(),
            args: vec![4, 300, 2, 400],
            reads: vec![mem(1, 300, &[iovec(500, 4096), iovec(9000, 4096)].concat())],
            writes: vec![mem(1, 500, b"data"), mem(3, 400, &4u32.to_le_bytes())],
            ..Call::default()
        },
        Call {
            seq: 3,
            func: Func::fd_seek.id(),
            args: vec![4, (-5i64) as u64, 2, 400],
            writes: vec![mem(3, 400, &3u64.to_le_bytes())],
            ..Call::default()
        },
        open(4, b"out", 1 | 8, 0, vec![mem(8, 200, &5u32.to_le_bytes())]),
    ])
}

/// The call numbers an expression stops at, each trigger counting anew.
fn hits(expr: &str) -> Vec<u64> {
    let batch = calls();
    let mut t = Trigger::parse(expr).unwrap();
    batch
        .views()
        .filter(|c| t.fires(c))
        .map(|c| c.seq)
        .collect()
}

#[test]
fn functions_classes_and_lists() {
    assert_eq!(hits("path_open"), [0, 4]);
    assert_eq!(hits("%fd"), [1, 2, 3]);
    assert_eq!(hits("fd_read,fd_seek"), [2, 3]);
    assert_eq!(hits("%fd,!fd_write"), [2, 3]);
    assert_eq!(hits("!path_open"), [1, 2, 3]);
    assert_eq!(hits("all"), [0, 1, 2, 3, 4]);
    // Two sets must both hold.
    assert_eq!(hits("%fd fd_write,path_open"), [1]);
}

#[test]
fn conditions_on_arguments_strings_data_and_results() {
    assert_eq!(hits("fd=2"), [1]);
    assert_eq!(hits("fd!=2"), [0, 2, 3, 4]);
    assert_eq!(hits("fd>=4"), [2, 3]);
    assert_eq!(hits("path~config"), [0]);
    assert_eq!(hits("path=out"), [4]);
    assert_eq!(hits(r#"path!~"config""#), [4]);
    assert_eq!(hits("iovs~ell"), [1], "fd_write's data");
    assert_eq!(hits("iovs~data"), [2], "fd_read's data, once read");
    assert_eq!(hits("len>4096"), [2], "fd_read spans 8192 bytes");
    assert_eq!(hits("len=5"), [1]);
    assert_eq!(hits("len=15"), [0], "a path's length");
    assert_eq!(hits("errno!=0"), [0]);
    assert_eq!(hits("errno=ENOENT"), [0]);
    assert_eq!(hits("errno=44"), [0]);
    assert_eq!(hits("errno=0 %fd"), [1, 2, 3]);
    assert_eq!(hits("whence=END"), [3]);
    assert_eq!(hits("offset<0"), [3], "a signed filedelta");
    assert_eq!(hits("oflags~CREAT"), [4]);
    assert_eq!(hits("oflags~CREAT|TRUNC"), [4]);
    assert_eq!(hits("oflags=CREAT"), [0u64; 0], "= is the exact flags");
    assert_eq!(hits("oflags!~CREAT"), [0]);
    assert_eq!(hits("nread=4"), [2]);
    assert_eq!(hits("opened_fd=5"), [4]);
    assert_eq!(hits("fd=0x4"), [2, 3]);
    assert_eq!(hits("#3"), [3]);
    assert_eq!(hits("#3 fd_write"), [0u64; 0]);
}

#[test]
fn when_counts_matches_as_strace_does() {
    assert_eq!(hits("%fd when=2"), [2]);
    assert_eq!(hits("all when=2+"), [1, 2, 3, 4]);
    assert_eq!(hits("all when=2..3"), [1, 2]);
    assert_eq!(hits("all when=1+2"), [0, 2, 4]);
    assert_eq!(hits("all when=2..4+2"), [1, 3]);
    assert_eq!(hits("all when=2..3+"), [1, 2]);
    assert_eq!(hits("path_open when=9"), [0u64; 0]);
    let w = |s: &str| When::parse(s).unwrap();
    let picked = |s: &str| (1..=12).filter(|&n| w(s).includes(n)).collect::<Vec<_>>();
    assert_eq!(picked("3"), [3]);
    assert_eq!(picked("3+"), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert_eq!(picked("3..5"), [3, 4, 5]);
    assert_eq!(picked("3+4"), [3, 7, 11]);
    assert_eq!(picked("3..10+4"), [3, 7]);
    assert_eq!(When::ALWAYS, w("1+"));
}

#[test]
fn bad_expressions_get_one_line_that_names_the_bad_part() {
    let err = |e: &str| format!("{:#}", Trigger::parse(e).unwrap_err());
    assert_eq!(
        err("pth~x"),
        "\"pth~x\": no preview1 function has a parameter \"pth\" (fields are parameter names from `wtrace dump`, len or errno); did you mean path?"
    );
    assert!(err("errno=ENOPE").contains("\"ENOPE\" is not an errno"));
    assert!(
        err("path_opn").contains("did you mean path_open?"),
        "{}",
        err("path_opn")
    );
    assert!(err("%nope").starts_with("unknown class %nope"));
    assert!(err("when=0").contains("first must be a number from 1 to 65535"));
    assert!(err("when=5..2").contains("last comes before first"));
    assert!(err("when=2+x").contains("step must be"));
    assert!(err("#x").contains("bad call number"));
    assert!(err("   ").contains("an empty expression"));
    for e in ["pth~x", "errno=ENOPE", "when=0", "#x"] {
        assert!(!err(e).contains('\n'), "{e}");
    }
}

#[test]
fn terms_split_at_spaces_outside_quotes() {
    assert_eq!(
        split_terms(r#" path_open  path~"a b"  fd=3 "#),
        ["path_open", r#"path~"a b""#, "fd=3"]
    );
    assert_eq!(hits(r#"path~"config.toml""#), [0]);
}

#[test]
fn a_pattern_knows_when_it_needs_the_result() {
    let needs = |terms: &[&str]| {
        let mut p = Pattern::default();
        for t in terms {
            p.add_term(t).unwrap();
        }
        p.needs_result()
    };
    assert!(!needs(&["path_open", "path~config"]));
    assert!(
        needs(&["path~config"]),
        "fd_prestat_dir_name's path is filled by the host"
    );
    assert!(needs(&["errno=0"]));
    assert!(!needs(&["fd_write", "fd=1", "len>3"]));
    assert!(needs(&["fd_read", "iovs~x"]));
}
