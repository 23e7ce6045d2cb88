//! The wall-clock timer the scheduler sleeps on: a `timerfd` on
//! `CLOCK_REALTIME`, armed with an absolute deadline and
//! `TFD_TIMER_CANCEL_ON_SET`.
//!
//! Cron fires at wall-clock instants, so a monotonic sleep would drift from
//! them when the clock is stepped (NTP, a suspend, an administrator). With an
//! absolute realtime deadline the kernel wakes us at the right wall time, and
//! cancel-on-set wakes us at once when the clock is set, so the scheduler can
//! recompute instead of sleeping through or past fires. There is exactly one
//! timer for the earliest deadline: an idle daemon makes no wakeups at all.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use jiff::Timestamp;
use nix::errno::Errno;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Why the timer woke us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The armed deadline passed.
    Deadline,
    /// Someone set the wall clock; deadlines must be recomputed.
    ClockChanged,
}

struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

pub struct WallTimer {
    fd: AsyncFd<Fd>,
    armed: Option<Timestamp>,
}

impl WallTimer {
    pub fn new() -> std::io::Result<WallTimer> {
        let tfd = TimerFd::new(
            ClockId::CLOCK_REALTIME,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        // SAFETY: `Fd` owns the timerfd and never closes or replaces it, so
        // the descriptor stays open and the same for the AsyncFd's lifetime.
        let fd = unsafe { AsyncFd::register_with_interest(Fd(tfd), Interest::READABLE) }
            .map_err(std::io::Error::from)?;
        Ok(WallTimer { fd, armed: None })
    }

    /// Arm for `at`, or disarm with `None`. Re-arming for the same instant
    /// is free.
    pub fn arm(&mut self, at: Option<Timestamp>) -> std::io::Result<()> {
        if at == self.armed {
            return Ok(());
        }
        let timer = &self.fd.get_ref().0;
        match at {
            None => {
                // A disarmed timer would never report a clock change, so park
                // it far in the future instead: still armed, still cancelled
                // on set, never expiring in practice.
                let far = TimeSpec::new(i64::from(i32::MAX), 0);
                timer.set(Expiration::OneShot(far), flags())?;
            }
            Some(t) => {
                // A zero it_value disarms a timerfd, so the epoch itself (or
                // earlier) is clamped to one nanosecond after it.
                let secs = t.as_second();
                let nanos = i64::from(t.subsec_nanosecond());
                let spec = if secs < 0 || (secs == 0 && nanos == 0) {
                    TimeSpec::new(0, 1)
                } else {
                    TimeSpec::new(secs, nanos)
                };
                timer.set(Expiration::OneShot(spec), flags())?;
            }
        }
        self.armed = at;
        Ok(())
    }

    /// Sleep until the deadline or a clock change.
    pub async fn wait(&mut self) -> std::io::Result<Wake> {
        loop {
            let mut guard = self.fd.readable().await?;
            let mut buf = [0u8; 8];
            match nix::unistd::read(guard.get_inner().as_fd(), &mut buf) {
                Ok(_) => {
                    self.armed = None;
                    return Ok(Wake::Deadline);
                }
                Err(Errno::ECANCELED) => {
                    // The kernel disarms a cancelled timer; it must be re-armed.
                    self.armed = None;
                    return Ok(Wake::ClockChanged);
                }
                Err(Errno::EAGAIN) => guard.clear_ready(),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl AsFd for Fd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

fn flags() -> TimerSetTimeFlags {
    TimerSetTimeFlags::TFD_TIMER_ABSTIME | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET
}
