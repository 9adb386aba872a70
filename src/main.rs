fn main() -> std::process::ExitCode {
    confer::cli::main()
}
