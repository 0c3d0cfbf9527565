#!/usr/bin/env bash
# deploy/kafka/kafka.sh — run a real single-node Apache Kafka 4.x broker (KRaft, combined
# broker+controller, no ZooKeeper, no Docker) with only Java 17 and Maven.
#
#   kafka.sh fetch    download the pinned jars into the cache (idempotent)
#   kafka.sh start    fetch if needed, format storage once, start the broker, wait until it answers
#   kafka.sh stop     SIGTERM, wait for a clean exit, SIGKILL if needed
#   kafka.sh status   exit 0 and print the bootstrap address if running and answering, else exit 1
#   kafka.sh format   format the storage once (start does this too); prints the cluster id
#   kafka.sh reset    stop and delete the state (data + logs); the jar cache is kept
#   kafka.sh logs     print the tail of the broker log
#
# Environment (all optional):
#   XINFANG_KAFKA_PORT              client port on 127.0.0.1            (default 9092)
#   XINFANG_KAFKA_CONTROLLER_PORT   KRaft controller port               (default port+1)
#   XINFANG_KAFKA_STATE             state folder (data, logs, pid)      (default deploy/kafka/.state)
#   XINFANG_KAFKA_HOME              jar cache folder                    (default deploy/kafka/.cache)
#   XINFANG_KAFKA_START_TIMEOUT     seconds to wait for the broker      (default 90)
#   XINFANG_KAFKA_STOP_TIMEOUT      seconds to wait after SIGTERM       (default 30)
#   XINFANG_KAFKA_HEAP_OPTS         broker heap                         (default "-Xmx512m -Xms256m")
#   XINFANG_KAFKA_OPTS              extra JVM options for the broker
#   XINFANG_KAFKA_AUTO_CREATE_TOPICS  auto.create.topics.enable         (default false)
#   XINFANG_KAFKA_CLUSTER_ID        KRaft cluster id used when formatting (default: random)
#   JAVA_HOME                       Java 17+ to use (default: `java` on PATH)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"
CONF_DIR="$SCRIPT_DIR/config"

# Make a path absolute relative to the caller's working directory (it need not exist yet).
abspath() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

CACHE_DIR="$(abspath "${XINFANG_KAFKA_HOME:-$SCRIPT_DIR/.cache}")"
LIB_DIR="$CACHE_DIR/lib"
STAMP_FILE="$CACHE_DIR/VERSION"
STATE_DIR="$(abspath "${XINFANG_KAFKA_STATE:-$SCRIPT_DIR/.state}")"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
PID_FILE="$STATE_DIR/kafka.pid"
PROPS="$STATE_DIR/server.properties"
TOOLS_PROPS="$STATE_DIR/tools.properties"

HOST=127.0.0.1
PORT="${XINFANG_KAFKA_PORT:-9092}"
START_TIMEOUT="${XINFANG_KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${XINFANG_KAFKA_STOP_TIMEOUT:-30}"
HEAP_OPTS="${XINFANG_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
EXTRA_OPTS="${XINFANG_KAFKA_OPTS:-}"
AUTO_CREATE="${XINFANG_KAFKA_AUTO_CREATE_TOPICS:-false}"

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA=java
fi
# Short-lived tool JVMs (format, readiness check): small heap, fast start, quiet logging.
TOOL_JVM_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
  -Djava.awt.headless=true "-Dlog4j2.configurationFile=$CONF_DIR/log4j2-tools.xml")

KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1)"

# ---------------------------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }
die() { err "错误 / error: $*"; exit 1; }

now_ms() { date +%s%3N; }
elapsed() { # elapsed seconds since $1 (ms), one decimal
  local d=$(($(now_ms) - $1))
  printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100))
}

is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }

