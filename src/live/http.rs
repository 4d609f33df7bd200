//! The metrics endpoint: a small HTTP server answering `GET /metrics` with the text exposition
//! of a [`MetricsRegistry`] (the registry, counters and collectors are the library's), and
//! `GET /healthz` (200 while the process runs).
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
use ticklane_replay::live::metrics::MetricsRegistry;

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

/// Serves `GET /metrics` and `GET /healthz` on `bind` until `stop`; returns the bound address
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
        (Method::Get | Method::Head, _) => (
            404,
            "text/plain",
            "ticklane live: metrics are at /metrics\n".into(),
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
