//! The table checked against the preview1 signatures, its own references and
//! the permanent ids.

use super::*;

/// The signatures as `wasm-tools` prints a preview1 module's imports.
const SIGNATURES: &str = include_str!("../../tests/data/preview1-signatures.txt");

#[test]
fn table_matches_the_preview1_signatures() {
    let mut seen = 0;
    for line in SIGNATURES.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some(MODULE));
        let name = words.next().unwrap();
        let rest: String = words.collect::<Vec<_>>().join(" ");
        let (params, results) = rest.split_once("->").unwrap();
        let sys = by_name(name).unwrap_or_else(|| panic!("{name} missing from the table"));
        let want: Vec<bool> = params
            .trim()
            .trim_matches(|c| c == '(' || c == ')')
            .split_whitespace()
            .map(|t| t == "i64")
            .collect();
        let got: Vec<bool> = sys.param_is_i64().collect();
        assert_eq!(got, want, "{name}: i64 positions");
        assert_eq!(sys.no_return, results.trim() == "()", "{name}: result");
        seen += 1;
    }
    assert_eq!(seen, 46);
    assert_eq!(SYSCALLS.len(), 46);
}

#[test]
fn every_pointer_names_its_length_and_count_parameters() {
    for sys in SYSCALLS {
        for p in sys.params {
            let (lens, outs): (Vec<usize>, Vec<usize>) = match p.kind {
                Str { len } => (vec![len], vec![]),
                Buf {
                    len,
                    filled: Fill::All,
                    ..
                } => (vec![len], vec![]),
                Buf {
                    len,
                    filled: Fill::Used(used),
                    ..
                } => (vec![len], vec![used]),
                Ciovecs { count, consumed } => (vec![count], vec![consumed]),
                Subscriptions { count } => (vec![count], vec![]),
                Iovecs { count, filled } => (vec![count], vec![filled]),
                Events { filled } => (vec![], vec![filled]),
                _ => (vec![], vec![]),
            };
            for r in lens {
                assert_eq!(sys.params[r].kind, Len, "{}.{}", sys.name, p.name);
            }
            for r in outs {
                assert_eq!(
                    sys.params[r].kind,
                    Out(Out::Size),
                    "{}.{}",
                    sys.name,
                    p.name
                );
            }
        }
    }
}

#[test]
fn fd_effects_find_their_parameters_by_kind() {
    for sys in SYSCALLS {
        let fds = sys.params.iter().filter(|p| p.kind == Value(V::Fd)).count();
        let has = |k: Kind| sys.param_where(|x| x == k).is_some();
        match sys.fd_effect {
            FdEffect::None => {}
            FdEffect::Opens => assert!(has(Out(Out::Fd)) && fds >= 1, "{}", sys.name),
            FdEffect::NamesPreopen => assert!(
                fds == 1 && sys.param_where(|k| matches!(k, Buf { .. })).is_some(),
                "{}",
                sys.name
            ),
            FdEffect::Closes => assert_eq!(fds, 1, "{}", sys.name),
            FdEffect::Renumbers => assert_eq!(fds, 2, "{}", sys.name),
        }
    }
}

/// Ids are written into every trace: once given, an id stays. This list
/// is the permanent record; a new function is appended with the next id.
const PERMANENT_IDS: [(&str, u16); 46] = [
    ("args_get", 0),
    ("args_sizes_get", 1),
    ("environ_get", 2),
    ("environ_sizes_get", 3),
    ("clock_res_get", 4),
    ("clock_time_get", 5),
    ("fd_advise", 6),
    ("fd_allocate", 7),
    ("fd_close", 8),
    ("fd_datasync", 9),
    ("fd_fdstat_get", 10),
    ("fd_fdstat_set_flags", 11),
    ("fd_fdstat_set_rights", 12),
    ("fd_filestat_get", 13),
    ("fd_filestat_set_size", 14),
    ("fd_filestat_set_times", 15),
    ("fd_pread", 16),
    ("fd_prestat_get", 17),
    ("fd_prestat_dir_name", 18),
    ("fd_pwrite", 19),
    ("fd_read", 20),
    ("fd_readdir", 21),
    ("fd_renumber", 22),
    ("fd_seek", 23),
    ("fd_sync", 24),
    ("fd_tell", 25),
    ("fd_write", 26),
    ("path_create_directory", 27),
    ("path_filestat_get", 28),
    ("path_filestat_set_times", 29),
    ("path_link", 30),
    ("path_open", 31),
    ("path_readlink", 32),
    ("path_remove_directory", 33),
    ("path_rename", 34),
    ("path_symlink", 35),
    ("path_unlink_file", 36),
    ("poll_oneoff", 37),
    ("proc_exit", 38),
    ("proc_raise", 39),
    ("sched_yield", 40),
    ("random_get", 41),
    ("sock_accept", 42),
    ("sock_recv", 43),
    ("sock_send", 44),
    ("sock_shutdown", 45),
];

#[test]
fn function_ids_are_permanent() {
    for (name, id) in PERMANENT_IDS {
        let sys = by_name(name).unwrap_or_else(|| panic!("{name} left the table"));
        assert_eq!(sys.func.id(), FuncId(id), "{name} changed its id");
        assert_eq!(Func::from_id(id), Some(sys.func));
    }
    // Rows in id order without gaps: Func::syscall indexes by id.
    for (i, s) in SYSCALLS.iter().enumerate() {
        assert_eq!(s.func as usize, i, "{} is out of id order", s.name);
    }
    assert!(SYSCALLS.len() < FuncId::FOREIGN_BASE as usize);
    assert_eq!(FuncId::foreign(0), Some(FuncId(0x8000)));
    assert_eq!(FuncId(0x8003).foreign_index(), Some(3));
    assert_eq!(FuncId(45).foreign_index(), None);
    assert_eq!(FuncId::foreign(0x8000), None);
}
