//! The Kafka transport of a publishing sink (feature `kafka`): rdkafka's `BaseProducer` over
//! its bundled librdkafka, idempotent with `acks=all`, polled by the publisher thread (which
//! is where delivery reports are counted). Lag is tracked per record sent: the oldest one not
//! yet acknowledged gives the `oldest_unacked` gauge.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use ticklane_engine::clock::MonoClock;

use super::kafka::{Encoding, KafkaUrl};
use super::publish::{PublishConfig, PublishSink, SendError, SinkStats, Transport};
use super::record::{decode, RecordBuf, RecordType, Source, SCHEMA_VERSION};
use super::OpenError;

/// Records in flight, by send order: when each was sent and whether it is done.
#[derive(Default)]
struct InFlight {
    /// Id of the record at the front.
    front: u64,
    sent: VecDeque<(u64, bool)>,
}

struct Ctx {
    stats: Arc<SinkStats>,
    in_flight: Mutex<InFlight>,
    first_error: Mutex<Option<String>>,
}

impl Ctx {
    fn note(&self, why: String) {
        if let Ok(mut e) = self.first_error.lock() {
            e.get_or_insert(why);
        }
    }
}

impl ClientContext for Ctx {
    fn error(&self, error: KafkaError, reason: &str) {
        // Connection trouble is retried by the client; it is kept for the report in case
        // records then fail.
        self.note(format!("{error}: {reason}"));
    }
}

impl ProducerContext for Ctx {
    type DeliveryOpaque = usize;

    fn delivery(&self, r: &DeliveryResult<'_>, id: usize) {
        match r {
            Ok(_) => {
                self.stats.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                self.note(format!("delivery failed: {e}"));
            }
        }
        if let Ok(mut f) = self.in_flight.lock() {
            let i = (id as u64).wrapping_sub(f.front) as usize;
            if let Some(slot) = f.sent.get_mut(i) {
                slot.1 = true;
            }
            while f.sent.front().is_some_and(|s| s.1) {
                f.sent.pop_front();
                f.front += 1;
            }
        }
    }
}

/// The Kafka side of a [`PublishSink`].
pub(crate) struct KafkaTransport {
    producer: BaseProducer<Ctx>,
    topics: Vec<String>,
    encoding: Encoding,
    headers: OwnedHeaders,
    strategy: String,
    json: String,
    next_id: u64,
    clock: MonoClock,
}

impl KafkaTransport {
    fn topic(&self, t: RecordType) -> &str {
        &self.topics[t as usize - 1]
    }
}

impl Transport for KafkaTransport {
    fn send(&mut self, rec: &RecordBuf) -> Result<(), SendError> {
        let Some(ty) = rec.record_type() else {
            return Err(SendError::Failed("a record of no known type".into()));
        };
        let payload: &[u8] = match self.encoding {
            Encoding::Binary => &rec.0,
            Encoding::Json => {
                self.json.clear();
                let r = decode(&rec.0).map_err(|e| SendError::Failed(e.to_string()))?;
                r.write_json(&mut self.json, &self.strategy);
                self.json.as_bytes()
            }
        };
        let mut scratch = [0u8; 11];
        let key = rec.key(&mut scratch);
        let id = self.next_id;
        let record = BaseRecord::with_opaque_to(&self.topics[ty as usize - 1], id as usize)
            .key(key)
            .payload(payload)
            .headers(self.headers.clone());
        match self.producer.send(record) {
            Ok(()) => {
                self.next_id += 1;
                if let Ok(mut f) = self.producer.context().in_flight.lock() {
                    if f.sent.is_empty() {
                        f.front = id;
                    }
                    f.sent.push_back((self.clock.now(), false));
                }
                Ok(())
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                Err(SendError::Full)
            }
            Err((e, _)) => match self.producer.client().fatal_error() {
                Some((code, why)) => Err(SendError::Fatal(format!("{code:?}: {why}"))),
                None => Err(SendError::Failed(format!(
                    "cannot produce to {}: {e}",
                    self.topic(ty)
                ))),
            },
        }
    }

    fn poll(&mut self, timeout: Duration) {
        self.producer.poll(timeout);
    }

    fn in_flight(&self) -> u64 {
        self.producer.in_flight_count().max(0) as u64
    }

