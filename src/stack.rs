//! The guest's call stack at a host call, as replay computes it from
//! wasmtime's view of the calling frames: function names from the name
//! section (demangled), file:line:column from DWARF where the module has it.

use std::fmt;

/// One frame of the guest's stack. A call site that the compiler inlined
/// into its caller is a frame of its own, with the caller's offsets.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Frame {
    /// Demangled: `os.ReadFile`, `myapp::config::parse`, or
    /// `<wasm function N>` for a module without names.
    pub func: String,
    /// Offset of the call instruction in its function's body.
    pub func_offset: Option<usize>,
    /// Offset of the call instruction in the module file.
    pub module_offset: Option<usize>,
    /// Source location from DWARF.
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Frame {
    /// `file:line:column`, as far as DWARF says.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match (self.line, self.column) {
            (Some(l), Some(c)) if c > 0 => format!("{file}:{l}:{c}"),
            (Some(l), _) => format!("{file}:{l}"),
            _ => file.to_string(),
        })
    }

    /// The line `strace -k` would print, for a frame of `module`:
    /// ` > hello.wasm(main.main+0x1c) [0x2a1f]`, then ` at FILE:LINE:COL`.
    pub fn strace_line(&self, module: &str) -> String {
        let mut s = format!(" > {module}({}", self.func);
        if let Some(off) = self.func_offset {
            s.push_str(&format!("+{off:#x}"));
        }
        s.push(')');
        if let Some(off) = self.module_offset {
            s.push_str(&format!(" [{off:#x}]"));
        }
        if let Some(loc) = self.location() {
            s.push_str(" at ");
            s.push_str(&loc);
        }
        s
    }
}

/// A whole stack, innermost first, printed one ` > ` line per frame.
pub struct StackLines<'a> {
    pub frames: &'a [Frame],
    pub module: &'a str,
}

impl fmt::Display for StackLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for frame in self.frames {
            writeln!(f, "{}", frame.strace_line(self.module))?;
        }
        Ok(())
    }
}

/// A Rust (legacy or v0) or C++ symbol demangled; other names as they are
/// (Go's name section already holds `os.ReadFile`).
pub fn demangle(name: &str) -> String {
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        // `{:#}` leaves out the hash suffix.
        return format!("{d:#}");
    }
    if name.starts_with("_Z") {
        if let Ok(sym) = cpp_demangle::Symbol::new(name) {
            if let Ok(d) = sym.demangle() {
                return d;
            }
        }
    }
    name.to_string()
}

/// The frames of a wasmtime backtrace, innermost first.
#[cfg(feature = "runtime")]
pub fn frames(bt: &wasmtime::WasmBacktrace) -> Vec<Frame> {
    let mut out = Vec::with_capacity(bt.frames().len());
    for f in bt.frames() {
        let func_name = || match f.func_name() {
            Some(n) => demangle(n),
            None => format!("<wasm function {}>", f.func_index()),
        };
        let mut frame = Frame {
            func: String::new(),
            func_offset: f.func_offset(),
            module_offset: f.module_offset(),
            file: None,
            line: None,
            column: None,
        };
        if f.symbols().is_empty() {
            frame.func = func_name();
            out.push(frame);
            continue;
        }
        // DWARF lists the inlined calls innermost first, then the function
        // the code belongs to.
        for (i, sym) in f.symbols().iter().enumerate() {
            let func = match sym.name() {
                Some(n) => demangle(n),
                None if i == 0 => func_name(),
                None => "<inlined function>".to_string(),
            };
            out.push(Frame {
                func,
                file: sym.file().map(source_path),
                line: sym.line(),
                column: sym.column(),
                ..frame.clone()
            });
        }
    }
    out
}

/// A DWARF file name: addr2line joins a relative name to the compilation
/// directory, which for a URL-like directory (wasi-sdk's `wasisdk://v30.0/...`)
/// gives `wasisdk://.../wasisdk://v30.0/src/x.c`: the last URL is the name.
fn source_path(file: &str) -> String {
    let Some(at) = file.rfind("://") else {
        return file.to_string();
    };
    let scheme_start = file[..at].rfind('/').map_or(0, |i| i + 1);
    file[scheme_start..].to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_url_joined_to_a_url_directory_keeps_the_last_url() {
        assert_eq!(
            super::source_path("wasisdk://v30.0/build/x/wasisdk://v30.0/src/crt1.c"),
            "wasisdk://v30.0/src/crt1.c"
        );
        assert_eq!(super::source_path("/src/main.rs"), "/src/main.rs");
    }

    use super::*;

    #[test]
    fn rust_and_cpp_names_are_demangled_and_go_names_kept() {
        assert_eq!(
            demangle("_ZN5myapp6config5parse17h0123456789abcdefE"),
            "myapp::config::parse"
        );
        assert_eq!(demangle("_Z3fooi"), "foo(int)");
        assert_eq!(demangle("os.ReadFile"), "os.ReadFile");
        assert_eq!(demangle("runtime.main"), "runtime.main");
    }

    #[test]
    fn a_frame_prints_as_strace_k_with_the_source_line() {
        let mut f = Frame {
            func: "main.main".into(),
            func_offset: Some(0x1c),
            module_offset: Some(0x2a1f),
            file: None,
            line: None,
            column: None,
        };
        assert_eq!(
            f.strace_line("hello.wasm"),
            " > hello.wasm(main.main+0x1c) [0x2a1f]"
        );
        f.file = Some("src/main.rs".into());
        f.line = Some(12);
        f.column = Some(5);
        assert_eq!(
            f.strace_line("hello.wasm"),
            " > hello.wasm(main.main+0x1c) [0x2a1f] at src/main.rs:12:5"
        );
    }
}
