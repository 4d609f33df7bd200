//! Order latency models: how long an action takes to reach the simulated exchange (*entry*),
//! and how long the exchange's answer takes to come back (*response*).
//!
//! Models are stateless functions of event time, so a backtest gives the same result whatever
//! thread layout runs it (a model with a cursor shared by the instruments of one book shard
//! would not). Feed latency — how late the strategy sees market data — comes from the data
//! itself (`ts_recv - ts_exch`) when the data carries receive times; see
//! [`super::sim::SimConfig::feed_latency`] for data that does not.

use crate::Nanos;

/// Which kind of action is travelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// A new order.
    New,
    /// A cancel.
    Cancel,
    /// A modification.
    Modify,
}

/// An order latency model.
pub trait LatencyModel {
    /// Nanoseconds from the strategy sending an action at local time `now` to the exchange
    /// seeing it.
    fn entry(&self, now: Nanos, kind: ActionKind) -> u64;
    /// Nanoseconds from the exchange acting at time `at` to the strategy hearing of it.
    fn response(&self, at: Nanos) -> u64;
}

/// The same latency for every action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Constant {
    /// Entry latency, ns.
    pub entry: u64,
    /// Response latency, ns.
    pub response: u64,
}

impl LatencyModel for Constant {
    fn entry(&self, _now: Nanos, _kind: ActionKind) -> u64 {
        self.entry
    }
    fn response(&self, _at: Nanos) -> u64 {
        self.response
    }
}

/// A latency per kind of action (venues often handle cancels on a faster path).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerAction {
    /// New orders, ns.
    pub new: u64,
    /// Cancels, ns.
    pub cancel: u64,
    /// Modifications, ns.
    pub modify: u64,
    /// Responses, ns.
    pub response: u64,
}

impl LatencyModel for PerAction {
    fn entry(&self, _now: Nanos, kind: ActionKind) -> u64 {
        match kind {
            ActionKind::New => self.new,
            ActionKind::Cancel => self.cancel,
            ActionKind::Modify => self.modify,
        }
    }
    fn response(&self, _at: Nanos) -> u64 {
        self.response
    }
}

/// Why a latency CSV could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LatencyCsvError {
    /// A row did not have the header's number of non-negative integer fields.
    #[error("line {line}: expected {expected} non-negative integers ({header})")]
    BadRow {
        /// 1-based line number.
        line: usize,
        /// How many fields the header announced.
        expected: usize,
        /// The header's column names.
        header: &'static str,
    },
    /// The header is not one of the two supported ones.
    #[error("header must be `ts_ns,entry_ns,response_ns` or `entry_ns,response_ns`, found {0:?}")]
    BadHeader(String),
    /// Timestamps must not go backwards.
    #[error("line {line}: ts_ns goes backwards")]
    Unsorted {
        /// 1-based line number.
        line: usize,
    },
    /// No data rows.
    #[error("no latency rows")]
    Empty,
}

/// Latencies observed in production, from a CSV.
///
/// With a `ts_ns` column, the latency at time `t` is interpolated linearly between the two
/// observations around `t` (clamped at the ends), as latency tends to move with market
/// activity. Without one, each action draws an observation chosen by a hash of its time, so the
/// draw is deterministic and independent of thread layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Empirical {
    /// `(ts, entry, response)`, ns; `ts` all 0 without a timestamp column.
    rows: Vec<(u64, u64, u64)>,
    timed: bool,
}

impl Empirical {
    /// Parses `ts_ns,entry_ns,response_ns` or `entry_ns,response_ns` CSV text (header first).
    ///
    /// ```
    /// use ticklane_engine::exec::latency::{ActionKind, Empirical, LatencyModel};
    /// use ticklane_engine::Nanos;
    /// let m = Empirical::parse("ts_ns,entry_ns,response_ns\n0,100,50\n1000,300,70\n").unwrap();
    /// assert_eq!(m.entry(Nanos(500), ActionKind::New), 200);
    /// assert_eq!(m.response(Nanos(2000)), 70);
    /// ```
    ///
    /// # Errors
    /// [`LatencyCsvError`], naming the line.
    pub fn parse(text: &str) -> Result<Self, LatencyCsvError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or(LatencyCsvError::Empty)?;
        let cols: Vec<&str> = header.split(',').map(str::trim).collect();
        let (timed, header_name) = match cols.as_slice() {
            ["ts_ns", "entry_ns", "response_ns"] => (true, "ts_ns,entry_ns,response_ns"),
            ["entry_ns", "response_ns"] => (false, "entry_ns,response_ns"),
            _ => return Err(LatencyCsvError::BadHeader(header.to_owned())),
        };
        let expected = if timed { 3 } else { 2 };
        let mut rows = Vec::new();
        for (i, line) in lines {
            let f: Result<Vec<u64>, _> = line.split(',').map(|x| x.trim().parse::<u64>()).collect();
            let f = match f {
                Ok(f) if f.len() == expected => f,
                _ => {
                    return Err(LatencyCsvError::BadRow {
                        line: i + 1,
                        expected,
                        header: header_name,
                    })
                }
            };
            let row = if timed {
                (f[0], f[1], f[2])
            } else {
                (0, f[0], f[1])
            };
            if timed && rows.last().is_some_and(|&(t, _, _)| row.0 < t) {
                return Err(LatencyCsvError::Unsorted { line: i + 1 });
            }
            rows.push(row);
        }
        if rows.is_empty() {
            return Err(LatencyCsvError::Empty);
        }
        Ok(Empirical { rows, timed })
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none (never true for a parsed model).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn at(&self, t: u64, pick: impl Fn(&(u64, u64, u64)) -> u64) -> u64 {
        if !self.timed {
            // splitmix64 of the time: a fixed, well-spread choice of observation.
            let mut z = t.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            return pick(&self.rows[(z % self.rows.len() as u64) as usize]);
        }
        let i = self.rows.partition_point(|r| r.0 <= t);
        if i == 0 {
            return pick(&self.rows[0]);
        }
        if i == self.rows.len() {
            return pick(&self.rows[i - 1]);
        }
        let (a, b) = (&self.rows[i - 1], &self.rows[i]);
        let (va, vb) = (pick(a) as i128, pick(b) as i128);
        let span = (b.0 - a.0) as i128;
        if span == 0 {
            return pick(b);
        }
        (va + (vb - va) * (t - a.0) as i128 / span) as u64
    }
}

