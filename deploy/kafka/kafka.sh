#!/usr/bin/env bash
# deploy/kafka/kafka.sh — run a real Apache Kafka 4.x broker, or a 3-broker cluster (KRaft,
# combined broker+controller nodes, no ZooKeeper, no Docker) with only Java 17 and Maven.
# Secured by default: TLS + SASL/SCRAM-SHA-512 on the client listener (one principal per node of
# the topology, plus auditor, integrator, admin), mutual TLS between brokers and controllers, the
# KRaft StandardAuthorizer with allow.everyone.if.no.acl.found=false (see README, "Security").
#
#   kafka.sh fetch          download the pinned jars into the cache (idempotent)
#   kafka.sh start [N]      fetch if needed, create CA/certificates/credentials and format storage
#                           once, start every broker (or only broker N), wait until they answer
#   kafka.sh stop [N]       SIGTERM, wait for a clean exit, SIGKILL if needed (every broker or N)
#   kafka.sh kill N         SIGKILL broker N at once (fault injection)
#   kafka.sh status         exit 0 and print the bootstrap servers if every broker answers, else 1
#   kafka.sh format         format the storage once (start does this too); prints the cluster id
#   kafka.sh reset          stop and delete the state (data, logs, certificates, credentials)
#   kafka.sh logs [L] [N]   print the last L lines of (broker N's) log
#   kafka.sh cluster-start [N]|cluster-stop [N]|cluster-kill N|cluster-status|cluster-reset|cluster-logs
#                           the same with XINFANG_KAFKA_BROKERS=3 (state: deploy/kafka/.state-cluster)
#   Without XINFANG_KAFKA_BROKERS / XINFANG_KAFKA_SECURITY, a formatted XINFANG_KAFKA_STATE folder
#   gives the broker count / security mode it was formatted with.
#
# Environment (all optional):
#   XINFANG_KAFKA_SECURITY          sasl_ssl (default) | plaintext (debugging only, no auth at all)
#   XINFANG_KAFKA_BROKERS           number of brokers (1–9)             (default 1)
#   XINFANG_KAFKA_TOPOLOGY          topology whose divisions get a principal each
#                                                                       (default deploy/topology/chifeng.yaml)
#   XINFANG_KAFKA_EXTRA_PRINCIPALS  more principals, comma-separated (e.g. a second integrator)
#   XINFANG_KAFKA_PORT              client port of broker 1 on 127.0.0.1; broker i uses port+i-1
#                                                                       (default 9092)
#   XINFANG_KAFKA_CONTROLLER_PORT   KRaft controller port of broker 1; broker i uses +i-1
#                                                                       (default port+N)
#   XINFANG_KAFKA_INTERNAL_PORT     inter-broker (mutual TLS) port of broker 1; broker i uses +i-1
#                                                                       (default port+2N; secured mode)
#   XINFANG_KAFKA_STATE             state folder                        (default deploy/kafka/.state,
#                                                                        .state-cluster when N > 1)
#   XINFANG_KAFKA_HOME              jar cache folder                    (default deploy/kafka/.cache)
#   XINFANG_KAFKA_PYTHON            Python with `cryptography`          (default .venv/bin/python, python3)
#   XINFANG_KAFKA_START_TIMEOUT     seconds to wait for the brokers     (default 90)
#   XINFANG_KAFKA_STOP_TIMEOUT      seconds to wait after SIGTERM       (default 30)
#   XINFANG_KAFKA_HEAP_OPTS         heap of each broker                 (default "-Xmx512m -Xms256m";
#                                                                        "-Xmx384m -Xms192m" when N > 1)
#   XINFANG_KAFKA_OPTS              extra JVM options for the brokers
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

# cluster-* commands: the same commands for a 3-broker cluster in its own state folder.
case "${1:-}" in
  cluster-*) export XINFANG_KAFKA_BROKERS="${XINFANG_KAFKA_BROKERS:-3}" ;;
