//! REST depth snapshots for the Binance resync procedure: `GET {base}/api/v3/depth?symbol=X&limit=N`
//! (spot) or `{base}/fapi/v1/depth?...` (USD-M futures), through `ureq` (rustls for `https://`,
//! plain for `http://` test servers). The body is returned as received, so it can be journaled
//! and decoded by the same decoder that reads recorded snapshots.

use std::time::Duration;

/// Why a snapshot could not be fetched.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// The server answered with a non-200 status (503 while it has no book, 429 rate limits...).
    #[error("HTTP status {0}")]
    Status(u16),
    /// The request failed before a status (connect, TLS, timeout, bad URL).
    #[error("request failed: {0}")]
    Transport(String),
    /// The body was larger than the limit.
    #[error("response body over {0} bytes")]
    TooLarge(u64),
}

/// Which depth endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthApi {
    /// `/api/v3/depth` (spot).
    Spot,
    /// `/fapi/v1/depth` (USD-M futures).
    Futures,
}

/// The depth snapshot URL for `symbol` (upper-cased, as Binance's REST API spells it).
///
/// ```
/// use ticklane_feeds::rest::{depth_url, DepthApi};
/// assert_eq!(
///     depth_url("https://api.binance.com/", DepthApi::Spot, "btcusdt", 1000),
///     "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000"
/// );
/// assert_eq!(
///     depth_url("http://127.0.0.1:9", DepthApi::Futures, "BTCUSDT", 5),
///     "http://127.0.0.1:9/fapi/v1/depth?symbol=BTCUSDT&limit=5"
/// );
/// ```
pub fn depth_url(base: &str, api: DepthApi, symbol: &str, limit: u32) -> String {
    let path = match api {
        DepthApi::Spot => "/api/v3/depth",
        DepthApi::Futures => "/fapi/v1/depth",
    };
    format!(
        "{}{path}?symbol={}&limit={limit}",
        base.trim_end_matches('/'),
        symbol.to_ascii_uppercase()
    )
}

/// A small blocking HTTP client with one timeout for the whole request.
pub struct RestClient {
    agent: ureq::Agent,
}

/// Largest body accepted (a 5000-level depth snapshot is about 300 KB).
pub const MAX_BODY: u64 = 16 << 20;

impl RestClient {
    /// A client whose requests time out after `timeout` (connect through body).
    pub fn new(timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        RestClient { agent }
    }

    /// GETs `url` and returns the body of a 200 response.
    ///
    /// # Errors
    /// [`RestError`].
    pub fn get(&self, url: &str) -> Result<Vec<u8>, RestError> {
        let resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| RestError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(RestError::Status(status));
        }
        resp.into_body()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(n) => RestError::TooLarge(n),
                other => RestError::Transport(other.to_string()),
            })
    }
}
