-- wrk script: public comment submission, POST /api/v1/articles/{slug}/comments.
-- Used by bench/comments.endpoints; see bench/README.md, "Comment submission".
--
-- Each request is a new reader: a distinct X-Forwarded-For address (the server must run with
-- NEWSDESK_TRUSTED_PROXIES=127.0.0.1 for it to count) and a distinct text, so neither the
-- per-client rate limit (429) nor the duplicate check (409) refuses it, while both still run.
-- Texts carry a random run id as well, so warm-up and rounds within the 10-minute duplicate
-- window never repeat one another. The captcha must be off (NEWSDESK_CAPTCHA=off).
--
-- At the end it prints one line that bench/verify-comments adds up:
--   comment.lua: accepted=N other=M statuses=202:N,429:M
-- plus the status and body of the first refused answer of each thread, if any.

-- Setup and done run in a Lua state of their own; `tid` and `run_id` are copied into each
-- thread's state as globals.
local threads = {}
local this_run

local function random_run_id()
    local f = io.open("/dev/urandom", "rb")
    if f then
        local bytes = f:read(3)
        f:close()
        if bytes and #bytes == 3 then
            return bytes:byte(1) * 65536 + bytes:byte(2) * 256 + bytes:byte(3)
        end
    end
    return (os.time() * 7919) % 16777216
end

function setup(thread)
    this_run = this_run or random_run_id()
    thread:set("tid", #threads)
    thread:set("run_id", this_run)
    table.insert(threads, thread)
end

-- Per thread (each thread has its own Lua state).
local counter = 0
accepted = 0
other = 0
statuses = {}
first_refusal = nil

local headers = { ["Content-Type"] = "application/json" }

function request()
    counter = counter + 1
    -- 10.0.0.0/8 holds 2^24 addresses; threads (at most 64 in bench/run) interleave, and the
    -- run id offsets each run, so an address comes back only after 262,144 requests of one thread.
    local n = (run_id + tid + counter * 64) % 16777216
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d",
        math.floor(n / 65536), math.floor(n / 256) % 256, n % 256)
    local tag = string.format("%06x-%d-%d", run_id, tid, counter)
    local body = string.format(
        '{"name":"Nguyễn Văn An","phone":"0912345678","email":"an.nguyen@example.vn",' ..
        '"title":"Góp ý về thủ tục hành chính",' ..
        '"content":"Tôi đề nghị Sở Nội vụ công khai thời hạn giải quyết hồ sơ trên cổng dịch vụ công ' ..
        'và trả lời công dân qua tin nhắn khi hồ sơ bị trả lại. Ý kiến số %s."}', tag)
    return wrk.format("POST", nil, headers, body)
end

function response(status, _, body)
    if status == 202 then
        accepted = accepted + 1
    else
        other = other + 1
        if not first_refusal then
            first_refusal = status .. " " .. string.sub(body or "", 1, 300)
        end
    end
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
    local total_accepted, total_other, by_status = 0, 0, {}
    for _, thread in ipairs(threads) do
        total_accepted = total_accepted + (thread:get("accepted") or 0)
        total_other = total_other + (thread:get("other") or 0)
        for status, count in pairs(thread:get("statuses") or {}) do
            by_status[status] = (by_status[status] or 0) + count
        end
    end
    local keys = {}
    for status in pairs(by_status) do table.insert(keys, status) end
    table.sort(keys)
    local parts = {}
    for _, status in ipairs(keys) do table.insert(parts, status .. ":" .. by_status[status]) end
    io.write(string.format("comment.lua: accepted=%d other=%d statuses=%s run=%06x\n",
        total_accepted, total_other, table.concat(parts, ","), this_run or 0))
    for i, thread in ipairs(threads) do
        local refusal = thread:get("first_refusal")
        if refusal then
            io.write(string.format("comment.lua: thread %d first refusal: %s\n", i - 1, refusal))
        end
    end
end