esac
# Without XINFANG_KAFKA_BROKERS, an existing state folder (XINFANG_KAFKA_STATE) says how many.
if [ -z "${XINFANG_KAFKA_BROKERS:-}" ] && [ -n "${XINFANG_KAFKA_STATE:-}" ] &&
  [ -f "${XINFANG_KAFKA_STATE}/layout" ]; then
  XINFANG_KAFKA_BROKERS="$(sed -n 's/.*brokers=\([0-9]*\).*/\1/p' "${XINFANG_KAFKA_STATE}/layout")"
fi
if [ -z "${XINFANG_KAFKA_SECURITY:-}" ] && [ -n "${XINFANG_KAFKA_STATE:-}" ] &&
  [ -f "${XINFANG_KAFKA_STATE}/layout" ]; then
  XINFANG_KAFKA_SECURITY="$(sed -n 's/.*security=\([a-z_]*\).*/\1/p' "${XINFANG_KAFKA_STATE}/layout")"
fi
BROKERS="${XINFANG_KAFKA_BROKERS:-1}"
case "$BROKERS" in
  [1-9]) ;;
  *) printf '%s\n' "错误 / error: XINFANG_KAFKA_BROKERS 须为 1–9 / must be 1–9: '$BROKERS'" >&2; exit 1 ;;
esac
SECURITY="${XINFANG_KAFKA_SECURITY:-sasl_ssl}"
case "$SECURITY" in
  sasl_ssl | plaintext) ;;
  *) printf '%s\n' "错误 / error: XINFANG_KAFKA_SECURITY 须为 sasl_ssl 或 plaintext / must be sasl_ssl or plaintext: '$SECURITY'" >&2; exit 1 ;;
esac
if [ "$BROKERS" -gt 1 ]; then DEFAULT_STATE="$SCRIPT_DIR/.state-cluster"; else DEFAULT_STATE="$SCRIPT_DIR/.state"; fi
STATE_DIR="$(abspath "${XINFANG_KAFKA_STATE:-$DEFAULT_STATE}")"
TOOLS_PROPS="$STATE_DIR/tools.properties"
PKI_DIR="$STATE_DIR/pki"
CA_FILE="$PKI_DIR/ca.crt"
CREDS_DIR="$STATE_DIR/credentials"
TOPOLOGY="$(abspath "${XINFANG_KAFKA_TOPOLOGY:-$SCRIPT_DIR/../topology/chifeng.yaml}")"
EXTRA_PRINCIPALS="${XINFANG_KAFKA_EXTRA_PRINCIPALS:-}"

HOST=127.0.0.1
PORT="${XINFANG_KAFKA_PORT:-9092}"
CONTROLLER_PORT=0 # set by validate_ports
INTERNAL_PORT=0
START_TIMEOUT="${XINFANG_KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${XINFANG_KAFKA_STOP_TIMEOUT:-30}"
if [ "$BROKERS" -gt 1 ]; then DEFAULT_HEAP="-Xmx384m -Xms192m"; else DEFAULT_HEAP="-Xmx512m -Xms256m"; fi
HEAP_OPTS="${XINFANG_KAFKA_HEAP_OPTS:-$DEFAULT_HEAP}"
EXTRA_OPTS="${XINFANG_KAFKA_OPTS:-}"
AUTO_CREATE="${XINFANG_KAFKA_AUTO_CREATE_TOPICS:-false}"

if [ -n "${XINFANG_KAFKA_PYTHON:-}" ]; then
  PYTHON="$XINFANG_KAFKA_PYTHON"
elif [ -x "$SCRIPT_DIR/../../.venv/bin/python" ]; then
  PYTHON="$SCRIPT_DIR/../../.venv/bin/python"
else
  PYTHON=python3
fi
pki() { "$PYTHON" "$SCRIPT_DIR/pki.py" "$@"; }

