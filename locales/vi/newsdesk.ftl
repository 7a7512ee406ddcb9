# Thông báo của newsdesk API bằng tiếng Việt: trả về khi trình duyệt hoặc ứng dụng ưu tiên
# `vi` trong `Accept-Language`. Mỗi mã phải có ở cả hai tệp (tiếng Việt và tiếng Anh).

## Loại lỗi (`title`)

problem-bad-request = Yêu cầu không hợp lệ
problem-unauthorized = Cần đăng nhập
problem-forbidden = Không có quyền
problem-not-found = Không tìm thấy
problem-method-not-allowed = Phương thức không được hỗ trợ
problem-request-timeout = Hết thời gian chờ
problem-version-conflict = Xung đột phiên bản
problem-illegal-transition = Không thể chuyển trạng thái
problem-already-exists = Đã tồn tại
problem-duplicate-submission = Gửi trùng lặp
problem-in-use = Đang được sử dụng
problem-closed = Đã đóng
problem-payload-too-large = Nội dung gửi lên quá lớn
problem-unsupported-media-type = Kiểu nội dung không được hỗ trợ
problem-validation = Dữ liệu không hợp lệ
problem-rate-limited = Thao tác quá nhanh
problem-headers-too-large = Tiêu đề yêu cầu quá lớn
problem-internal = Lỗi hệ thống
problem-unavailable = Hệ thống tạm gián đoạn

## Lỗi (`code`, `detail`)

request-malformed = Yêu cầu không hợp lệ.
body-malformed_json = Nội dung gửi lên không phải JSON hợp lệ (dòng { $line }, cột { $column }).
body-unreadable = Không đọc được nội dung gửi lên.
query-invalid = Chuỗi truy vấn không hợp lệ.
query-invalid_param = Tham số `{ $name }` bị thiếu hoặc không hợp lệ.
query-invalid_date = Tham số `{ $name }` phải là ngày (2020-01-14) hoặc thời điểm theo RFC 3339.
query-invalid_cursor = Giá trị `cursor` không hợp lệ.
query-cursor_other_search = Giá trị `cursor` không thuộc về lượt tìm kiếm này.
query-range_reversed = Thời điểm `from` không được sau thời điểm `to`.
query-page_range = Tham số `page` phải từ 1 đến { $max }.
query-per_page_range = Tham số `per_page` phải từ 1 đến { $max }.
search-too_long = Từ khóa tìm kiếm không được quá { $max } ký tự.
search-too_many_words = Từ khóa tìm kiếm không được quá { $max } từ.
sort-relevance_needs_query = Sắp xếp theo mức độ liên quan (`sort=relevance`) cần có từ khóa tìm kiếm (`q`).
sort-relevance_no_cursor = Kết quả sắp xếp theo mức độ liên quan được phân trang bằng `page`, không dùng `cursor`.
sort-featured_no_cursor = Danh sách tin nổi bật theo thứ hạng được phân trang bằng `page`, không dùng `cursor`.
audit-action_invalid = Tham số `action` phải là tên thao tác (`comment.moderate`) hoặc tiền tố kết thúc bằng dấu chấm (`comment.`).
audit-resource_invalid = Tham số `resource` phải là loại đối tượng ({ $kinds }), có thể kèm `:` và mã số, ví dụ `article:12`.
article-if_match_invalid = `If-Match` phải có dạng "<số phiên bản>".
article-if_match_disagrees = `If-Match` và `version` không khớp nhau.
cors-preflight_malformed = { $what ->
    [origin] CORS: yêu cầu kiểm tra trước (preflight) cần có tiêu đề Origin.
    [method] CORS: Access-Control-Request-Method phải nêu đúng một phương thức.
    [headers] CORS: Access-Control-Request-Headers phải là danh sách tên tiêu đề cách nhau bằng dấu phẩy.
   *[other] CORS: yêu cầu kiểm tra trước (preflight) không hợp lệ.
}
cors-origin_refused = CORS: nguồn { $origin } không được phép gọi API này từ trình duyệt.
cors-method_refused = CORS: không cho phép phương thức { $method }; được phép: { $allowed }.
cors-headers_refused = CORS: không cho phép tiêu đề { $headers }; được phép: { $allowed }.

auth-token_missing = Vui lòng đăng nhập: gửi mã truy cập trong tiêu đề `Authorization: Bearer <token>`.
auth-header_unreadable = Không đọc được tiêu đề Authorization.
auth-bearer_required = Vui lòng dùng kiểu xác thực Bearer.
auth-token_invalid = Mã truy cập không hợp lệ.
auth-token_expired = Mã truy cập đã hết hạn.
auth-account_inactive = Tài khoản không còn hoạt động.
auth-session_ended = Phiên đăng nhập đã kết thúc; vui lòng đăng nhập lại.
auth-credentials_wrong = Email hoặc mật khẩu không đúng.
auth-refresh_reused = Mã làm mới đã được sử dụng; vui lòng đăng nhập lại.
auth-refresh_invalid = Mã làm mới không hợp lệ hoặc đã hết hạn.
auth-forbidden = Vai trò { $role } không có quyền thực hiện thao tác này.
article-no_access = Vai trò { $role } không được xem bài viết.

