//! The command line: subcommands, wasmtime-style host flags, exit codes.

mod args;

pub use args::*;

use crate::decode::Decoder;
use crate::dump::{self, DumpOptions};
use crate::exit_code;
use crate::filter::Filter;
use crate::inject::{parse_chaos, InjectSpec};
use crate::record::{self, IfExists, PrintCalls, RecordOptions, Repeated, TracePath};
use crate::replay::{self, ReplayEnd, ReplayOptions};
use crate::trace::{RunEnd, TraceReader, VerifyDepth};
use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let _ = crate::PROCESS_START.set(std::time::Instant::now());
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit_code::ERROR } else { 0 };
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("wtrace: error: {e:#}");
            exit_code::ERROR
        }
    }
}

/// Runs one subcommand; returns its exit code.
fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run(a) => run(a),
        Command::Record(a) => record(a),
        Command::Replay(a) => replay(a),
        Command::Dump(a) => dump(a),
        Command::Tui { trace } => tui(&trace),
        Command::Info { trace } => {
            write_stdout(crate::report::info::info(&TraceReader::open(&trace)?).as_bytes())
        }
        Command::Verify { deep, trace } => {
            let depth = match deep {
                true => VerifyDepth::Calls,
                false => VerifyDepth::Frames,
            };
            let report = crate::report::verify::verify(&trace, depth)?;
            let (text, intact) = crate::report::verify::render(&report);
            write_stdout(text.as_bytes())?;
            Ok(if intact { 0 } else { 1 })
        }
        Command::Stats { trace } => {
            let mut reader = TraceReader::open(&trace)?;
            write_stdout(crate::report::stats::stats(&mut reader)?.as_bytes())
        }
        Command::Diff(a) => diff(a),
        Command::Export(a) => export(a),
        Command::GoShim => {
            let dir = crate::goshim::make_shim_dir()?;
            write_stdout(format!("{}\n", dir.display()).as_bytes())
        }
        Command::TimeTravel(a) => time_travel(a),
        Command::GoExec { command } => Ok(report_end(&crate::goshim::go_exec(&command)?)),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "wtrace", &mut script);
            write_stdout(&script)
        }
        Command::Man { command } => write_stdout(&man_page(command.as_deref())?),
    }
}

/// The server a `TimeMachine` talks to (Linux: it forks checkpoints).
#[cfg(target_os = "linux")]
fn time_travel(a: TimeTravelArgs) -> Result<i32> {
    use crate::timetravel::Spacing;
    let spacing = match a.every_calls {
        Some(n) => Spacing::Calls(n.max(1)),
        None => Spacing::CpuTime(std::time::Duration::from_millis(a.every_ms)),
    };
    replay::serve_time_travel(&a.trace, a.module, spacing, a.max_checkpoints)?;
    Ok(0)
}

#[cfg(not(target_os = "linux"))]
fn time_travel(_: TimeTravelArgs) -> Result<i32> {
    bail!("time travel's checkpoints need Linux (fork, prctl)")
}

fn run(a: RunArgs) -> Result<i32> {
    warn_misplaced_options("run", &a.guest);
    let host = a.host.resolve()?;
    let end = crate::run::run(a.guest.module(), a.guest.command.clone(), &host)?;
    Ok(report_end(&end))
}

