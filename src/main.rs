fn main() {
    std::process::exit(wtrace::cli::main());
}
