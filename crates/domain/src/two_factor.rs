//! Two-factor sign-in for staff: time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30 s
//! steps, one step of skew either way, which every authenticator app reads), each accepted once,
//! and one-time recovery codes for a lost phone.

use crate::{FieldError, Timestamp};
use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// How many recovery codes a user gets at a time.
pub const RECOVERY_CODES: usize = 10;

/// A user's TOTP secret: 160 random bits, kept as Base32 (what authenticator apps show).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let mut bytes = vec![0u8; 20];
        rng.fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    /// The secret as stored; None when it is not Base32 of at least 128 bits.
    pub fn from_base32(stored: &str) -> Option<Self> {
        let secret = Secret::try_from_base32(stored).ok()?;
        (secret.as_bytes().len() >= 16).then(|| TotpSecret(secret.as_bytes().to_vec()))
    }

    pub fn to_base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, account: &str, issuer: &str) -> Option<Totp> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(30)
            .with_secret(self.0.clone())
            .with_account_name(account.replace(':', ""))
            .with_issuer(Some(issuer.replace(':', "")))
            .build()
            .ok()
    }

    /// The `otpauth://` address an authenticator app reads from the QR code.
    pub fn otpauth_url(&self, account: &str, issuer: &str) -> Option<String> {
        self.totp(account, issuer)?.to_url().ok()
    }

    /// The time step `code` belongs to at `now`, if it is right and later than `last_step`
    /// (the last one accepted: a code is good once).
    pub fn accepts(&self, code: &Code, now: Timestamp, last_step: i64) -> Option<i64> {
        let seconds = u64::try_from(now.millis() / 1000).ok()?;
        let step = self.totp("", "")?.check(&code.0, seconds)?;
        let step = i64::try_from(step).ok()?;
        (step > last_step).then_some(step)
    }

    /// The code an authenticator app shows at `now` (for tests and the enrolment check).
    pub fn code_at(&self, now: Timestamp) -> String {
        let seconds = u64::try_from(now.millis() / 1000).unwrap_or(0);
        self.totp("", "")
            .map(|t| t.generate(seconds).to_string())
            .unwrap_or_default()
    }
}

/// A six-digit code as typed (spaces allowed, as apps show "123 456").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err(FieldError::Required);
        }
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::InvalidCode);
        }
        Ok(Code(digits))
    }
}

/// A one-time recovery code: ten lower-case letters and digits, shown as `xxxxx-xxxxx`.
pub fn recovery_code(rng: &mut impl RngCore) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut code = String::with_capacity(11);
    for n in 0..10 {
        if n == 5 {
            code.push('-');
        }
        let pick = (rng.next_u32() as usize) % ALPHABET.len();
        code.push(char::from(ALPHABET[pick]));
    }
    code
}

/// A recovery code as typed, in the form it was issued (case, spaces and the dash forgiven);
/// None when it cannot be one.
pub fn normalize_recovery_code(raw: &str) -> Option<String> {
    let kept: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (kept.len() == 10).then(|| format!("{}-{}", &kept[..5], &kept[5..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    #[test]
    fn codes_match_the_rfc_test_vectors() {
        // 94287082 and 07081804 at 59 s and 1111111109 s, as six digits.
        assert_eq!(rfc_secret().code_at(Timestamp(59_000)), "287082");
        assert_eq!(rfc_secret().code_at(Timestamp(1_111_111_109_000)), "081804");
    }

    #[test]
    fn a_code_is_accepted_once_within_a_step_of_skew() {
        let secret = rfc_secret();
        let now = Timestamp(1_111_111_109_000);
        let code = Code::parse("081 804").unwrap();
        let step = secret.accepts(&code, now, 0).expect("right now");
        assert_eq!(secret.accepts(&code, now, step), None, "not twice");
        let later = Timestamp(now.millis() + 30_000);
        assert!(secret.accepts(&code, later, 0).is_some(), "one step late");
        let much_later = Timestamp(now.millis() + 90_000);
        assert_eq!(secret.accepts(&code, much_later, 0), None);
        assert_eq!(
            secret.accepts(&Code::parse("000000").unwrap(), now, 0),
            None
        );
    }

    #[test]
    fn secrets_round_trip_as_base32_and_never_print() {
        let secret = TotpSecret::generate(&mut StdRng::seed_from_u64(3));
        let stored = secret.to_base32();
        assert_eq!(TotpSecret::from_base32(&stored), Some(secret.clone()));
        assert_eq!(format!("{secret:?}"), "TotpSecret(***)");
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
        let url = secret
            .otpauth_url("riley@acme.test", "Supportal: Acme")
            .unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains(&stored), "{url}");
    }

    #[test]
    fn typed_codes_are_six_digits() {
        assert_eq!(Code::parse(""), Err(FieldError::Required));
        assert_eq!(Code::parse("12345"), Err(FieldError::InvalidCode));
        assert_eq!(Code::parse("12345a"), Err(FieldError::InvalidCode));
        assert_eq!(Code::parse(" 123 456 ").unwrap(), Code("123456".into()));
    }

    #[test]
    fn recovery_codes_are_forgiving_to_type() {
        let code = recovery_code(&mut StdRng::seed_from_u64(9));
        assert_eq!(code.len(), 11);
        assert_eq!(
            normalize_recovery_code(&code.to_uppercase()),
            Some(code.clone())
        );
        assert_eq!(normalize_recovery_code(&code.replace('-', " ")), Some(code));
        assert_eq!(normalize_recovery_code("short"), None);
    }
}
