//! The `cascade` command line: a thin layer over the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cascade::cli::Cli::parse();
    cascade::telemetry::init("info,actix_server=warn");
    match cascade::cli::run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cascade: {message}");
            ExitCode::from(2)
        }
    }
}
