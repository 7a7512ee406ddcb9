# Messages of the newsdesk API in English: the answer to clients that do not prefer Vietnamese.
# Ids are the machine codes (`article.not_found` → `article-not_found`), field codes
# (`field-too_long`) and problem kinds (`problem-validation`). The Vietnamese file must define
# the same ids: a test checks both.

## Problem kinds (`title`)

problem-bad-request = Malformed request
problem-unauthorized = Authentication required
problem-forbidden = Not allowed
problem-not-found = Not found
problem-method-not-allowed = Method not allowed
problem-request-timeout = Request timeout
problem-version-conflict = Version conflict
problem-illegal-transition = Illegal state change
problem-already-exists = Already exists
problem-duplicate-submission = Duplicate submission
problem-in-use = Still in use
problem-closed = Closed
problem-payload-too-large = Request body too large
problem-unsupported-media-type = Unsupported media type
problem-validation = Validation failed
problem-rate-limited = Too many requests
problem-headers-too-large = Request headers too large
problem-internal = Internal server error
problem-unavailable = Service unavailable

## Problems (`code`, `detail`)

request-malformed = The request could not be understood.
body-malformed_json = The body is not valid JSON (line { $line }, column { $column }).
body-unreadable = The body could not be read.
query-invalid = The query string is invalid.
query-invalid_param = The query parameter `{ $name }` is missing or invalid.
query-invalid_date = `{ $name }` must be a date (2020-01-14) or an RFC 3339 time.
query-invalid_cursor = `cursor` is not a cursor this API issued.
query-cursor_other_search = `cursor` is not a cursor of this search.
query-range_reversed = `from` must not be after `to`.
query-page_range = `page` must be between 1 and { $max }.
query-per_page_range = `per_page` must be between 1 and { $max }.
search-too_long = `q` is limited to { $max } characters.
search-too_many_words = `q` may contain at most { $max } words.
sort-relevance_needs_query = `sort=relevance` needs a search (`q`).
sort-relevance_no_cursor = Results sorted by relevance are paged with `page`, not `cursor`.
sort-featured_no_cursor = Featured articles in rank order are paged with `page`, not `cursor`.
audit-action_invalid = `action` must be an action name (`comment.moderate`) or a prefix ending in a dot (`comment.`).
audit-resource_invalid = `resource` must be a kind ({ $kinds }) optionally followed by `:` and an id, such as `article:12`.
article-if_match_invalid = `If-Match` must be "<version>".
article-if_match_disagrees = `If-Match` and `version` disagree.
cors-preflight_malformed = { $what ->
    [origin] CORS: a preflight needs an Origin header.
    [method] CORS: Access-Control-Request-Method must name one method.
    [headers] CORS: Access-Control-Request-Headers must be a comma-separated list of header names.
   *[other] CORS: the preflight request is malformed.
}
cors-origin_refused = CORS: the origin { $origin } may not call this API from a browser.
cors-method_refused = CORS: the method { $method } is not allowed; allowed: { $allowed }.
cors-headers_refused = { $count ->
    [one] CORS: the request header { $headers } is not allowed; allowed: { $allowed }.
   *[other] CORS: the request headers { $headers } are not allowed; allowed: { $allowed }.
}

auth-token_missing = Send an access token: `Authorization: Bearer <token>`.
auth-header_unreadable = The Authorization header is not readable.
auth-bearer_required = Use the Bearer scheme.
auth-token_invalid = The access token is invalid.
auth-token_expired = The access token has expired.
auth-account_inactive = The account is not active.
auth-session_ended = This sign-in session has ended; sign in again.
auth-credentials_wrong = The email or password is wrong.
auth-refresh_reused = This refresh token was already used; sign in again.
auth-refresh_invalid = The refresh token is invalid or expired.
auth-forbidden = The { $role } role may not do this.
article-no_access = The { $role } role has no articles to see.

route-not_found = No route matches this path.
resource-not_found = No such resource.
article-not_found = No such article.
revision-not_found = No such revision.
comment-not_found = No such comment.
author-not_found = No such author.
category-not_found = No such category.
tag-not_found = No such tag.
webhook-not_found = No such webhook.
webhook-delivery_not_found = No such delivery of this webhook.
sitemap-not_found = No such sitemap page.
media-not_found = No such file in the media library.
preview-not_found = This preview link is wrong, has expired, or its article is archived.
request-method_not_allowed = This resource does not support the request method.

