//! The media library.

pub mod process;
