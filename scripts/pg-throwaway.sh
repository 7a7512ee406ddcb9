# Throwaway PostgreSQL clusters for CI and benchmarks; source this file, then:
#   pg_throwaway_start DIR PORT   initdb + start on 127.0.0.1:PORT, data under DIR
#   pg_throwaway_stop DIR         stop (fast) and remove DIR
#   pg_throwaway_pause DIR        stop the server (fast), keeping its data: an outage
#   pg_throwaway_resume DIR PORT  start it again on the same port
# As root, initdb refuses to run: the cluster then belongs to the `postgres` user.

pg_throwaway_bin() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $newest && -x $newest/pg_ctl ]] || { echo "no PostgreSQL binaries found" >&2; return 1; }
  echo "$newest"
}

pg_throwaway_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_throwaway_start() {
  local dir=$1 port=$2 bin
  bin=$(pg_throwaway_bin) || return 1
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
  pg_throwaway_as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  pg_throwaway_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
}

pg_throwaway_pause() {
  local dir=$1 bin
  bin=$(pg_throwaway_bin) || return 1
  pg_throwaway_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

pg_throwaway_resume() {
  local dir=$1 port=$2 bin
  bin=$(pg_throwaway_bin) || return 1
  pg_throwaway_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
}

pg_throwaway_stop() {
  local dir=$1 bin
  bin=$(pg_throwaway_bin) || return 0
  if [[ -d $dir/data ]]; then
    pg_throwaway_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
