//! One request at a time per host, at most one per interval: the APIs' published rates.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct RateLimiter {
    next_slot: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    /// Waits for this host's next slot and takes it. Slots are handed out in call order, so
    /// concurrent callers queue up instead of bursting.
    pub async fn wait(&self, host: &str, interval: Duration) {
        let slot = {
            let mut next = self.next_slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            let slot = next.get(host).copied().filter(|&at| at > now).unwrap_or(now);
            next.insert(host.to_owned(), slot + interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// How long a caller asking now would wait.
    pub fn delay(&self, host: &str) -> Duration {
        let next = self.next_slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        next.get(host)
            .map_or(Duration::ZERO, |at| at.saturating_duration_since(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_by_the_interval_per_host() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..4 {
            limiter.wait("a", Duration::from_secs(1)).await;
            at.push(start.elapsed());
        }
        assert_eq!(at, [0, 1, 2, 3].map(Duration::from_secs));
        // Another host has its own slots.
        limiter.wait("b", Duration::from_secs(1)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
