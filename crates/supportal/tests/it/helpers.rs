//! Spawning the app and talking to it like a browser would (cookies, CSRF field).

use domain::text::{DisplayName, Email, Slug};
use domain::{OrgId, Role, UserId};
use std::sync::Arc;
use store::orgs::NewOrganization;
use store::users::NewUser;
use store::{Backend, Store};
use supportal::clock::SystemClock;
use supportal::config::Config;
use supportal::startup::Application;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub store: Store,
    /// The running app's state (tests drive the assignment tick with their own clock).
    pub state: web::AppState,
    pub client: reqwest::Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    /// The server's task (shared by the handles `other_browser` makes), for `stop`.
    running: std::sync::Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<anyhow::Result<()>>>>>,
}

impl TestApp {
    /// Stop the server as SIGTERM does and wait until it has exited.
    pub async fn stop(self) {
        let running = self.running.lock().unwrap().take();
        drop(self._shutdown);
        if let Some(running) = running {
            running.await.unwrap().unwrap();
        }
    }
}

/// Run both variants of each named test: `sqlite_<name>` and `postgres_<name>`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::$test(store::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::$test(store::Backend::Postgres).await })*
        }
    };
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // The server closes a connection idle for its header timeout (10 s); a client that
        // kept it longer could send on it just as it closes (a browser would resend a GET, a
        // test's POST would fail). Idle connections go sooner here.
        .pool_idle_timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap()
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(backend).await;
    adjust(&mut config);
    spawn_with(&config).await
}

/// A configuration for a test server on port 0 with its own fresh database.
pub async fn test_config(backend: Backend) -> Config {
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    // Chat files go under the data directory: one of its own per test.
    config.data_dir =
        std::env::temp_dir().join(format!("supportal-it-{:016x}", rand::random::<u64>()));
    config.database.url = Some(store::testing::fresh_database_url(backend).await.unwrap());
    config
}

