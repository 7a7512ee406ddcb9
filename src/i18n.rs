//! Every message a reader or editor may see, in Vietnamese and English.
//!
//! The texts live in the Fluent catalogue under `locales/` (one file per language, compiled
//! into the binary); the code names a message only by its stable machine code ([`Code`] for a
//! problem, [`FieldCode`] for an invalid field) plus its parameters, and the text is chosen
//! when the answer is written, in the language the client prefers (`Accept-Language`).
//! Fluent rather than `match` ladders: translators edit plain text files, a message can vary
//! by parameter (the Vietnamese "required" message names the field: "Vui lòng nhập họ tên"),
//! and a test checks that both files define every code.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};
use serde::Serialize;
use utoipa::ToSchema;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Fluent wraps arguments in Unicode isolation marks by default, meant for mixing
        // scripts in one line; in JSON they are invisible noise that breaks string matching.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages the catalogue speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Vi,
}

static EN: LanguageIdentifier = langid!("en");
static VI: LanguageIdentifier = langid!("vi");

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Vi];

    /// The tag sent as `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Vi => "vi",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::En => &EN,
            Lang::Vi => &VI,
        }
    }

    /// The language of an `Accept-Language` header: the client's most preferred range that
    /// we speak (`vi`, `vi-VN`, `en-GB`, …; `*` means English), English when none.
    pub fn negotiate(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::En;
        };
        let mut best: Option<(f32, usize, Lang)> = None;
        for (position, item) in header.split(',').enumerate().take(32) {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality.is_nan() || quality <= 0.0 {
                continue;
            }
            let primary = range.split('-').next().unwrap_or_default();
            let lang = match primary {
                "vi" => Lang::Vi,
                "en" | "*" => Lang::En,
                _ => continue,
            };
            // Highest quality wins; among equals, the one listed first.
            let better = best.is_none_or(|(q, p, _)| quality > q || (quality == q && position < p));
            if better {
                best = Some((quality, position, lang));
            }
        }
        best.map_or(Lang::En, |(_, _, lang)| lang)
    }
}

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being answered (English outside a request).
pub fn current() -> Lang {
    LANG.try_with(|lang| *lang).unwrap_or(Lang::En)
}

