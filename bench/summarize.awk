# Reads rounds.tsv (one line per measurement, written by bench/run):
#   name  path  round  req_per_sec  p50_ms  p99_ms  non_2xx_3xx  socket_errors  requests
# and prints a Markdown table with one row per endpoint, in first-seen order:
# medians over the rounds, the req/s range, and the median req/s relative to `ceiling`
# (the endpoint named by -v ceiling=NAME, normally healthz).

function median(list,    a, n, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return "NA"
    for (i = 2; i <= n; i++) {           # insertion sort: a handful of rounds at most
        t = a[i] + 0
        for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    if (n % 2) return a[(n + 1) / 2] + 0
    return (a[n / 2] + a[n / 2 + 1]) / 2
}

function add(key, value) {
    if (value == "NA" || value == "") { missing[key]++; return }
    vals[key] = vals[key] " " value
}

BEGIN { FS = "\t" }

$0 ~ /^#/ || NF < 9 { next }

{
    name = $1
    if (!(name in path)) { order[++count] = name; path[name] = $2; min[name] = ""; max[name] = "" }
    rounds[name]++
    add(name SUBSEP "rps", $4)
    add(name SUBSEP "p50", $5)
    add(name SUBSEP "p99", $6)
    errors[name] += $7 + $8
    if ($4 != "NA") {
        if (min[name] == "" || $4 + 0 < min[name]) min[name] = $4 + 0
        if (max[name] == "" || $4 + 0 > max[name]) max[name] = $4 + 0
    }
}

END {
    for (i = 1; i <= count; i++) {
        name = order[i]
        med_rps[name] = median(vals[name SUBSEP "rps"])
    }
    base = (ceiling in med_rps) ? med_rps[ceiling] : "NA"

    print "| endpoint | path | median req/s | min–max req/s | median p50 ms | median p99 ms | × /healthz | rounds | errors |"
    print "|---|---|--:|--:|--:|--:|--:|--:|--:|"
    for (i = 1; i <= count; i++) {
        name = order[i]
        r = med_rps[name]
        p50 = median(vals[name SUBSEP "p50"])
        p99 = median(vals[name SUBSEP "p99"])
        range = (min[name] == "") ? "NA" : sprintf("%.0f–%.0f", min[name], max[name])
        ratio = (r == "NA" || base == "NA" || base + 0 == 0) ? "NA" : sprintf("%.2f", r / base)
        nrounds = rounds[name]
        bad = missing[name SUBSEP "rps"] + 0
        if (bad) nrounds = nrounds " (" bad " unparsed)"
        printf "| %s | `%s` | %s | %s | %s | %s | %s | %s | %d |\n", name, path[name], \
            (r == "NA" ? "NA" : sprintf("%.0f", r)), range, \
            (p50 == "NA" ? "NA" : sprintf("%.2f", p50)), \
            (p99 == "NA" ? "NA" : sprintf("%.2f", p99)), ratio, nrounds, errors[name]
    }
}