/// Redis for the tests of several nodes (the README's test command starts it when missing).
pub fn test_redis_url() -> String {
    std::env::var("SUPPORTAL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Serve `config` in this test's runtime.
pub async fn spawn_with(config: &Config) -> TestApp {
    spawn_with_clock(config, Arc::new(SystemClock)).await
}

/// Serve `config` with `clock` as the app's "now".
pub async fn spawn_with_clock(config: &Config, clock: Arc<dyn domain::Clock>) -> TestApp {
    let store = supportal::startup::open_store(config).await.unwrap();
    let app = Application::build(config, store.clone(), clock)
        .await
        .unwrap();
    let address = format!("http://{}", app.local_addr().unwrap());
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    TestApp {
        address,
        store,
        state,
        client: client(),
        _shutdown: tx,
        running: std::sync::Arc::new(std::sync::Mutex::new(Some(running))),
    }
}

/// A node in its own runtime, on its own thread, so it can die the way a crashed machine does:
/// every task and socket gone at once, nothing shut down cleanly.
pub struct Node {
    pub address: String,
    /// `true`: stop as SIGTERM does; `false` or dropped: vanish at once.
    kill: Option<std::sync::mpsc::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Node {
    pub async fn start(config: Config) -> Node {
        let (ready, address) = tokio::sync::oneshot::channel();
        let (kill, killed) = std::sync::mpsc::channel::<bool>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let running = runtime.block_on(async {
                let store = supportal::startup::open_store(&config).await.unwrap();
                let app = Application::build(&config, store, Arc::new(SystemClock))
                    .await
                    .unwrap();
                let _ = ready.send(format!("http://{}", app.local_addr().unwrap()));
                // The server's task, awaited by a clean stop (below), left behind by a crash.
                let serving = tokio::spawn(app.run_until_stopped(async move {
                    let _ = stopped.await;
                }));
                Some(serving)
            });
            if killed.recv() == Ok(true) {
                drop(stop);
                if let Some(running) = running {
                    let _ = runtime.block_on(running);
                }
            }
            runtime.shutdown_background();
        });
        Node {
            address: address.await.unwrap(),
            kill: Some(kill),
            thread: Some(thread),
        }
    }

    /// Stop the node as SIGTERM does (its sockets told to reconnect elsewhere) and wait until
    /// it has exited.
    pub fn stop(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(true);
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }

    /// Drop the node without a clean shutdown: its runtime and every socket vanish.
    pub fn crash(&mut self) {
        drop(self.kill.take());
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }

    /// A browser talking to this node, using `other`'s store for setup and checks.
    pub fn browser(&self, other: &TestApp) -> TestApp {
        let mut browser = other.other_browser();
        browser.address = self.address.clone();
        browser
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.crash();
    }
}

/// The hidden CSRF field's value in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

pub async fn hash(password: &str) -> String {
    web::passwords::hash(password).await.unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// A page as a browser asking for `accept_language` gets it.
    pub async fn get_text_in(&self, path: &str, accept_language: &str) -> String {
        let request = self
            .client
            .get(self.url(path))
            .header("accept-language", accept_language);
        request.send().await.unwrap().text().await.unwrap()
    }

    /// Fetch `form_page` for its CSRF token, then POST `fields` (plus the token) to `action`.
    pub async fn submit(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.get_text(form_page).await;
        let csrf = csrf_in(&html);
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf", &csrf));
        self.client
            .post(self.url(action))
            .form(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// A fresh client (no cookies) against the same app: a second person.
    pub fn other_browser(&self) -> TestApp {
        let (tx, _rx) = tokio::sync::oneshot::channel();
        TestApp {
            address: self.address.clone(),
            store: self.store.clone(),
            state: self.state.clone(),
            client: client(),
            _shutdown: tx,
            running: Default::default(),
        }
    }

    /// A fresh browser whose requests come, through the trusted local proxy, from `ip` (the app
    /// must run with `server.behind_proxy`).
    pub fn browser_at(&self, ip: &str) -> TestApp {
        self.browser_sending("x-forwarded-for", ip)
    }

    /// A fresh browser set to prefer `language` (its `Accept-Language`).
    pub fn browser_speaking(&self, language: &str) -> TestApp {
        self.browser_sending("accept-language", language)
    }

    /// A fresh browser that sends `header: value` with every request.
    pub fn browser_sending(&self, header: &'static str, value: &str) -> TestApp {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(header, value.parse().unwrap());
        TestApp {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .unwrap(),
            ..self.other_browser()
        }
    }

    /// An organization with an admin `admin@<slug>.test` whose password is PASSWORD.
    pub async fn org_with_admin(&self, slug: &str) -> (OrgId, UserId) {
        let hash = hash(PASSWORD).await;
        let email = Email::parse(&format!("admin@{slug}.test")).unwrap();
        let name = DisplayName::parse(&format!("{slug} admin")).unwrap();
        let org_name = DisplayName::parse(&format!("Org {slug}")).unwrap();
        let slug = Slug::parse(slug).unwrap();
        let admin = NewUser {
            email: &email,
            display_name: &name,
            role: Role::Admin,
            password_hash: &hash,
            is_instance_admin: false,
            session_limit: 3,
        };
        self.store
            .create_organization(
                &NewOrganization {
                    name: &org_name,
                    slug: &slug,
                },
                &admin,
                now(),
            )
            .await
            .unwrap()
    }

    pub async fn add_rep(&self, org: OrgId, email: &str) -> UserId {
        self.add_user(org, email, Role::Rep, false).await
    }

    /// An admin of `org` who also administers the instance (only setup and the CLI make
    /// those; here the store does).
    pub async fn add_instance_admin(&self, org: OrgId, email: &str) -> UserId {
        self.add_user(org, email, Role::Admin, true).await
    }

    async fn add_user(&self, org: OrgId, email: &str, role: Role, instance: bool) -> UserId {
        // Argon2 on purpose costs time: the test password is hashed once per run, not per user.
        static TEST_PASSWORD_HASH: tokio::sync::OnceCell<String> =
            tokio::sync::OnceCell::const_new();
        let hash = TEST_PASSWORD_HASH.get_or_init(|| hash(PASSWORD)).await;
        let email = Email::parse(email).unwrap();
        let name = DisplayName::parse("Robin Rep").unwrap();
        let user = NewUser {
            email: &email,
            display_name: &name,
            role,
            password_hash: hash,
            is_instance_admin: instance,
            session_limit: 3,
        };
        self.store.create_user(org, &user, now()).await.unwrap()
    }
}

pub fn now() -> domain::Timestamp {
    use domain::Clock;
    SystemClock.now()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
