//! Author profiles and the accounts behind them. Every account is an author profile; a
//! profile without credentials is a byline only.

pub mod dto;
pub mod model;
pub mod routes;
pub mod service;
