//! Queue lines: for each queue that has waiting pages open on this node, the order of its
//! waiting sessions and its recent waits, computed once per change and shared by every page.
//!
//! A new arrival joins the back of its line (new sessions start at the lowest priority and
//! arrive last), so it is appended without a query and wakes nobody, also while the line is
//! being read (it is appended to the read's result then: under a steady stream of arrivals a
//! long line would otherwise be read again and again). Every other change (an accept, a cancel,
//! a transfer, a raised priority) rereads the line once; such changes that come in while it is
//! being read are folded into one more read.
//!
//! A line nobody watches lingers for a minute: arrivals keep appending to it (cheap), other
//! changes only mark it stale, and the next page to watch it triggers one read. So the pages of
//! a queue that come and go (each customer opens theirs once) do not each read the whole line.

use domain::queue::LineChange;
use domain::session::Queue;
use domain::{OrgId, SessionId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// How many recent waits the estimate is taken from.
const RECENT_WAITS: i64 = 20;

/// A line as last read (plus arrivals appended since).
#[derive(Debug, Default)]
pub struct LineView {
    /// False until the first read finished.
    pub ready: bool,
    positions: HashMap<SessionId, i64>,
    next: i64,
    /// How long the last customers of this queue waited (ms), newest first.
    pub recent_waits: Vec<i64>,
}

impl LineView {
    fn read(line: Vec<SessionId>, recent_waits: Vec<i64>) -> Self {
        let positions: HashMap<_, _> = line.into_iter().zip(1..).collect();
        LineView {
            ready: true,
            next: positions.len() as i64 + 1,
            positions,
            recent_waits,
        }
    }

    fn join_back(&mut self, session: SessionId) {
        if !self.positions.contains_key(&session) {
            self.positions.insert(session, self.next);
            self.next += 1;
        }
    }

    /// 1 for the first in line; None when the session is not waiting here.
    pub fn position(&self, session: SessionId) -> Option<i64> {
        self.positions.get(&session).copied()
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }
}

/// Whether the line is being read, and who arrived meanwhile (to append to what the read finds).
#[derive(Default)]
struct Reading {
    active: bool,
    arrivals: Vec<SessionId>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// How long a line nobody watches is kept.
const LINGER: Duration = Duration::from_secs(60);

struct Line {
    view: Arc<watch::Sender<LineView>>,
    reread: Arc<Notify>,
    reading: Arc<Mutex<Reading>>,
    task: tokio::task::JoinHandle<()>,
    /// When a page last started watching (for the linger).
    last_watched: Mutex<Instant>,
}

impl Drop for Line {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Line {
    /// Nobody watched it for the linger: it may go.
    fn forgotten(&self) -> bool {
        let last = *self.last_watched.lock().unwrap_or_else(|p| p.into_inner());
        self.view.receiver_count() == 0 && last.elapsed() > LINGER
    }

    fn arrived(&self, session: SessionId) {
        let mut reading = lock(&self.reading);
        if reading.active {
            // The read may have started before this arrival committed: append it to the result.
            reading.arrivals.push(session);
            return;
        }
        // Appended in place without waking anyone: nobody's position changed. (A stale line,
        // which nobody watches, is read again by its next watcher anyway.)
        self.view.send_if_modified(|view| {
            if view.ready {
                view.join_back(session);
            }
            false
        });
    }
}

/// A waiting page's hold on its queue's line.
pub struct LineWatch {
    pub view: watch::Receiver<LineView>,
}

#[derive(Default)]
pub struct Lines {
    store: OnceLock<store::Store>,
    lines: Mutex<HashMap<(OrgId, Queue), Arc<Line>>>,
}

impl Lines {
    pub fn with_store(store: store::Store) -> Self {
        let lines = Lines::default();
        let _ = lines.store.set(store);
        lines
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<(OrgId, Queue), Arc<Line>>> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn live(&self, org: OrgId, queue: Queue) -> Option<Arc<Line>> {
        self.table().get(&(org, queue)).cloned()
    }

    /// Watch a queue's line, starting its reader if nobody on this node watched it yet.
    pub fn watch(&self, org: OrgId, queue: Queue) -> Option<LineWatch> {
        let store = self.store.get()?.clone();
        let mut table = self.table();
        let line = match table.get(&(org, queue)).cloned() {
            Some(line) => {
                *line.last_watched.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                line
            }
            None => {
                let view = Arc::new(watch::Sender::new(LineView::default()));
                let (reread, reading) = (Arc::new(Notify::new()), Arc::new(Mutex::default()));
                let task = tokio::spawn(keep_reading(
                    store,
                    org,
                    queue,
                    view.clone(),
                    reread.clone(),
                    reading.clone(),
                ));
                let line = Arc::new(Line {
                    view,
                    reread,
                    reading,
                    task,
                    last_watched: Mutex::new(Instant::now()),
                });
                table.retain(|_, line| !line.forgotten());
                table.insert((org, queue), line.clone());
                line
            }
        };
        let view = line.view.subscribe();
        if !view.borrow().ready {
            // New, or stale while nobody watched: read it now that someone does.
            line.reread.notify_one();
        }
        Some(LineWatch { view })
    }

    /// A committed change touched this queue.
    pub fn changed(&self, org: OrgId, queue: Queue, kind: &str, session: Option<SessionId>) {
        let Some(line) = self.live(org, queue) else {
            return;
        };
        match (domain::queue::line_change(kind), session) {
            (LineChange::JoinsBack, Some(session)) => line.arrived(session),
            (LineChange::Unchanged, _) => {}
            _ => line.reread.notify_one(),
        }
    }

    /// Something in the organization changed that was not announced in detail (a repaired gap).
    pub fn all_changed(&self, org: OrgId) {
        let lines: Vec<_> = self
            .table()
            .iter()
            .filter(|((line_org, _), _)| *line_org == org)
            .map(|(_, line)| line.clone())
            .collect();
        for line in lines {
            line.reread.notify_one();
        }
    }
}

async fn keep_reading(
    store: store::Store,
    org: OrgId,
    queue: Queue,
    view: Arc<watch::Sender<LineView>>,
    reread: Arc<Notify>,
    reading: Arc<Mutex<Reading>>,
) {
    loop {
        if view.receiver_count() == 0 {
            // Nobody watches: mark it stale instead of reading; the next watcher asks again.
            view.send_if_modified(|line| {
                line.ready = false;
                false
            });
            reread.notified().await;
            continue;
        }
        lock(&reading).active = true;
        let read = async {
            let line = store.line(org, queue).await?;
            let recent = store.recent_waits(org, queue, RECENT_WAITS).await?;
            Ok::<_, store::StoreError>(LineView::read(line, recent))
        };
        let read = read.await;
        {
            // Under the lock arrivals wait for: none slips between the result and appending.
            let mut reading = lock(&reading);
            match read {
                Ok(mut read) => {
                    for session in reading.arrivals.drain(..) {
                        read.join_back(session);
                    }
                    view.send_replace(read);
                }
                Err(err) => {
                    reading.arrivals.clear();
                    tracing::warn!(error = %err, org = org.0, "could not read a queue line");
                }
            }
            reading.active = false;
        }
        reread.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn positions_follow_the_order_read_and_arrivals_join_the_back() {
        let view = LineView::read(vec![SessionId(9), SessionId(4)], vec![60_000]);
        assert_eq!(view.position(SessionId(9)), Some(1));
        assert_eq!(view.position(SessionId(4)), Some(2));
        assert_eq!(view.position(SessionId(5)), None);
        let sender = watch::Sender::new(view);
        let mut receiver = sender.subscribe();
        receiver.borrow_and_update();
        let line = Line {
            view: Arc::new(sender),
            reread: Arc::new(Notify::new()),
            reading: Arc::new(Mutex::default()),
            task: tokio::spawn(async {}),
            last_watched: Mutex::new(Instant::now()),
        };
        line.arrived(SessionId(11));
        assert_eq!(line.view.borrow().position(SessionId(11)), Some(3));
        assert!(
            !receiver.has_changed().unwrap(),
            "an arrival at the back wakes nobody"
        );

        // While the line is being read, an arrival waits for the result and joins its back,
        // once, whether or not the read already saw it.
        lock(&line.reading).active = true;
        line.arrived(SessionId(12));
        line.arrived(SessionId(13));
        assert_eq!(line.view.borrow().position(SessionId(12)), None);
        let mut read = LineView::read(vec![SessionId(4), SessionId(11), SessionId(12)], vec![]);
        for session in lock(&line.reading).arrivals.drain(..) {
            read.join_back(session);
        }
        assert_eq!(
            [12, 13].map(|id| read.position(SessionId(id))),
            [Some(3), Some(4)]
        );
    }
}
