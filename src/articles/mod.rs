//! Articles: the editorial workflow and revisions (`service`), the public reading API
//! (`public`), view counting (`views`), and loading content (`demo`, `import`).

pub mod demo;
pub mod dto;
pub mod import;
pub mod model;
pub mod public;
pub mod published;
pub mod render;
pub mod routes;
pub mod service;
pub mod views;
