//! The command line as clap sees it: subcommands, their options and help.

use crate::decode::DEFAULT_STRSIZE;
use crate::hexdump::Region;
use crate::host::{HostOptions, DEFAULT_MAX_WASM_STACK};
use crate::matcher::Trigger;
use crate::trace::Preopen;
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

/// The README's exit-code table.
const EXIT_CODES: &str = "\
Exit codes:
  0-125     the guest's own exit code (proc_exit, or 0 when _start returns)
  125       wtrace failed (bad arguments, not a module, not a trace, unknown imports...)
  126       replay diverged from the recording
  130, 143  recording stopped by SIGINT, SIGTERM (trace finished)
  133       replay stopped at a --break breakpoint (128 + SIGTRAP)
  134       the guest trapped (as wasmtime: 128 + SIGABRT)";

/// The debugger options of `replay`, as the README says.
const DEBUGGER: &str = "\
Debugging (all computed by replaying the module the trace embeds):
  wtrace replay --print -k bug.wtrace                 # each call and the guest's stack (strace -k)
  wtrace replay --break 'path_open path~config' bug.wtrace
  wtrace replay --break 'fd_write fd=2 when=3' --break 'errno!=0' bug.wtrace
  wtrace replay --until 1200 --memory 0x1000:64 --memory-args bug.wtrace
  wtrace replay -q --watch 0x1000:8 bug.wtrace        # who wrote these bytes, and when
--break terms (all must hold): a function or class (path_open, %fd, fd_read,fd_write, !fd_close),
  a condition PARAM OP VALUE with OP = != ~ (contains / has flags) !~ < <= > >= (fd=2,
  path~config, oflags~CREAT, nread>0), len (bytes a buffer, string or iovec list spans: len>4096),
  errno (errno!=0, errno=ENOENT), #N (call N), when=N (the Nth match; 2..4, 5+, 1+10 as strace).
  The replay stops before the call runs: its line shows the result the recording has.
Stack lines: ' > MODULE(FUNCTION+0xOFFSET) [0xMODULE_OFFSET] at FILE:LINE:COLUMN' (the location
  where the module has DWARF debug info), innermost frame first.
--watch reports: 'written by the host in #N CALL' or 'written by the guest before #N CALL' and
  the stack of that call (the code that ran since the call before), with old and new bytes.";

/// `record --inject` and `--chaos`, as the README says.
const INJECT_HELP: &str = "\
Fault injection (--inject SPEC, strace's -e inject= grammar; docs/fault-injection.md):
  SET                 functions and classes as -e trace=: path_open, %fd, fd_read,fd_write, !clock_time_get
  :CONDITION          on the arguments: fd=1, path~config, len>4096, oflags~CREAT (all must hold)
  :error=ERRNO        the call fails with ERRNO (ENOENT, EIO, ENOSPC, ... as dump prints them)
  :short=N            fd_read, fd_write, ...: at most N bytes are transferred
  :zero, :seed=N      random_get: zeros, or bytes from a stream seeded with N
  :offset=+1h         clock_time_get: the clock reads later (or earlier: -30m; ns us ms s m h d)
  :at=2038-01-19T03:14:00Z  clock_time_get: the clock starts at this time (UTC) and runs on
  :freeze             clock_time_get: the clock keeps its first reading
  :when=FIRST[..LAST][+[STEP]]  which matching calls, counted per function (3, 2..4, 5+, 1+10)
  :delay_enter=T, :delay_exit=T  sleep before or after the call (microseconds, or T with s ms us ns)
An injected call does not reach the host (short transfers and clocks do, changed). The trace
marks it: dump prints (INJECTED), and replay serves it like any other call.
--chaos SEED[:RATE]: short reads and writes, EAGAIN on non-blocking fds, EINTR, clocks that
jump forward, poll_oneoff returning early: the same seed gives the same faults.";

/// What `replay --allow-extra-writes` tolerates, as docs/bug-reports.md says.
const ALLOW_EXTRA_WRITES: &str = "\
--allow-extra-writes (with --module, a rebuild with debug prints added; implies --force):
  tolerated:  writes to stdout/stderr the recording lacks (performed for real);
              clock reads the recording lacks (served the last recorded value of that clock);
              sleeps, polls on clocks only, the recording lacks (return at once);
              recorded clock reads and sleeps the rebuild does not make (passed over)
  diverges:   any other call the recording lacks or has in its place (a file opened, read
              or written, stdin, random, args, env, a changed or removed print), other
              arguments or bytes, another exit code";

