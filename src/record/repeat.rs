//! `record --repeat N`: record until a run fails, keep only that run.

use super::{record, IfExists, RecordOptions, Recorded, TracePath};
use crate::trace::{Chaos, RunEnd};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// How `record --repeat` ended.
pub enum Repeated {
    /// Attempt `attempt` (from 1) failed; its trace is kept.
    Failed { attempt: u32, recorded: Recorded },
    /// Every attempt exited with 0; no trace is kept.
    Passed { attempts: u32 },
    /// Attempt `attempt` was stopped by a signal or could not be written;
    /// its trace is kept, as a single recording's would be.
    Stopped { attempt: u32, recorded: Recorded },
}

/// `record --repeat N`: records up to `max` runs, each into a scratch file
/// beside the trace, and keeps the first that exits non-zero or traps
/// under the trace's name. With `--chaos SEED`, attempt k uses seed
/// SEED + k - 1, so each attempt is reproducible by itself.
pub fn record_until_failure(
    module_path: &Path,
    argv: Vec<String>,
    opts: RecordOptions<'_>,
    max: u32,
) -> Result<Repeated> {
    opts.output.check()?;
    let dir = match opts.output.path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let scratch = dir.join(format!(".wtrace-attempt-{}.wtrace", std::process::id()));
    for attempt in 1..=max {
        let chaos = opts.chaos.map(|c| Chaos {
            seed: c.seed.wrapping_add(u64::from(attempt - 1)),
            ..c
        });
        let this = RecordOptions {
            host: opts.host.clone(),
            output: TracePath {
                path: &scratch,
                if_exists: IfExists::Replace,
            },
            embed_module: opts.embed_module,
            print: opts.print.clone(),
            inject: opts.inject.clone(),
            chaos,
        };
        let mut recorded = record(module_path, argv.clone(), this)?;
        let failed = match &recorded.run_end {
            RunEnd::Exit(0) => false,
            RunEnd::Exit(_) | RunEnd::Trap(_) => true,
            RunEnd::Signal(_) | RunEnd::WriteFailed(_) => {
                recorded.path = keep(&scratch, &opts.output)?;
                return Ok(Repeated::Stopped { attempt, recorded });
            }
        };
        if failed {
            recorded.path = keep(&scratch, &opts.output)?;
            return Ok(Repeated::Failed { attempt, recorded });
        }
        std::fs::remove_file(&scratch)
            .with_context(|| format!("cannot remove {}", scratch.display()))?;
    }
    Ok(Repeated::Passed { attempts: max })
}

/// Moves the scratch trace to where the trace goes.
fn keep(scratch: &Path, output: &TracePath<'_>) -> Result<PathBuf> {
    let path = output.claim()?;
    std::fs::rename(scratch, &path)
        .with_context(|| format!("cannot move the trace to {}", path.display()))?;
    Ok(path)
}
