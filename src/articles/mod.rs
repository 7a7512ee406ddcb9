//! Articles. Editors write content (`service`, checked by `validate`, with `slug`s and
//! `relations`), move it through the `workflow`, browse it (`editorial`, `editorial_list`) and
//! its `revisions`, and show drafts through `preview` links. Readers get the `public` lists
//! and pages of what is `published`, and count `views`. `demo` and `import` load content in
//! bulk.

pub mod bulk;
pub mod demo;
pub mod dto;
pub mod editorial;
pub mod editorial_list;
pub mod import;
pub mod model;
pub mod names;
pub mod pages;
pub mod preview;
pub mod public;
pub mod published;
pub mod relations;
pub mod render;
pub mod revisions;
pub mod routes;
pub mod service;
pub mod slug;
pub mod validate;
pub mod views;
pub mod workflow;