fn record(a: RecordArgs) -> Result<i32> {
    warn_misplaced_options("record", &a.guest);
    let host = a.host.resolve()?;
    let print = if a.print {
        Some(PrintCalls {
            decoder: Decoder::new(a.strsize),
            filter: Filter::parse(&a.expr, a.failed)?,
            marks: Default::default(),
        })
    } else {
        None
    };
    let module = a.guest.module().to_path_buf();
    let if_exists = match (a.force, &a.output) {
        (true, _) => IfExists::Replace,
        (false, Some(_)) => IfExists::Refuse,
        (false, None) => IfExists::NextFree,
    };
    let path = a
        .output
        .clone()
        .unwrap_or_else(|| default_trace_path(&module));
    let inject = a
        .inject
        .iter()
        .map(|spec| InjectSpec::parse(spec))
        .collect::<Result<Vec<_>>>()?;
    let chaos = a.chaos.as_deref().map(parse_chaos).transpose()?;
    let opts = RecordOptions {
        host,
        output: TracePath {
            path: &path,
            if_exists,
        },
        embed_module: !a.no_embed,
        print,
        inject,
        chaos,
    };
    let argv = a.guest.command.clone();
    let recorded = match a.repeat {
        None => record::record(&module, argv, opts)?,
        Some(max) => match record::record_until_failure(&module, argv, opts, max)? {
            Repeated::Passed { attempts } => {
                eprintln!(
                    "wtrace: no failure in {attempts} attempt{}; no trace kept",
                    plural(attempts as u64)
                );
                return Ok(0);
            }
            Repeated::Failed { attempt, recorded } | Repeated::Stopped { attempt, recorded } => {
                let seed = a.chaos.as_deref().map(parse_chaos).transpose()?.map(|c| {
                    format!(
                        ", chaos seed {}",
                        c.seed.wrapping_add(u64::from(attempt - 1))
                    )
                });
                eprintln!(
                    "wtrace: attempt {attempt} of {max} {}{}",
                    recorded.run_end.describe(),
                    seed.unwrap_or_default()
                );
                recorded
            }
        },
    };
    let code = report_end(&recorded.run_end);
    let finished = !matches!(recorded.run_end, RunEnd::WriteFailed(_));
    if finished && !a.quiet {
        let calls = recorded.stats.calls;
        eprintln!(
            "wtrace: trace written to {} ({calls} call{})",
            recorded.path.display(),
            plural(calls)
        );
    }
    Ok(code)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn warn_misplaced_options(subcommand: &str, guest: &Guest) {
    let raw_args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    for option in guest.misplaced_options(subcommand, &raw_args) {
        eprintln!("wtrace: warning: {option} after the module is passed to the guest; put wtrace's options before MODULE");
    }
}

fn replay(a: ReplayArgs) -> Result<i32> {
    let opts = ReplayOptions {
        module: a.module,
        force: a.force,
        quiet: a.quiet,
        print: a.print.then(Decoder::default),
        stacks: a.stacks,
        until: a.until,
        memory: a.memory,
        memory_args: a.memory_args,
        watches: a.watches,
        breaks: a.breaks,
        allow_extra_writes: a.allow_extra_writes,
        ..ReplayOptions::default()
    };
    report_replay(replay::replay(&a.trace, opts)?)
}

/// Says how a replay ended; returns the exit code.
fn report_replay(end: ReplayEnd) -> Result<i32> {
    match end {
        ReplayEnd::Finished(end) => Ok(report_end(&end)),
        ReplayEnd::Stopped {
            calls,
            reason,
            code,
        } => {
            let _ = std::io::stdout().flush();
            eprintln!("wtrace: replay {reason} ({calls} calls replayed)");
            Ok(code)
        }
        ReplayEnd::Diverged(d) => {
            let _ = std::io::stdout().flush();
            eprint!("wtrace: {d}");
            Ok(exit_code::DIVERGED)
        }
    }
}

fn dump(a: DumpArgs) -> Result<i32> {
    if a.stacks {
        return dump_stacks(a);
    }
    let mut reader = TraceReader::open(&a.trace)?;
    let opts = DumpOptions {
        strsize: a.strsize,
        filter: Filter::parse(&a.expr, a.failed)?,
        json: a.json,
        durations: a.durations,
        relative: a.relative,
        verbose: a.verbose,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = dump::dump(&mut reader, &opts, &mut out).and_then(|()| Ok(out.flush()?));
    finish_output(written)
}

/// `dump -k`: the calls with their stacks, from a replay of the module.
fn dump_stacks(a: DumpArgs) -> Result<i32> {
    let mut decoder = Decoder::new(a.strsize);
    decoder.verbose = a.verbose;
    let opts = ReplayOptions {
        module: a.module,
        quiet: true,
        print: Some(decoder),
        filter: Some(Filter::parse(&a.expr, a.failed)?),
        stacks: true,
        to_stdout: true,
        ..ReplayOptions::default()
    };
    let ended = replay::replay(&a.trace, opts)?;
    let mut reader = TraceReader::open(&a.trace)?;
    match (ended, &reader.unfinished) {
        (ReplayEnd::Finished(end), _) => {
            let last = reader.call_count().checked_sub(1).map(|n| reader.call(n));
            let said = matches!((&end, last), (RunEnd::Exit(code), Some(Ok(c)))
                if c.outcome == crate::trace::Outcome::Exit(*code));
            match said {
                true => Ok(0),
                false => write_stdout(format!("{}\n", dump::end_line(&end)).as_bytes()),
            }
        }
        // As `dump` ends an unfinished trace.
        (ReplayEnd::Stopped { code: 0, .. }, Some(why)) => {
            write_stdout(format!("+++ unfinished trace: {why} +++\n").as_bytes())
        }
        (other, _) => report_replay(other),
    }
}

fn tui(trace: &Path) -> Result<i32> {
    let reader = TraceReader::open(trace)?;
    if !std::io::stdout().is_terminal() {
        bail!("wtrace tui needs a terminal; use wtrace dump to print the calls");
    }
    let view = crate::tui_source::TraceView::new(reader)?;
    wtrace_tui::run(view).context("the terminal UI failed")?;
    Ok(0)
}

fn diff(a: DiffArgs) -> Result<i32> {
    // The user's -e adds to the defaults; --all compares everything.
    let user = Filter::parse(&a.expr, false)?;
    let user_text = if a.expr.is_empty() {
        String::new()
    } else {
        format!("-e {}", a.expr.join(" -e "))
    };
    let policy = crate::report::diff::noise::Policy::new(user, a.all);
    let (mut ra, mut rb) = (TraceReader::open(&a.a)?, TraceReader::open(&a.b)?);
    let (report, equal) = crate::report::diff::diff(&mut ra, &mut rb, &policy, &user_text)?;
    write_stdout(report.as_bytes())?;
    Ok(if equal { 0 } else { 1 })
}

fn export(a: ExportArgs) -> Result<i32> {
    let mut reader = TraceReader::open(&a.trace)?;
    let Some(format) = a.format else {
        return export_wasm(&mut reader, a.output.as_deref());
    };
    let mut out: Box<dyn Write> = match &a.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let written = crate::report::export::export(&mut reader, format, &mut out)
        .and_then(|()| Ok(out.flush()?));
    finish_output(written)
}

/// `export --wasm`: the reproducer module, to a file or a non-terminal stdout.
fn export_wasm(reader: &mut TraceReader, output: Option<&Path>) -> Result<i32> {
    if output.is_none() && std::io::stdout().is_terminal() {
        bail!("export --wasm writes a binary module: give -o FILE or redirect standard output");
    }
    let (bytes, sizes) = crate::reproducer::build(reader)?;
    match output {
        Some(path) => {
            std::fs::write(path, &bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wtrace: reproducer written to {} ({} bytes: module {}, {} calls in {} bytes)",
                path.display(),
                sizes.reproducer,
                sizes.module,
                sizes.calls,
                sizes.call_data
            );
            Ok(0)
        }
        None => write_stdout(&bytes),
    }
}

/// wtrace(1), or wtrace-COMMAND(1) for one subcommand.
fn man_page(subcommand: Option<&str>) -> Result<Vec<u8>> {
    let mut cli = Cli::command();
    // Built, subcommands know their full names (`wtrace record`, `wtrace-record`).
    cli.build();
    let cmd = match subcommand {
        None => cli,
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) if !sub.is_hide_set() && name != "help" => sub.clone(),
            _ => {
                let names: Vec<&str> = cli
                    .get_subcommands()
                    .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                    .map(|s| s.get_name())
                    .collect();
                bail!(
                    "no subcommand {name:?}; the subcommands are {}",
                    names.join(", ")
                )
            }
        },
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .source(format!("wtrace {}", env!("CARGO_PKG_VERSION")))
        .render(&mut page)?;
    Ok(page)
}

fn write_stdout(bytes: &[u8]) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    finish_output(
        out.write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(anyhow::Error::from),
    )
}

/// Exit 0 when the output was written, also when a reader such as `head`
/// closed the pipe early: that is not an error.
fn finish_output(written: Result<()>) -> Result<i32> {
    match written {
        Ok(()) => Ok(0),
        Err(e) if is_broken_pipe(&e) => Ok(0),
        Err(e) => Err(e),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `dir/hello.wasm` records to `./hello.wtrace`.
pub fn default_trace_path(module: &Path) -> PathBuf {
    let stem = module
        .file_stem()
        .map_or("trace".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}.wtrace"))
}

/// Prints a trap or write failure to stderr and returns the exit code.
fn report_end(end: &RunEnd) -> i32 {
    let _ = std::io::stdout().flush();
    match end {
        RunEnd::Exit(code) => *code,
        RunEnd::Trap(msg) => {
            eprintln!("Error: {msg}");
            exit_code::TRAP
        }
        RunEnd::Signal(sig) => 128 + sig,
        RunEnd::WriteFailed(msg) => {
            eprintln!("wtrace: error: recording stopped, the trace could not be written: {msg}");
            exit_code::ERROR
        }
    }
}