# Per-broker paths and ports: a single broker keeps the historical layout (<state>/data, ...);
# broker i of a cluster lives in <state>/broker-<i>/.
use_broker() {
  B="$1"
  if [ "$BROKERS" -eq 1 ]; then BDIR="$STATE_DIR"; else BDIR="$STATE_DIR/broker-$B"; fi
  DATA_DIR="$BDIR/data"
  LOG_DIR="$BDIR/logs"
  PID_FILE="$BDIR/kafka.pid"
  PROPS="$BDIR/server.properties"
  B_PORT=$((PORT + B - 1))
  B_CONTROLLER_PORT=$((CONTROLLER_PORT + B - 1))
  B_INTERNAL_PORT=$((INTERNAL_PORT + B - 1))
}

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
  CONTROLLER_PORT="${XINFANG_KAFKA_CONTROLLER_PORT:-$((PORT + BROKERS))}"
  is_uint "$CONTROLLER_PORT" ||
    die "XINFANG_KAFKA_CONTROLLER_PORT 不是端口号 / is not a port number: '$CONTROLLER_PORT'"
  INTERNAL_PORT="${XINFANG_KAFKA_INTERNAL_PORT:-$((PORT + 2 * BROKERS))}"
  is_uint "$INTERNAL_PORT" ||
    die "XINFANG_KAFKA_INTERNAL_PORT 不是端口号 / is not a port number: '$INTERNAL_PORT'"
  ranges_overlap "$PORT" "$CONTROLLER_PORT" &&
    die "客户端端口与控制器端口重叠 / client and controller ports overlap ($PORT, $CONTROLLER_PORT; $BROKERS brokers)"
  if [ "$SECURITY" = sasl_ssl ]; then
    ranges_overlap "$PORT" "$INTERNAL_PORT" &&
      die "客户端端口与内部端口重叠 / client and internal ports overlap ($PORT, $INTERNAL_PORT)"
    ranges_overlap "$CONTROLLER_PORT" "$INTERNAL_PORT" &&
      die "控制器端口与内部端口重叠 / controller and internal ports overlap ($CONTROLLER_PORT, $INTERNAL_PORT)"
  fi
  is_uint "$START_TIMEOUT" || die "XINFANG_KAFKA_START_TIMEOUT 必须是整数秒 / must be whole seconds"
  is_uint "$STOP_TIMEOUT" || die "XINFANG_KAFKA_STOP_TIMEOUT 必须是整数秒 / must be whole seconds"
  BOOTSTRAP=""
  local i
  for i in $(seq 1 "$BROKERS"); do BOOTSTRAP="${BOOTSTRAP:+$BOOTSTRAP,}$HOST:$((PORT + i - 1))"; done
}

# The port blocks [$1, $1+N) and [$2, $2+N) share a port.
ranges_overlap() {
  [ "$1" -lt $(($2 + BROKERS)) ] && [ "$2" -lt $(($1 + BROKERS)) ]
}

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