/// Where `record` writes, as the README says.
const RECORD_OUTPUT: &str = "\
Where the trace goes:
  MODULE's stem + .wtrace in the current directory, or -o TRACE. Nothing is replaced
  unless --force is given, and a file that is not a wtrace trace (the module, say)
  never is: without -o, a taken name becomes the first free of STEM-1.wtrace,
  STEM-2.wtrace, ...; with -o, an existing trace is an error.
  When the guest ends, \"wtrace: trace written to TRACE (N calls)\" goes to stderr;
  -q leaves it out.";

#[derive(Parser, Debug)]
#[command(
    name = "wtrace",
    version,
    about = "Trace, record and replay WebAssembly programs that use WASI preview1",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a module as `wasmtime run` does, without recording
    #[command(after_help = "Examples:\n  wtrace run hello.wasm\n  wtrace run --dir . --env HOME=/tmp prog.wasm arg1 arg2\n  wtrace run --dir=/ --env PWD --env PATH gotest.wasm -test.v\n\n".to_owned() + EXIT_CODES)]
    Run(RunArgs),
    /// Run a module and record every WASI call into a trace
    #[command(after_help = "Examples:\n  wtrace record hello.wasm                 # writes hello.wtrace (hello-1.wtrace if taken)\n  wtrace record -o bug.wtrace --dir data prog.wasm input.txt\n  wtrace record --print prog.wasm          # strace-style lines on stderr\n  wtrace record --print -e trace=%path --failed prog.wasm\n  wtrace record --inject 'path_open:path~config:error=ENOENT' prog.wasm\n  wtrace record --inject fd_write:fd=1:short=10:when=2+ prog.wasm\n  wtrace record --chaos 42 --repeat 20 prog.wasm   # keep the first failing run\n\n".to_owned() + RECORD_OUTPUT + "\n\n" + INJECT_HELP + "\n\n" + EXIT_CODES)]
    Record(RecordArgs),
    /// Replay a trace: every WASI call is served from the recording
    #[command(after_help = "Examples:\n  wtrace replay hello.wtrace\n  wtrace replay --print --until 100 hello.wtrace\n  wtrace replay --module rebuilt.wasm --force bug.wtrace\n  wtrace replay --module with-prints.wasm --allow-extra-writes bug.wtrace\n\n".to_owned() + DEBUGGER + "\n\n" + ALLOW_EXTRA_WRITES + "\n\n" + EXIT_CODES)]
    Replay(ReplayArgs),
    /// Print the calls of a trace, one strace-style line each
    #[command(
        after_help = "Examples:\n  wtrace dump hello.wtrace\n  wtrace dump -e trace=%path,fd_read --failed hello.wtrace\n  wtrace dump -s 200 -T hello.wtrace\n  wtrace dump --json hello.wtrace | jq .func\n  wtrace dump -k -e trace=%path prog.wtrace      # each call and the guest's stack (strace -k),\n                                                 # computed by replaying the embedded module\n\n".to_owned() + &classes_help()
    )]
    Dump(DumpArgs),
    /// Step through a trace in a terminal UI
    #[command(
        after_help = tui_keys_help()
    )]
    Tui { trace: PathBuf },
    /// Show what a trace holds: module, argv, env, preopens, calls, how the run ended
    #[command(after_help = "Example:\n  wtrace info bug.wtrace")]
    Info { trace: PathBuf },
    /// Check every chunk's hash, the hash chain and the index (exit 0 only when intact)
    #[command(
        after_help = "Without --deep, every byte is read and hashed, which proves the file is the one the\nrecorder wrote, at the speed of reading it; the calls are not decompressed.\n\nExamples:\n  wtrace verify bug.wtrace\n  wtrace verify --deep bug.wtrace\n\nExit codes: 0 intact and finished, 1 damaged or unfinished, 125 not a trace"
    )]
    Verify {
        /// Also decompress and decode every call, and check the end record's
        /// summary against them (what a recorder that wrote wrongly leaves)
        #[arg(long)]
        deep: bool,
        trace: PathBuf,
    },
    /// Summarize calls, errors and time per function, and bytes per fd (like strace -c)
    #[command(
        after_help = "Examples:\n  wtrace stats hello.wtrace\n  diff <(wtrace stats passing.wtrace) <(wtrace stats failing.wtrace)"
    )]
    Stats { trace: PathBuf },
    /// Find where two recordings of a program really part ways (exit 0 same, 1 different)
    #[command(
        after_help = "Examples:\n  wtrace diff passing.wtrace failing.wtrace\n  wtrace diff -e trace=%path,%fd a.wtrace b.wtrace\n  wtrace diff -e trace=!%random a.wtrace b.wtrace\n  wtrace diff --all a.wtrace b.wtrace      # every call and every value\n\n\
By default %clock and %poll calls are left out (their number depends on timing), and in the\n\
others random bytes, clock values, file timestamps and inode and device numbers are not\n\
compared. -e adds to these defaults (a class or function it names is compared again).\n\
The calls are aligned as diff aligns lines; every diverging stretch is listed, first first:\n\
  @@ A #31-#33 (3 calls), B #31 @@     call numbers in A and in B\n\
  - A #31 ...                          A's calls, strace-style\n\
  + B #31 ...                          B's calls\n\
Exit codes: 0 the same, 1 different, 125 error"
    )]
    Diff(DiffArgs),
    /// Write a trace as Chrome trace-event JSON (Perfetto, chrome://tracing), JSON lines, or a standalone reproducer module (--wasm)
    #[command(
        after_help = "Examples:\n  wtrace export --format chrome -o run.json run.wtrace   # open in ui.perfetto.dev\n  wtrace export --format jsonl run.wtrace | jq .func\n  wtrace export --wasm -o repro.wasm run.wtrace          # replays with any preview1 host:\n  wasmtime run repro.wasm                                # or wtrace run, or node:wasi"
    )]
    Export(ExportArgs),
    /// Print a directory to put first on PATH so that `go test`/`go run` record under wtrace
    #[command(
        after_help = "Examples:\n  export PATH=\"$(wtrace go-shim):$PATH\"\n  GOOS=wasip1 GOARCH=wasm go test ./...          # traces in ./wtrace-traces\n  WTRACE_DIR=/tmp/traces GOOS=wasip1 GOARCH=wasm go run ./cmd/tool\n  WTRACE_MODE=run GOOS=wasip1 GOARCH=wasm go test ./...   # run, do not record\n  WTRACE_KEEP=failed GOOS=wasip1 GOARCH=wasm go test ./...  # keep only failing binaries' traces\n\nWTRACE_KEEP=failed deletes the trace of every test binary that exits 0; for each one\nthat fails it prints the trace's path and `wtrace replay PATH` to stderr, which go test\nshows with the package's failure."
    )]
    GoShim,
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  wtrace completions bash > ~/.local/share/bash-completion/completions/wtrace\n  wtrace completions zsh > ~/.zfunc/_wtrace\n  wtrace completions fish > ~/.config/fish/completions/wtrace.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): wtrace(1), or wtrace-COMMAND(1) for one subcommand
    #[command(
        after_help = "Examples:\n  wtrace man | man -l -\n  wtrace man record | man -l -\n  wtrace man > /usr/local/share/man/man1/wtrace.1"
    )]
    Man {
        /// The subcommand whose page to print
        command: Option<String>,
    },
    /// Time travel's server (wtrace::timetravel): replays TRACE once, forking checkpoints; stdin is the control socket
    #[command(name = "__timetravel", hide = true)]
    TimeTravel(TimeTravelArgs),
    /// Run a Go wasip1 binary as Go's go_wasip1_wasm_exec would (used by the go-shim script)
    #[command(hide = true)]
    GoExec {
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
}