validate_ports() {
  is_uint "$PORT" || die "XINFANG_KAFKA_PORT 不是端口号 / is not a port number: '$PORT'"
  CONTROLLER_PORT="${XINFANG_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
  is_uint "$CONTROLLER_PORT" ||
    die "XINFANG_KAFKA_CONTROLLER_PORT 不是端口号 / is not a port number: '$CONTROLLER_PORT'"
  [ "$PORT" != "$CONTROLLER_PORT" ] || die "客户端端口与控制器端口相同 / client and controller ports are equal ($PORT)"
  is_uint "$START_TIMEOUT" || die "XINFANG_KAFKA_START_TIMEOUT 必须是整数秒 / must be whole seconds"
  is_uint "$STOP_TIMEOUT" || die "XINFANG_KAFKA_STOP_TIMEOUT 必须是整数秒 / must be whole seconds"
}
BOOTSTRAP="$HOST:$PORT"

# Something accepts TCP connections on 127.0.0.1:$1 (pure bash, no JVM).
port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Take an exclusive lock on file $2 with file descriptor $1 (no-op without flock).
lock() {
  command -v flock >/dev/null 2>&1 || return 0
  eval "exec $1>\"\$2\""
  flock "$1"
}

# ---------------------------------------------------------------------------------------------
# Jar cache

cache_stamp() {
  printf 'kafka=%s pom=%s\n' "$KAFKA_VERSION" "$(sha256sum "$POM" | cut -c1-16)"
}

