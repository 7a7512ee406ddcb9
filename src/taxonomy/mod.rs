//! Categories (a tree) and tags: public reading, and management by editors and admins.

pub mod routes;
pub mod service;
