//! Where `record` writes its trace: refusing to replace what is not a
//! trace, numbering default names as rr does.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Where the trace goes, and what happens when that file exists. A file
/// that is not a trace is never replaced: `-o prog.wasm` would lose the
/// module.
#[derive(Clone, Copy, Debug)]
pub struct TracePath<'a> {
    pub path: &'a Path,
    pub if_exists: IfExists,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfExists {
    /// Replace an earlier trace (`--force`).
    Replace,
    /// Refuse (an explicit `-o` without `--force`).
    Refuse,
    /// Write to the first free of `<stem>-1.wtrace`, `<stem>-2.wtrace`...
    /// instead, as rr numbers its traces: nothing is replaced.
    NextFree,
}

impl TracePath<'_> {
    /// Refuses, before anything runs, to write where data would be lost.
    pub(super) fn check(&self) -> Result<()> {
        if self.if_exists == IfExists::NextFree {
            return Ok(());
        }
        let path = self.path;
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot write the trace to {}", path.display()))
            }
        };
        if meta.is_dir() {
            bail!(
                "cannot write the trace to {}: it is a directory",
                path.display()
            );
        }
        // A device or a pipe holds no file to lose, nor does an
        // empty file (what mktemp makes).
        if !meta.is_file() || meta.len() == 0 {
            return Ok(());
        }
        if !starts_with_trace_magic(path)? {
            bail!(
                "refusing to overwrite {}: it is not a wtrace trace",
                path.display()
            );
        }
        if self.if_exists == IfExists::Refuse {
            bail!(
                "refusing to overwrite {}: it is a trace already; --force replaces it",
                path.display()
            );
        }
        Ok(())
    }

    /// The file to write: `path`, or with [`IfExists::NextFree`] the first
    /// numbered name that is free, created at once so that two recordings
    /// started together do not pick the same one.
    pub(super) fn claim(&self) -> Result<PathBuf> {
        if self.if_exists != IfExists::NextFree {
            return Ok(self.path.to_path_buf());
        }
        let stem = self.path.file_stem().unwrap_or_default().to_string_lossy();
        let ext = self
            .path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        for n in 0u64.. {
            let candidate = match n {
                0 => self.path.to_path_buf(),
                n => self.path.with_file_name(format!("{stem}-{n}{ext}")),
            };
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&candidate)
            {
                Ok(_) => return Ok(candidate),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot create trace file {}", candidate.display())
                    })
                }
            }
        }
        unreachable!("u64 names run out")
    }
}

fn starts_with_trace_magic(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut start = Vec::with_capacity(crate::trace::MAGIC_PREFIX.len());
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(crate::trace::MAGIC_PREFIX.len() as u64)
                .read_to_end(&mut start)
        })
        .with_context(|| {
            format!(
                "cannot read {} to see whether it is a trace",
                path.display()
            )
        })?;
    Ok(start == crate::trace::MAGIC_PREFIX)
}