# Process $1 exists and is not a zombie (it may not have exec'd the JVM yet).
process_alive() {
  local state
  is_uint "$1" && [ -r "/proc/$1/status" ] || return 1
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
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

# Cheap check (no JVM): send a Kafka ApiVersions v0 request to 127.0.0.1:$1 (default: the
# current broker's client port) and expect a response carrying our correlation id. A KRaft broker
# only processes requests once it is registered and unfenced, so an answer means it is serving
# (the listening socket alone is not). Over TLS (secured mode) pki.py sends it, checking the
# certificate against our CA; ApiVersions is answered before SASL authentication.
api_versions_ok() {
  local port="${1:-$B_PORT}" hex
  # request: int32 size=14 | int16 api_key=18 (ApiVersions) | int16 version=0 | int32 correlation=1
  #          | string client_id="ping"; response: int32 size | int32 correlation | int16 error ...
  if [ "$SECURITY" = sasl_ssl ]; then
    pki ping --host "$HOST" --port "$port" --ca-file "$CA_FILE" 2>/dev/null
    return
  fi
  # shellcheck disable=SC2016 # $0/$1 expand in the inner bash
  hex="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\000\000\000\016\000\022\000\000\000\000\000\001\000\004ping" >&3
    head -c 10 <&3 | od -An -tx1' "$HOST" "$port" 2>/dev/null | tr -d ' \n')" || return 1
  [ "${hex:8:8}" = 00000001 ]
}

# Full check with Kafka's own BrokerApiVersionsCommand (as `admin` in secured mode, so SASL and
# TLS are exercised): Metadata (the broker is registered and unfenced) then ApiVersions through
# the Java client. Output goes to <broker>/.check.out.
broker_answers() {
  [ -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ] || return 1
  api_versions_ok || return 1
  local out="$BDIR/.check.out"
  [ -f "$TOOLS_PROPS" ] || write_tools_props
  if timeout 25 "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIB_DIR/*" \
    org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "$HOST:$B_PORT" --command-config "$TOOLS_PROPS" >"$out" 2>&1 </dev/null; then
    grep -q "^$HOST:$B_PORT (id: $B " "$out" && grep -q 'Produce(0)' "$out"
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
  if [ -s "$BDIR/.check.out" ]; then
    err "---- 就绪检查输出 / readiness check output ----"
    tail -n 15 "$BDIR/.check.out" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Security material: CA, broker certificates, one SCRAM credential file per principal

ensure_pki() {
  [ "$SECURITY" = sasl_ssl ] || return 0
  local t0
  t0="$(now_ms)"
  [ -f "$TOPOLOGY" ] || die "找不到拓扑文件 / topology not found: $TOPOLOGY (set XINFANG_KAFKA_TOPOLOGY)"
  "$PYTHON" -c 'import cryptography' 2>/dev/null ||
    die "$PYTHON 缺少 cryptography 包 / lacks the cryptography package (make venv, or set XINFANG_KAFKA_PYTHON)"
  pki init --state "$STATE_DIR" --brokers "$BROKERS" --topology "$TOPOLOGY" \
    --extra "$EXTRA_PRINCIPALS" --bootstrap "$BOOTSTRAP" ||
    die "证书或凭据生成失败 / could not create certificates or credentials"
  pki set-bootstrap --state "$STATE_DIR" --bootstrap "$BOOTSTRAP"
  [ -f "$CREDS_DIR/admin.json" ] || die "缺少 admin 凭据 / no admin credentials in $CREDS_DIR"
  say "证书与凭据就绪 / certificates and credentials ready ($PKI_DIR, $CREDS_DIR) in $(elapsed "$t0") s"
}

# The security mode and broker count the storage was formatted with must not change under it.
check_layout() {
  local f="$STATE_DIR/layout" want="security=$SECURITY brokers=$BROKERS"
  if [ -f "$f" ]; then
    [ "$(cat "$f")" = "$want" ] ||
      die "状态目录格式化时为 '$(cat "$f")',现为 '$want' / $STATE_DIR was formatted as '$(cat "$f")', now asked for '$want' (kafka.sh reset, or another XINFANG_KAFKA_STATE)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Configuration

quorum_voters() {
  local i v=""
  for i in $(seq 1 "$BROKERS"); do v="${v:+$v,}$i@$HOST:$((CONTROLLER_PORT + i - 1))"; done
  printf '%s\n' "$v"
}

super_users() {
  local i v="User:admin"
  for i in $(seq 1 "$BROKERS"); do v="$v;User:kafka-$i"; done
  printf '%s\n' "$v"
}

write_server_props() {
  local tmp="$PROPS.tmp.$$" rf min_isr
  rf=$((BROKERS < 3 ? BROKERS : 3))
  min_isr=$((rf >= 3 ? 2 : 1))
  mkdir -p "$BDIR"
  {
    cat <<EOF
# Generated by deploy/kafka/kafka.sh on every start — edit the script, not this file.
# KRaft, combined nodes: each process is both broker and controller ($BROKERS in the quorum).
process.roles=broker,controller
node.id=$B
controller.quorum.voters=$(quorum_voters)
controller.listener.names=CONTROLLER
EOF
    if [ "$SECURITY" = sasl_ssl ]; then
      cat <<EOF

# Security (README "Security"; docs/decisions/017-kafka-security.md).
# CLIENT: TLS + SASL/SCRAM-SHA-512, one principal per node/auditor/integrator/admin.
# INTERNAL (replication) and CONTROLLER (KRaft): mutual TLS, principal = certificate CN (kafka-<i>).
listeners=CLIENT://$HOST:$B_PORT,INTERNAL://$HOST:$B_INTERNAL_PORT,CONTROLLER://$HOST:$B_CONTROLLER_PORT
advertised.listeners=CLIENT://$HOST:$B_PORT,INTERNAL://$HOST:$B_INTERNAL_PORT
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL
ssl.keystore.type=PEM
ssl.keystore.location=$PKI_DIR/broker-$B.pem
ssl.truststore.type=PEM
ssl.truststore.location=$CA_FILE
ssl.enabled.protocols=TLSv1.3,TLSv1.2
ssl.endpoint.identification.algorithm=https
ssl.client.auth=none
listener.name.internal.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([A-Za-z0-9._-]+),.*$/\$1/,DEFAULT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=$(super_users)
EOF
    else
      cat <<EOF

# PLAINTEXT (XINFANG_KAFKA_SECURITY=plaintext): no TLS, no authentication, no ACLs — debugging only.
listeners=PLAINTEXT://$HOST:$B_PORT,CONTROLLER://$HOST:$B_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$B_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
    fi
    cat <<EOF

log.dirs=$DATA_DIR
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$min_isr
auto.create.topics.enable=$AUTO_CREATE
delete.topic.enable=true
unclean.leader.election.enable=false

# Internal topics: replicated like data topics on a cluster, few partitions (fast first use).
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=104857600
EOF
  } >"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$PROPS"
}

write_tools_props() {
  local tmp="$TOOLS_PROPS.tmp.$$"
  mkdir -p "$STATE_DIR"
  (
    umask 077
    cat >"$tmp" <<EOF
# Client settings for the readiness check run by deploy/kafka/kafka.sh.
request.timeout.ms=5000
default.api.timeout.ms=10000
socket.connection.setup.timeout.ms=2000
socket.connection.setup.timeout.max.ms=2000
retry.backoff.ms=200
EOF
    if [ "$SECURITY" = sasl_ssl ]; then
      pki client-properties --state "$STATE_DIR" --principal admin >>"$tmp"
    fi
  )
  mv "$tmp" "$TOOLS_PROPS"
}

# Cluster id: XINFANG_KAFKA_CLUSTER_ID, else the one every broker of this state folder shares.
cluster_id() {
  local f="$STATE_DIR/cluster.id" id
  if [ -n "${XINFANG_KAFKA_CLUSTER_ID:-}" ]; then
    id="$XINFANG_KAFKA_CLUSTER_ID"
  elif [ -f "$f" ]; then
    id="$(cat "$f")"
  else
    # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding (22 characters). One in 64
    # begins with "-", so every value goes to the tool as --opt=value: a separate argument that
    # begins with "-" is read as an option ("expected one argument").
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  fi
  case "$id" in
    ?????????????????????? ) ;;
    *) die "XINFANG_KAFKA_CLUSTER_ID 须为 22 个字符 / must be 22 characters of URL-safe base64: '$id'" ;;
  esac
  case "$id" in
    *[!A-Za-z0-9_-]*) die "XINFANG_KAFKA_CLUSTER_ID 含非法字符 / is not URL-safe base64: '$id'" ;;
  esac
  printf '%s\n' "$id" >"$f"
  printf '%s\n' "$id"
}

