//! `POST /admin/articles/bulk`: one workflow move on up to 100 articles, each made as if
//! asked for alone (its own permission check, state check and transaction), answered with one
//! outcome per article in the shape of the comment desk's bulk moderation.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::editorial::find_row;
use super::model::ArticleState;
use super::workflow;
use crate::auth::AuthUser;
use crate::auth::policy::{self, Action, ArticleFacts};
use crate::db::Db;
use crate::error::{ApiError, FieldError, InvalidField};
use crate::i18n::{self, Code, FieldCode, Msg};
use crate::media::links::Links;

pub const BULK_MAX: usize = 100;

/// The move made on every article of a bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Submit,
    /// Publishes now; scheduled articles go out at once.
    Publish,
    Unpublish,
    Archive,
    Unarchive,
}

/// `POST /admin/articles/bulk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkArticleInput {
    pub action: BulkAction,
    /// 1 to 100 article ids; repeated ids count once.
    #[schema(min_items = 1, max_items = 100)]
    pub ids: Vec<i64>,
}

/// What happened to one article of a bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkArticleResult {
    Updated,
    /// The article's state does not allow the move; nothing changed.
    Conflict,
    /// The caller may see the article but not make this move on it.
    Forbidden,
    /// The move would leave the article invalid (an `unpublish_at` already past); see `errors`.
    Invalid,
    /// No such article, or not one the caller may see.
    NotFound,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkArticleOutcome {
    pub id: i64,
    pub result: BulkArticleResult,
    /// The article's state afterwards; null when the caller may not see it.
    #[schema(required)]
    pub status: Option<ArticleState>,
    /// Why the article was left as it is (`article.illegal_transition`, `auth.forbidden`,
    /// `article.not_found`, `validation.failed`).
    #[schema(required)]
    pub code: Option<Code>,
    /// The same, for a human, in the language of `Content-Language`.
    #[schema(required)]
    pub detail: Option<String>,
    /// With `invalid`: the fields at fault.
    #[schema(required)]
    pub errors: Option<Vec<InvalidField>>,
}

pub fn bulk(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    input: BulkArticleInput,
) -> Result<Vec<BulkArticleOutcome>, ApiError> {
    let sees_any = policy::allows(
        user.role,
        Action::ViewArticle(ArticleFacts {
            own: true,
            state: ArticleState::Draft,
        }),
    );
    if !sees_any {
        return Err(ApiError::Forbidden(
            Msg::new(Code::ArticleNoAccess).arg("role", user.role.as_str()),
        ));
    }
    if input.ids.is_empty() || input.ids.len() > BULK_MAX {
        return Err(ApiError::invalid(
            FieldError::new("ids", FieldCode::OutOfRange)
                .arg("min", 1i64)
                .arg("max", BULK_MAX),
        ));
    }
    let mut ids = input.ids;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    ids.into_iter()
        .map(|id| one(conn, user, links, input.action, id))
        .collect()
}

/// One article's move and its outcome. A failure the caller caused is an outcome; a failure
/// of the server (the database gone) ends the whole request, with the moves made so far kept.
fn one(
    conn: &mut Db,
    user: &AuthUser,
    links: &Links,
    action: BulkAction,
    id: i64,
) -> Result<BulkArticleOutcome, ApiError> {
    let moved = match action {
        BulkAction::Submit => workflow::submit(conn, user, links, id).map(|a| a.status),
        BulkAction::Publish => workflow::publish(conn, user, links, id, Default::default()).map(|a| a.status),
        BulkAction::Unpublish => workflow::unpublish(conn, user, links, id).map(|a| a.status),
        BulkAction::Archive => workflow::archive(conn, user, id).map(|()| ArticleState::Archived),
        BulkAction::Unarchive => workflow::unarchive(conn, user, links, id).map(|a| a.status),
    };
    let error = match moved {
        Ok(status) => {
            return Ok(BulkArticleOutcome {
                id,
                result: BulkArticleResult::Updated,
                status: Some(status),
                code: None,
                detail: None,
                errors: None,
            });
        }
        Err(e) => e,
    };
    let result = match &error {
        ApiError::Conflict(_) => BulkArticleResult::Conflict,
        ApiError::Forbidden(_) => BulkArticleResult::Forbidden,
        ApiError::Validation(_) => BulkArticleResult::Invalid,
        ApiError::NotFound(_) => BulkArticleResult::NotFound,
        _ => return Err(error),
    };
    let status = match result {
        BulkArticleResult::NotFound => None,
        _ => Some(find_row(conn, id)?.state()?),
    };
    let problem = error.problem_in(i18n::current());
    Ok(BulkArticleOutcome {
        id,
        result,
        status,
        code: Some(problem.code),
        detail: Some(problem.detail),
        errors: problem.errors,
    })
}
