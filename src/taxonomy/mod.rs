//! Categories (a tree) and tags: public reading, and management by editors and admins.

pub mod dto;
pub mod model;
pub mod routes;
pub mod service;
