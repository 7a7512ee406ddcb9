//! Reader comments: the captcha (`captcha`), spam signals (`spam`), submission, public threads
//! and the moderation desk (`service`, `routes`).

pub mod batch;
pub mod captcha;
pub mod dto;
pub mod routes;
pub mod service;
pub mod spam;
