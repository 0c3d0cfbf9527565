#!/usr/bin/env bash
# deploy/keycloak/keycloak.sh — run a real Keycloak (an OpenID Connect provider) for xinfang's
# OIDC sign-in (issue 14 item 1a, decision 026) with only Java 17 and Maven; no Docker.
# `start-dev` mode: HTTP on 127.0.0.1, an H2 database file in the state folder. For development,
# the demo and the tests; a province's identity platform is run by the province.
#
#   keycloak.sh fetch    download org.keycloak:keycloak-quarkus-dist (zip) with Maven, unzip once
#   keycloak.sh start    fetch if needed, start, import the realm generated from the topology
#                        (once per state folder), wait until the realm's discovery document answers
#   keycloak.sh stop     SIGTERM, wait for a clean exit, SIGKILL after the stop timeout
#   keycloak.sh status   exit 0 and print the realm's issuer URL if it answers, else exit 1
#   keycloak.sh reset    stop and delete the state folder (the downloaded distribution is kept)
#   keycloak.sh logs [L] print the last L lines of Keycloak's log
#
# Environment (all optional):
#   XINFANG_KEYCLOAK_PORT           HTTP port on 127.0.0.1               (default 8180)
#   XINFANG_KEYCLOAK_STATE          state folder: database, logs, pid, realm file, admin credentials
#                                                                        (default deploy/keycloak/.state)
#   XINFANG_KEYCLOAK_HOME           download cache                       (default deploy/keycloak/.cache)
#   XINFANG_KEYCLOAK_REALM_FILE     realm JSON to import                 (default: generated with
#                                   `xinfang keycloak realm` from XINFANG_KEYCLOAK_TOPOLOGY)
#   XINFANG_KEYCLOAK_TOPOLOGY       topology of the generated realm      (default deploy/topology/chifeng.yaml)
#   XINFANG_KEYCLOAK_AUDIENCE       `aud` of access tokens (XINFANG_OIDC_AUDIENCE of the nodes)
#                                                                        (default xinfang-api)
#   XINFANG_KEYCLOAK_TEST_PASSWORD  if set: the generated realm has test users (one per role at
#                                   150400 and 150404) with this password, and the test clients
#   XINFANG_KEYCLOAK_PYTHON         Python with xinfang installed        (default .venv/bin/python, python3)
#   XINFANG_KEYCLOAK_START_TIMEOUT  seconds to wait for the realm        (default 240)
#   XINFANG_KEYCLOAK_STOP_TIMEOUT   seconds to wait after SIGTERM        (default 30)
#   XINFANG_KEYCLOAK_HEAP           heap options                         (default "-Xms64m -Xmx512m")
#   KC_BOOTSTRAP_ADMIN_USERNAME / KC_BOOTSTRAP_ADMIN_PASSWORD
#                                   the master realm's first administrator (default: admin and a
#                                   random password, kept in <state>/admin.env, mode 0600)
#   JAVA_HOME                       Java 17+ to use (default: `java` on PATH)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
KEYCLOAK_VERSION=26.7.3
ARTIFACT="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip"
REALM=xinfang

abspath() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

CACHE_DIR="$(abspath "${XINFANG_KEYCLOAK_HOME:-$SCRIPT_DIR/.cache}")"
DIST_DIR="$CACHE_DIR/keycloak-$KEYCLOAK_VERSION"
STATE_DIR="$(abspath "${XINFANG_KEYCLOAK_STATE:-$SCRIPT_DIR/.state}")"
LOG_DIR="$STATE_DIR/logs"
LOG_FILE="$LOG_DIR/keycloak.out"
PID_FILE="$STATE_DIR/keycloak.pid"
ADMIN_ENV="$STATE_DIR/admin.env"
REALM_FILE="$STATE_DIR/realm.json"
TOPOLOGY="$(abspath "${XINFANG_KEYCLOAK_TOPOLOGY:-$SCRIPT_DIR/../topology/chifeng.yaml}")"
AUDIENCE="${XINFANG_KEYCLOAK_AUDIENCE:-xinfang-api}"
HOST=127.0.0.1
PORT="${XINFANG_KEYCLOAK_PORT:-8180}"
BASE_URL="http://$HOST:$PORT"
ISSUER="$BASE_URL/realms/$REALM"
START_TIMEOUT="${XINFANG_KEYCLOAK_START_TIMEOUT:-240}"
STOP_TIMEOUT="${XINFANG_KEYCLOAK_STOP_TIMEOUT:-30}"
HEAP_OPTS="${XINFANG_KEYCLOAK_HEAP:--Xms64m -Xmx512m}"
# Marks the JVM of THIS state folder on its command line (pid files can be stale).
MARKER="-Dxinfang.keycloak.state=$STATE_DIR"

