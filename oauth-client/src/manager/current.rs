//! The token a manager hands out, and the per-thread copies that make reading it cheap.
//!
//! Loading from an `ArcSwapOption` takes and releases a debt slot: two atomic
//! read-modify-write operations, about 8 ns each on the benchmark machine and together as
//! much as the rest of the read path. And when several threads clone one `Arc`, they take
//! turns owning the cache line of its reference count. So each thread keeps the last token
//! it read from a few managers — with a handle on the access token of its own and the
//! generation it read it at. A read compares that generation with the manager's (a plain
//! load of a value that changes a few times per token lifetime) and uses the copy when they
//! match. A store replaces the token, then bumps the generation. The copy also counts the
//! thread's cache hits (feature `metrics`), so a hit writes no memory another thread writes.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwapOption;

use super::Cached;
use crate::AccessToken;
use crate::telemetry::{ReadCounters, ThreadHits};

/// Managers a thread keeps a copy for at once (by manager number, modulo); one whose slot
/// another manager took reads through the arc-swap and takes the slot back.
const SLOTS: usize = 8;

/// Numbers managers within the process, so that a thread's copy is never taken for another
/// manager's (an address could be reused after a drop; a number is not).
static NEXT_NUMBER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COPIES: RefCell<[Option<ThreadCopy>; SLOTS]> = const { RefCell::new([const { None }; SLOTS]) };
}

/// One thread's copy of one manager's token.
struct ThreadCopy {
    manager: u64,
    generation: u64,
    /// The token at that generation, and the handle on its access token this thread hands
    /// out clones of.
    token: Option<(Arc<Cached>, AccessToken)>,
    hits: ThreadHits,
}

/// The current token of one manager.
///
/// A thread's copy keeps its token in memory until the thread reads a newer one, another
/// manager takes its slot, the manager is dropped (the dropping thread's copy) or the thread
/// ends.
pub(super) struct CurrentToken {
    number: u64,
    /// How many stores there have been; a copy made at an older generation is stale.
    generation: AtomicU64,
    token: ArcSwapOption<Cached>,
}

impl CurrentToken {
    pub(super) fn new(initial: Option<Arc<Cached>>) -> Self {
        CurrentToken {
            number: NEXT_NUMBER.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            token: ArcSwapOption::new(initial),
        }
    }

    /// The current token, shared.
    pub(super) fn load(&self) -> Option<Arc<Cached>> {
        self.token.load_full()
    }

    /// Makes `cached` the current token for every thread's next read.
    pub(super) fn store(&self, cached: Arc<Cached>) {
        self.token.store(Some(cached));
        // After the store: a reader that sees the new generation then loads the new token.
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Calls `read` with the current token and a handle on its access token to clone, from
    /// this thread's copy while it is current; an answer (`Some`) is a cache hit, counted in
    /// `reads`.
    #[inline]
    pub(super) fn read<R>(
        &self,
        reads: &ReadCounters,
        read: impl Fn(&Cached, &AccessToken) -> Option<R>,
    ) -> Option<R> {
        let generation = self.generation.load(Ordering::Acquire);
        let from_copy = COPIES.try_with(|copies| {
            // Borrowed already only if `read` (the manager's clock) reads a manager again.
            let mut copies = copies.try_borrow_mut().ok()?;
            let slot = &mut copies[self.slot()];
            let copy = match slot {
                Some(copy) if copy.manager == self.number && copy.generation == generation => copy,
                _ => {
                    let own_slot = slot.as_ref().is_none_or(|copy| copy.manager == self.number);
                    slot.insert(self.copy(generation, own_slot, reads))
                }
            };
            let answer = copy.token.as_ref().and_then(|(cached, access_token)| read(cached, access_token));
            if answer.is_some() {
                copy.hits.count();
            }
            Some(answer)
        });
        match from_copy {
            Ok(Some(answer)) => answer,
            // The thread is ending (its copies are gone) or this is a nested read.
            _ => {
                let answer =
                    self.token.load().as_deref().and_then(|cached| read(cached, &cached.token.access_token));
                if answer.is_some() {
                    reads.hit();
                }
                answer
            }
        }
    }

    /// A copy of the token as of `generation` (or later). The access token's bytes are
    /// copied for a slot the manager keeps; where managers take turns in one slot, copying
    /// them at every turn would cost more than sharing the manager's handle.
    fn copy(&self, generation: u64, own_slot: bool, reads: &ReadCounters) -> ThreadCopy {
        let token = self.load().map(|cached| {
            let access_token = if own_slot {
                AccessToken::from(cached.token.access_token.secret())
            } else {
                cached.token.access_token.clone()
            };
            (cached, access_token)
        });
        ThreadCopy { manager: self.number, generation, token, hits: reads.thread_hits() }
    }

    fn slot(&self) -> usize {
        // The remainder is below SLOTS, so it fits.
        usize::try_from(self.number % SLOTS as u64).unwrap_or(0)
    }
}

impl Drop for CurrentToken {
    fn drop(&mut self) {
        // Other threads' copies go when those threads read another manager or end.
        let _ = COPIES.try_with(|copies| {
            if let Ok(mut copies) = copies.try_borrow_mut() {
                let slot = &mut copies[self.slot()];
                if slot.as_ref().is_some_and(|copy| copy.manager == self.number) {
                    *slot = None;
                }
            }
        });
    }
}