format_storage_if_needed() {
  if [ -f "$DATA_DIR/meta.properties" ]; then
    return 0
  fi
  local cid t0 scram=()
  t0="$(now_ms)"
  cid="$(cluster_id)" || exit 1
  if [ "$SECURITY" = sasl_ssl ]; then
    # SCRAM credentials go into the bootstrap metadata (KIP-900): they exist before any client
    # connects, so `admin` can act at once. The tool reads them only from its command line.
    mapfile -t scram < <(pki scram-args --state "$STATE_DIR")
    [ "${#scram[@]}" -gt 0 ] || die "没有 SCRAM 凭据 / no SCRAM credentials in $CREDS_DIR"
  fi
  say "格式化存储 / formatting storage of broker $B (cluster id $cid) in $DATA_DIR ..."
  if ! "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIB_DIR/*" kafka.tools.StorageTool format \
    "--cluster-id=$cid" "--config=$PROPS" --ignore-formatted ${scram[@]+"${scram[@]}"} \
    >"$LOG_DIR/format.out" 2>&1 </dev/null; then
    cat "$LOG_DIR/format.out" >&2
    die "存储格式化失败 / storage format failed"
  fi
  printf 'security=%s brokers=%s\n' "$SECURITY" "$BROKERS" >"$STATE_DIR/layout"
  say "存储已格式化 / storage formatted in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------------------------
# Commands

# Wait until broker $B (pid $1) answers; $2 = start time (ms). Stops that broker on failure.
wait_until_ready() {
  local pid="$1" t0="$2" deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! is_our_broker "$pid"; then
      # Under load the forked launcher may not have exec'd the JVM yet: still starting.
      if process_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; then
        sleep 0.2
        continue
      fi
      err "错误 / error: Kafka 进程已退出 / the Kafka process (broker $B) exited during startup"
      print_log_tail
      rm -f "$PID_FILE"
      exit 1
    fi
    if broker_answers; then
      say "Kafka 已启动 / Kafka started (broker $B, $HOST:$B_PORT, $SECURITY) in $(elapsed "$t0") s"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      err "错误 / error: Kafka 在 ${START_TIMEOUT} 秒内未就绪 / Kafka did not answer within ${START_TIMEOUT} s (broker $B, pid $pid); stopping it"
      print_log_tail
      stop_pid "$pid" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

# Launch broker $B in the background unless it already runs; its pid goes to LAUNCHED_PID.
launch_broker() {
  local pid
  if pid="$(running_pid)"; then
    LAUNCHED_PID="$pid"
    say "Kafka broker $B 已在运行 / already running (pid $pid)"
    return 0
  fi
  rm -f "$PID_FILE"
  if port_open "$B_PORT"; then
    die "端口 $B_PORT 已被其他进程占用 / port $B_PORT on $HOST is already in use by another process (set XINFANG_KAFKA_PORT)"
  fi
  if port_open "$B_CONTROLLER_PORT"; then
    die "控制器端口 $B_CONTROLLER_PORT 已被占用 / controller port $B_CONTROLLER_PORT is already in use (set XINFANG_KAFKA_CONTROLLER_PORT)"
  fi
  if [ "$SECURITY" = sasl_ssl ] && port_open "$B_INTERNAL_PORT"; then
    die "内部端口 $B_INTERNAL_PORT 已被占用 / internal port $B_INTERNAL_PORT is already in use (set XINFANG_KAFKA_INTERNAL_PORT)"
  fi
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  write_server_props
  format_storage_if_needed

  local heap extra launcher=()
  read -r -a heap <<<"$HEAP_OPTS"
  read -r -a extra <<<"$EXTRA_OPTS"
  # Own session: the broker outlives this script and is not hit by the caller's Ctrl-C/SIGHUP.
  if command -v setsid >/dev/null 2>&1; then launcher=(setsid); fi
  : >"$LOG_DIR/kafka.out"
  rm -f "$BDIR/.check.out"
  ${launcher[@]+"${launcher[@]}"} "$JAVA" "${heap[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true "-Dkafka.logs.dir=$LOG_DIR" \
    "-Dlog4j2.configurationFile=$CONF_DIR/log4j2-broker.xml" \
    ${extra[@]+"${extra[@]}"} \
    -cp "$LIB_DIR/*" kafka.Kafka "$PROPS" \
    </dev/null >>"$LOG_DIR/kafka.out" 2>&1 8>&- 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  # Wait (bounded) for the launcher to exec the JVM: a loaded machine may take over a second.
  local found
  for _ in $(seq 1 100); do
    is_our_broker "$pid" && break
    if ! process_alive "$pid"; then # setsid forked and exited: the JVM is its child
      if found="$(running_pid)"; then
        pid="$found"
        break
      fi
    fi
    sleep 0.1
  done
  if ! is_our_broker "$pid"; then # e.g. a setsid that forked: find the JVM by its command line
    pid="$(running_pid)" || pid=$!
  fi
  say "Kafka $KAFKA_VERSION broker $B 启动中 / starting (pid $pid, logs in $LOG_DIR) ..."
  LAUNCHED_PID="$pid"
}

# Brokers named by $1 (an index) or all of them.
broker_indexes() {
  if [ -n "${1:-}" ]; then
    is_uint "$1" && [ "$1" -ge 1 ] && [ "$1" -le "$BROKERS" ] ||
      die "代理编号须在 1–$BROKERS 之间 / broker index must be 1–$BROKERS: '$1'"
    printf '%s\n' "$1"
  else
    seq 1 "$BROKERS"
  fi
}

# Every broker of $1 runs and answers the cheap ApiVersions check.
all_answer() {
  local i
  for i in $1; do
    use_broker "$i"
    running_pid >/dev/null && api_versions_ok || return 1
  done
}

# Format the storage of the brokers of $1 that need it, in parallel (one tool JVM each).
format_all() {
  local i jobs=() rc=0 job
  cluster_id >/dev/null # fix the shared cluster id before the parallel formats read it
  for i in $1; do
    use_broker "$i"
    [ -f "$DATA_DIR/meta.properties" ] && continue
    mkdir -p "$DATA_DIR" "$LOG_DIR"
    write_server_props
    format_storage_if_needed &
    jobs+=($!)
  done
  for job in ${jobs[@]+"${jobs[@]}"}; do wait "$job" || rc=1; done
  [ "$rc" = 0 ] || die "存储格式化失败 / storage format failed"
}

cmd_start() {
  validate_ports
  mkdir -p "$STATE_DIR"
  lock 9 "$STATE_DIR/.lock"
  check_layout
  local t0 i pids=() which
  t0="$(now_ms)"
  which="$(broker_indexes "${1:-}")"
  cache_ok || cmd_fetch
  check_java
  ensure_pki
  write_tools_props
  if all_answer "$which"; then
    say "Kafka 已在运行 / Kafka already running ($BOOTSTRAP, $SECURITY)"
    return 0
  fi
  format_all "$which"
  # Launch every broker first: a KRaft quorum of N needs a majority up before any is ready.
  for i in $which; do
    use_broker "$i"
    if [ -f "$LOG_DIR/server.log" ]; then LOG_SKIP="$(wc -l <"$LOG_DIR/server.log")"; fi
    launch_broker
    pids+=("$LAUNCHED_PID")
  done
  local k=0
  for i in $which; do
    use_broker "$i"
    wait_until_ready "${pids[$k]}" "$t0"
    k=$((k + 1))
  done
  [ -n "${1:-}" ] || say "Kafka 全部就绪 / all $BROKERS broker(s) ready ($BOOTSTRAP, $SECURITY) in $(elapsed "$t0") s"
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
  say "Kafka 已停止 / Kafka stopped (broker $B, pid $pid) in $(elapsed "$t0") s"
}

cmd_stop() {
  if [ ! -d "$STATE_DIR" ]; then
    say "Kafka 未运行 / Kafka not running"
    return 0
  fi
  validate_ports
  lock 9 "$STATE_DIR/.lock"
  local pid i which rc=0 any=0
  which="$(broker_indexes "${1:-}")"
  # SIGTERM every broker first: each process shuts its broker down (controlled shutdown through
  # the active controller) before its controller, so the quorum outlives the brokers. Stopping
  # them one by one would leave the last one waiting for a quorum that is gone.
  for i in $which; do
    use_broker "$i"
    if pid="$(running_pid)"; then
      any=1
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for i in $which; do
    use_broker "$i"
    if pid="$(running_pid)"; then
      stop_pid "$pid" || rc=1
    else
      rm -f "$PID_FILE"
    fi
  done
  [ "$any" = 1 ] || say "Kafka 未运行 / Kafka not running"
  return "$rc"
}

# SIGKILL one broker (fault injection): no clean shutdown, no waiting for the controller.
cmd_kill() {
  [ -n "${1:-}" ] || die "用法 / usage: kafka.sh kill N"
  validate_ports
  local pid
  use_broker "$(broker_indexes "$1")"
  if ! pid="$(running_pid)"; then
    say "Kafka broker $B 未运行 / not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  local _
  for _ in $(seq 1 50); do
    is_our_broker "$pid" || break
    sleep 0.1
  done
  rm -f "$PID_FILE"
  is_our_broker "$pid" && die "无法结束 / could not kill broker $B (pid $pid)"
  say "Kafka broker $B 已强制结束 / killed (pid $pid)"
}

cmd_status() {
  validate_ports
  local pid i rc=0
  for i in $(seq 1 "$BROKERS"); do
    use_broker "$i"
    if ! pid="$(running_pid 2>/dev/null)"; then
      err "Kafka broker $B 未运行 / not running (state: $BDIR)"
      rc=1
    elif api_versions_ok; then
      err "Kafka broker $B 运行中 / running (pid $pid, $HOST:$B_PORT, Kafka $KAFKA_VERSION, $SECURITY)"
    else
      err "Kafka broker $B 进程存在但未响应 / process $pid exists but does not answer on $HOST:$B_PORT"
      rc=1
    fi
  done
  [ "$rc" = 0 ] && printf '%s\n' "$BOOTSTRAP"
  return "$rc"
}

cmd_format() {
  validate_ports
  mkdir -p "$STATE_DIR"
  lock 9 "$STATE_DIR/.lock"
  check_layout
  cache_ok || cmd_fetch
  check_java
  ensure_pki
  local i
  for i in $(seq 1 "$BROKERS"); do
    use_broker "$i"
    mkdir -p "$DATA_DIR" "$LOG_DIR"
    write_server_props
    format_storage_if_needed
  done
  sed -n 's/^cluster.id=//p' "$DATA_DIR/meta.properties"
}

cmd_reset() {
  cmd_stop
  if [ -d "$STATE_DIR" ]; then
    # Remove only what this script creates, so a mistaken XINFANG_KAFKA_STATE cannot wipe a folder.
    local i
    for i in $(seq 1 "$BROKERS"); do
      use_broker "$i"
      rm -rf "$DATA_DIR" "$LOG_DIR"
      rm -f "$PROPS" "$PID_FILE" "$BDIR/.check.out" "$PROPS".tmp.*
      [ "$BDIR" = "$STATE_DIR" ] || rmdir "$BDIR" 2>/dev/null || true
    done
    rm -rf "$PKI_DIR" "$CREDS_DIR"
    rm -f "$TOOLS_PROPS" "$TOOLS_PROPS".tmp.* "$STATE_DIR/.lock" "$STATE_DIR/layout" "$STATE_DIR/cluster.id"
    rmdir "$STATE_DIR" 2>/dev/null || true
  fi
  say "Kafka 数据已清除 / Kafka state removed ($STATE_DIR); jar cache kept ($CACHE_DIR)"
}

cmd_logs() {
  use_broker "$(broker_indexes "${2:-1}")"
  if [ -f "$LOG_DIR/server.log" ]; then
    tail -n "${1:-100}" "$LOG_DIR/server.log"
  else
    err "没有日志 / no log yet ($LOG_DIR/server.log)"
    return 1
  fi
}

usage() {
  cat <<EOF
用法 / usage: $(basename "$0") {fetch|start [N]|stop [N]|kill N|status|format|reset|logs [L] [N]|cluster-start|cluster-stop|cluster-status|cluster-reset}
  fetch   下载 jar / fetch the pinned Kafka $KAFKA_VERSION jars into $CACHE_DIR
  start   启动并等待就绪 / start the broker(s) on $HOST:\${XINFANG_KAFKA_PORT:-9092}… and wait until they answer
          (N: only broker N of a cluster)
  stop    停止 / stop (SIGTERM, then SIGKILL after \${XINFANG_KAFKA_STOP_TIMEOUT:-30} s); N: only broker N
  kill    强制结束第 N 个代理 / SIGKILL broker N (fault injection)
  status  运行中则输出地址并返回 0 / print the bootstrap servers and exit 0 if every broker answers, else exit 1
  format  格式化存储 / format the storage once and print the cluster id (start does this too)
  reset   停止并删除数据 / stop and delete the state folder (jar cache kept)
  logs    显示日志末尾 / print the last L (default 100) lines of broker N's log
  cluster-*  同上,3 个代理 / the same for a 3-broker cluster (XINFANG_KAFKA_BROKERS=3)
安全 / security: XINFANG_KAFKA_SECURITY=$SECURITY (sasl_ssl | plaintext); credentials: <state>/credentials/<principal>.json
EOF
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start | cluster-start) cmd_start "${2:-}" ;;
  stop | cluster-stop) cmd_stop "${2:-}" ;;
  kill | cluster-kill) cmd_kill "${2:-}" ;;
  status | cluster-status) cmd_status ;;
  format) cmd_format ;;
  reset | cluster-reset) cmd_reset ;;
  logs | cluster-logs) cmd_logs "${2:-100}" "${3:-}" ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