if [ -n "${XINFANG_KEYCLOAK_PYTHON:-}" ]; then
  PYTHON="$XINFANG_KEYCLOAK_PYTHON"
elif [ -x "$SCRIPT_DIR/../../.venv/bin/python" ]; then
  PYTHON="$SCRIPT_DIR/../../.venv/bin/python"
else
  PYTHON=python3
fi
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

say() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }
die() { err "错误 / error: $*"; exit 1; }
now_ms() { date +%s%3N; }
elapsed() { # seconds since $1 (ms), one decimal
  local d=$(($(now_ms) - $1))
  printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100))
}
is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
lock() { # exclusive lock on file $2 with descriptor $1 (no-op without flock)
  command -v flock >/dev/null 2>&1 || return 0
  eval "exec $1>\"\$2\""
  flock "$1"
}
validate() {
  is_uint "$PORT" || die "XINFANG_KEYCLOAK_PORT 不是端口号 / is not a port number: '$PORT'"
  is_uint "$START_TIMEOUT" || die "XINFANG_KEYCLOAK_START_TIMEOUT 必须是整数秒 / must be whole seconds"
  is_uint "$STOP_TIMEOUT" || die "XINFANG_KEYCLOAK_STOP_TIMEOUT 必须是整数秒 / must be whole seconds"
}

# HTTP status of GET $1 ("000" when nothing answers).
http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true; }
realm_ready() { [ "$(http_code "$ISSUER/.well-known/openid-configuration")" = 200 ]; }
server_ready() { [ "$(http_code "$BASE_URL/realms/master/.well-known/openid-configuration")" = 200 ]; }

# ---------------------------------------------------------------------------------------------
# Distribution cache

cache_ok() { [ -f "$DIST_DIR/.complete" ] && [ -x "$DIST_DIR/bin/kc.sh" ]; }

cmd_fetch() {
  if cache_ok; then
    say "Keycloak 已下载 / Keycloak $KEYCLOAK_VERSION already in $DIST_DIR"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 ||
    die "找不到 mvn / mvn not found (Debian: apt-get install -y maven openjdk-17-jdk-headless)"
  command -v unzip >/dev/null 2>&1 || die "找不到 unzip / unzip not found (Debian: apt-get install -y unzip)"
  mkdir -p "$CACHE_DIR"
  lock 8 "$CACHE_DIR/.fetch.lock"
  if cache_ok; then # fetched by another process while we waited
    say "Keycloak 已下载 / Keycloak $KEYCLOAK_VERSION already in $DIST_DIR"
    return 0
  fi
  local t0 tmp
  t0="$(now_ms)"
  tmp="$CACHE_DIR/fetch.tmp.$$"
  rm -rf "$tmp"
  say "下载 Keycloak $KEYCLOAK_VERSION / fetching $ARTIFACT with Maven ..."
  # -Dtransitive=false: the zip only. Its pom names JBoss repositories Maven would otherwise try.
  if ! mvn -B -q -Dstyle.color=never dependency:copy "-Dartifact=$ARTIFACT" -Dtransitive=false \
    "-DoutputDirectory=$tmp" >"$CACHE_DIR/fetch.log" 2>&1 </dev/null; then
    rm -rf "$tmp"
    tail -n 40 "$CACHE_DIR/fetch.log" >&2
    die "Maven 下载失败 / Maven could not fetch $ARTIFACT (is Maven Central reachable?)"
  fi
  unzip -q "$tmp/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$tmp" ||
    die "解压失败 / could not unzip $tmp/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  [ -x "$tmp/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ] ||
    die "压缩包中没有 bin/kc.sh / the zip has no keycloak-$KEYCLOAK_VERSION/bin/kc.sh"
  rm -rf "$DIST_DIR"
  mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$DIST_DIR"
  rm -rf "$tmp"
  touch "$DIST_DIR/.complete"
  say "Keycloak 已下载 / fetched Keycloak $KEYCLOAK_VERSION into $DIST_DIR in $(elapsed "$t0") s"
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 ||
    die "找不到 java / java not found (Keycloak needs Java 17+; Debian: apt-get install -y openjdk-17-jre-headless)"
  local v major
  v="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)"
  major="${v%%.*}"
  if is_uint "$major" && [ "$major" -lt 17 ]; then
    die "Keycloak 需要 Java 17+ / Keycloak needs Java 17+, found $v ($JAVA)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Process bookkeeping

