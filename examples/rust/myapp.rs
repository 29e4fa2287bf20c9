//! A Rust guest built with debug info, for the call-stack tests: `main`
//! calls `config::parse`, which writes through preview1's `fd_write`
//! directly, so the innermost frame of that call is `myapp::config::parse`.
//!
//!     rustc --target wasm32-wasip1 -g --crate-name myapp examples/rust/myapp.rs

mod config {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn fd_write(fd: u32, iovs: *const [u32; 2], iovs_len: u32, nwritten: *mut u32) -> u16;
    }

    /// Writes `text` to stdout in one preview1 call; returns the bytes taken.
    #[inline(never)]
    pub fn parse(text: &str) -> u32 {
        let iov = [text.as_ptr() as u32, text.len() as u32];
        let mut written = 0;
        let errno = unsafe { fd_write(1, &iov, 1, &mut written) };
        assert_eq!(errno, 0);
        written
    }
}

fn main() {
    let n = config::parse("parsed the config\n");
    std::process::exit(if n == 18 { 0 } else { 1 });
}
