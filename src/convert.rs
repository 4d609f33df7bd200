//! `ticklane convert lobster` and `ticklane gen itch` (being wired).
use clap::Args;
use crate::Failure;
#[derive(Args)]
pub struct LobsterArgs {}
#[derive(Args)]
pub struct GenItchArgs {}
pub fn lobster(_a: LobsterArgs) -> Result<u8, Failure> { Ok(0) }
pub fn gen_itch(_a: GenItchArgs) -> Result<u8, Failure> { Ok(0) }
