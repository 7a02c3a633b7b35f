//! The token a manager hands out, and the per-thread copies that make reading it cheap.
//!
//! Loading from an `ArcSwapOption` takes and releases a debt slot: two atomic
//! read-modify-write operations, about 8 ns each on the benchmark machine and together as
//! much as the rest of the read path. And when several threads clone one `Arc`, they take
//! turns owning the cache line of its reference count. So each thread keeps the last token
//! it read from up to 16 managers — with a handle on the access token of its own and the
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

/// Managers a thread keeps a copy for at once (by manager number, modulo).
const SLOTS: usize = 16;

/// A manager whose slot holds another manager's copy reads through the arc-swap; it takes
/// the slot once the other has not been read in this many such reads. Taking turns in one
/// slot, two busy managers would otherwise replace each other's copy at every read, which
/// costs more than the arc-swap; a copy nobody reads any more (its manager dropped, say)
/// still gives way.
const PASS_OVER: u32 = 64;

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
    /// Reads of other managers that found this copy in their slot since its own last read.
    passed_over: u32,
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
            let copy = self.copy_in(&mut copies[self.slot()], generation, reads)?;
            let answer = copy.token.as_ref().and_then(|(cached, access_token)| read(cached, access_token));
            if answer.is_some() {
                copy.hits.count();
            }
            Some(answer)
        });
        match from_copy {
            Ok(Some(answer)) => answer,
            // Another manager's copy holds the slot, the thread is ending (its copies are
            // gone) or this is a nested read.
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

    /// This manager's copy in `slot`, made or renewed as needed; `None` while another
    /// manager's copy keeps the slot (see [`PASS_OVER`]).
    fn copy_in<'slot>(
        &self,
        slot: &'slot mut Option<ThreadCopy>,
        generation: u64,
        reads: &ReadCounters,
    ) -> Option<&'slot mut ThreadCopy> {
        match slot {
            Some(copy) if copy.manager != self.number && copy.passed_over < PASS_OVER => {
                copy.passed_over += 1;
                return None;
            }
            Some(copy) if copy.manager == self.number && copy.generation == generation => {}
            _ => *slot = Some(self.copy(generation, reads)),
        }
        let copy = slot.as_mut()?;
        copy.passed_over = 0;
        Some(copy)
    }

    /// A copy of the token as of `generation` (or later), with the access token's bytes
    /// copied into a handle of the thread's own.
    fn copy(&self, generation: u64, reads: &ReadCounters) -> ThreadCopy {
        let token = self.load().map(|cached| {
            let access_token = AccessToken::from(cached.token.access_token.secret());
            (cached, access_token)
        });
        ThreadCopy { manager: self.number, generation, token, hits: reads.thread_hits(), passed_over: 0 }
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
