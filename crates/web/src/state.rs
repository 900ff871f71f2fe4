//! One application state, shared by every router; handlers take the parts they need.

use crate::bus::{Announcement, EventBus, InProcessBus, Intake};
use crate::i18n::Catalog;
use crate::metrics::Metrics;
use crate::rate_limit::{Limiter, LoginLimiter};
use crate::realtime::hub::Hub;
use crate::templates::Templates;
use domain::realtime::{SessionChange, Topic};
use domain::{Clock, Timestamp};
use std::sync::Arc;
use store::Store;

pub use crate::config::WebConfig;

/// Everything a handler may need, behind one `Arc`: axum clones the state for every middleware
/// and handler of every request, and one reference count is far cheaper than one per part (it
/// was a sixth of the portal page's CPU, in perf).
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl std::ops::Deref for AppState {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

pub struct Parts {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<WebConfig>,
    pub templates: Arc<Templates>,
    pub login_limiter: Arc<LoginLimiter>,
    pub key_limiter: Arc<Limiter<std::net::IpAddr>>,
    /// Presentation lobbies opened by key in their address, per client address: ten times the
    /// key form's allowance (a whole office may join one presentation in the same minute).
    pub lobby_limiter: Arc<Limiter<std::net::IpAddr>>,
    pub request_limits: Arc<crate::rate_limit::RequestLimits>,
    /// API calls per token (by the token's id).
    pub api_limiter: Arc<Limiter<i64>>,
    pub key_ceiling: Arc<crate::lockout::KeyCeiling>,
    pub ownership: Arc<crate::hostnames::OwnershipCheck>,
    pub catalog: Arc<Catalog>,
    pub metrics: Arc<Metrics>,
    pub bus: Arc<dyn EventBus>,
    pub sockets_per_address: crate::realtime::per_address::SocketsPerAddress,
    pub portal_cache: crate::portal::cache::PortalCache,
    pub translator: Arc<crate::translate::Translator>,
    /// Chat messages are committed through it, in groups under load.
    pub chat_writer: store::group_commit::ChatWriter,
    /// The customer pages this node holds open (whether a customer is still there).
    pub customer_pages: crate::portal::presence::CustomerPages,
    /// True once the node is going away: its sockets close, asking to reconnect elsewhere.
    pub draining: tokio::sync::watch::Sender<bool>,
}

// Parts a component needs on its own, through `State<Part>` (axum's FromRef): such a component
// depends on that part only, not on the whole application state.
impl axum::extract::FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Store {
        state.store.clone()
    }
}

impl axum::extract::FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Arc<Metrics> {
        state.metrics.clone()
    }
}

