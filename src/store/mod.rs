//! Where signatures live: registries.d configuration and the lookaside
//! layout (`<base>/<repository path>@<algo>=<hex>/signature-N`).

pub mod lookaside;
pub mod mirror;
pub mod registries_d;
