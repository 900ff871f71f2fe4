//! Argon2id password hashes (OWASP parameters: the crate's defaults), computed off the
//! async workers because each takes tens of milliseconds of CPU and 19 MiB of memory by design.
//!
//! That makes hashing an amplifier: 150 concurrent sign-ins for unknown accounts took a server
//! from 1 to 3.5 GB. So at most one hash per core runs at a time; a request that cannot start
//! one within a few seconds is told to try again, and a password longer than any a person types
//! (over `NewPassword::MAX` characters) is refused before hashing.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use domain::text::NewPassword;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Too many hashes are being computed: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("too many password checks at once")
    }
}

impl std::error::Error for Busy {}

/// How long a request waits for its turn to hash.
const WAIT: Duration = Duration::from_secs(5);

fn hashing() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

async fn turn(wait: Duration) -> Result<SemaphorePermit<'static>, Busy> {
    match tokio::time::timeout(wait, hashing().acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Busy),
    }
}

fn too_long(password: &str) -> bool {
    // Bytes bound the characters from above: only a long enough string needs counting.
    password.len() > NewPassword::MAX && password.chars().count() > NewPassword::MAX
}

pub async fn hash(password: &str) -> anyhow::Result<String> {
    if too_long(password) {
        anyhow::bail!("a password over {} characters", NewPassword::MAX);
    }
    let _turn = turn(WAIT).await?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

/// Check `password` against a stored hash. With `None` (no such account) a hash is still
/// checked, so the answer takes as long as for a real account and reveals nothing.
pub async fn verify(password: &str, stored: Option<String>) -> Result<bool, Busy> {
    verify_within(password, stored, WAIT).await
}

async fn verify_within(
    password: &str,
    stored: Option<String>,
    wait: Duration,
) -> Result<bool, Busy> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if too_long(password) {
        return Ok(false);
    }
    let _turn = turn(wait).await?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| {
                    let salt = SaltString::generate(&mut OsRng);
                    Argon2::default()
                        .hash_password(b"no such account", &salt)
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                })
                .clone()
        });
        let ok = PasswordHash::new(&phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        real && ok
    })
    .await
    .map_or(Ok(false), Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_more_hashes_than_cores_run_at_once_and_the_rest_are_told_to_wait() {
        let all = hashing().available_permits();
        let held: Vec<_> = futures::future::join_all((0..all).map(|_| turn(WAIT)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            verify_within("a password", None, Duration::from_millis(50)).await,
            Err(Busy)
        );
        drop(held);
        assert_eq!(verify_within("a password", None, WAIT).await, Ok(false));
    }

    #[tokio::test]
    async fn a_password_longer_than_anyone_types_is_not_hashed() {
        let long = "x".repeat(NewPassword::MAX + 1);
        assert!(hash(&long).await.is_err());
        let started = std::time::Instant::now();
        assert_eq!(verify(&long, None).await, Ok(false));
        assert!(
            started.elapsed() < Duration::from_millis(5),
            "refused before hashing"
        );
    }
}
