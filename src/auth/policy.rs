//! Who may do what: the contract's permission matrix, in one place. Handlers ask
//! [`require`] and never compare roles themselves.

use super::{AuthUser, Role};
use crate::articles::model::ArticleState;
use crate::error::ApiError;
use crate::i18n::{Code, Msg};

/// What the policy needs to know about one article.
#[derive(Debug, Clone, Copy)]
pub struct ArticleFacts {
    /// The caller is one of the article's authors.
    pub own: bool,
    pub state: ArticleState,
}

#[derive(Debug, Clone, Copy)]
pub enum Action {
    CreateArticle,
    EditArticle(ArticleFacts),
    /// Publish, schedule or unpublish.
    PublishArticle(ArticleFacts),
    /// Delete, which archives.
    DeleteArticle(ArticleFacts),
    /// Bring an archived article back as a draft.
    UnarchiveArticle,
    /// Put an article among the featured news, or change its rank there.
    FeatureArticle,
    /// See drafts and revisions.
    ViewArticle(ArticleFacts),
    /// Moderate comments and see commenters' phone and email.
    ModerateComments,
    ManageTaxonomy,
    ManageAccounts,
    ManageWebhooks,
    ViewAudit,
    /// Upload to the media library, and browse it to pick covers and attachments.
    UseMedia,
    /// Change a file's description or delete it.
    EditMedia(MediaFacts),
}

/// What the policy needs to know about one file of the media library.
#[derive(Debug, Clone, Copy)]
pub struct MediaFacts {
    /// The caller uploaded it.
    pub own: bool,
    /// Some article uses it.
    pub used: bool,
}

/// The matrix of API.md's "Roles" section.
pub fn allows(role: Role, action: Action) -> bool {
    use Role::*;
    match action {
        Action::CreateArticle => matches!(role, Admin | Editor | Author | Contributor),
        Action::EditArticle(a) => match role {
            Admin | Editor => true,
            Author => a.own,
            Contributor => a.own && matches!(a.state, ArticleState::Draft | ArticleState::InReview),
            Moderator => false,
        },
        Action::PublishArticle(a) => match role {
            Admin | Editor => true,
            Author => a.own,
            Contributor | Moderator => false,
        },
        Action::DeleteArticle(a) => match role {
            Admin | Editor => true,
            Author | Contributor => a.own && a.state == ArticleState::Draft,
            Moderator => false,
        },
        Action::ViewArticle(a) => match role {
            Admin | Editor => true,
            Author | Contributor => a.own,
            Moderator => false,
        },
        Action::ModerateComments => matches!(role, Admin | Editor | Moderator),
        Action::ManageTaxonomy | Action::UnarchiveArticle | Action::FeatureArticle => {
            matches!(role, Admin | Editor)
        }
        Action::ManageAccounts | Action::ManageWebhooks | Action::ViewAudit => role == Admin,
        Action::UseMedia => matches!(role, Admin | Editor | Author | Contributor),
        Action::EditMedia(m) => match role {
            Admin | Editor => true,
            Author | Contributor => m.own && !m.used,
            Moderator => false,
        },
    }
}

/// What a row of the permission table asks about: one action, or an action on an article,
/// whose answer may depend on ownership and state.
enum Question {
    Plain(Action),
    OnArticle(fn(ArticleFacts) -> Action),
    OnMedia(fn(MediaFacts) -> Action),
}

