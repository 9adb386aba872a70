//! `confer`: the binary; everything is in the library (`cli::main`).

fn main() -> std::process::ExitCode {
    confer::cli::main()
}
