//! Where a socket is in its conversation, and lines that came ahead of their turn.
//!
//! The lines of one group commit are announced by their senders' tasks, which run side by side:
//! a socket may hear number 7 before 6 (or get its own 7 back from the writer before 6's
//! sender has announced it). Reading the conversation back from the database on every such
//! gap cost a third of all messages a read under load (the load tool's chat scenario, both
//! sides of a chat sending together). A line that comes early is held instead until the lines
//! before it arrive, for at most `HOLD`; then the conversation is read after all.

use super::{lines_after, ChatLine, Reader};
use crate::error::AppResult;
use crate::state::AppState;
use domain::{OrgId, SessionId};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::time::{Duration, Instant};

/// How long a line waits for the ones before it before the conversation is read instead.
/// The lines between were committed already and are announced within a task switch, unless an
/// announcement was lost (then the read repairs it).
const HOLD: Duration = Duration::from_millis(100);

/// The last number a socket has pushed, and committed lines it holds beyond a gap.
pub struct Cursor {
    after: i64,
    ahead: BTreeMap<i64, Arc<ChatLine>>,
    held_since: Option<Instant>,
}

impl Cursor {
    /// A socket that has pushed (or its page had) everything up to `after`.
    pub fn new(after: i64) -> Self {
        Cursor {
            after,
            ahead: BTreeMap::new(),
            held_since: None,
        }
    }

    /// The last number pushed.
    pub fn after(&self) -> i64 {
        self.after
    }

    /// The lines to push now for `reader`, given a committed `line` (announced, or the reader's
    /// own as stored): it and any held lines that follow it on, when it is the next; nothing
    /// when it was pushed before or is held for a gap before it.
    pub fn take(&mut self, line: Arc<ChatLine>, reader: &Reader) -> Vec<ChatLine> {
        if line.seq <= self.after {
            return Vec::new();
        }
        self.ahead.insert(line.seq, line);
        let mut ready = Vec::new();
        while let Some(next) = self.ahead.remove(&(self.after + 1)) {
            self.after = next.seq;
            ready.push(next.for_reader(reader));
        }
        self.held_since = match self.ahead.is_empty() {
            true => None,
            false => self.held_since.or(Some(Instant::now())),
        };
        ready
    }

    /// The lines after the last one pushed, read from the database (held lines among them are
    /// dropped: the read has them).
    pub async fn read(
        &mut self,
        state: &AppState,
        (org, session): (OrgId, SessionId),
        reader: &Reader,
    ) -> AppResult<Vec<ChatLine>> {
        let lines = lines_after(state, org, session, self.after, reader).await?;
        if let Some(last) = lines.last() {
            self.after = last.seq;
        }
        let after = self.after;
        self.ahead.retain(|seq, _| *seq > after);
        if self.ahead.is_empty() {
            self.held_since = None;
        }
        Ok(lines)
    }

    /// When a held line has waited long enough that the conversation should be read (None
    /// while nothing is held).
    pub fn read_due(&self) -> Option<Instant> {
        self.held_since.map(|since| since + HOLD)
    }
}

/// Wait until `due` (forever for None): a `select!` branch for `Cursor::read_due`.
pub async fn until(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Language;

    fn line(seq: i64) -> Arc<ChatLine> {
        Arc::new(ChatLine {
            seq,
            kind: "message",
            id: format!("m{seq}"),
            from: "rep".into(),
            name: "Riley".into(),
            text: format!("line {seq}"),
            segments: Vec::new(),
            at: 0,
            original: None,
            not_translated: false,
            lang: Some(Language::DEFAULT),
            translations: BTreeMap::new(),
            file: None,
        })
    }

    fn reader() -> Reader {
        Reader {
            lang: Language::DEFAULT,
            reads: Language::DEFAULT,
            translating: false,
        }
    }

    fn numbers(lines: &[ChatLine]) -> Vec<i64> {
        lines.iter().map(|l| l.seq).collect()
    }

    #[tokio::test]
    async fn the_next_line_goes_at_once_and_one_seen_before_never_again() {
        let mut cursor = Cursor::new(5);
        assert_eq!(numbers(&cursor.take(line(6), &reader())), [6]);
        assert_eq!(cursor.after(), 6);
        assert!(cursor.take(line(6), &reader()).is_empty());
        assert!(cursor.take(line(3), &reader()).is_empty());
        assert_eq!(cursor.read_due(), None);
    }

    #[tokio::test]
    async fn a_line_ahead_of_its_turn_waits_for_the_ones_before_it() {
        let mut cursor = Cursor::new(5);
        let before = Instant::now();
        assert!(cursor.take(line(8), &reader()).is_empty());
        assert!(cursor.take(line(7), &reader()).is_empty());
        let due = cursor.read_due().expect("a read is due if the gap stays");
        assert!(due >= before + HOLD && due <= Instant::now() + HOLD);
        assert_eq!(numbers(&cursor.take(line(6), &reader())), [6, 7, 8]);
        assert_eq!((cursor.after(), cursor.read_due()), (8, None));
    }
}