/// The rows of the table in `docs/API.md`, in the contract's order.
fn questions() -> [(&'static str, Question); 14] {
    use Question::*;
    [
        ("create articles", Plain(Action::CreateArticle)),
        (
            "edit an article, submit it for review, restore a revision",
            OnArticle(Action::EditArticle),
        ),
        (
            "publish / schedule / unpublish",
            OnArticle(Action::PublishArticle),
        ),
        ("delete (archive) an article", OnArticle(Action::DeleteArticle)),
        ("un-archive an article", Plain(Action::UnarchiveArticle)),
        (
            "feature an article, change its rank",
            Plain(Action::FeatureArticle),
        ),
        ("see drafts, revisions", OnArticle(Action::ViewArticle)),
        (
            "moderate comments, see commenters' phone/email, reply as staff",
            Plain(Action::ModerateComments),
        ),
        ("manage categories and tags", Plain(Action::ManageTaxonomy)),
        ("manage accounts and roles", Plain(Action::ManageAccounts)),
        ("manage webhooks", Plain(Action::ManageWebhooks)),
        ("read the audit log", Plain(Action::ViewAudit)),
        ("upload media, browse the library", Plain(Action::UseMedia)),
        ("edit or delete a file of the library", OnMedia(Action::EditMedia)),
    ]
}

/// `, while draft or in_review` for a strict subset of the states; nothing for all of them.
fn while_in(states: &[ArticleState]) -> String {
    if states.len() == ArticleState::ALL.len() {
        return String::new();
    }
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    match names.split_last() {
        Some((last, [])) => format!(", while {last}"),
        Some((last, rest)) => format!(", while {} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// One cell: `yes`/`no` for plain actions; for article actions `any`, `own`, `no`, or either
/// of the first two narrowed to the states where it holds.
fn cell(role: Role, question: &Question) -> String {
    let on = match question {
        Question::Plain(action) => return if allows(role, *action) { "yes" } else { "no" }.into(),
        Question::OnMedia(on) => return media_cell(role, *on),
        Question::OnArticle(on) => on,
    };
    let states_where = |own: bool| -> Vec<ArticleState> {
        ArticleState::ALL
            .into_iter()
            .filter(|&state| allows(role, on(ArticleFacts { own, state })))
            .collect()
    };
    let (own, others) = (states_where(true), states_where(false));
    match (own.is_empty(), others.is_empty()) {
        (true, true) => "no".into(),
        (_, true) => format!("own{}", while_in(&own)),
        _ if own == others => format!("any{}", while_in(&others)),
        _ => format!("any{}; own{}", while_in(&others), while_in(&own)),
    }
}

/// `any`, `own, while unused`, or `no`.
fn media_cell(role: Role, on: fn(MediaFacts) -> Action) -> String {
    let may = |own, used| allows(role, on(MediaFacts { own, used }));
    match (may(false, true), may(true, false)) {
        (true, _) => "any".into(),
        (false, true) if may(true, true) => "own".into(),
        (false, true) => "own, while unused".into(),
        (false, false) => "no".into(),
    }
}

/// The role × action table of `docs/API.md`, as markdown, computed from [`allows`] so the
/// guide cannot drift from what the server enforces.
pub fn permission_table_markdown() -> String {
    let mut header = String::from("| may … |");
    let mut rule = String::from("|---|");
    for role in Role::ALL {
        header.push_str(&format!(" {role} |"));
        rule.push_str("---|");
    }
    let mut table = format!("{header}\n{rule}\n");
    for (label, question) in questions() {
        table.push_str(&format!("| {label} |"));
        for role in Role::ALL {
            table.push_str(&format!(" {} |", cell(role, &question)));
        }
        table.push('\n');
    }
    table
}

/// 403 unless the caller's role allows the action.
pub fn require(user: &AuthUser, action: Action) -> Result<(), ApiError> {
    if allows(user.role, action) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            Msg::new(Code::AuthForbidden).arg("role", user.role.as_str()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ArticleState::*;
    use Role::*;

    fn facts(own: bool, state: ArticleState) -> ArticleFacts {
        ArticleFacts { own, state }
    }

    /// Every cell of the matrix, row by row, in the order of the roles' columns:
    /// admin, editor, author, contributor, moderator.
    #[test]
    fn the_matrix_matches_the_contract() {
        let table: Vec<(&str, Action, [bool; 5])> = vec![
            ("create", Action::CreateArticle, [true, true, true, true, false]),
            (
                "edit own draft",
                Action::EditArticle(facts(true, Draft)),
                [true, true, true, true, false],
            ),
            (
                "edit own in review",
                Action::EditArticle(facts(true, InReview)),
                [true, true, true, true, false],
            ),
            (
                "edit own published",
                Action::EditArticle(facts(true, Published)),
                [true, true, true, false, false],
            ),
            (
                "edit own scheduled",
                Action::EditArticle(facts(true, Scheduled)),
                [true, true, true, false, false],
            ),
            (
                "edit other's draft",
                Action::EditArticle(facts(false, Draft)),
                [true, true, false, false, false],
            ),
            (
                "publish own",
                Action::PublishArticle(facts(true, InReview)),
                [true, true, true, false, false],
            ),
            (
                "publish other's",
                Action::PublishArticle(facts(false, InReview)),
                [true, true, false, false, false],
            ),
            (
                "delete own draft",
                Action::DeleteArticle(facts(true, Draft)),
                [true, true, true, true, false],
            ),
            (
                "delete own published",
                Action::DeleteArticle(facts(true, Published)),
                [true, true, false, false, false],
            ),
            (
                "delete other's draft",
                Action::DeleteArticle(facts(false, Draft)),
                [true, true, false, false, false],
            ),
            (
                "view own draft",
                Action::ViewArticle(facts(true, Draft)),
                [true, true, true, true, false],
            ),
            (
                "view other's draft",
                Action::ViewArticle(facts(false, Draft)),
                [true, true, false, false, false],
            ),
            (
                "moderate comments",
                Action::ModerateComments,
                [true, true, false, false, true],
            ),
            (
                "manage taxonomy",
                Action::ManageTaxonomy,
                [true, true, false, false, false],
            ),
            (
                "manage accounts",
                Action::ManageAccounts,
                [true, false, false, false, false],
            ),
            (
                "manage webhooks",
                Action::ManageWebhooks,
                [true, false, false, false, false],
            ),
            (
                "view audit",
                Action::ViewAudit,
                [true, false, false, false, false],
            ),
            ("use media", Action::UseMedia, [true, true, true, true, false]),
            (
                "edit own unused media",
                Action::EditMedia(MediaFacts {
                    own: true,
                    used: false,
                }),
                [true, true, true, true, false],
            ),
            (
                "edit own used media",
                Action::EditMedia(MediaFacts {
                    own: true,
                    used: true,
                }),
                [true, true, false, false, false],
            ),
            (
                "edit other's unused media",
                Action::EditMedia(MediaFacts {
                    own: false,
                    used: false,
                }),
                [true, true, false, false, false],
            ),
        ];
        for (name, action, expected) in table {
            for (role, allowed) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(allows(role, action), allowed, "{role} / {name}");
            }
        }
        assert_eq!(Role::ALL, [Admin, Editor, Author, Contributor, Moderator]);
    }

    #[test]
    fn the_table_says_what_the_contract_says() {
        let table = permission_table_markdown();
        for row in [
            "| may … | admin | editor | author | contributor | moderator |",
            "| edit an article, submit it for review, restore a revision | any | any | own | own, while draft or in_review | no |",
            "| publish / schedule / unpublish | any | any | own | no | no |",
            "| delete (archive) an article | any | any | own, while draft | own, while draft | no |",
            "| moderate comments, see commenters' phone/email, reply as staff | yes | yes | no | no | yes |",
            "| edit or delete a file of the library | any | any | own, while unused | own, while unused | no |",
        ] {
            assert!(table.lines().any(|line| line == row), "{row}\nin\n{table}");
        }
    }
}
