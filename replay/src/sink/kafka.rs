//! The Kafka sink's address and options: `kafka://HOST:PORT/PREFIX?key=value&...`, parsed
//! here whether or not this build has Kafka support (feature `kafka`), so a build without it
//! still refuses a bad URL precisely, and a good one with "no Kafka support in this build".
//!
//! Records go to one topic per data type, `PREFIX.bbo`, `PREFIX.trade`, `PREFIX.status`,
//! `PREFIX.signal`, `PREFIX.fill` (fills and order updates), keyed by instrument (the symbol),
//! so one instrument is one partition and in order; values are [`super::record`]s, binary or
//! JSON. `docs/kafka.md` is the user's page.

use std::time::Duration;

use super::publish::Policy;

/// How record values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// The fixed-layout little-endian record ([`super::record`]).
    #[default]
    Binary,
    /// One JSON object per record.
    Json,
}

/// A parsed `kafka://` sink URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaUrl {
    /// The URL as given.
    pub url: String,
    /// Bootstrap servers, `HOST:PORT[,HOST:PORT...]`.
    pub brokers: String,
    /// Topic prefix (`PREFIX.bbo`, ...).
    pub prefix: String,
    /// `format=binary|json`.
    pub encoding: Encoding,
    /// `policy=block|drop|conflate`.
    pub policy: Policy,
    /// `ring=N`: the ring between the output stage and the publisher, records (2..=2^24).
    pub ring: usize,
    /// `queue=N`: records the Kafka client may buffer (its `queue.buffering.max.messages`).
    pub queue: usize,
    /// `timeout_ms=N`: a record not acknowledged in this time is a delivery error (the
    /// client's `message.timeout.ms`); the end of the run waits as long for the last ones.
    pub timeout_ms: u64,
    /// `linger_ms=N`: how long the client waits to fill a batch (`linger.ms`).
    pub linger_ms: u64,
    /// `partitions=N`: partitions of a topic the sink creates (existing topics are kept).
    pub partitions: u32,
    /// `replication=N`: replication factor of a topic the sink creates.
    pub replication: u32,
}

/// The keys a `kafka://` URL takes, for messages.
pub const KEYS: &str =
    "format, policy, ring, queue, timeout_ms, linger_ms, partitions, replication";

/// A bad sink URL.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not `SCHEME://...`, or a scheme with no sink.
    #[error(
        "{0:?}: not a sink URL; give kafka://HOST:PORT/PREFIX[?format=json&policy=drop&ring=65536] or parquet://DIR[?row_group=131072]"
    )]
    Scheme(String),
    /// No `HOST:PORT`.
    #[error("{0:?}: no broker; give kafka://HOST:PORT/PREFIX")]
    Broker(String),
    /// No topic prefix, or one Kafka would refuse in a topic name.
    #[error("{0:?}: the topic prefix must be 1..=200 characters of a-z A-Z 0-9 . _ - (kafka://HOST:PORT/PREFIX)")]
    Prefix(String),
    /// An unknown `?key`.
    #[error("{url:?}: unknown option {key:?} (known: {KEYS})")]
    Key {
        /// The URL.
        url: String,
        /// The key.
        key: String,
    },
    /// A bad value.
    #[error("{url:?}: {key}={value:?}: {want}")]
    Value {
        /// The URL.
        url: String,
        /// The key.
        key: String,
        /// Its value.
        value: String,
        /// What it takes.
        want: &'static str,
    },
}

