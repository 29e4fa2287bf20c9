#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(wtrace::cli::main());
}

/// mimalloc commits its arenas lazily: with eager commit and transparent
/// huge pages on `madvise`, each arena region the recorder touched cost a
/// whole 2 MiB page (recording the walk benchmark peaked at 92 MiB, 57
/// without; `wtrace run`: 43). The option must be set before the first
/// allocation, which std makes before `main`: so from a constructor.
#[cfg(target_os = "linux")]
mod lazy_arenas {
    extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    /// `mi_option_arena_eager_commit` in mimalloc 3's `mimalloc.h` (the
    /// crate's `extended` bindings number mimalloc 2's options).
    const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

    extern "C" fn set() {
        // SAFETY: sets an option; nothing else runs yet.
        unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
    }

    #[used]
    #[link_section = ".init_array"]
    static SET: extern "C" fn() = set;
}