route-not_found = Không tìm thấy đường dẫn này.
resource-not_found = Không tìm thấy dữ liệu yêu cầu.
article-not_found = Không tìm thấy bài viết.
revision-not_found = Không tìm thấy phiên bản của bài viết.
comment-not_found = Không tìm thấy bình luận.
author-not_found = Không tìm thấy tác giả.
category-not_found = Không tìm thấy chuyên mục.
tag-not_found = Không tìm thấy thẻ.
webhook-not_found = Không tìm thấy webhook.
webhook-delivery_not_found = Không tìm thấy lần gửi này của webhook.
sitemap-not_found = Không tìm thấy trang sơ đồ website.
media-not_found = Không tìm thấy tệp này trong thư viện.
preview-not_found = Liên kết xem trước không đúng, đã hết hạn hoặc bài viết đã được lưu trữ.
request-method_not_allowed = Phương thức yêu cầu không được hỗ trợ cho địa chỉ này.

article-slug_taken = Đã có bài viết dùng đường dẫn (slug) này.
article-slug_exhausted = Không tạo được đường dẫn (slug) từ tiêu đề này; vui lòng nhập slug.
article-version_conflict = Bài viết vừa được người khác sửa; phiên bản hiện tại là { $current }. Vui lòng tải lại, sửa lại và gửi kèm phiên bản đó.
article-illegal_transition = Bài viết đang ở trạng thái “{ $from ->
        [draft] bản nháp
        [in_review] chờ duyệt
        [scheduled] hẹn giờ đăng
        [published] đã đăng
        [archived] lưu trữ
       *[other] { $from }
    }” không thể chuyển sang “{ $to ->
        [draft] bản nháp
        [in_review] chờ duyệt
        [scheduled] hẹn giờ đăng
        [published] đã đăng
        [archived] lưu trữ
       *[other] { $to }
    }”.
author-slug_taken = Đường dẫn (slug) này đã được dùng.
author-slug_exhausted = Không tạo được đường dẫn (slug) từ tên này; vui lòng nhập slug.
account-self_demote = Quản trị viên không thể tự khóa hoặc tự hạ quyền tài khoản của mình; vui lòng nhờ quản trị viên khác.
account-self_deactivate = Quản trị viên không thể tự khóa tài khoản của mình; vui lòng nhờ quản trị viên khác.
account-email_taken = Email này đã được dùng cho một tài khoản khác.
taxonomy-slug_taken = Đường dẫn (slug) này đã được dùng.
category-has_children = Chuyên mục còn chuyên mục con; vui lòng chuyển hoặc xóa các chuyên mục con trước.
comment-duplicate = Bạn vừa gửi bình luận này; bình luận đang chờ kiểm duyệt.
comment-closed = Bài viết này đã đóng bình luận.
comment-article_changed = Bài viết vừa thay đổi trong lúc gửi bình luận; vui lòng gửi lại.
comment-illegal_transition = Bình luận đang ở trạng thái “{ $from ->
        [pending] chờ duyệt
        [approved] đã duyệt
        [rejected] bị từ chối
        [spam] thư rác
       *[other] { $from }
    }” không thể chuyển sang “{ $to ->
        [pending] chờ duyệt
        [approved] đã duyệt
        [rejected] bị từ chối
        [spam] thư rác
       *[other] { $to }
    }”.
webhook-delivery_pending = Lần gửi này đang chờ được gửi.
resource-exists = Giá trị này đã được sử dụng.
resource-referenced = Dữ liệu này vẫn đang được dùng ở nơi khác.
media-in_use = Tệp đang được dùng trong { $count } bài viết: { $articles }. Hãy gỡ tệp khỏi các bài đó trước.

request-timeout = Yêu cầu gửi lên quá chậm; vui lòng thử lại.
body-too_large = Nội dung gửi lên không được quá { $max } byte.
request-headers_too_large = Phần tiêu đề của yêu cầu quá lớn.
body-unsupported_type = Vui lòng gửi nội dung dạng application/json.
media-too_large = Tệp tải lên không được quá { $max } MB.
media-unsupported_type = Không nhận loại tệp này ({ $found }): chỉ nhận ảnh JPEG, PNG, WebP, GIF hoặc văn bản PDF, DOCX, XLSX, ODT, ODS.
media-range_not_satisfiable = Khoảng byte yêu cầu vượt quá cuối tệp (tệp có { $size } byte).
media-form_required = Vui lòng gửi tệp dạng multipart/form-data, tệp đặt trong trường `file`.
validation-failed = Một số thông tin chưa hợp lệ, vui lòng kiểm tra lại.
auth-rate_limited = Đăng nhập sai quá nhiều lần; vui lòng thử lại sau { $seconds } giây.
comment-rate_limited = Bạn gửi bình luận quá nhanh; vui lòng thử lại sau { $seconds } giây.
service-unavailable = Hệ thống đang tạm gián đoạn; vui lòng thử lại sau ít phút.
internal-error = Đã xảy ra lỗi hệ thống. Khi báo lỗi, vui lòng gửi kèm mã yêu cầu (request id).

