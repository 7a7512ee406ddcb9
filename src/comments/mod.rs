//! Reader comments: the captcha (`captcha`), spam signals (`spam`), submission, public threads
//! and the moderation desk (`service`, `routes`).

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
