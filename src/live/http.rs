//! The metrics endpoint: a small HTTP server answering `GET /metrics` with the text exposition
//! of a [`MetricsRegistry`] (the registry, counters and collectors are the library's, plus
//! `ticklane_build_info{version="..."} 1`), `GET /healthz` (200 `ok` while the process runs:
//! a liveness probe) and `GET /readyz` (200 `ready` while every source is ready: connected or
//! receiving, its books in sync; else 503 with the reasons, one line: a readiness probe, so a
//! load balancer or an orchestrator sends no traffic to a daemon that is still syncing).
//!
//! Serving uses `tiny_http`: a blocking HTTP/1.1 server (keep-alive, request parsing, HEAD) with
//! no async runtime and four small dependencies. Its accept thread hands each connection to a
//! thread of its own pool, which reads requests off it, so a client that connects and says
//! nothing ties up only that thread, never the scrapes of others (a single-threaded loop over
//! accepted connections once made three idle clients delay a scrape by 6 s). Requests are
//! answered by [`WORKERS`] threads of ours, so two scrapes (Prometheus and a person with curl)
//! encode at once. Between scrapes the workers tick the registry (draining the latency
//! histograms the receive thread publishes).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use ticklane_replay::live::config::LiveConfig;
use ticklane_replay::live::metrics::{BuildInfo, MetricsRegistry};

use crate::Failure;