# Process $1 is alive (not a zombie) and is the Keycloak JVM of THIS state folder.
is_ours() {
  local pid="$1" state
  is_uint "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)"
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$MARKER" || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qx 'io.quarkus.bootstrap.runner.QuarkusEntryPoint'
}

# Print the pid of this state folder's Keycloak JVM and return 0, or return 1.
running_pid() {
  local pid p
  if [ -f "$PID_FILE" ]; then
    pid="$(head -n 1 "$PID_FILE" 2>/dev/null || true)"
    if is_ours "$pid"; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  for p in $(grep -laF -- "$MARKER" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    p="${p#/proc/}"
    p="${p%/cmdline}"
    if is_ours "$p"; then
      printf '%s\n' "$p" >"$PID_FILE" 2>/dev/null || true
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

print_log_tail() {
  if [ -f "$LOG_FILE" ]; then
    err "---- $LOG_FILE (最后 40 行 / last 40 lines) ----"
    tail -n 40 "$LOG_FILE" >&2
    err "---- 完整日志 / full log: $LOG_FILE ----"
  fi
}

# ---------------------------------------------------------------------------------------------
# Administrator and realm

# The bootstrap administrator: from the environment the first time, then from <state>/admin.env
# (Keycloak creates it only when the database is new).
admin_credentials() {
  if [ -f "$ADMIN_ENV" ]; then
    # shellcheck disable=SC1090
    . "$ADMIN_ENV"
    return 0
  fi
  ADMIN_USER="${KC_BOOTSTRAP_ADMIN_USERNAME:-admin}"
  ADMIN_PASSWORD="${KC_BOOTSTRAP_ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}"
  (
    umask 077
    printf 'ADMIN_USER=%q\nADMIN_PASSWORD=%q\n' "$ADMIN_USER" "$ADMIN_PASSWORD" >"$ADMIN_ENV"
  )
}

write_realm_file() {
  if [ -n "${XINFANG_KEYCLOAK_REALM_FILE:-}" ]; then
    [ -f "$XINFANG_KEYCLOAK_REALM_FILE" ] ||
      die "找不到领域文件 / realm file not found: $XINFANG_KEYCLOAK_REALM_FILE"
    cp "$XINFANG_KEYCLOAK_REALM_FILE" "$REALM_FILE"
    return 0
  fi
  local args=(-m xinfang keycloak realm --topology "$TOPOLOGY" --audience "$AUDIENCE")
  [ -z "${XINFANG_KEYCLOAK_TEST_PASSWORD:-}" ] || args+=(--test-users)
  (
    umask 077 # test users' passwords may be in it
    "$PYTHON" "${args[@]}" >"$REALM_FILE.tmp"
  ) || die "无法生成领域文件 / could not generate the realm (python: $PYTHON; set XINFANG_KEYCLOAK_PYTHON)"
  mv "$REALM_FILE.tmp" "$REALM_FILE"
}

# Import the realm through the admin REST API (POST /admin/realms) unless it exists already.
import_realm() {
  realm_ready && return 0
  write_realm_file
  local form="$STATE_DIR/.admin-form" token code
  (
    umask 077 # the password stays off command lines
    printf 'grant_type=password&client_id=admin-cli&username=%s&password=%s' \
      "$(urlencode "$ADMIN_USER")" "$(urlencode "$ADMIN_PASSWORD")" >"$form"
  )
  token="$(curl -s -m 30 --data-binary @"$form" -H 'Content-Type: application/x-www-form-urlencoded' \
    "$BASE_URL/realms/master/protocol/openid-connect/token" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
  rm -f "$form"
  [ -n "$token" ] || die "无法以管理员身份登录 / could not sign in as the bootstrap administrator ($ADMIN_ENV)"
  code="$(curl -s -m 120 -o "$LOG_DIR/import.out" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary @"$REALM_FILE" "$BASE_URL/admin/realms")"
  case "$code" in
    201) say "领域已导入 / realm $REALM imported ($REALM_FILE)" ;;
    409) say "领域已存在 / realm $REALM exists" ;;
    *)
      cat "$LOG_DIR/import.out" >&2 || true
      die "领域导入失败 / realm import failed (HTTP $code)"
      ;;
  esac
}