/// `wtrace __timetravel`, as `wtrace::timetravel::TimeMachine` starts it.
#[derive(Args, Debug)]
pub struct TimeTravelArgs {
    pub trace: PathBuf,
    /// Replay this module instead of the one embedded in the trace
    #[arg(long, value_name = "MODULE")]
    pub module: Option<PathBuf>,
    /// A checkpoint every MS milliseconds of the replay's CPU time
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub every_ms: u64,
    /// A checkpoint every N calls instead
    #[arg(long, value_name = "N")]
    pub every_calls: Option<u64>,
    /// Checkpoints kept at most (then every other one goes)
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_checkpoints: usize,
}

/// wasmtime's flags for setting up the guest.
#[derive(Args, Debug, Clone)]
pub struct HostArgs {
    /// Preopen host directory HOST as GUEST (default: the same path), e.g. --dir=/ or --dir ./data::/data
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// Pass an environment variable; NAME alone takes wtrace's own value
    #[arg(long = "env", value_name = "NAME[=VAL]")]
    pub env: Vec<String>,
    /// wasmtime-style option; supported: max-wasm-stack=BYTES (default 1048576)
    #[arg(short = 'W', value_name = "OPT=VAL")]
    pub wasm_opts: Vec<String>,
    /// Compile the module afresh instead of loading it from the cache
    #[arg(long)]
    pub no_cache: bool,
    /// Define imports that wtrace does not provide as functions that trap
    #[arg(long)]
    pub trap_unknown_imports: bool,
}