/// Runs `f` (a request's handling) with `lang` as its [`current`] language.
pub async fn scope<F: std::future::Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// A parameter of a message: shown in its text and sent to clients in `params`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    Number(i64),
    Text(String),
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<i32> for Arg {
    fn from(n: i32) -> Self {
        Arg::Number(n.into())
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

/// Named parameters of a message, in the order they were given.
pub type Args = Vec<(&'static str, Arg)>;

/// The text of catalogue entry `id` in `lang`, with its parameters filled in.
fn render(lang: Lang, id: &str, args: &Args, extra: &[(&'static str, &str)]) -> String {
    let mut fluent_args: HashMap<Cow<'static, str>, FluentValue> = HashMap::with_capacity(args.len() + 1);
    for (name, value) in args {
        let value = match value {
            Arg::Number(n) => FluentValue::from(*n),
            Arg::Text(s) => FluentValue::from(s.clone()),
        };
        fluent_args.insert(Cow::Borrowed(*name), value);
    }
    for (name, value) in extra {
        fluent_args.insert(Cow::Borrowed(*name), FluentValue::from(value.to_string()));
    }
    LOCALES
        .try_lookup_with_args(lang.id(), id, &fluent_args)
        // Unreachable while the catalogue test passes; the id still tells a client what it was.
        .unwrap_or_else(|| id.to_owned())
}

/// Declares a closed set of message codes: the enum, its wire names and its catalogue ids.
/// The codes are `tt`, not `literal`: a `literal` fragment reaches derives wrapped in an
/// invisible group, which utoipa does not see through, and the document would list the
/// variants' Rust names instead of the codes.
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident, $prefix:literal { $($(#[$vmeta:meta])* $variant:ident = $code:tt,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable machine code clients match on.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// The id of its text in the catalogue.
            pub fn catalogue_id(self) -> String {
                format!("{}{}", $prefix, self.as_str().replace('.', "-"))
            }
        }
    };
}

codes! {
    /// What went wrong, for a program: stable, safe to match on (`problem.code`).
    Code, "" {
        // 400
        RequestMalformed = "request.malformed",
        BodyMalformedJson = "body.malformed_json",
        BodyUnreadable = "body.unreadable",
        QueryInvalid = "query.invalid",
        QueryInvalidParam = "query.invalid_param",
        QueryInvalidDate = "query.invalid_date",
        QueryInvalidCursor = "query.invalid_cursor",
        QueryCursorOtherSearch = "query.cursor_other_search",
        QueryRangeReversed = "query.range_reversed",
        QueryPageRange = "query.page_range",
        QueryPerPageRange = "query.per_page_range",
        SearchTooLong = "search.too_long",
        SearchTooManyWords = "search.too_many_words",
        SortRelevanceNeedsQuery = "sort.relevance_needs_query",
        SortRelevanceNoCursor = "sort.relevance_no_cursor",
        FeaturedNoCursor = "sort.featured_no_cursor",
        AuditActionInvalid = "audit.action_invalid",
        AuditResourceInvalid = "audit.resource_invalid",
        IfMatchInvalid = "article.if_match_invalid",
        IfMatchDisagrees = "article.if_match_disagrees",
        CorsPreflightMalformed = "cors.preflight_malformed",
        // 401
        AuthTokenMissing = "auth.token_missing",
        AuthHeaderUnreadable = "auth.header_unreadable",
        AuthBearerRequired = "auth.bearer_required",
        AuthTokenInvalid = "auth.token_invalid",
        AuthTokenExpired = "auth.token_expired",
        AuthAccountInactive = "auth.account_inactive",
        AuthSessionEnded = "auth.session_ended",
        AuthCredentialsWrong = "auth.credentials_wrong",
        AuthRefreshReused = "auth.refresh_reused",
        AuthRefreshInvalid = "auth.refresh_invalid",
        // 403
        CorsOriginRefused = "cors.origin_refused",
        CorsMethodRefused = "cors.method_refused",
        CorsHeadersRefused = "cors.headers_refused",
        AuthForbidden = "auth.forbidden",
        ArticleNoAccess = "article.no_access",
        // 404
        RouteNotFound = "route.not_found",
        ResourceNotFound = "resource.not_found",
        ArticleNotFound = "article.not_found",
        RevisionNotFound = "revision.not_found",
        CommentNotFound = "comment.not_found",
        AuthorNotFound = "author.not_found",
        CategoryNotFound = "category.not_found",
        TagNotFound = "tag.not_found",
        WebhookNotFound = "webhook.not_found",
        DeliveryNotFound = "webhook.delivery_not_found",
        SitemapNotFound = "sitemap.not_found",
        MediaNotFound = "media.not_found",
        PreviewNotFound = "preview.not_found",
        // 405
        MethodNotAllowed = "request.method_not_allowed",
        // 409
        ArticleSlugTaken = "article.slug_taken",
        ArticleSlugExhausted = "article.slug_exhausted",
        ArticleVersionConflict = "article.version_conflict",
        ArticleIllegalTransition = "article.illegal_transition",
        AuthorSlugTaken = "author.slug_taken",
        AuthorSlugExhausted = "author.slug_exhausted",
        AccountSelfDemote = "account.self_demote",
        AccountSelfDeactivate = "account.self_deactivate",
        CategoryHasChildren = "category.has_children",
        CommentDuplicate = "comment.duplicate",
        CommentsClosed = "comment.closed",
        CommentArticleChanged = "comment.article_changed",
        CommentIllegalTransition = "comment.illegal_transition",
        DeliveryPending = "webhook.delivery_pending",
        ResourceExists = "resource.exists",
        AccountEmailTaken = "account.email_taken",
        TaxonomySlugTaken = "taxonomy.slug_taken",
        ResourceReferenced = "resource.referenced",
        MediaInUse = "media.in_use",
        // 408, 413, 415, 422, 429, 431, 500, 503
        RequestTimeout = "request.timeout",
        BodyTooLarge = "body.too_large",
        HeadersTooLarge = "request.headers_too_large",
        BodyUnsupportedType = "body.unsupported_type",
        MediaTooLarge = "media.too_large",
        MediaUnsupportedType = "media.unsupported_type",
        MediaFormRequired = "media.form_required",
        MediaRangeNotSatisfiable = "media.range_not_satisfiable",
        ValidationFailed = "validation.failed",
        AuthRateLimited = "auth.rate_limited",
        CommentRateLimited = "comment.rate_limited",
        ServiceUnavailable = "service.unavailable",
        InternalError = "internal.error",
    }
}

codes! {
    /// Why one field is invalid (`errors[].code`).
    FieldCode, "field-" {
        Required = "required",
        TooLong = "too_long",
        TooShort = "too_short",
        WrongType = "wrong_type",
        UnknownField = "unknown_field",
        InvalidValue = "invalid_value",
        InvalidFormat = "invalid_format",
        InvalidCharacter = "invalid_character",
        InvalidPhone = "invalid_phone",
        InvalidEmail = "invalid_email",
        InvalidUrl = "invalid_url",
        PrivateTarget = "private_target",
        NoLetters = "no_letters",
        UnknownReference = "unknown_reference",
        Duplicate = "duplicate",
        MustIncludeSelf = "must_include_self",
        OutOfRange = "out_of_range",
        NumberOutOfRange = "number_out_of_range",
        AfterPublication = "after_publication",
        NotImportable = "not_importable",
        VersionRequired = "version_required",
        EmailRequired = "email_required",
        PasswordEqualsEmail = "password_equals_email",
        PasswordWrong = "password_wrong",
        ParentInvalid = "parent_invalid",
        TreeCycle = "tree_cycle",
        TreeTooDeep = "tree_too_deep",
        CaptchaMissing = "captcha_missing",
        CaptchaInvalid = "captcha_invalid",
        CaptchaExpired = "captcha_expired",
        CaptchaWrong = "captcha_wrong",
        CaptchaUsed = "captcha_used",
        TooManyPixels = "too_many_pixels",
        UnreadableImage = "unreadable_image",
        NotAnImage = "not_an_image",
        FileUnreadable = "file_unreadable",
    }
}

/// A problem's message: its code and parameters, rendered when the answer is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub code: Code,
    pub args: Args,
}

impl Msg {
    pub fn new(code: Code) -> Self {
        Msg {
            code,
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    pub fn text(&self, lang: Lang) -> String {
        render(lang, &self.code.catalogue_id(), &self.args, &[])
    }
}

impl From<Code> for Msg {
    fn from(code: Code) -> Self {
        Msg::new(code)
    }
}

/// Text of a field's message: the field's name is a parameter too, so a language may phrase
/// it per field.
pub fn field_text(lang: Lang, code: FieldCode, field: &str, args: &Args) -> String {
    render(lang, &code.catalogue_id(), args, &[("field", field)])
}

/// The title of a kind of problem (catalogue id `problem-<kind>`).
pub fn title(lang: Lang, kind: &str) -> String {
    render(lang, &format!("problem-{kind}"), &Vec::new(), &[])
}

/// Every parameter a message of the catalogue uses. A message missing one of its parameters
/// does not render at all, so the documentation tables pass them all, and the catalogue test
/// checks this list against its own sample values.
const PARAMETERS: &[&str] = &[
    "max", "min", "seconds", "current", "line", "column", "name", "role", "from", "to", "kinds", "status",
    "address", "what", "origin", "method", "headers", "allowed", "count", "articles", "found", "size",
    "width", "height",
];

/// The catalogue as Markdown tables (problem codes, then field codes), each message with
/// its parameters shown as `{name}`: the reference in `docs/API.md`, kept equal by a test.
pub fn code_tables() -> String {
    let placeholders: Args = PARAMETERS
        .iter()
        .map(|name| (*name, Arg::Text(format!("{{{name}}}"))))
        .collect();
    let cell = |text: String| text.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from("| `code` | English | Tiếng Việt |\n|---|---|---|\n");
    for code in Code::ALL {
        let id = code.catalogue_id();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            cell(render(Lang::En, &id, &placeholders, &[])),
            cell(render(Lang::Vi, &id, &placeholders, &[]))
        ));
    }
    out.push_str("\n| `errors[].code` | English | Tiếng Việt |\n|---|---|---|\n");
    for code in FieldCode::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            cell(field_text(Lang::En, *code, "", &placeholders)),
            cell(field_text(Lang::Vi, *code, "", &placeholders))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_preference_and_quality() {
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("vi")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("vi-VN,vi;q=0.9,en;q=0.8")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9,vi;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr-FR, vi;q=0.5")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en;q=0.1, vi;q=0.6")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("vi;q=0, en")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr, de")), Lang::En);
        assert_eq!(Lang::negotiate(Some("*")), Lang::En);
        assert_eq!(Lang::negotiate(Some(";;;,q=,vi;q=abc")), Lang::Vi);
    }

    /// The message ids a catalogue file defines (Fluent messages start a line with `id =`).
    fn ids_in(file: &str) -> std::collections::BTreeSet<String> {
        file.lines()
            .filter_map(|line| line.split_once(" = ").map(|(id, _)| id))
            .filter(|id| {
                id.starts_with(|c: char| c.is_ascii_lowercase())
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .map(str::to_owned)
            .collect()
    }

    /// Every code the API can send has a text in both languages, each file defines exactly
    /// those, and no Vietnamese text is a leftover copy of the English one.
    #[test]
    fn the_catalogue_speaks_both_languages_for_every_code() {
        let mut expected: std::collections::BTreeSet<String> =
            Code::ALL.iter().map(|c| c.catalogue_id()).collect();
        expected.extend(FieldCode::ALL.iter().map(|c| c.catalogue_id()));
        expected.extend(
            crate::error::ProblemType::ALL
                .iter()
                .map(|k| format!("problem-{}", k.slug())),
        );
        for (lang, file) in [
            (Lang::En, include_str!("../locales/en/newsdesk.ftl")),
            (Lang::Vi, include_str!("../locales/vi/newsdesk.ftl")),
        ] {
            let defined = ids_in(file);
            let missing: Vec<_> = expected.difference(&defined).collect();
            let unused: Vec<_> = defined.difference(&expected).collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
            assert!(unused.is_empty(), "{lang:?} defines ids no code uses: {unused:?}");
        }
        let args: Args = vec![
            ("max", Arg::Number(100)),
            ("min", Arg::Number(1)),
            ("seconds", Arg::Number(60)),
            ("current", Arg::Number(3)),
            ("line", Arg::Number(1)),
            ("column", Arg::Number(2)),
            ("name", Arg::Text("page".into())),
            ("role", Arg::Text("author".into())),
            ("from", Arg::Text("draft".into())),
            ("to", Arg::Text("published".into())),
            ("kinds", Arg::Text("article".into())),
            ("status", Arg::Text("archived".into())),
            ("address", Arg::Text("10.0.0.1".into())),
            ("what", Arg::Text("origin".into())),
            ("origin", Arg::Text("https://example.vn".into())),
            ("method", Arg::Text("PUT".into())),
            ("headers", Arg::Text("x-api-key".into())),
            ("allowed", Arg::Text("authorization".into())),
            ("count", Arg::Number(1)),
            ("articles", Arg::Text("#12 Hội nghị tổng kết".into())),
            ("found", Arg::Text("text/html".into())),
            ("size", Arg::Number(2048)),
            ("width", Arg::Number(20000)),
            ("height", Arg::Number(20000)),
        ];
        let sampled: std::collections::BTreeSet<&str> = args.iter().map(|(name, _)| *name).collect();
        let listed: std::collections::BTreeSet<&str> = PARAMETERS.iter().copied().collect();
        assert_eq!(
            sampled, listed,
            "PARAMETERS and the sample values name different parameters"
        );
        let tables = code_tables();
        for code in Code::ALL {
            assert!(
                !tables.contains(&format!("| {} |", code.catalogue_id())),
                "{} does not render in the documentation tables",
                code.as_str()
            );
        }
        let texts = |lang: Lang| -> Vec<(String, String)> {
            let mut texts: Vec<(String, String)> = Code::ALL
                .iter()
                .map(|c| (c.catalogue_id(), render(lang, &c.catalogue_id(), &args, &[])))
                .collect();
            for field in ["name", "title", "url", "slug", "password", "author_ids", "other"] {
                texts.extend(
                    FieldCode::ALL
                        .iter()
                        .map(|c| (c.catalogue_id(), field_text(lang, *c, field, &args))),
                );
            }
            texts.extend(
                crate::error::ProblemType::ALL
                    .iter()
                    .map(|k| (k.slug().to_owned(), title(lang, k.slug()))),
            );
            texts
        };
        let (english, vietnamese) = (texts(Lang::En), texts(Lang::Vi));
        for ((id, en), (_, vi)) in english.iter().zip(&vietnamese) {
            for text in [en, vi] {
                assert!(!text.trim().is_empty() && text != id, "{id} renders as {text:?}");
                assert!(!text.contains('{'), "{id} has an unfilled parameter: {text}");
            }
            assert_ne!(en, vi, "{id} is not translated");
        }
    }

    #[test]
    fn the_comment_form_speaks_like_a_vietnamese_portal() {
        assert_eq!(
            field_text(Lang::Vi, FieldCode::Required, "name", &Vec::new()),
            "Vui lòng nhập họ tên."
        );
        assert!(
            field_text(Lang::Vi, FieldCode::InvalidPhone, "phone", &Vec::new())
                .starts_with("Số điện thoại không hợp lệ")
        );
        assert!(
            field_text(Lang::Vi, FieldCode::CaptchaWrong, "captcha_answer", &Vec::new())
                .starts_with("Mã xác nhận không đúng")
        );
    }

    #[test]
    fn parameters_fill_in_without_isolation_marks() {
        let text = Msg::new(Code::SearchTooLong).arg("max", 200).text(Lang::En);
        assert!(text.contains("200"), "{text}");
        assert!(!text.contains('\u{2068}'), "{text:?}");
    }
}
