//! Whether the current thread is an HTTP worker running a read in place (see
//! [`Database::read_quick`](super::Database::read_quick)), and how a read that turns out to
//! be long hands itself to the blocking pool.
//!
//! A read is chosen to run in place by what was asked; what it finds on the way may show it
//! would take longer than an HTTP worker can be held (a list's total not counted yet since
//! content last changed: every live row of the archive, tens of milliseconds at a million).
//! Such a read calls [`may_block`] first, and is run again from the start on the blocking pool.

use std::cell::Cell;

use crate::error::ApiError;

thread_local! {
    /// Set while a read runs in place on this thread.
    static IN_PLACE: Cell<bool> = const { Cell::new(false) };
    /// Set by [`may_block`] when it refused, until the read is handed over.
    static DEFERRED: Cell<bool> = const { Cell::new(false) };
}

/// `Ok` where the caller may block (a blocking-pool thread, a worker of our own); on an HTTP
/// worker, an error that ends the read, which is then run again on the blocking pool.
pub fn may_block() -> Result<(), ApiError> {
    if IN_PLACE.get() {
        DEFERRED.set(true);
        return Err(ApiError::internal(
            "a read too long for an HTTP worker was not handed over",
        ));
    }
    Ok(())
}

/// Runs `f` as a read in place; `None` when it called [`may_block`] and must run elsewhere.
pub(super) fn in_place<T>(f: impl FnOnce() -> T) -> Option<T> {
    /// Clears the flags however `f` ends, a panic included.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_PLACE.set(false);
        }
    }
    IN_PLACE.set(true);
    DEFERRED.set(false);
    let result = {
        let _reset = Reset;
        f()
    };
    (!DEFERRED.replace(false)).then_some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_may_block_is_handed_over_only_from_in_place() {
        assert!(may_block().is_ok());
        assert_eq!(in_place(|| 7), Some(7));
        assert!(in_place(|| may_block().map(|()| 7)).is_none());
        // The refusal is not left behind for the next read, nor for a blocking thread.
        assert_eq!(in_place(|| 8), Some(8));
        assert!(may_block().is_ok());
        let caught = std::panic::catch_unwind(|| in_place(|| panic!("a read panics")));
        assert!(caught.is_err());
        assert!(may_block().is_ok());
    }
}