impl KafkaUrl {
    /// Parses `kafka://HOST:PORT[,HOST:PORT]/PREFIX[?key=value&...]`.
    ///
    /// # Errors
    /// See [`UrlError`]: each names the URL and what is wrong with it.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let rest = url
            .strip_prefix("kafka://")
            .ok_or_else(|| UrlError::Scheme(url.into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (brokers, prefix) = path.split_once('/').unwrap_or((path, ""));
        let broker_ok = |b: &str| {
            b.rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0))
        };
        if brokers.is_empty() || !brokers.split(',').all(broker_ok) {
            return Err(UrlError::Broker(url.into()));
        }
        let prefix_ok = !prefix.is_empty()
            && prefix.len() <= 200
            && prefix
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
        if !prefix_ok {
            return Err(UrlError::Prefix(url.into()));
        }
        let mut k = KafkaUrl {
            url: url.into(),
            brokers: brokers.into(),
            prefix: prefix.into(),
            encoding: Encoding::Binary,
            policy: Policy::Block,
            ring: 65_536,
            queue: 100_000,
            timeout_ms: 30_000,
            linger_ms: 5,
            partitions: 3,
            replication: 1,
        };
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
            let bad = |want: &'static str| UrlError::Value {
                url: url.into(),
                key: key.into(),
                value: value.into(),
                want,
            };
            let num = |lo: u64, hi: u64, want: &'static str| {
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (lo..=hi).contains(n))
                    .ok_or_else(|| bad(want))
            };
            match key {
                "format" => {
                    k.encoding = match value {
                        "binary" => Encoding::Binary,
                        "json" => Encoding::Json,
                        _ => return Err(bad("binary or json")),
                    }
                }
                "policy" => {
                    k.policy = Policy::parse(value).ok_or_else(|| bad("block, drop or conflate"))?
                }
                "ring" => k.ring = num(2, 1 << 24, "records, 2..=16777216")? as usize,
                "queue" => k.queue = num(1, 10_000_000, "records, 1..=10000000")? as usize,
                "timeout_ms" => k.timeout_ms = num(1_000, 3_600_000, "ms, 1000..=3600000")?,
                "linger_ms" => k.linger_ms = num(0, 60_000, "ms, 0..=60000")?,
                "partitions" => k.partitions = num(1, 10_000, "1..=10000")? as u32,
                "replication" => k.replication = num(1, 100, "1..=100")? as u32,
                _ => {
                    return Err(UrlError::Key {
                        url: url.into(),
                        key: key.into(),
                    })
                }
            }
        }
        Ok(k)
    }

    /// The topic of records of type `suffix` (`PREFIX.suffix`).
    pub fn topic(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.prefix)
    }

    /// How long the end of a run waits for the last acknowledgements.
    pub fn flush_timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms + 5_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults_and_options() {
        let k = KafkaUrl::parse("kafka://127.0.0.1:9092/md").unwrap();
        assert_eq!(
            (k.brokers.as_str(), k.prefix.as_str()),
            ("127.0.0.1:9092", "md")
        );
        assert_eq!(
            (k.encoding, k.policy, k.ring),
            (Encoding::Binary, Policy::Block, 65_536)
        );
        assert_eq!(k.topic("bbo"), "md.bbo");
        let k = KafkaUrl::parse(
            "kafka://a:1,b:2/x.y-z?format=json&policy=conflate&ring=8&queue=10&timeout_ms=5000",
        )
        .unwrap();
        assert_eq!(
            (k.brokers.as_str(), k.encoding, k.policy, k.ring, k.queue),
            ("a:1,b:2", Encoding::Json, Policy::Conflate, 8, 10)
        );
        assert_eq!(k.timeout_ms, 5000);
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let e = |u: &str| KafkaUrl::parse(u).unwrap_err().to_string();
        assert!(e("http://a:1/x").contains("not a sink URL"));
        assert!(e("kafka:///x").contains("no broker"));
        assert!(e("kafka://a/x").contains("no broker"));
        assert!(e("kafka://a:1").contains("topic prefix"));
        assert!(e("kafka://a:1/").contains("topic prefix"));
        assert!(e("kafka://a:1/a b").contains("topic prefix"));
        assert!(e("kafka://a:1/x?policy=lossy").contains("block, drop or conflate"));
        assert!(e("kafka://a:1/x?format=avro").contains("binary or json"));
        assert!(e("kafka://a:1/x?ring=1").contains("2..=16777216"));
        assert!(e("kafka://a:1/x?ring=big").contains("2..=16777216"));
        let unknown = e("kafka://a:1/x?acks=1");
        assert!(
            unknown.contains("unknown option \"acks\"") && unknown.contains("format, policy"),
            "{unknown}"
        );
    }
}