## Trường không hợp lệ (`errors[].code`, `errors[].message`); `$field` là tên trường

field-required = { $field ->
    [name] Vui lòng nhập họ tên.
    [title] Vui lòng nhập tiêu đề.
    [content] Vui lòng nhập nội dung.
    [body] Vui lòng nhập nội dung.
    [email] Vui lòng nhập email.
    [password] Vui lòng nhập mật khẩu.
    [author_ids] Vui lòng chọn ít nhất một tác giả.
    [authors] Vui lòng nhập tên tác giả.
    [events] Vui lòng chọn ít nhất một sự kiện.
   *[other] Vui lòng nhập thông tin này.
}
field-too_long = { $field ->
    [password] Mật khẩu không được dài quá { $max } byte.
    [new_password] Mật khẩu không được dài quá { $max } byte.
   *[other] Không được quá { $max } ký tự.
}
field-too_short = { $field ->
    [password] Mật khẩu cần ít nhất { $min } ký tự.
    [new_password] Mật khẩu cần ít nhất { $min } ký tự.
   *[other] Cần ít nhất { $min } ký tự.
}
field-wrong_type = Sai kiểu dữ liệu.
field-unknown_field = Trường này không được hỗ trợ.
field-invalid_value = Giá trị không hợp lệ.
field-invalid_format = { $field ->
    [slug] Đường dẫn (slug) chỉ gồm chữ thường a-z, chữ số và dấu gạch ngang đơn ở giữa, tối đa { $max } ký tự.
   *[other] Định dạng không hợp lệ.
}
field-invalid_character = Không được chứa ký tự NUL (U+0000).
field-invalid_phone = Số điện thoại không hợp lệ (ví dụ 0912345678 hoặc +84912345678).
field-invalid_email = Địa chỉ email không hợp lệ.
field-invalid_url = { $field ->
    [url] Phải là địa chỉ http(s) có tên máy chủ, không kèm tên người dùng, mật khẩu hay #phân đoạn, tối đa { $max } ký tự.
   *[other] Phải là địa chỉ http(s) hợp lệ, tối đa { $max } ký tự.
}
field-private_target = Địa chỉ { $address } không phải địa chỉ công khai (đặt NEWSDESK_WEBHOOK_ALLOW_PRIVATE=true để cho phép).
field-no_letters = Cần có ít nhất một chữ cái hoặc chữ số.
field-unknown_reference = { $field ->
    [category_id] Chuyên mục không tồn tại.
    [parent_id] Chuyên mục cha không tồn tại.
    [author_ids] Có tác giả không tồn tại.
    [tag_ids] Có thẻ không tồn tại.
   *[other] Dữ liệu được chọn không tồn tại.
}
field-duplicate = { $field ->
    [author_ids] Một tác giả được chọn hai lần.
   *[other] Giá trị bị lặp lại.
}
field-must_include_self = Danh sách tác giả phải có tên bạn.
field-out_of_range = Cần từ { $min } đến { $max } mục.
field-number_out_of_range = Giá trị phải từ { $min } đến { $max }.
field-after_publication = Phải sau cả thời điểm hiện tại và thời điểm đăng bài.
field-not_importable = Không nhập được bài ở trạng thái `{ $status }`; chỉ dùng draft hoặc published.
field-version_required = Vui lòng gửi kèm phiên bản đã đọc (`version` hoặc `If-Match`) để không ghi đè sửa đổi của người khác.
field-email_required = Tài khoản có mật khẩu cần có email.
field-password_equals_email = Mật khẩu không được trùng với email.
field-password_wrong = Mật khẩu hiện tại không đúng.
field-parent_invalid = Bình luận được trả lời không tồn tại hoặc chưa được duyệt.
field-tree_cycle = Không thể đặt chuyên mục vào trong chính nó.
field-tree_too_deep = Cây chuyên mục quá nhiều cấp.
field-captcha_missing = Vui lòng nhập mã xác nhận.
field-captcha_invalid = Mã xác nhận không hợp lệ; vui lòng lấy mã mới.
field-captcha_expired = Mã xác nhận đã hết hạn; vui lòng lấy mã mới.
field-captcha_wrong = Mã xác nhận không đúng; vui lòng nhập mã mới.
field-captcha_used = Mã xác nhận đã được sử dụng; vui lòng lấy mã mới.
field-too_many_pixels = Ảnh có { $width }×{ $height } điểm ảnh; chỉ nhận ảnh tối đa { $max } megapixel.
field-unreadable_image = Không đọc được ảnh: tệp bị hỏng hoặc không trọn vẹn.
field-not_an_image = Ảnh đại diện phải là ảnh, không phải văn bản.
field-file_unreadable = Không đọc được tệp này trong thư mục của tệp nhập.