/// The module to run and the arguments it gets. After MODULE everything
/// goes to the guest, also words that look like wtrace's flags; before it,
/// a word starting with `-` is an option, so that an unknown one is named
/// as such instead of being taken for the module.
#[derive(Args, Debug)]
pub struct Guest {
    /// The module (.wasm or .wat) and the guest's arguments: every word after MODULE
    /// (`--` before MODULE: no warning about wtrace's options among them)
    #[arg(
        required = true,
        trailing_var_arg = true,
        value_name = "MODULE [ARGS]..."
    )]
    pub command: Vec<String>,
}

impl Guest {
    pub fn module(&self) -> &Path {
        Path::new(&self.command[0])
    }

    /// The guest's arguments that are `subcommand`'s own long options
    /// (`--dir`, `--dir=x`), each once. They stay the guest's, as with
    /// `wasmtime run`, but were most likely meant for wtrace; `--` before
    /// MODULE (the last of `raw_args` before the guest's words) says they
    /// are meant for the guest.
    pub fn misplaced_options(&self, subcommand: &str, raw_args: &[String]) -> Vec<String> {
        let module_at = raw_args.len().saturating_sub(self.command.len());
        if module_at > 0 && raw_args[module_at - 1] == "--" {
            return Vec::new();
        }
        let cli = <Cli as clap::CommandFactory>::command();
        let Some(sub) = cli.find_subcommand(subcommand) else {
            return Vec::new();
        };
        let longs: Vec<&str> = sub.get_arguments().filter_map(|a| a.get_long()).collect();
        let mut found: Vec<String> = Vec::new();
        for word in &self.command[1..] {
            let Some(name) = word.strip_prefix("--") else {
                continue;
            };
            let name = name.split('=').next().unwrap_or(name);
            let option = format!("--{name}");
            if longs.contains(&name) && !found.contains(&option) {
                found.push(option);
            }
        }
        found
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub host: HostArgs,
    #[command(flatten)]
    pub guest: Guest,
}

#[derive(Args, Debug)]
pub struct RecordArgs {
    #[command(flatten)]
    pub host: HostArgs,
    /// Trace file to write (default: MODULE's stem + .wtrace in the current directory,
    /// numbered when taken)
    #[arg(short = 'o', long = "output", value_name = "TRACE")]
    pub output: Option<PathBuf>,
    /// Replace TRACE when it is an earlier trace (a file that is not a trace never is)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not say where the trace was written
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print each call to stderr, strace-style, while recording
    #[arg(long)]
    pub print: bool,
    /// With --print: which calls to show: trace=NAME,%CLASS,!NAME,... (the trace has them all)
    #[arg(short = 'e', value_name = "EXPR", requires = "print")]
    pub expr: Vec<String>,
    /// With --print: show only calls that returned an error
    #[arg(long, short = 'Z', requires = "print")]
    pub failed: bool,
    /// With --print: bytes of data shown per string
    #[arg(short = 's', value_name = "N", default_value_t = DEFAULT_STRSIZE)]
    pub strsize: usize,
    /// Do not embed the module in the trace (replay then needs --module)
    #[arg(long)]
    pub no_embed: bool,
    /// Inject a fault: SET[:CONDITION...]:ACTION[:when=EXPR] (see below; repeatable)
    #[arg(long = "inject", value_name = "SPEC")]
    pub inject: Vec<String>,
    /// At a seeded random subset of calls (RATE: 0.02 or 2%, the default), inject
    /// faults a real host may produce
    #[arg(long, value_name = "SEED[:RATE]")]
    pub chaos: Option<String>,
    /// Run up to N times and keep the trace of the first run that exits non-zero or
    /// traps (with --chaos SEED, attempt k uses seed SEED+k-1)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: Option<u32>,
    #[command(flatten)]
    pub guest: Guest,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Replay this module instead of the one embedded in the trace
    #[arg(long, value_name = "MODULE")]
    pub module: Option<PathBuf>,
    /// Replay a --module whose blake3 differs from the recorded one
    #[arg(long)]
    pub force: bool,
    /// Do not re-emit the guest's stdout and stderr
    #[arg(short, long)]
    pub quiet: bool,
    /// Print each call to stderr, strace-style, as it is replayed
    #[arg(long)]
    pub print: bool,
    /// With --print: each call is followed by the guest's call stack, innermost
    /// first, one ` > ` line per frame (as strace -k)
    #[arg(short = 'k', long = "stack-trace", requires = "print")]
    pub stacks: bool,
    /// Stop once call N has returned; no guest code runs after it
    #[arg(long, value_name = "N")]
    pub until: Option<u64>,
    /// With --until: print guest memory ADDR:LEN (decimal or 0x hex) as it stands when
    /// call N returns, as xxd does; repeatable. The exported globals are printed too
    #[arg(long = "memory", value_name = "ADDR:LEN", requires = "until")]
    pub memory: Vec<Region>,
    /// With --until: print the memory behind every pointer argument of call N
    /// (strings, iovec lists and their buffers, out-pointers) and the exported globals
    #[arg(long, requires = "until")]
    pub memory_args: bool,
    /// Report every change of the bytes ADDR:LEN, with old and new bytes: by the host
    /// in a call (the call is named) or by the guest between calls (the next call and
    /// its stack are named); repeatable
    #[arg(long = "watch", value_name = "ADDR:LEN")]
    pub watches: Vec<Region>,
    /// Stop before the first call EXPR matches: print it and the guest's stack, run no
    /// guest code past it, exit 133. EXPR: space-separated terms that must all hold
    /// (see below); repeatable (the first to fire stops)
    #[arg(long = "break", value_name = "EXPR", value_parser = parse_trigger)]
    pub breaks: Vec<Trigger>,
    /// With --module (a rebuild with added prints): perform writes to stdout/stderr that
    /// the recording lacks, serve extra clock reads from recorded values (implies --force)
    #[arg(long, requires = "module")]
    pub allow_extra_writes: bool,
    pub trace: PathBuf,
}

fn parse_trigger(expr: &str) -> Result<Trigger, String> {
    Trigger::parse(expr).map_err(|e| format!("{e:#}"))
}

#[derive(Args, Debug)]
pub struct DumpArgs {
    /// Bytes of data shown per string before `...`
    #[arg(short = 's', value_name = "N", default_value_t = DEFAULT_STRSIZE)]
    pub strsize: usize,
    /// Which calls to show: trace=NAME,%CLASS,!NAME,...
    #[arg(short = 'e', value_name = "EXPR")]
    pub expr: Vec<String>,
    /// Show only calls that returned an error
    #[arg(long, short = 'Z')]
    pub failed: bool,
    /// One JSON object per call
    #[arg(long)]
    pub json: bool,
    /// Show the time spent in each call
    #[arg(short = 'T')]
    pub durations: bool,
    /// Show the time of each call since the start of the recording
    #[arg(short = 'r')]
    pub relative: bool,
    /// Print flag sets in full
    #[arg(short = 'v')]
    pub verbose: bool,
    /// Follow each call by the guest's call stack, one ` > ` line per frame (as strace -k);
    /// computed by replaying the module embedded in the trace
    #[arg(short = 'k', long = "stack-trace", conflicts_with_all = ["json", "durations", "relative"])]
    pub stacks: bool,
    /// With -k: replay this module (for a trace recorded with --no-embed)
    #[arg(long, value_name = "MODULE", requires = "stacks")]
    pub module: Option<PathBuf>,
    pub trace: PathBuf,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Which calls to compare, added to the defaults: trace=NAME,%CLASS,!NAME,...
    #[arg(short = 'e', value_name = "EXPR")]
    pub expr: Vec<String>,
    /// Compare every call and every value (clock and poll calls, random bytes, timestamps, inodes)
    #[arg(long)]
    pub all: bool,
    pub a: PathBuf,
    pub b: PathBuf,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_enum, required_unless_present = "wasm")]
    pub format: Option<crate::report::export::Format>,
    /// Write one core wasm module that replays the recorded run by itself
    /// (the recorded calls inside it; only stdout/stderr writes and
    /// proc_exit reach the host): docs/reproducer.md
    #[arg(long, conflicts_with = "format")]
    pub wasm: bool,
    /// Output file (default: standard output)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    pub trace: PathBuf,
}