/// A running endpoint.
pub(crate) struct Endpoint {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl Endpoint {
    /// Stops serving and waits for the threads.
    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}

/// The metrics port, bound and not yet served: the daemon binds it before it creates any file
/// (a busy port then leaves nothing behind).
pub(crate) struct Bound(TcpListener);

/// With `[metrics] enabled`, binds `[metrics] bind`.
pub(crate) fn bind(cfg: &LiveConfig) -> Result<Option<Bound>, Failure> {
    if !cfg.metrics.enabled {
        return Ok(None);
    }
    let l = TcpListener::bind(cfg.metrics.bind)
        .with_context(|| format!("[metrics] bind = \"{}\"", cfg.metrics.bind))?;
    Ok(Some(Bound(l)))
}

impl Bound {
    /// Serves the registry on the bound port and says where on stderr.
    pub(crate) fn start(self, registry: MetricsRegistry) -> Result<Endpoint, Failure> {
        let stop = Arc::new(AtomicBool::new(false));
        let (addr, handle) =
            serve_on(self.0, registry, stop.clone()).context("serving [metrics]")?;
        eprintln!("live: metrics at http://{addr}/metrics");
        Ok(Endpoint { stop, handle })
    }
}

/// Threads answering requests (connections are read by `tiny_http`'s own pool).
pub(crate) const WORKERS: usize = 2;

/// Serves `GET /metrics`, `GET /healthz` and `GET /readyz` on `bind` until `stop`; returns the bound address
/// and the thread (it joins the other workers before it ends).
fn serve_on(
    listener: TcpListener,
    registry: MetricsRegistry,
    stop: Arc<AtomicBool>,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let addr = listener.local_addr()?;
    let server = Arc::new(
        tiny_http::Server::from_listener(listener, None)
            .map_err(|e| io::Error::other(e.to_string()))?,
    );
    let mut registry = registry;
    registry.add(Box::new(BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
    }));
    let registry = Arc::new(registry);
    let worker = {
        let (server, registry, stop) = (server.clone(), registry.clone(), stop.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                match server.recv_timeout(Duration::from_millis(20)) {
                    // One bad client must not stop the endpoint.
                    Ok(Some(rq)) => {
                        let _ = answer(rq, &registry);
                    }
                    Ok(None) => registry.tick(),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    };
    let mut others = Vec::with_capacity(WORKERS - 1);
    for i in 1..WORKERS {
        others.push(
            std::thread::Builder::new()
                .name(format!("tl-metrics-{i}"))
                .spawn(worker.clone())?,
        );
    }
    let h = std::thread::Builder::new()
        .name("tl-metrics".into())
        .spawn(move || {
            worker();
            for h in others {
                let _ = h.join();
            }
            // The last handle: dropping it closes the listener and its accept thread.
            drop(server);
        })?;
    Ok((addr, h))
}

fn answer(rq: tiny_http::Request, registry: &MetricsRegistry) -> io::Result<()> {
    use tiny_http::Method;
    let (status, ctype, body) = match (rq.method(), rq.url()) {
        (Method::Get | Method::Head, "/metrics") => (
            200,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            registry.encode(),
        ),
        (Method::Get | Method::Head, "/healthz") => (200, "text/plain", "ok\n".into()),
        (Method::Get | Method::Head, "/readyz") => match registry.readiness() {
            Ok(()) => (200, "text/plain", "ready\n".into()),
            Err(why) => (503, "text/plain", format!("not ready: {why}\n")),
        },
        (Method::Get | Method::Head, _) => (
            404,
            "text/plain",
            "ticklane live: metrics are at /metrics (and /healthz, /readyz)\n".into(),
        ),
        _ => (405, "text/plain", "only GET is served\n".into()),
    };
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes())
        .map_err(|()| io::Error::other("bad header"))?;
    // A Content-Length whatever the size (no chunked encoding), as before.
    let resp = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(header)
        .with_chunked_threshold(usize::MAX);
    rq.respond(resp)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use ticklane_replay::live::metrics::Readiness;

    use super::*;

    /// A source that is ready once `ready` is set.
    struct Flag(Arc<AtomicBool>);

    impl Readiness for Flag {
        fn ready(&self) -> Result<(), String> {
            if self.0.load(Ordering::Relaxed) {
                Ok(())
            } else {
                Err("source test: not connected".into())
            }
        }
    }

    /// `GET path` on `addr`: the status code and the body.
    fn get(addr: SocketAddr, path: &str) -> (u16, String) {
        let mut c = TcpStream::connect(addr).unwrap();
        write!(
            c,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        c.read_to_string(&mut text).unwrap();
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {text}"));
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (code, body)
    }

    #[test]
    fn healthz_readyz_and_build_info() {
        let ready = Arc::new(AtomicBool::new(false));
        let mut registry = MetricsRegistry::default();
        registry.add_readiness(Arc::new(Flag(ready.clone())));
        let stop = Arc::new(AtomicBool::new(false));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let (addr, handle) = serve_on(listener, registry, stop.clone()).unwrap();

        assert_eq!(get(addr, "/healthz"), (200, "ok\n".into()));
        let (code, body) = get(addr, "/readyz");
        assert_eq!(code, 503, "{body}");
        assert_eq!(body, "not ready: source test: not connected\n");
        ready.store(true, Ordering::Relaxed);
        assert_eq!(get(addr, "/readyz"), (200, "ready\n".into()));
        let (code, body) = get(addr, "/metrics");
        assert_eq!(code, 200);
        let want = format!(
            "ticklane_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        assert!(body.contains(&want), "{body}");
        assert_eq!(get(addr, "/nowhere").0, 404);

        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
    }

    #[test]
    fn readiness_joins_the_reasons_of_every_source_not_ready() {
        let (a, b) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(true)),
        );
        let mut registry = MetricsRegistry::default();
        assert_eq!(registry.readiness(), Ok(()));
        registry.add_readiness(Arc::new(Flag(a.clone())));
        registry.add_readiness(Arc::new(Flag(b.clone())));
        assert_eq!(
            registry.readiness(),
            Err("source test: not connected".into())
        );
        b.store(false, Ordering::Relaxed);
        assert_eq!(
            registry.readiness(),
            Err("source test: not connected; source test: not connected".into())
        );
        a.store(true, Ordering::Relaxed);
        b.store(true, Ordering::Relaxed);
        assert_eq!(registry.readiness(), Ok(()));
    }
}
