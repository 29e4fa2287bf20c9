use super::*;

#[test]
fn specs_parse_into_sets_conditions_actions_and_when() {
    let s = InjectSpec::parse("path_open:path~config:error=ENOENT:when=2+").unwrap();
    assert_eq!(s.action, Action::Error(44));
    assert_eq!(s.when, When::parse("2+").unwrap());
    assert_eq!(
        s.pattern.functions().map(|f| f.name).collect::<Vec<_>>(),
        ["path_open"]
    );
    let s = InjectSpec::parse("%fd:delay_enter=1500:delay_exit=2ms").unwrap();
    assert_eq!(s.action, Action::None);
    assert_eq!(s.delay_enter, Some(Duration::from_micros(1500)));
    assert_eq!(s.delay_exit, Some(Duration::from_millis(2)));
    let s = InjectSpec::parse("clock_time_get:id=REALTIME:at=2038-01-19T03:14:07Z").unwrap();
    assert_eq!(s.action, Action::At(2_147_483_647_000_000_000));
    assert_eq!(
        InjectSpec::parse("clock_time_get:offset=-30m")
            .unwrap()
            .action,
        Action::Offset(-1_800_000_000_000)
    );
    assert_eq!(
        InjectSpec::parse("clock_time_get:offset=+1d")
            .unwrap()
            .action,
        Action::Offset(86_400_000_000_000)
    );
    assert_eq!(
        InjectSpec::parse("random_get:seed=9").unwrap().action,
        Action::Seed(9)
    );
    assert_eq!(
        InjectSpec::parse("fd_read,fd_write:short=1")
            .unwrap()
            .action,
        Action::Short(1)
    );
    assert_eq!(
        InjectSpec::parse("fd_write:fd=1:error=ENOSPC")
            .unwrap()
            .action,
        Action::Error(51)
    );
    assert_eq!(
        parse_chaos("42").unwrap(),
        Chaos {
            seed: 42,
            rate_ppm: 20_000
        }
    );
    assert_eq!(parse_chaos("7:5%").unwrap().rate_ppm, 50_000);
    assert_eq!(parse_chaos("7:0.25").unwrap().rate_ppm, 250_000);
}

#[test]
fn a_bad_spec_gets_one_line_that_names_the_bad_part() {
    let err = |s: &str| format!("{:#}", InjectSpec::parse(s).unwrap_err());
    for (spec, says) in [
        ("fd_read:zero", "zero applies to functions that fill a buffer with random bytes (random_get); the set also names fd_read"),
        ("path_open:errno=2", "an injected call has no errno yet"),
        ("nope:error=EIO", "unknown function \"nope\""),
        ("fd_write:error=EFOO", "error=EFOO: not a WASI errno"),
        ("fd_write:fd=1", "no action"),
        ("fd_write:short=3:error=EIO", "short and error in one spec"),
        ("clock_time_get:offset=+1x", "bad offset \"+1x\""),
        ("clock_time_get:at=2038-13-01", "bad time \"2038-13-01\""),
        ("fd_write:when=0:error=EIO", "bad when=0"),
        ("proc_exit:error=EIO", "the set also names proc_exit"),
        ("fd_write:bogus", "unknown part \"bogus\""),
        ("fd_write:retval=0", "retval= is strace's"),
        ("fd_read:nread>3:error=EIO", "needs the call's result"),
        ("fd_write:pth~x:error=EIO", "did you mean path?"),
        (":error=EIO", "no functions"),
        ("fd_write:delay_enter=x", "bad delay \"x\""),
        ("random_get:seed=-1", "seed=-1"),
    ] {
        let e = err(spec);
        assert!(e.starts_with(&format!("--inject {spec}: ")), "{e}");
        assert!(e.contains(says), "{spec}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
    for (chaos, says) in [
        ("x", "the seed is a number"),
        ("1:2", "between 0 and 1"),
        ("1:abc", "fraction or a percentage"),
    ] {
        let e = format!("{:#}", parse_chaos(chaos).unwrap_err());
        assert!(e.contains(says), "{e}");
    }
}
