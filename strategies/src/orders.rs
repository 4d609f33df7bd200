//! The order policy the taking strategies share.

use ticklane_engine::strategy::{Ctx, OrderIntent, Tif};
use ticklane_engine::{Qty, Side};

/// Sends a market (IOC) order of `size` lots on `side` with the next client id in `id`, unless
/// the position would then exceed `max_position` either way (or `size` is 0). Returns whether
/// it sent one.
pub(crate) fn market_within(
    ctx: &mut Ctx<'_>,
    id: &mut u64,
    side: Side,
    size: u64,
    max_position: i64,
) -> bool {
    let Ok(signed) = i64::try_from(size) else {
        return false;
    };
    let after = ctx.position + if side == Side::Bid { signed } else { -signed };
    if size == 0 || after.abs() > max_position {
        return false;
    }
    *id += 1;
    ctx.order(OrderIntent {
        client_id: *id,
        side,
        px: None,
        qty: Qty(size),
        tif: Tif::Ioc,
    })
}