impl LatencyModel for Empirical {
    fn entry(&self, now: Nanos, _kind: ActionKind) -> u64 {
        self.at(now.0, |r| r.1)
    }
    fn response(&self, at: Nanos) -> u64 {
        self.at(at.0, |r| r.2)
    }
}

/// Any of the built-in models (what configuration builds; dispatch without a `dyn`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Latency {
    /// [`Constant`].
    Constant(Constant),
    /// [`PerAction`].
    PerAction(PerAction),
    /// [`Empirical`].
    Empirical(Empirical),
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Constant(Constant::default())
    }
}

impl LatencyModel for Latency {
    #[inline]
    fn entry(&self, now: Nanos, kind: ActionKind) -> u64 {
        match self {
            Latency::Constant(m) => m.entry(now, kind),
            Latency::PerAction(m) => m.entry(now, kind),
            Latency::Empirical(m) => m.entry(now, kind),
        }
    }
    #[inline]
    fn response(&self, at: Nanos) -> u64 {
        match self {
            Latency::Constant(m) => m.response(at),
            Latency::PerAction(m) => m.response(at),
            Latency::Empirical(m) => m.response(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_action_latency_depends_on_the_action() {
        let m = PerAction {
            new: 300,
            cancel: 100,
            modify: 200,
            response: 50,
        };
        assert_eq!(m.entry(Nanos(0), ActionKind::New), 300);
        assert_eq!(m.entry(Nanos(0), ActionKind::Cancel), 100);
        assert_eq!(m.entry(Nanos(0), ActionKind::Modify), 200);
        assert_eq!(m.response(Nanos(9)), 50);
    }

    #[test]
    fn empirical_interpolates_between_observations_and_clamps_at_the_ends() {
        // Observations at t=1000 (entry 100) and t=3000 (entry 500): at t=2500, three quarters
        // of the way, entry = 100 + 400 * 3/4 = 400.
        let m = Empirical::parse("ts_ns,entry_ns,response_ns\n1000,100,10\n3000,500,30\n").unwrap();
        assert_eq!(m.entry(Nanos(2500), ActionKind::New), 400);
        assert_eq!(m.response(Nanos(2000)), 20);
        assert_eq!(m.entry(Nanos(0), ActionKind::New), 100);
        assert_eq!(m.entry(Nanos(9999), ActionKind::Cancel), 500);
    }

    #[test]
    fn empirical_without_times_draws_observed_values_deterministically() {
        let m = Empirical::parse("entry_ns,response_ns\n100,1\n200,2\n300,3\n").unwrap();
        let mut seen = [false; 3];
        for t in 0..200u64 {
            let e = m.entry(Nanos(t), ActionKind::New);
            assert!([100, 200, 300].contains(&e));
            assert_eq!(
                e,
                m.entry(Nanos(t), ActionKind::New),
                "same time, same draw"
            );
            seen[(e / 100 - 1) as usize] = true;
        }
        assert_eq!(seen, [true; 3], "every observation gets drawn");
    }

    #[test]
    fn bad_latency_csv_names_the_problem() {
        assert_eq!(
            Empirical::parse("a,b\n1,2\n"),
            Err(LatencyCsvError::BadHeader("a,b".into()))
        );
        assert!(matches!(
            Empirical::parse("entry_ns,response_ns\n1,x\n"),
            Err(LatencyCsvError::BadRow { line: 2, .. })
        ));
        assert!(matches!(
            Empirical::parse("ts_ns,entry_ns,response_ns\n5,1,1\n4,1,1\n"),
            Err(LatencyCsvError::Unsorted { line: 3 })
        ));
        assert_eq!(
            Empirical::parse("entry_ns,response_ns\n"),
            Err(LatencyCsvError::Empty)
        );
    }
}
