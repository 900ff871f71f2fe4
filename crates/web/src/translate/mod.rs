//! Live translation of chat messages: a provider behind a trait, a bounded cache, a timeout
//! (a message is never held longer than that for its translation), and a pause after a
//! failure so that a provider that is down does not cost every message the whole timeout.
//! Also the offline detection of the language a customer writes in.

pub mod providers;

use domain::Language;
use futures::future::BoxFuture;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use providers::{ProviderConfig, ProviderKind};

#[derive(Debug, Clone, thiserror::Error)]
#[error("translation provider: {0}")]
pub struct ProviderError(pub String);

/// A translation service.
pub trait Provider: Send + Sync {
    fn translate<'a>(
        &'a self,
        text: &'a str,
        from: Language,
        to: Language,
    ) -> BoxFuture<'a, Result<String, ProviderError>>;
}

/// How translation is configured for the instance (each site still turns it on for itself).
#[derive(Debug, Clone)]
pub struct TranslationConfig {
    /// None: no provider, so nothing is translated (messages show a "not translated" mark on
    /// sites that asked for translation).
    pub provider: Option<ProviderConfig>,
    /// The longest a message waits for its translation before it goes out untranslated.
    pub timeout: Duration,
}

impl Default for TranslationConfig {
    fn default() -> Self {
        TranslationConfig {
            provider: None,
            timeout: Duration::from_secs(3),
        }
    }
}

/// Translations kept in memory, by (from, to, text).
const CACHE_ENTRIES: usize = 10_000;

/// After a failure, the provider is not asked again for this long (messages go out at once,
/// marked "not translated").
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(15);

type CacheKey = (Language, Language, String);

pub struct Translator {
    provider: Option<Box<dyn Provider>>,
    timeout: Duration,
    cache: Mutex<lru::LruCache<CacheKey, String>>,
    paused_until: Mutex<Option<Instant>>,
}

impl Translator {
    pub fn new(config: &TranslationConfig) -> Result<Self, ProviderError> {
        let provider = match &config.provider {
            Some(p) => Some(providers::client_for(p)?),
            None => None,
        };
        Ok(Self::with_provider(provider, config.timeout))
    }

    pub fn with_provider(provider: Option<Box<dyn Provider>>, timeout: Duration) -> Self {
        let entries = NonZeroUsize::new(CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN);
        Translator {
            provider,
            timeout,
            cache: Mutex::new(lru::LruCache::new(entries)),
            paused_until: Mutex::new(None),
        }
    }

    /// `text` in `to`, or None when it cannot be had within the timeout (no provider, the
    /// provider failed, was slow, or failed moments ago).
    pub async fn translate(&self, text: &str, from: Language, to: Language) -> Option<String> {
        if from == to {
            return Some(text.to_owned());
        }
        let provider = self.provider.as_ref()?;
        let key = (from, to, text.to_owned());
        if let Some(kept) = lock(&self.cache).get(&key) {
            return Some(kept.clone());
        }
        if lock(&self.paused_until).is_some_and(|until| Instant::now() < until) {
            return None;
        }
        let asked = tokio::time::timeout(self.timeout, provider.translate(text, from, to)).await;
        match asked {
            Ok(Ok(translated)) => {
                lock(&self.cache).put(key, translated.clone());
                Some(translated)
            }
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {} ms", self.timeout.as_millis()),
                };
                // The text is the customer's: it is not logged.
                tracing::warn!(error = %why, from = from.code(), to = to.code(), "translation failed; sending the original");
                *lock(&self.paused_until) = Some(Instant::now() + PAUSE_AFTER_FAILURE);
                None
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The language `text` is written in, among those we offer, when detection is confident;
/// None for text too short or too mixed to tell.
pub fn detect(text: &str) -> Option<Language> {
    static DETECTOR: std::sync::LazyLock<whatlang::Detector> = std::sync::LazyLock::new(|| {
        whatlang::Detector::with_allowlist(vec![whatlang::Lang::Eng, whatlang::Lang::Deu])
    });
    let info = DETECTOR.detect(text)?;
    if !info.is_reliable() {
        return None;
    }
    match info.lang() {
        whatlang::Lang::Eng => Some(Language::En),
        whatlang::Lang::Deu => Some(Language::De),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_tells_english_from_german_and_stays_quiet_when_unsure() {
        assert_eq!(
            detect("Mein Drucker druckt seit gestern nicht mehr, können Sie mir helfen?"),
            Some(Language::De)
        );
        assert_eq!(
            detect("My printer stopped working yesterday, can you help me please?"),
            Some(Language::En)
        );
        assert_eq!(detect("ok"), None);
    }

    struct Failing;
    impl Provider for Failing {
        fn translate<'a>(
            &'a self,
            _: &'a str,
            _: Language,
            _: Language,
        ) -> BoxFuture<'a, Result<String, ProviderError>> {
            Box::pin(async { Err(ProviderError("down".into())) })
        }
    }

    #[tokio::test]
    async fn a_failing_provider_gives_none_and_same_language_needs_none() {
        let t = Translator::with_provider(Some(Box::new(Failing)), Duration::from_secs(1));
        assert_eq!(t.translate("Hallo", Language::De, Language::En).await, None);
        assert_eq!(
            t.translate("Hallo", Language::De, Language::De)
                .await
                .as_deref(),
            Some("Hallo")
        );
        let none = Translator::with_provider(None, Duration::from_secs(1));
        assert_eq!(
            none.translate("Hallo", Language::De, Language::En).await,
            None
        );
    }
}