    fn oldest_unacked(&self) -> Option<u64> {
        let f = self.producer.context().in_flight.lock().ok()?;
        f.sent.iter().find(|s| !s.1).map(|s| s.0)
    }

    fn first_error(&self) -> Option<String> {
        self.producer.context().first_error.lock().ok()?.clone()
    }

    fn flush(&mut self, timeout: Duration) -> Result<(), String> {
        let flushed = self.producer.flush(timeout);
        // Delivery reports still queued are served here.
        self.producer.poll(Duration::ZERO);
        if let Some((code, why)) = self.producer.client().fatal_error() {
            return Err(format!("the Kafka client failed: {code:?}: {why}"));
        }
        flushed.map_err(|e| {
            let first = self
                .producer
                .context()
                .first_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_default();
            format!(
                "{} records still unacknowledged after {} s ({e}); first error: {first}",
                self.producer.in_flight_count(),
                timeout.as_secs()
            )
        })
    }
}

/// Connects to the URL's brokers (checking that one answers) and starts a publishing sink.
pub(crate) fn open(
    url: &KafkaUrl,
    source: Source,
    strategy: &str,
    stats: Arc<SinkStats>,
) -> Result<PublishSink, OpenError> {
    let connect = |why: String| OpenError::Connect {
        url: url.url.clone(),
        why,
    };
    let producer: BaseProducer<Ctx> = ClientConfig::new()
        .set("bootstrap.servers", &url.brokers)
        .set("client.id", "ticklane")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("queue.buffering.max.messages", url.queue.to_string())
        .set("message.timeout.ms", url.timeout_ms.to_string())
        .set("linger.ms", url.linger_ms.to_string())
        .create_with_context(Ctx {
            stats: stats.clone(),
            in_flight: Mutex::new(InFlight::default()),
            first_error: Mutex::new(None),
        })
        .map_err(|e| connect(e.to_string()))?;
    // A broker must answer before the run starts: a wrong address fails now, not after.
    producer
        .client()
        .fetch_metadata(None, Duration::from_secs(10))
        .map_err(|e| connect(format!("no broker answered in 10 s ({e})")))?;
    let topics: Vec<String> = RecordType::ALL
        .iter()
        .map(|t| url.topic(t.topic()))
        .collect();
    ensure_topics(url, &topics).map_err(connect)?;
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: "ticklane.schema",
            value: Some(&SCHEMA_VERSION.to_string()),
        })
        .insert(Header {
            key: "ticklane.format",
            value: Some(match url.encoding {
                Encoding::Binary => "binary",
                Encoding::Json => "json",
            }),
        });
    let clock = MonoClock::new();
    let transport = KafkaTransport {
        producer,
        topics,
        encoding: url.encoding,
        headers,
        strategy: strategy.into(),
        json: String::with_capacity(512),
        next_id: 0,
        clock: clock.clone(),
    };
    let cfg = PublishConfig {
        name: url.url.clone(),
        ring: url.ring,
        policy: url.policy,
        source,
        flush_timeout: url.flush_timeout(),
    };
    PublishSink::start(cfg, transport, stats, clock).map_err(|e| connect(e.to_string()))
}

/// Creates the sink's topics that do not exist yet (`partitions` and `replication` of the URL);
/// existing topics are used as they are.
fn ensure_topics(url: &KafkaUrl, topics: &[String]) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &url.brokers)
        .create()
        .map_err(|e| format!("cannot create the admin client: {e}"))?;
    let mut unique: Vec<&str> = topics.iter().map(String::as_str).collect();
    unique.dedup();
    let new: Vec<NewTopic<'_>> = unique
        .iter()
        .map(|t| {
            NewTopic::new(
                t,
                url.partitions as i32,
                TopicReplication::Fixed(url.replication as i32),
            )
        })
        .collect();
    let opts = AdminOptions::new()
        .request_timeout(Some(Duration::from_secs(15)))
        .operation_timeout(Some(Duration::from_secs(15)));
    let results = block_on(admin.create_topics(new.iter(), &opts))
        .map_err(|e| format!("cannot create the topics: {e}"))?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => return Err(format!("cannot create topic {t}: {code:?}")),
        }
    }
    Ok(())
}

/// Runs a future to completion on this thread (the admin client's answers come from its own
/// polling thread; no async runtime is needed for one request).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_millis(100));
    }
}