article-slug_taken = An article with this slug already exists.
article-slug_exhausted = No free slug could be derived from this title; send one.
article-version_conflict = The article was changed by someone else; the current version is { $current }. Reload, reapply your edit and send that version.
article-illegal_transition = An article that is { $from } cannot become { $to }.
author-slug_taken = This slug is taken.
author-slug_exhausted = No free slug could be derived from this name; send one.
account-self_demote = Administrators cannot deactivate or demote themselves; ask another administrator.
account-self_deactivate = Administrators cannot deactivate themselves; ask another administrator.
account-email_taken = An account with this email already exists.
taxonomy-slug_taken = This slug is taken.
category-has_children = The category has sub-categories; move or delete them first.
comment-duplicate = The same comment was already sent a moment ago; it is waiting for moderation.
comment-closed = Comments are closed on this article.
comment-article_changed = The article changed while the comment was sent; send it again.
comment-illegal_transition = A { $from } comment cannot become { $to }.
webhook-delivery_pending = The delivery is pending already.
resource-exists = A resource with this value already exists.
resource-referenced = Other resources still refer to this one.
media-in_use = The file is used by { $count } article(s): { $articles }. Remove it from them first.

request-timeout = The request did not arrive in time.
body-too_large = The request body is limited to { $max } bytes.
request-headers_too_large = The request headers are too large.
body-unsupported_type = Send the body as application/json.
media-too_large = Files are limited to { $max } MB.
media-unsupported_type = This kind of file is not accepted ({ $found }): upload JPEG, PNG, WebP or GIF images, or PDF, DOCX, XLSX, ODT or ODS documents.
media-range_not_satisfiable = The range asks for bytes past the end of the file ({ $size } bytes).
media-form_required = Send the upload as multipart/form-data with the file in the `file` field.
validation-failed = One or more fields are invalid.
auth-rate_limited = Too many failed sign-ins; retry in { $seconds } seconds.
comment-rate_limited = Rate limit reached; retry in { $seconds } seconds.
service-unavailable = The database is unreachable; retry shortly.
internal-error = The server failed to complete the request. Quote the request id when reporting it.

## Invalid fields (`errors[].code`, `errors[].message`); `$field` names the field

field-required = { $field ->
    [author_ids] needs at least one author
    [events] name at least one event
   *[other] must not be empty
}
field-too_long = { $field ->
    [password] must be at most { $max } bytes
    [new_password] must be at most { $max } bytes
   *[other] must be at most { $max } characters
}
field-too_short = must be at least { $min } characters
field-wrong_type = has the wrong type
field-unknown_field = is not a field of this request
field-invalid_value = { $field ->
    [parent_id] must be a comment id
   *[other] is not a valid value
}
field-invalid_format = { $field ->
    [slug] must be lower-case letters a-z, digits and single inner hyphens, at most { $max } characters
   *[other] has an invalid format
}
field-invalid_character = must not contain the NUL character (U+0000)
field-invalid_phone = must be a phone number such as 0912345678 or +84912345678
field-invalid_email = must be an email address
field-invalid_url = { $field ->
    [url] must be an http(s) URL with a host and without a user name, password or #fragment, of at most { $max } characters
   *[other] must be an http(s) URL of at most { $max } characters
}
field-private_target = resolves to { $address }, which is not a public address (set NEWSDESK_WEBHOOK_ALLOW_PRIVATE=true to allow it)
field-no_letters = needs a letter or digit
field-unknown_reference = { $field ->
    [category_id] names a category that does not exist
    [parent_id] names a category that does not exist
    [author_ids] names an author that does not exist
    [tag_ids] names a tag that does not exist
   *[other] names something that does not exist
}
field-duplicate = { $field ->
    [author_ids] names an author twice
   *[other] is given twice
}
field-must_include_self = must include you
field-out_of_range = must hold { $min } to { $max } items
field-number_out_of_range = must be from { $min } to { $max }
field-after_publication = must be later than both now and the publication time
field-not_importable = `{ $status }` cannot be imported; use draft or published
field-version_required = send the version you read, as `version` or `If-Match`, so no one's edit is overwritten
field-email_required = is required with a password
field-password_equals_email = must not be the email address
field-password_wrong = is wrong
field-parent_invalid = must be an approved comment of this article
field-tree_cycle = would put the category inside itself
field-tree_too_deep = the tree is too deep
field-captcha_missing = send `captcha_token` and `captcha_answer` from GET /api/v1/captcha
field-captcha_invalid = the captcha token is not valid; get a new code
field-captcha_expired = the code has expired; get a new code
field-captcha_wrong = the code does not match the picture; get a new code
field-captcha_used = this code has already been used; get a new code
field-too_many_pixels = the image is { $width }×{ $height } pixels; at most { $max } megapixels are accepted
field-unreadable_image = the image could not be read: the file is damaged or truncated
field-not_an_image = names a document, and a cover must be an image
field-file_unreadable = names no readable file in the imported file's folder
