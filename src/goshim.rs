//! Go toolchain integration: `wtrace go-shim` makes a directory holding a
//! `go_wasip1_wasm_exec` that runs Go's wasip1 binaries under wtrace. With it
//! first on PATH, `GOOS=wasip1 GOARCH=wasm go test ./...` and `go run`
//! record every binary they run:
//!
//! ```sh
//! export PATH="$(wtrace go-shim):$PATH"
//! GOOS=wasip1 GOARCH=wasm go test ./...      # traces in ./wtrace-traces
//! ```
//!
//! The script calls the hidden `wtrace go-exec`, which sets the guest up as
//! Go's own script does for wasmtime (host `/` as `/`, `PWD` and `PATH`
//! passed, a 1 MiB wasm stack) and records into `$WTRACE_DIR` (default
//! `./wtrace-traces`), or only runs when `WTRACE_MODE=run`.
//! `WTRACE_INJECT`, `WTRACE_CHAOS` and `WTRACE_REPEAT` are `record`'s
//! `--inject` (several specs separated by `;`), `--chaos` and `--repeat`.
//! `WTRACE_KEEP=failed` keeps only the traces of binaries that exited
//! non-zero and says on stderr (which `go test` shows with the package's
//! failure) where each is and how to replay it.

use crate::host::{HostOptions, DEFAULT_MAX_WASM_STACK};
use crate::inject::{parse_chaos, InjectSpec};
use crate::record::{self, IfExists, RecordOptions, Repeated, TracePath};
use crate::timefmt::compact_utc;
use crate::trace::{Preopen, RunEnd};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The name Go's `go test` and `go run` look for on PATH.
pub const EXEC_NAME: &str = "go_wasip1_wasm_exec";

/// Makes (or refreshes) the shim directory and returns it.
pub fn make_shim_dir() -> Result<PathBuf> {
    let base =
        dirs::cache_dir().context("no cache directory for this user (set XDG_CACHE_HOME)")?;
    let dir = base.join("wtrace").join("go-shim");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let exe = std::env::current_exe().context("cannot find the wtrace executable")?;
    let script = format!(
        "#!/bin/sh\n# Made by `wtrace go-shim`: runs Go's wasip1 binaries under wtrace.\n# WTRACE_MODE=run runs without recording; WTRACE_DIR says where traces go.\nexec {} go-exec \"$@\"\n",
        shell_quote(&exe.to_string_lossy())
    );
    let path = dir.join(EXEC_NAME);
    let tmp = dir.join(format!(".{EXEC_NAME}.{}", std::process::id()));
    std::fs::write(&tmp, script).with_context(|| format!("cannot write {}", tmp.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, &path)?;
    Ok(dir)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The host Go's script gives a wasip1 binary under wasmtime.
pub fn go_host_options() -> HostOptions {
    let mut env = Vec::new();
    for name in ["PWD", "PATH"] {
        if let Ok(v) = std::env::var(name) {
            env.push((name.to_string(), v));
        }
    }
    // Go's script passes the shell's $PWD; a shell always sets it, but a
    // program that execs us directly may not.
    if !env.iter().any(|(k, _)| k == "PWD") {
        if let Ok(cwd) = std::env::current_dir() {
            env.push(("PWD".into(), cwd.to_string_lossy().into_owned()));
        }
    }
    HostOptions {
        dirs: vec![Preopen {
            host: "/".into(),
            guest: "/".into(),
        }],
        env,
        max_wasm_stack: DEFAULT_MAX_WASM_STACK,
        cache: true,
        trap_unknown_imports: false,
    }
}

/// `go-exec MODULE ARGS...`: what the shim script runs.
pub fn go_exec(command: &[String]) -> Result<RunEnd> {
    let Some(module) = command.first() else {
        bail!("go-exec needs a module to run")
    };
    let module = Path::new(module);
    let host = go_host_options();
    match std::env::var("WTRACE_MODE").as_deref() {
        Ok("run") => crate::run::run(module, command.to_vec(), &host),
        Ok("record") | Err(_) => {
            let keep = Keep::from_env()?;
            let dir = std::env::var_os("WTRACE_DIR")
                .map_or_else(|| PathBuf::from("wtrace-traces"), PathBuf::from);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create WTRACE_DIR {}", dir.display()))?;
            let output = dir.join(trace_file_name(
                module,
                std::time::SystemTime::now(),
                std::process::id(),
            ));
            let faults = Faults::from_env()?;
            let opts = RecordOptions {
                host,
                // Names hold the time and pid; should one be taken all the
                // same, number it rather than fail the test binary.
                output: TracePath {
                    path: &output,
                    if_exists: IfExists::NextFree,
                },
                embed_module: true,
                print: None,
                inject: faults.inject,
                chaos: faults.chaos,
            };
            let recorded = match faults.repeat {
                None => record::record(module, command.to_vec(), opts)?,
                Some(max) => {
                    match record::record_until_failure(module, command.to_vec(), opts, max)? {
                        Repeated::Passed { attempts } => {
                            eprintln!("wtrace: no failure in {attempts} attempts; no trace kept");
                            return Ok(RunEnd::Exit(0));
                        }
                        Repeated::Failed { attempt, recorded }
                        | Repeated::Stopped { attempt, recorded } => {
                            eprintln!(
                                "wtrace: attempt {attempt} of {max} {}; its trace is {}",
                                recorded.run_end.describe(),
                                recorded.path.display()
                            );
                            recorded
                        }
                    }
                }
            };
            keep_or_delete(keep, &recorded.path, &recorded.run_end)?;
            Ok(recorded.run_end)
        }
        Ok(other) => bail!("WTRACE_MODE={other}: use record (the default) or run"),
    }
}

/// `WTRACE_INJECT`, `WTRACE_CHAOS`, `WTRACE_REPEAT`: record's fault
/// injection, for every test binary.
struct Faults {
    inject: Vec<InjectSpec>,
    chaos: Option<crate::trace::Chaos>,
    repeat: Option<u32>,
}

impl Faults {
    fn from_env() -> Result<Faults> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let inject = var("WTRACE_INJECT")
            .iter()
            .flat_map(|v| v.split(';').map(str::trim).filter(|s| !s.is_empty()))
            .map(|spec| InjectSpec::parse(spec).context("WTRACE_INJECT"))
            .collect::<Result<Vec<_>>>()?;
        let chaos = var("WTRACE_CHAOS")
            .map(|c| parse_chaos(&c).context("WTRACE_CHAOS"))
            .transpose()?;
        let repeat = match var("WTRACE_REPEAT") {
            None => None,
            Some(n) => match n.parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => bail!("WTRACE_REPEAT={n}: the most runs, a number from 1"),
            },
        };
        Ok(Faults {
            inject,
            chaos,
            repeat,
        })
    }
}

