# Reads one `wrk --latency` output and prints one tab-separated line:
#   requests_per_sec  p50_ms  p99_ms  non_2xx_3xx  socket_errors  requests
# Fields wrk did not print come out as `NA` (errors as 0), so a broken run is visible
# in the table instead of silently becoming a number.

function to_ms(v,    n, unit) {
    n = v + 0
    unit = v
    sub(/^[0-9.]+/, "", unit)
    if (unit == "us") return n / 1000
    if (unit == "ms") return n
    if (unit == "s")  return n * 1000
    if (unit == "m")  return n * 60000
    if (unit == "h")  return n * 3600000
    return "NA"
}

BEGIN { rps = "NA"; p50 = "NA"; p99 = "NA"; non2xx = 0; sockerr = 0; requests = "NA" }

/^Requests\/sec:/                { rps = $2 }
/^[ \t]+50(\.0+)?%[ \t]/         { p50 = to_ms($2) }
/^[ \t]+99(\.0+)?%[ \t]/         { p99 = to_ms($2) }
/requests in /                   { requests = $1 }
/Non-2xx or 3xx responses:/      { non2xx = $NF }
/Socket errors:/ {
    # "Socket errors: connect 0, read 0, write 0, timeout 0"
    for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { x = $i; sub(/,/, "", x); sockerr += x }
}

END { printf "%s\t%s\t%s\t%s\t%s\t%s\n", rps, p50, p99, non2xx, sockerr, requests }
