//! Reader comments: the captcha (`captcha`), spam signals (`spam`), submission (`submit`, and
//! `batch` for the batched writer), public threads (`threads`), the moderation desk (`desk`,
//! `moderation`) and staff replies (`reply`). `service` is what the handlers (`routes`) call.

pub mod batch;
pub mod captcha;
mod desk;
pub mod dto;
pub mod model;
mod moderation;
mod reply;
pub mod routes;
pub mod service;
pub mod spam;
mod submit;
mod threads;
mod validate;
