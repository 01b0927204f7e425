//! Lookup sequencing: a late answer to an earlier lookup is dropped, never shown for the current
//! one. The app takes a ticket when a lookup starts and shows the answer only if the ticket is
//! still current; a new lookup, a lock or a sign-out makes every older ticket stale.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out lookup tickets. Cheap to clone; clones share one sequence.
#[derive(Debug, Clone, Default)]
pub struct LookupSequencer {
    latest: Arc<AtomicU64>,
}

/// Proof of which lookup an answer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "check the ticket before showing the answer"]
pub struct LookupTicket(u64);

impl LookupSequencer {
    /// A new sequence.
    pub fn new() -> LookupSequencer {
        LookupSequencer::default()
    }

    /// Start a lookup: every earlier ticket becomes stale.
    pub fn begin(&self) -> LookupTicket {
        LookupTicket(self.latest.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Make every ticket stale (on a new patient being cleared, lock, sign-out).
    pub fn invalidate_all(&self) {
        self.latest.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether this ticket is still the current lookup.
    pub fn is_current(&self, ticket: LookupTicket) -> bool {
        self.latest.load(Ordering::SeqCst) == ticket.0
    }

    /// The answer, if its lookup is still the current one; `None` means drop it.
    pub fn accept<T>(&self, ticket: LookupTicket, answer: T) -> Option<T> {
        self.is_current(ticket).then_some(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_answer_to_an_earlier_lookup_is_dropped() {
        let sequencer = LookupSequencer::new();
        let first = sequencer.begin();
        let second = sequencer.begin();
        assert_eq!(sequencer.accept(first, "first patient"), None);
        assert_eq!(
            sequencer.accept(second, "second patient"),
            Some("second patient")
        );
    }

    #[test]
    fn lock_or_sign_out_drops_the_answer_in_flight() {
        let sequencer = LookupSequencer::new();
        let ticket = sequencer.begin();
        sequencer.clone().invalidate_all();
        assert!(!sequencer.is_current(ticket));
    }

    #[tokio::test]
    async fn out_of_order_completion_shows_only_the_latest() {
        let sequencer = LookupSequencer::new();
        let slow = sequencer.begin();
        let slow_task = {
            let sequencer = sequencer.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                sequencer.accept(slow, "slow")
            })
        };
        let fast = sequencer.begin();
        assert_eq!(sequencer.accept(fast, "fast"), Some("fast"));
        assert_eq!(slow_task.await.expect("task"), None);
    }
}
