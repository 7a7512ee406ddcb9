-- wrk script: article pages drawn from a Zipf distribution over every slug of a
-- `bench/gen-articles.py N` dataset (slugs `bai-1` … `bai-N`), the long tail of a news site's
-- traffic. Used by bench/zipf.endpoints; see bench/README.md, "The long tail".
--
-- Environment: ZIPF_N, the number of articles (default 100000); ZIPF_S, the exponent
-- (default 1.0). The k-th most requested article is `bai-((k * 7919) mod N + 1)`: popularity
-- is spread over the whole archive instead of following the import order, so the popular
-- pages are not also the neighbours on disk. 7919 is prime, so with N not a multiple of it
-- every article has a rank.
--
-- At the end it prints one line:
--   zipf.lua: n=N s=S requests=R distinct=D top1=P1% top100=P100%
-- (the distinct slugs and the share of the most requested one and hundred, from thread 1's
-- sample), so a run shows what its mix really was.

local threads = {}

local n = tonumber(os.getenv("ZIPF_N") or "100000")
local s = tonumber(os.getenv("ZIPF_S") or "1.0")

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

local cdf
local seen
local requests = 0

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
    seen = {}
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

function request()
    local k = rank(math.random())
    requests = requests + 1
    if tid == 1 then
        seen[k] = (seen[k] or 0) + 1
    end
    return wrk.format("GET", "/api/v1/articles/bai-" .. ((k * 7919) % n + 1))
end

function done(summary, latency, requests_)
    local t = threads[1]
    if not t then
        return
    end
    -- wrk copies a thread's globals, tables included, into this state on `get`.
    local sample, count = t:get("seen"), t:get("requests")
    if not sample or not count or count == 0 then
        return
    end
    local distinct, top1, top100 = 0, sample[1] or 0, 0
    for k, c in pairs(sample) do
        distinct = distinct + 1
        if k <= 100 then
            top100 = top100 + c
        end
    end
    io.write(string.format(
        "zipf.lua: n=%d s=%.2f requests=%d distinct=%d top1=%.1f%% top100=%.1f%%\n",
        n, s, count, distinct, 100 * top1 / count, 100 * top100 / count))
end