/// Which traces the shim keeps (`WTRACE_KEEP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Every trace (the default).
    All,
    /// Only those of binaries that did not exit 0.
    Failed,
}

impl Keep {
    pub fn parse(value: Option<&str>) -> Result<Keep> {
        match value {
            None | Some("" | "all") => Ok(Keep::All),
            Some("failed") => Ok(Keep::Failed),
            Some(other) => bail!("WTRACE_KEEP={other}: use all (the default) or failed"),
        }
    }

    fn from_env() -> Result<Keep> {
        Keep::parse(std::env::var("WTRACE_KEEP").ok().as_deref())
    }
}

/// With `WTRACE_KEEP=failed`: deletes the trace of a binary that exited 0;
/// for one that failed, prints where its trace is and the command that
/// replays it, to stderr, which `go test` shows with the failure.
fn keep_or_delete(keep: Keep, trace: &Path, end: &RunEnd) -> Result<()> {
    if keep == Keep::All {
        return Ok(());
    }
    if matches!(end, RunEnd::Exit(0)) {
        return std::fs::remove_file(trace)
            .with_context(|| format!("cannot delete the trace {}", trace.display()));
    }
    let path = std::path::absolute(trace).unwrap_or_else(|_| trace.to_path_buf());
    eprint!("{}", failure_note(&path));
    Ok(())
}

/// The two lines printed for a failing binary's trace.
pub fn failure_note(trace: &Path) -> String {
    let text = trace.to_string_lossy();
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+:=,@%".contains(&b));
    let quoted = if plain {
        text.to_string()
    } else {
        shell_quote(&text)
    };
    format!(
        "wtrace: this test binary failed; its trace is {}\nwtrace: replay it with: wtrace replay {quoted}\n",
        trace.display()
    )
}

/// `strings.test-20261124T225900Z-4242.wtrace`: which binary ran and when.
/// `go test` names its binaries `<package>.test`; `go run` names them after
/// the package's directory.
pub fn trace_file_name(module: &Path, when: std::time::SystemTime, pid: u32) -> String {
    let name = module
        .file_name()
        .map_or("module".into(), |n| n.to_string_lossy().into_owned());
    let name = name.strip_suffix(".wasm").unwrap_or(&name).to_string();
    let secs = when
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{name}-{}-{pid}.wtrace", compact_utc(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_names_tell_which_binary_ran_and_when() {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_560_736);
        assert_eq!(
            trace_file_name(Path::new("/tmp/go-build1/b001/strings.test"), when, 42),
            "strings.test-20261124T225216Z-42.wtrace"
        );
        assert_eq!(
            trace_file_name(Path::new("hello.wasm"), when, 7),
            "hello-20261124T225216Z-7.wtrace"
        );
    }

    #[test]
    fn wtrace_keep_is_all_or_failed() {
        assert_eq!(Keep::parse(None).unwrap(), Keep::All);
        assert_eq!(Keep::parse(Some("all")).unwrap(), Keep::All);
        assert_eq!(Keep::parse(Some("failed")).unwrap(), Keep::Failed);
        assert_eq!(
            Keep::parse(Some("fail")).unwrap_err().to_string(),
            "WTRACE_KEEP=fail: use all (the default) or failed"
        );
    }

    #[test]
    fn the_failure_note_quotes_paths_only_when_a_shell_needs_it() {
        assert_eq!(
            failure_note(Path::new("/ci/traces/x.test-1.wtrace")),
            "wtrace: this test binary failed; its trace is /ci/traces/x.test-1.wtrace\n\
             wtrace: replay it with: wtrace replay /ci/traces/x.test-1.wtrace\n"
        );
        assert!(failure_note(Path::new("/my traces/it's.wtrace"))
            .ends_with("wtrace replay '/my traces/it'\\''s.wtrace'\n"));
    }
}
