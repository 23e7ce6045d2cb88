//! The `sundial` binary: parse arguments, run one command, map its error to
//! an exit code. Everything else lives in the library.

use clap::Parser;

fn main() {
    let cli = sundial::cli::Cli::parse();
    if let Err(failure) = sundial::commands::run(cli) {
        if !failure.message.is_empty() {
            eprintln!("sundial: {}", failure.message);
        }
        std::process::exit(failure.code);
    }
}
