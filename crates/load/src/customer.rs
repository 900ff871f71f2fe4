//! Customers as a browser drives them: open the portal, submit the contact button or the issue
//! form, land on the waiting page and open its socket.

use crate::http::{open_form, websocket, Browser, Socket};
use anyhow::{anyhow, bail, Result};
use futures::StreamExt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, Copy)]
pub enum Door {
    ContactButton,
    IssueForm,
}

/// One browser on a site's portal, ready to ask for help (again and again).
pub struct Customer {
    browser: Browser,
    token: String,
    site: String,
    /// An issue type of the site's form (the first one offered).
    issue_type: Option<String>,
}

fn first_option_value(html: &str) -> Option<String> {
    html.match_indices("<option value=\"").find_map(|(at, m)| {
        let rest = &html[at + m.len()..];
        let value = &rest[..rest.find('"')?];
        (!value.is_empty()).then(|| value.to_owned())
    })
}

impl Customer {
    pub async fn arrive(addr: SocketAddr, site: &str) -> Result<Customer> {
        let (mut browser, token) = open_form(addr, &format!("/p/{site}")).await?;
        let form = browser.get(&format!("/p/{site}/request")).await?;
        let issue_type = form
            .status
            .is_success()
            .then(|| first_option_value(form.text()))
            .flatten();
        Ok(Customer {
            browser,
            token,
            site: site.to_owned(),
            issue_type,
        })
    }

    /// The browser and its form token, to go on as this customer (its chat).
    pub fn into_parts(self) -> (Browser, String) {
        (self.browser, self.token)
    }

    /// Ask for help through `door` as `name`; the waiting page's path (`/s/…`). Each ask is a
    /// new customer: the browser forgets the waiting page it already has (else the portal
    /// would send it back there).
    pub async fn ask(&mut self, door: Door, name: &str) -> Result<String> {
        self.browser.forget_cookies("supportal_waiting_");
        let response = match (door, &self.issue_type) {
            (Door::IssueForm, Some(issue_type)) => {
                let fields = [
                    ("csrf", self.token.as_str()),
                    ("customer_name", name),
                    ("issue_type", issue_type.as_str()),
                    ("description", "Measured by supportal-load"),
                ];
                self.browser
                    .post_form(&format!("/p/{}/request", self.site), &fields)
                    .await?
            }
            _ => {
                let fields = [("csrf", self.token.as_str()), ("customer_name", name)];
                self.browser
                    .post_form(&format!("/p/{}/contact", self.site), &fields)
                    .await?
            }
        };
        match response.location() {
            Some(path) if response.status.is_redirection() && path.starts_with("/s/") => {
                Ok(path.to_owned())
            }
            _ => bail!(
                "asking for help answered {} without a waiting page",
                response.status
            ),
        }
    }
}

/// Open the waiting page's socket and wait for its first view.
pub async fn open_waiting_socket(
    addr: SocketAddr,
    waiting: &str,
    n: usize,
) -> Result<(Socket, String)> {
    let mut ws = websocket(addr, &format!("{waiting}/ws"), None, n).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok((ws, text.to_string())),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the waiting socket closed before its first view"),
        }
    }
}

/// Queue `count` customers through the contact button with `workers` browsers at once; their
/// waiting pages' paths, and how many requests failed.
pub async fn queue_many(
    addr: SocketAddr,
    site: &str,
    count: usize,
    workers: usize,
) -> Result<(Vec<String>, u64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let pages = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let mut tasks = JoinSet::new();
    for _ in 0..workers.min(count.max(1)) {
        let (next, errors, pages, site) =
            (next.clone(), errors.clone(), pages.clone(), site.to_owned());
        tasks.spawn(async move {
            let mut customer = Customer::arrive(addr, &site).await?;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                match customer
                    .ask(Door::ContactButton, &format!("Waiting customer {n}"))
                    .await
                {
                    Ok(page) => pages.lock().map_err(|_| anyhow!("poisoned"))?.push(page),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let pages = std::mem::take(&mut *pages.lock().map_err(|_| anyhow!("poisoned"))?);
    Ok((pages, errors.load(Ordering::Relaxed)))
}

/// Waiting customers who keep their page's socket open and read whatever it pushes.
pub struct Fleet {
    stop: watch::Sender<bool>,
    readers: JoinSet<()>,
    pub open: usize,
    pub errors: u64,
}

impl Fleet {
    pub async fn open(addr: SocketAddr, pages: &[String], concurrency: usize) -> Fleet {
        let (stop, stopped) = watch::channel(false);
        let mut readers = JoinSet::new();
        let (mut open, mut errors) = (0, 0);
        let mut opening = JoinSet::new();
        let mut pages = pages.iter().cloned().enumerate();
        loop {
            while opening.len() < concurrency.max(1) {
                let Some((n, page)) = pages.next() else { break };
                opening.spawn(async move { open_waiting_socket(addr, &page, n).await });
            }
            let Some(opened) = opening.join_next().await else {
                break;
            };
            match opened {
                Ok(Ok((ws, _))) => {
                    open += 1;
                    readers.spawn(read_until_stopped(ws, stopped.clone()));
                }
                _ => errors += 1,
            }
        }
        Fleet {
            stop,
            readers,
            open,
            errors,
        }
    }

    pub async fn close(mut self) {
        let _ = self.stop.send(true);
        while self.readers.join_next().await.is_some() {}
    }
}

async fn read_until_stopped(mut ws: Socket, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            message = ws.next() => if !matches!(message, Some(Ok(_))) { return },
        }
    }
    let _ = ws.close(None).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_real_option() {
        let html = r#"<select><option value="">Choose</option><option value="12">Sign-in</option></select>"#;
        assert_eq!(first_option_value(html).as_deref(), Some("12"));
        assert_eq!(first_option_value("<p>none</p>"), None);
    }
}
