//! What the comment handlers ask for: each operation checks who may do it, then hands over
//! to the module that does the job.

pub use super::desk::{DeskFilter, desk, detail};
pub use super::dto::CommentEvent;
pub use super::moderation::{BULK_MAX, delete, moderate, moderate_many};
pub use super::reply::staff_reply;
pub use super::submit::{
    DUPLICATE_WINDOW_SECS, ParentFacts, RATE_WINDOW_SECS, Submission, closed, duplicate_comment,
    rate_limited, root_of_reply, submit,
};
pub use super::threads::threads;
pub use super::validate::{
    CONTENT_MAX, CleanForm, NAME_MAX, NOTE_MAX, TITLE_MAX, clean_user_agent, normalise_phone, validate_form,
    validate_note,
};
