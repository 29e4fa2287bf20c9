//! The on-disk cache of compiled modules.
//!
//! A 2.5 MB Go module takes over a second to compile; its cached form loads
//! in milliseconds. Entries are keyed by the blake3 of the module bytes, the
//! wtrace and wasmtime versions and the engine's compatibility hash, so a
//! new version or configuration never loads a stale entry. The directory is
//! `$WTRACE_CACHE_DIR`, else the user cache dir's `wtrace/modules`.

use anyhow::{Context, Result};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use wasmtime::{Engine, Module};

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("WTRACE_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    dirs::cache_dir().map(|d| d.join("wtrace").join("modules"))
}

fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let mut h = blake3::Hasher::new();
    h.update(bytes);
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(super::WASMTIME_VERSION.as_bytes());
    h.update(&engine_hash.finish().to_le_bytes());
    h.finalize().to_hex().to_string()
}

/// Compiles `bytes`, or loads them from the cache when `use_cache`.
/// A cache that cannot be read or written is skipped silently: it only
/// costs time.
pub fn load_module(engine: &Engine, bytes: &[u8], name: &str, use_cache: bool) -> Result<Module> {
    let compile = || {
        Module::new(engine, bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot compile {name}"))
    };
    let Some(dir) = cache_dir().filter(|_| use_cache) else {
        return compile();
    };
    let path = dir.join(format!("{}.cwasm", cache_key(engine, bytes)));
    if path.exists() {
        // SAFETY: the file was written by `Module::serialize` of this same
        // wtrace build (the key includes the versions and the engine's
        // compatibility hash) into a directory owned by the user;
        // wasmtime checks the header and the engine configuration.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, &path) } {
            return Ok(module);
        }
    }
    let module = compile()?;
    if let Ok(serialized) = module.serialize() {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let stored = std::fs::create_dir_all(&dir).is_ok()
            && std::fs::write(&tmp, serialized).is_ok()
            && std::fs::rename(&tmp, &path).is_ok();
        if !stored {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine that keeps DWARF (replay's stacks) must not load a module
    /// compiled without it, nor the other way round: the keys differ. The
    /// code itself is the same (replay with stacks matches the recording
    /// call for call: tests/debugger.rs).
    #[test]
    fn keeping_dwarf_is_part_of_the_cache_key() {
        let wat = b"(module)";
        let plain = crate::host::engine(1 << 20, false).unwrap();
        let lines = crate::host::engine(1 << 20, true).unwrap();
        assert_ne!(cache_key(&plain, wat), cache_key(&lines, wat));
        let again = crate::host::engine(1 << 20, true).unwrap();
        assert_eq!(cache_key(&lines, wat), cache_key(&again, wat));
    }
}
