//! When the forward pass takes a checkpoint, and which it lets go: as rr
//! does, at most `max` are kept; when there are that many, every other one
//! goes and the spacing doubles, so that those kept stay evenly spread over
//! the run and their memory stays bounded however long the run is.

pub use crate::timetravel::Spacing;
use std::time::Duration;

pub struct Schedule {
    spacing: Spacing,
    max: usize,
    /// The checkpoints kept: the call each was taken at, and the pass's
    /// CPU time then.
    live: Vec<(u64, Duration)>,
}

impl Schedule {
    /// `max` is at least 2 (one at the start, one more).
    pub fn new(spacing: Spacing, max: usize) -> Schedule {
        Schedule {
            spacing,
            max: max.max(2),
            live: Vec::new(),
        }
    }

    /// Whether the spacing is counted in calls (checked every call) or in
    /// time (checked every so many calls: reading the clock costs).
    pub fn counts_calls(&self) -> bool {
        matches!(self.spacing, Spacing::Calls(_))
    }

    /// Whether a checkpoint is due at call `seq`, `cpu` into the pass.
    pub fn due(&self, seq: u64, cpu: Duration) -> bool {
        let Some(&(last_seq, last_cpu)) = self.live.last() else {
            return true;
        };
        match self.spacing {
            Spacing::CpuTime(d) => cpu >= last_cpu + d,
            Spacing::Calls(n) => seq >= last_seq + n,
        }
    }

    /// A checkpoint was taken at call `seq`: returns the calls of those
    /// to let go.
    pub fn taken(&mut self, seq: u64, cpu: Duration) -> Vec<u64> {
        self.live.push((seq, cpu));
        if self.live.len() < self.max {
            return Vec::new();
        }
        let mut dropped = Vec::new();
        let mut i = 0;
        self.live.retain(|&(s, _)| {
            i += 1;
            let keep = i % 2 == 1;
            if !keep {
                dropped.push(s);
            }
            keep
        });
        self.spacing = self.spacing.doubled();
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checkpoints every 1000 calls, at most 4: once four are kept every
    /// other goes and the spacing doubles; those kept stay evenly spread.
    #[test]
    fn thinning_keeps_every_other_and_doubles_the_spacing() {
        let mut s = Schedule::new(Spacing::Calls(1000), 4);
        let zero = Duration::ZERO;
        let mut taken = Vec::new();
        let mut dropped = Vec::new();
        for seq in 0..10_000 {
            if s.due(seq, zero) {
                taken.push(seq);
                dropped.extend(s.taken(seq, zero));
            }
        }
        assert_eq!(taken, [0, 1000, 2000, 3000, 4000, 6000, 8000]);
        assert_eq!(dropped, [1000, 3000, 2000, 6000]);
        let live: Vec<u64> = s.live.iter().map(|l| l.0).collect();
        assert_eq!(live, [0, 4000, 8000]);
    }

    #[test]
    fn cpu_spacing_counts_from_the_last_checkpoint_kept() {
        let ms = Duration::from_millis;
        let mut s = Schedule::new(Spacing::CpuTime(ms(100)), 2);
        assert!(s.due(0, ms(0)));
        assert_eq!(s.taken(0, ms(0)), Vec::<u64>::new());
        assert!(!s.due(5, ms(99)));
        assert!(s.due(6, ms(100)));
        assert_eq!(s.taken(6, ms(100)), [6]);
        // Kept: call 0 at 0 ms; the spacing is now 200 ms.
        assert!(!s.due(9, ms(199)));
        assert!(s.due(9, ms(200)));
    }
}