impl HostArgs {
    pub fn resolve(&self) -> Result<HostOptions> {
        let mut opts = HostOptions {
            cache: !self.no_cache,
            trap_unknown_imports: self.trap_unknown_imports,
            ..HostOptions::default()
        };
        for d in &self.dirs {
            let (host, guest) = match d.split_once("::") {
                Some((h, g)) => (h.to_string(), g.to_string()),
                None => (d.clone(), d.clone()),
            };
            if !Path::new(&host).is_dir() {
                bail!("--dir {d}: {host} is not a directory{}", colon_hint(d));
            }
            opts.dirs.push(Preopen { host, guest });
        }
        for e in &self.env {
            match e.split_once('=') {
                Some((k, v)) => opts.env.push((k.to_string(), v.to_string())),
                None => {
                    if let Ok(v) = std::env::var(e) {
                        opts.env.push((e.clone(), v));
                    }
                }
            }
        }
        opts.max_wasm_stack = DEFAULT_MAX_WASM_STACK;
        for w in &self.wasm_opts {
            match w.split_once('=') {
                Some(("max-wasm-stack", v)) => {
                    opts.max_wasm_stack = v
                        .parse()
                        .with_context(|| format!("-W {w}: not a number of bytes"))?;
                }
                _ => bail!("-W {w}: unsupported; wtrace supports -W max-wasm-stack=BYTES"),
            }
        }
        Ok(opts)
    }
}