impl AppState {
    /// `bus`: Redis for several nodes (`redis://…` and the channel), None for one process.
    pub async fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        bus: Option<(&str, &str)>,
    ) -> anyhow::Result<Self> {
        let catalog = Arc::new(Catalog::load()?);
        let portal_cache = crate::portal::cache::PortalCache::new(store.clone(), clock.clone());
        let hub = Arc::new(Hub::new(store.clone()));
        let intake = Intake::new(hub, store.clone());
        let (bus, limits): (Arc<dyn EventBus>, _) = match bus {
            Some((url, channel)) => {
                let redis = ::redis::Client::open(url)?
                    .get_multiplexed_async_connection()
                    .await?;
                let limits = crate::rate_limit::Shared {
                    redis,
                    prefix: format!("{channel}:limit"),
                };
                let bus = crate::bus::redis::RedisBus::connect(url, channel, intake).await?;
                (Arc::new(bus), Some(limits))
            }
            None => (Arc::new(InProcessBus::new(intake)), None),
        };
        let under = |name: &str| limits.as_ref().map(|s| s.under(name));
        let (key_limits, lobby_limits) = (under("key-ip"), under("lobby-ip"));
        let sockets_per_address =
            crate::realtime::per_address::SocketsPerAddress::new(config.sockets_per_ip);
        Ok(AppState(Arc::new(Parts {
            login_limiter: Arc::new(LoginLimiter::new(&config, under)),
            key_limiter: Arc::new(
                Limiter::per_minute(config.key_attempts_per_ip_per_minute).shared(key_limits),
            ),
            lobby_limiter: Arc::new(
                Limiter::per_minute(config.key_attempts_per_ip_per_minute.saturating_mul(10))
                    .shared(lobby_limits),
            ),
            request_limits: Arc::new(crate::rate_limit::RequestLimits::new(&config, under)),
            api_limiter: Arc::new(
                Limiter::per_minute(config.api_requests_per_token_per_minute)
                    .shared(under("api-token")),
            ),
            key_ceiling: Arc::new(crate::lockout::KeyCeiling::new(
                config.failed_keys_per_org_per_hour,
                under("key-ceiling"),
            )),
            ownership: Arc::new(crate::hostnames::OwnershipCheck::new(config.dns_server)),
            translator: Arc::new(crate::translate::Translator::new(&config.translation)?),
            chat_writer: store::group_commit::ChatWriter::start(store.clone()),
            store,
            clock,
            config: Arc::new(config),
            templates: Arc::new(Templates::load(catalog.clone())?),
            catalog,
            metrics: Arc::new(Metrics::default()),
            bus,
            sockets_per_address,
            portal_cache,
            customer_pages: Default::default(),
            draining: tokio::sync::watch::Sender::new(false),
        })))
    }

    /// The node is going away (SIGTERM): every socket closes with `realtime::CLOSE_DRAINING`,
    /// which pages answer by reconnecting at once (through the load balancer, elsewhere).
    pub fn start_draining(&self) {
        self.draining.send_replace(true);
    }

    /// How many sockets this node still holds open.
    pub fn sockets_open(&self) -> i64 {
        self.metrics.websockets_open()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn hub(&self) -> &Arc<Hub> {
        self.bus.hub()
    }

    /// Something portals show changed (a rep's presence): nobody on this node listens for it,
    /// but other nodes hear that their kept portal pages are stale.
    pub fn announce_portal_change(&self, org: domain::OrgId) {
        self.announce_unlogged(org, crate::bus::PORTAL_CHANGED, Vec::new());
    }

    /// Sign-ins of `user` ended: their open consoles (on every node) close unless theirs lives.
    pub fn announce_signed_out(&self, org: domain::OrgId, user: domain::UserId) {
        self.announce_unlogged(org, crate::bus::SIGNED_OUT, vec![Topic::Rep { rep: user }]);
    }

    /// A rep's consoles closed or came back (stored first): the customers of `sessions` see it.
    pub fn announce_rep_connection(&self, org: domain::OrgId, sessions: Vec<domain::SessionId>) {
        if sessions.is_empty() {
            return;
        }
        let topics = sessions
            .into_iter()
            .map(|session| Topic::Session { session });
        self.announce_unlogged(org, crate::bus::REP_CONNECTION, topics.collect());
    }

    /// Announce a change to a site that has no log entry (a notice): its waiting pages refresh.
    pub fn announce_site_change(&self, org: domain::OrgId, site: domain::SiteId, kind: &str) {
        self.announce_unlogged(org, kind, vec![Topic::Site { site }]);
    }

    /// A notice's window opened or closed (logged): its site's pages refresh their notices.
    pub fn announce_notice(&self, logged: &store::notice_log::NoticeLogged) {
        self.bus.publish(Announcement {
            org: logged.org,
            seq: logged.committed.seq,
            kind: logged.committed.kind.to_owned(),
            session: None,
            topics: vec![Topic::Site { site: logged.site }],
            line: None,
            said: None,
            carried: None,
            signal: None,
        });
    }

    /// A chat message was committed to `session`: its readers read what followed their last
    /// number (the message's own order is the session's numbering, not the event log's).
    pub fn announce_message(
        &self,
        org: domain::OrgId,
        session: domain::SessionId,
        reps: impl IntoIterator<Item = domain::UserId>,
        line: Arc<crate::chat::ChatLine>,
    ) {
        // The consoles of the session's reps (owner and invited) mark its tab unread when its
        // chat is not the one open.
        let mut topics = vec![Topic::Session { session }];
        topics.extend(reps.into_iter().map(|rep| Topic::Inbox { rep }));
        self.bus.publish(Announcement {
            org,
            seq: 0,
            kind: crate::bus::MESSAGE.to_owned(),
            session: Some(session),
            topics,
            line: Some(line),
            said: None,
            carried: None,
            signal: None,
        });
    }

    /// A participant's client said something the session's other readers show: typing, or
    /// read marks (already committed).
    pub fn announce_signal(
        &self,
        org: domain::OrgId,
        session: domain::SessionId,
        signal: crate::bus::Signal,
    ) {
        self.bus.publish(Announcement {
            org,
            seq: 0,
            kind: signal.kind().to_owned(),
            session: Some(session),
            topics: vec![Topic::Session { session }],
            line: None,
            said: None,
            carried: None,
            signal: Some(signal),
        });
    }

    /// A participant of a presentation said something its others hear (signaling, a share,
    /// the attendees changed): announced under the signal's own kind.
    pub fn announce_presentation_signal(
        &self,
        org: domain::OrgId,
        presentation: i64,
        signal: crate::bus::Signal,
    ) {
        let kind = signal.kind();
        self.announce_presentation(org, presentation, kind, Some(signal), None);
    }

    /// Something happened in a presentation (stored first where it is stored): its presenter's
    /// and attendees' sockets hear it.
    pub fn announce_presentation(
        &self,
        org: domain::OrgId,
        presentation: i64,
        kind: &str,
        signal: Option<crate::bus::Signal>,
        said: Option<Arc<store::presentations::Line>>,
    ) {
        self.bus.publish(Announcement {
            org,
            seq: 0,
            kind: kind.to_owned(),
            session: None,
            topics: vec![Topic::Presentation { presentation }],
            line: None,
            said,
            carried: None,
            signal,
        });
    }

    /// A change that is not in the event log (sequence number 0: no order, no repair).
    fn announce_unlogged(&self, org: domain::OrgId, kind: &str, topics: Vec<Topic>) {
        self.bus.publish(Announcement {
            org,
            seq: 0,
            kind: kind.to_owned(),
            session: None,
            topics,
            line: None,
            said: None,
            carried: None,
            signal: None,
        });
    }

    /// Announce a change to a support session that was just committed (commit first, then
    /// announce), to the topics `change` touches, under the kind the store recorded.
    pub fn announce(
        &self,
        org: domain::OrgId,
        event: store::support::Committed,
        session: domain::SessionId,
        change: SessionChange,
    ) {
        self.bus.publish(Announcement {
            org,
            seq: event.seq,
            kind: event.kind.to_owned(),
            session: Some(session),
            topics: change.topics(org, session),
            line: None,
            said: None,
            carried: None,
            signal: None,
        });
    }
}
