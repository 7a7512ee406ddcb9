-- wrk script: article pages drawn from a Zipf distribution over every slug of a
-- `bench/gen-articles.py N` dataset (slugs `bai-1` … `bai-N`), the long tail of a news site's
-- traffic. Used by bench/zipf.endpoints; see bench/README.md, "The long tail".
--
-- Environment: ZIPF_N, the number of articles (default 100000); ZIPF_S, the exponent
-- (default 1.0); ZIPF_ACCEPT_ENCODING, the Accept-Encoding sent (default "gzip, deflate, br",
-- as browsers send it; empty for none, as a client that decodes nothing). The k-th most requested article is `bai-((k * 7919) mod N + 1)`: popularity
-- is spread over the whole archive instead of following the import order, so the popular
-- pages are not also the neighbours on disk. 7919 is prime, so with N not a multiple of it
-- every article has a rank.
--
-- At the end it prints one line per thread:
--   thread T: zipf.lua: n=N s=S requests=R distinct=D top1=P1% top100=P100%
-- (the distinct slugs it asked for and the share of the most requested one and hundred), so a
-- run shows what its mix really was.

local threads = {}

local n = tonumber(os.getenv("ZIPF_N") or "100000")
local s = tonumber(os.getenv("ZIPF_S") or "1.0")
local accept_encoding = os.getenv("ZIPF_ACCEPT_ENCODING") or "gzip, deflate, br"
local headers = {}
if accept_encoding ~= "" then
    headers["Accept-Encoding"] = accept_encoding
end

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

local cdf
local seen = {}
local requests, distinct, top1, top100 = 0, 0, 0, 0

local function build()
    cdf = {}
    local total = 0.0
    for k = 1, n do
        total = total + 1.0 / (k ^ s)
        cdf[k] = total
    end
    for k = 1, n do
        cdf[k] = cdf[k] / total
    end
end

function init(args)
    math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
    build()
end

-- The rank whose cumulative probability first reaches u.
local function rank(u)
    local lo, hi = 1, n
    while lo < hi do
        local mid = math.floor((lo + hi) / 2)
        if cdf[mid] < u then
            lo = mid + 1
        else
            hi = mid
        end
    end
    return lo
end

-- wrk copies only plain values out of a thread's state: the mix is kept as one string.
local function summarise()
    zipf_summary = string.format(
        "zipf.lua: n=%d s=%.2f requests=%d distinct=%d top1=%.1f%% top100=%.1f%%",
        n, s, requests, distinct, 100 * top1 / requests, 100 * top100 / requests)
end

function request()
    local k = rank(math.random())
    requests = requests + 1
    if not seen[k] then
        seen[k] = true
        distinct = distinct + 1
    end
    if k == 1 then
        top1 = top1 + 1
    end
    if k <= 100 then
        top100 = top100 + 1
    end
    if requests % 100 == 1 then
        summarise()
    end
    return wrk.format("GET", "/api/v1/articles/bai-" .. ((k * 7919) % n + 1), headers)
end

function done(summary, latency, requests_)
    for _, t in ipairs(threads) do
        local line = t:get("zipf_summary")
        if line then
            io.write(string.format("thread %d: %s\n", t:get("tid"), line))
        end
    end
end