urlencode() { # percent-encode $1 for a form body
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [a-zA-Z0-9.~_-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_start() {
  validate
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  lock 9 "$STATE_DIR/.lock"
  local t0 pid deadline
  t0="$(now_ms)"
  if pid="$(running_pid)"; then
    if realm_ready; then
      say "Keycloak 已在运行 / already running (pid $pid): $ISSUER"
      return 0
    fi
  else
    cache_ok || cmd_fetch
    check_java
    command -v curl >/dev/null 2>&1 || die "找不到 curl / curl not found"
    port_open "$PORT" &&
      die "端口 $PORT 已被其他进程占用 / port $PORT on $HOST is already in use (set XINFANG_KEYCLOAK_PORT)"
    admin_credentials
    rm -f "$PID_FILE"
    : >"$LOG_FILE"
    local launcher=()
    if command -v setsid >/dev/null 2>&1; then launcher=(setsid); fi
    # start-dev: HTTP, development defaults; the H2 database lives in the state folder. The
    # first start also builds (augments) the distribution in the cache (~30 s more).
    # One start at a time per distribution: that build writes into it.
    lock 7 "$CACHE_DIR/.start.lock"
    KC_BOOTSTRAP_ADMIN_USERNAME="$ADMIN_USER" KC_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
      JAVA_OPTS_KC_HEAP="$HEAP_OPTS" JAVA_OPTS_APPEND="$MARKER" JAVA_HOME="${JAVA_HOME:-}" \
      ${launcher[@]+"${launcher[@]}"} "$DIST_DIR/bin/kc.sh" start-dev \
      "--http-host=$HOST" "--http-port=$PORT" "--hostname=$BASE_URL" \
      "--db-url=jdbc:h2:file:$STATE_DIR/h2/keycloakdb;NON_KEYWORDS=VALUE" \
      </dev/null >>"$LOG_FILE" 2>&1 7>&- 8>&- 9>&- &
    say "Keycloak $KEYCLOAK_VERSION 启动中 / starting on $BASE_URL (logs: $LOG_FILE) ..."
    deadline=$((SECONDS + START_TIMEOUT))
    while ! pid="$(running_pid)"; do
      if [ "$SECONDS" -ge "$deadline" ] || ! jobs -r | grep -q .; then
        err "错误 / error: Keycloak 未能启动 / Keycloak did not start; see $LOG_FILE"
        print_log_tail
        exit 1
      fi
      sleep 0.2
    done
  fi
  deadline=$((SECONDS + START_TIMEOUT))
  until server_ready; do
    # The first start builds (augments) in a JVM of its own, then kc.sh starts the server's:
    # between the two no JVM runs, but kc.sh does. Only both gone is an exit.
    if ! is_ours "$pid" && ! pid="$(running_pid)" && ! jobs -r | grep -q .; then
      err "错误 / error: Keycloak 进程已退出 / the Keycloak process exited during startup; see $LOG_FILE"
      print_log_tail
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      err "错误 / error: Keycloak 在 ${START_TIMEOUT} 秒内未就绪 / Keycloak did not answer within ${START_TIMEOUT} s (pid $pid); see $LOG_FILE; stopping it"
      print_log_tail
      stop_pid "$pid" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  admin_credentials
  import_realm
  until realm_ready; do
    [ "$SECONDS" -lt "$deadline" ] ||
      die "领域 $REALM 的发现文档未应答 / $ISSUER/.well-known/openid-configuration does not answer; see $LOG_FILE"
    sleep 0.5
  done
  say "Keycloak 已就绪 / Keycloak ready in $(elapsed "$t0") s: $ISSUER"
}

# SIGTERM $1, wait for it to exit, SIGKILL after STOP_TIMEOUT seconds.
stop_pid() {
  local pid="$1" t0 deadline
  t0="$(now_ms)"
  deadline=$((SECONDS + STOP_TIMEOUT))
  kill -TERM "$pid" 2>/dev/null || true
  while is_ours "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "Keycloak 未在 ${STOP_TIMEOUT} 秒内退出,强制结束 / Keycloak did not exit within ${STOP_TIMEOUT} s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local _
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        is_ours "$pid" || break
        sleep 0.5
      done
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  if is_ours "$pid"; then
    err "错误 / error: 无法结束 Keycloak 进程 / could not end Keycloak process $pid"
    return 1
  fi
  say "Keycloak 已停止 / Keycloak stopped (pid $pid) in $(elapsed "$t0") s"
}

cmd_stop() {
  if [ ! -d "$STATE_DIR" ]; then
    say "Keycloak 未运行 / Keycloak not running"
    return 0
  fi
  lock 9 "$STATE_DIR/.lock"
  local pid
  if pid="$(running_pid)"; then
    stop_pid "$pid"
  else
    rm -f "$PID_FILE"
    say "Keycloak 未运行 / Keycloak not running"
  fi
}

cmd_status() {
  validate
  local pid
  if ! pid="$(running_pid 2>/dev/null)"; then
    err "Keycloak 未运行 / not running (state: $STATE_DIR)"
    return 1
  fi
  if realm_ready; then
    err "Keycloak 运行中 / running (pid $pid, Keycloak $KEYCLOAK_VERSION, realm $REALM)"
    printf '%s\n' "$ISSUER"
    return 0
  fi
  err "Keycloak 进程存在但领域未应答 / process $pid exists but $ISSUER does not answer"
  return 1
}

cmd_reset() {
  cmd_stop
  if [ -d "$STATE_DIR" ]; then
    # Only what this script creates, so a mistaken XINFANG_KEYCLOAK_STATE cannot wipe a folder.
    rm -rf "$STATE_DIR/h2" "$LOG_DIR"
    rm -f "$PID_FILE" "$ADMIN_ENV" "$REALM_FILE" "$REALM_FILE.tmp" "$STATE_DIR/.admin-form" "$STATE_DIR/.lock"
    rmdir "$STATE_DIR" 2>/dev/null || true
  fi
  say "Keycloak 数据已清除 / Keycloak state removed ($STATE_DIR); download kept ($CACHE_DIR)"
}

cmd_logs() {
  if [ -f "$LOG_FILE" ]; then
    tail -n "${1:-100}" "$LOG_FILE"
  else
    err "没有日志 / no log yet ($LOG_FILE)"
    return 1
  fi
}

usage() {
  cat <<EOF
用法 / usage: $(basename "$0") {fetch|start|stop|status|reset|logs [L]}
  fetch   下载 / fetch $ARTIFACT with Maven into $CACHE_DIR
  start   启动、导入领域并等待就绪 / start on $HOST:\${XINFANG_KEYCLOAK_PORT:-8180}, import the realm, wait until it answers
  stop    停止 / stop (SIGTERM, then SIGKILL after \${XINFANG_KEYCLOAK_STOP_TIMEOUT:-30} s)
  status  运行中则输出签发者并返回 0 / print the issuer URL and exit 0 if the realm answers, else exit 1
  reset   停止并删除数据 / stop and delete the state folder (download kept)
  logs    显示日志末尾 / print the last L (default 100) lines of the log
EOF
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  logs) cmd_logs "${2:-100}" ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
