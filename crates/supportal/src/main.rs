use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = supportal::cli::Cli::parse();
    match supportal::commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line an operator can act on; no backtrace for their mistakes.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