/// `--dir a:b` for a path that does not exist is most likely wasmtime's
/// `HOST::GUEST` with one colon.
fn colon_hint(dir: &str) -> String {
    match dir.split_once(':') {
        Some((host, guest)) if !guest.contains(':') && !Path::new(dir).exists() => {
            format!("; did you mean --dir {host}::{guest} (HOST::GUEST)?")
        }
        _ => String::new(),
    }
}

/// `Classes for -e trace=: %args %clock …`, from the table's classes.
/// `wtrace tui`'s keys, from the UI's one key map (as its `?` screen).
fn tui_keys_help() -> String {
    use wtrace_tui::keys::Mode;
    let mut out = String::from(
        "Breakpoints take replay --break's grammar (fd_write fd=2, path_open path~config, errno!=0,\n\
         #1200, when=3); continues scan the trace itself. The detail pane and the memory view show\n\
         the guest's state when the selected call returned, computed by replaying the module.\n",
    );
    let shown = [Mode::Browse, Mode::Memory, Mode::Breakpoints];
    for (mode, (heading, lines)) in Mode::ALL.iter().zip(wtrace_tui::keys::help()) {
        if !shown.contains(mode) {
            continue;
        }
        out += &format!("\nKeys {heading}:\n");
        for l in lines {
            out += &format!("  {:<16} {}\n", l.keys, l.help);
        }
    }
    out
}

fn classes_help() -> String {
    let classes: Vec<String> = crate::syscalls::Class::ALL
        .iter()
        .map(|c| format!("%{}", c.name()))
        .collect();
    format!("Classes for -e trace=: {}", classes.join(" "))
}