cache_ok() {
  [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$(cache_stamp)" ] &&
    [ -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]
}

cmd_fetch() {
  [ -n "$KAFKA_VERSION" ] || die "在 $POM 中找不到 kafka.version / no kafka.version in $POM"
  if cache_ok; then
    say "jar 缓存已就绪 / jar cache up to date: Kafka $KAFKA_VERSION ($LIB_DIR)"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 ||
    die "找不到 mvn / mvn not found (Debian: apt-get install -y maven openjdk-17-jdk-headless)"
  mkdir -p "$CACHE_DIR"
  lock 8 "$CACHE_DIR/.fetch.lock"
  if cache_ok; then # another process fetched while we waited for the lock
    say "jar 缓存已就绪 / jar cache up to date: Kafka $KAFKA_VERSION ($LIB_DIR)"
    return 0
  fi
  say "下载 Kafka $KAFKA_VERSION 的 jar / fetching Kafka $KAFKA_VERSION jars with Maven → $LIB_DIR ..."
  local t0 tmp
  t0="$(now_ms)"
  tmp="$CACHE_DIR/lib.tmp.$$"
  rm -rf "$tmp"
  # Maven's output goes to a file (shown only on failure): Debian's Maven 3.8 prints colour codes even with -q.
  if ! mvn -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE_DIR/fetch.log" 2>&1 </dev/null; then
    rm -rf "$tmp"
    tail -n 40 "$CACHE_DIR/fetch.log" >&2
    die "Maven 下载失败 / Maven could not fetch the jars (is Maven Central reachable?)"
  fi
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || {
    rm -rf "$tmp"
    die "下载结果中没有 kafka_2.13-$KAFKA_VERSION.jar / fetched jars lack kafka_2.13-$KAFKA_VERSION.jar"
  }
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  cache_stamp >"$STAMP_FILE"
  say "jar 已下载 / jars fetched: $(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $(elapsed "$t0") s"
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 ||
    die "找不到 java / java not found (Kafka 4 needs Java 17+; Debian: apt-get install -y openjdk-17-jdk-headless)"
  local v major
  v="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)"
  major="${v%%.*}"
  if is_uint "$major" && [ "$major" -lt 17 ]; then
    die "Kafka 4 需要 Java 17+ / Kafka 4 needs Java 17+, found $v ($JAVA)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Process bookkeeping

# Process $1 is alive, not a zombie, and is the broker of THIS state folder.
is_our_broker() {
  local pid="$1" cmdline state
  is_uint "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)"
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  cmdline="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  printf '%s\n' "$cmdline" | grep -qx 'kafka\.Kafka' || return 1
  printf '%s\n' "$cmdline" | grep -qxF "$PROPS" || return 1
}

# Print the pid of this state folder's broker and return 0, or return 1 if none runs.
running_pid() {
  local pid p
  if [ -f "$PID_FILE" ]; then
    pid="$(head -n 1 "$PID_FILE" 2>/dev/null || true)"
    if is_our_broker "$pid"; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  # The pid file may be missing or stale: look for a broker started with our server.properties.
  for p in $(grep -laF -- "$PROPS" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    p="${p#/proc/}"
    p="${p%/cmdline}"
    if is_our_broker "$p"; then
      printf '%s\n' "$p" >"$PID_FILE" 2>/dev/null || true
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

# Cheap check (pure bash, no JVM): send a Kafka ApiVersions v0 request to 127.0.0.1:$PORT and
# expect a response carrying our correlation id. A KRaft broker only processes requests once it
# is registered and unfenced, so an answer means it is serving (the listening socket alone is not).
api_versions_ok() {
  local hex
  # request: int32 size=14 | int16 api_key=18 (ApiVersions) | int16 version=0 | int32 correlation=1
  #          | string client_id="ping"; response: int32 size | int32 correlation | int16 error ...
  # shellcheck disable=SC2016 # $0/$1 expand in the inner bash
  hex="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\000\000\000\016\000\022\000\000\000\000\000\001\000\004ping" >&3
    head -c 10 <&3 | od -An -tx1' "$HOST" "$PORT" 2>/dev/null | tr -d ' \n')" || return 1
  [ "${hex:8:8}" = 00000001 ]
}

# Full check with Kafka's own BrokerApiVersionsCommand: Metadata (the broker is registered and
# unfenced) then ApiVersions through the Java client. Output goes to $STATE_DIR/.check.out.
broker_answers() {
  [ -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ] || return 1
  api_versions_ok || return 1
  local out="$STATE_DIR/.check.out"
  if [ ! -f "$TOOLS_PROPS" ]; then
    mkdir -p "$STATE_DIR"
    write_tools_props
  fi
  if timeout 25 "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIB_DIR/*" \
    org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "$BOOTSTRAP" --command-config "$TOOLS_PROPS" >"$out" 2>&1 </dev/null; then
    grep -q "^$HOST:$PORT (id: " "$out" && grep -q 'Produce(0)' "$out"
  else
    return 1
  fi
}

LOG_SKIP=0 # lines of server.log written by earlier runs (not shown on failure)

print_log_tail() {
  local f new
  for f in "$LOG_DIR/server.log" "$LOG_DIR/kafka.out"; do
    if [ -s "$f" ]; then
      new="$(tail -n +"$((LOG_SKIP + 1))" "$f" | tail -n 40)"
      if [ -n "$new" ]; then
        err "---- $f (最后 40 行 / last 40 lines) ----"
        printf '%s\n' "$new" >&2
      fi
    fi
    LOG_SKIP=0 # kafka.out is truncated on every start
  done
  if [ -s "$STATE_DIR/.check.out" ]; then
    err "---- 就绪检查输出 / readiness check output ----"
    tail -n 15 "$STATE_DIR/.check.out" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Configuration

write_server_props() {
  local tmp="$PROPS.tmp.$$"
  cat >"$tmp" <<EOF
# Generated by deploy/kafka/kafka.sh on every start — edit the script, not this file.
# Single-node KRaft: one process is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$DATA_DIR
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=$AUTO_CREATE
delete.topic.enable=true

# Internal topics on a single node: replication factor 1, few partitions (fast first use).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=104857600
EOF
  mv "$tmp" "$PROPS"
}

write_tools_props() {
  cat >"$TOOLS_PROPS" <<EOF
# Client settings for the readiness check run by deploy/kafka/kafka.sh.
request.timeout.ms=5000
default.api.timeout.ms=10000
socket.connection.setup.timeout.ms=2000
socket.connection.setup.timeout.max.ms=2000
retry.backoff.ms=200
EOF
}

format_storage_if_needed() {
  if [ -f "$DATA_DIR/meta.properties" ]; then
    return 0
  fi
  local cluster_id t0
  t0="$(now_ms)"
  # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding (22 characters). One in 64
  # begins with "-", so every value goes to the tool as --opt=value: a separate argument that
  # begins with "-" is read as an option ("expected one argument").
  cluster_id="${XINFANG_KAFKA_CLUSTER_ID:-$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')}"
  case "$cluster_id" in
    ?????????????????????? ) ;;
    *) die "XINFANG_KAFKA_CLUSTER_ID 须为 22 个字符 / must be 22 characters of URL-safe base64: '$cluster_id'" ;;
  esac
  case "$cluster_id" in
    *[!A-Za-z0-9_-]*) die "XINFANG_KAFKA_CLUSTER_ID 含非法字符 / is not URL-safe base64: '$cluster_id'" ;;
  esac
  say "格式化存储 / formatting storage (cluster id $cluster_id) in $DATA_DIR ..."
  if ! "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIB_DIR/*" kafka.tools.StorageTool format \
    "--cluster-id=$cluster_id" "--config=$PROPS" --ignore-formatted \
    >"$LOG_DIR/format.out" 2>&1 </dev/null; then
    cat "$LOG_DIR/format.out" >&2
    die "存储格式化失败 / storage format failed"
  fi
  say "存储已格式化 / storage formatted in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------------------------
# Commands

# Wait until broker $1 answers; $2 = start time (ms). Stops the broker on failure.
wait_until_ready() {
  local pid="$1" t0="$2" deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! is_our_broker "$pid"; then
      err "错误 / error: Kafka 进程已退出 / the Kafka process exited during startup"
      print_log_tail
      rm -f "$PID_FILE"
      exit 1
    fi
    if broker_answers; then
      say "Kafka 已启动 / Kafka started ($BOOTSTRAP) in $(elapsed "$t0") s"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      err "错误 / error: Kafka 在 ${START_TIMEOUT} 秒内未就绪 / Kafka did not answer within ${START_TIMEOUT} s (pid $pid); stopping it"
      print_log_tail
      stop_pid "$pid" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

cmd_start() {
  validate_ports
  mkdir -p "$STATE_DIR"
  lock 9 "$STATE_DIR/.lock"
  local pid t0
  t0="$(now_ms)"
  if pid="$(running_pid)"; then
    if api_versions_ok; then
      say "Kafka 已在运行 / Kafka already running ($BOOTSTRAP, pid $pid)"
      return 0
    fi
    say "Kafka 进程已存在,等待就绪 / Kafka process exists (pid $pid), waiting until it answers ..."
    wait_until_ready "$pid" "$t0"
    return 0
  fi
  rm -f "$PID_FILE"

  cache_ok || cmd_fetch
  check_java
  if port_open "$PORT"; then
    die "端口 $PORT 已被其他进程占用 / port $PORT on $HOST is already in use by another process (set XINFANG_KAFKA_PORT)"
  fi
  if port_open "$CONTROLLER_PORT"; then
    die "控制器端口 $CONTROLLER_PORT 已被占用 / controller port $CONTROLLER_PORT is already in use (set XINFANG_KAFKA_CONTROLLER_PORT)"
  fi

  mkdir -p "$DATA_DIR" "$LOG_DIR"
  write_server_props
  write_tools_props
  format_storage_if_needed

  local heap extra launcher=()
  read -r -a heap <<<"$HEAP_OPTS"
  read -r -a extra <<<"$EXTRA_OPTS"
  # Own session: the broker outlives this script and is not hit by the caller's Ctrl-C/SIGHUP.
  if command -v setsid >/dev/null 2>&1; then launcher=(setsid); fi
  : >"$LOG_DIR/kafka.out"
  rm -f "$STATE_DIR/.check.out"
  if [ -f "$LOG_DIR/server.log" ]; then LOG_SKIP="$(wc -l <"$LOG_DIR/server.log")"; fi
  ${launcher[@]+"${launcher[@]}"} "$JAVA" "${heap[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true "-Dkafka.logs.dir=$LOG_DIR" \
    "-Dlog4j2.configurationFile=$CONF_DIR/log4j2-broker.xml" \
    ${extra[@]+"${extra[@]}"} \
    -cp "$LIB_DIR/*" kafka.Kafka "$PROPS" \
    </dev/null >>"$LOG_DIR/kafka.out" 2>&1 8>&- 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  sleep 0.2
  if ! is_our_broker "$pid"; then # e.g. a setsid that forked: find the JVM by its command line
    pid="$(running_pid)" || pid=$!
  fi
  say "Kafka $KAFKA_VERSION 启动中 / starting (pid $pid, logs in $LOG_DIR) ..."
  wait_until_ready "$pid" "$t0"
}

# SIGTERM $1, wait for it to exit, SIGKILL after STOP_TIMEOUT seconds.
stop_pid() {
  local pid="$1" t0 deadline
  t0="$(now_ms)"
  deadline=$((SECONDS + STOP_TIMEOUT))
  kill -TERM "$pid" 2>/dev/null || true
  while is_our_broker "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "Kafka 未在 ${STOP_TIMEOUT} 秒内退出,强制结束 / Kafka did not exit within ${STOP_TIMEOUT} s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local _
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        is_our_broker "$pid" || break
        sleep 0.5
      done
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  if is_our_broker "$pid"; then
    err "错误 / error: 无法结束 Kafka 进程 / could not end Kafka process $pid"
    return 1
  fi
  say "Kafka 已停止 / Kafka stopped (pid $pid) in $(elapsed "$t0") s"
}

cmd_stop() {
  if [ ! -d "$STATE_DIR" ]; then
    say "Kafka 未运行 / Kafka not running"
    return 0
  fi
  lock 9 "$STATE_DIR/.lock"
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "Kafka 未运行 / Kafka not running"
    return 0
  fi
  stop_pid "$pid"
}

cmd_status() {
  validate_ports
  local pid
  if ! pid="$(running_pid 2>/dev/null)"; then
    err "Kafka 未运行 / Kafka not running (state: $STATE_DIR)"
    return 1
  fi
  if api_versions_ok; then
    err "Kafka 运行中 / Kafka running (pid $pid, Kafka $KAFKA_VERSION)"
    printf '%s\n' "$BOOTSTRAP"
    return 0
  fi
  err "Kafka 进程存在但未响应 / Kafka process $pid exists but does not answer on $BOOTSTRAP"
  return 1
}

cmd_format() {
  validate_ports
  mkdir -p "$STATE_DIR"
  lock 9 "$STATE_DIR/.lock"
  cache_ok || cmd_fetch
  check_java
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  write_server_props
  format_storage_if_needed
  sed -n 's/^cluster.id=//p' "$DATA_DIR/meta.properties"
}

cmd_reset() {
  cmd_stop
  if [ -d "$STATE_DIR" ]; then
    # Remove only what this script creates, so a mistaken XINFANG_KAFKA_STATE cannot wipe a folder.
    rm -rf "$DATA_DIR" "$LOG_DIR"
    rm -f "$PROPS" "$TOOLS_PROPS" "$PID_FILE" "$STATE_DIR/.check.out" "$STATE_DIR/.lock" \
      "$PROPS".tmp.*
    rmdir "$STATE_DIR" 2>/dev/null || true
  fi
  say "Kafka 数据已清除 / Kafka state removed ($STATE_DIR); jar cache kept ($CACHE_DIR)"
}

cmd_logs() {
  if [ -f "$LOG_DIR/server.log" ]; then
    tail -n "${1:-100}" "$LOG_DIR/server.log"
  else
    err "没有日志 / no log yet ($LOG_DIR/server.log)"
    return 1
  fi
}

usage() {
  cat <<EOF
用法 / usage: $(basename "$0") {fetch|start|stop|status|format|reset|logs [N]}
  fetch   下载 jar / fetch the pinned Kafka $KAFKA_VERSION jars into $CACHE_DIR
  start   启动并等待就绪 / start the broker on $HOST:\${XINFANG_KAFKA_PORT:-9092} and wait until it answers
  stop    停止 / stop the broker (SIGTERM, then SIGKILL after \${XINFANG_KAFKA_STOP_TIMEOUT:-30} s)
  status  运行中则输出地址并返回 0 / print the bootstrap address and exit 0 if running, else exit 1
  format  格式化存储 / format the storage once and print the cluster id (start does this too)
  reset   停止并删除数据 / stop and delete the state folder (jar cache kept)
  logs    显示日志末尾 / print the last N (default 100) lines of the broker log
EOF
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  format) cmd_format ;;
  reset) cmd_reset ;;
  logs) cmd_logs "${2:-100}" ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
