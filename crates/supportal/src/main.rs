use clap::Parser;
use std::process::ExitCode;

/// mimalloc: per-thread free lists suit a server that allocates small, short-lived buffers on
/// every request across worker threads (glibc malloc was ~14% of a page's CPU; docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
