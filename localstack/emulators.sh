#!/usr/bin/env bash
# Local AWS emulators for offline development and tests:
#   - fauxqs      SQS (JSON protocol), SNS and S3 (path-style), bound to 127.0.0.1
#   - dynalite    DynamoDB, in memory, bound to 127.0.0.1
#   - dynamoproxy DynamoDB API in front of dynalite, adding transactions and
#                 TTL (cmd/dynamoproxy); clients talk to this one
#   - local-kms   KMS, bound to 127.0.0.1 (localstack/kms); its keys are kept
#                 in DIR/kms-data, so a stack keeps them across restarts
#
# Usage:
#   localstack/emulators.sh start  [--state-dir DIR] [--free-ports]
#                                  [--sqs-port N] [--dynamodb-port N] [--dynalite-port N]
#                                  [--kms-port N] [--ttl-interval DURATION]
#   localstack/emulators.sh stop   [--state-dir DIR]
#   localstack/emulators.sh status [--state-dir DIR]
#   localstack/emulators.sh env    [--state-dir DIR]
#
# start is idempotent: if the stack of DIR is already running and healthy it
# is left alone. It installs the emulators (npm ci, from the lockfile) when
# needed, builds the proxy and local-kms, starts the four processes in their
# own process groups, waits until they answer, writes DIR/env and prints its
# lines on stdout (everything else goes to stderr), so this works:
#
#   eval "$(localstack/emulators.sh start)"
#
# DIR/env holds:
#   export AWS_ENDPOINT_URL=http://127.0.0.1:9     (any other service: refused at once, never AWS)
#   export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:<sqs port>
#   export AWS_ENDPOINT_URL_SNS=http://127.0.0.1:<sqs port>   (fauxqs serves SQS, SNS and S3)
#   export AWS_ENDPOINT_URL_S3=http://127.0.0.1:<sqs port>    (path-style addressing only)
#   export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:<dynamodb port>
#   export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:<kms port>
#   export AWS_REGION=us-east-1
#   export AWS_ACCESS_KEY_ID=local
#   export AWS_SECRET_ACCESS_KEY=local
#
# Defaults: DIR is localstack/.state/dev; ports are SQS 4566, DynamoDB 8000
# (the proxy), 8001 (dynalite, used only by the proxy) and KMS 4599, all on
# 127.0.0.1.
# --free-ports picks unused loopback ports instead, so a test stack never
# clashes with a running development stack.
#
# stop ends exactly the processes that DIR's start launched (their whole
# process groups) and exits 0 if nothing was running; it keeps DIR/kms-data.
# status exits 0 when all four run and answer, 3 when none runs, 1 otherwise.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
DEFAULT_STATE_DIR="$SCRIPT_DIR/.state/dev"
COMPONENTS=(fauxqs dynalite dynamoproxy local-kms)
READY_TIMEOUT=60
STOP_TIMEOUT=10

log() { printf 'emulators: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

# ---------------------------------------------------------------- arguments

cmd=${1:-}
[[ -n $cmd ]] || {
	usage
	exit 2
}
shift
state_dir=$DEFAULT_STATE_DIR
free_ports=false
sqs_port=4566
dynamodb_port=8000
dynalite_port=8001
kms_port=4599
ttl_interval=30s

need_value() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"; }
is_port() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

while [[ $# -gt 0 ]]; do
	case $1 in
	--state-dir)
		need_value "$@"
		state_dir=$2
		shift 2
		;;
	--state-dir=*)
		state_dir=${1#*=}
		shift
		;;
	--free-ports)
		free_ports=true
		shift
		;;
	--sqs-port | --dynamodb-port | --dynalite-port | --kms-port | --ttl-interval)
		need_value "$@"
		case $1 in
		--sqs-port) sqs_port=$2 ;;
		--dynamodb-port) dynamodb_port=$2 ;;
		--dynalite-port) dynalite_port=$2 ;;
		--kms-port) kms_port=$2 ;;
		--ttl-interval) ttl_interval=$2 ;;
		esac
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage
		die "unknown argument: $1"
		;;
	esac
done
for p in "$sqs_port" "$dynamodb_port" "$dynalite_port" "$kms_port"; do
	is_port "$p" || die "invalid port: $p"
done

mkdir -p -- "$state_dir"
state_dir=$(cd -- "$state_dir" && pwd -P)
ENV_FILE="$state_dir/env"
PORTS_FILE="$state_dir/ports"
# local-kms's database: kept by stop, so a development stack keeps its keys
# (and what they encrypted stays readable); a test stack's goes with its DIR.
KMS_DATA_DIR="$state_dir/kms-data"

# ---------------------------------------------------------------- helpers

pid_file() { printf '%s/%s.pid' "$state_dir" "$1"; }
log_file() { printf '%s/%s.log' "$state_dir" "$1"; }

# marker is a string that must appear in a component's command line, so that
# a pid file left over from a reboot never makes us signal a stranger.
marker() {
	case $1 in
	fauxqs) printf '%s' "$SCRIPT_DIR/emulators/fauxqs.mjs" ;;
	dynalite) printf '%s' "$SCRIPT_DIR/node_modules/dynalite/cli.js" ;;
	dynamoproxy) printf '%s' "$state_dir/bin/dynamoproxy" ;;
	local-kms) printf '%s' "$state_dir/bin/local-kms" ;;
	esac
}

# running_pid prints the pid of component $1 if it is alive and ours.
running_pid() {
	local f pid cmdline
	f=$(pid_file "$1")
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || ps -o args= -p "$pid" 2>/dev/null || true)
	[[ $cmdline == *"$(marker "$1")"* ]] || return 1
	printf '%s\n' "$pid"
}

group_alive() { kill -0 -- "-$1" 2>/dev/null; }

# lock serialises start/stop on one state dir (and npm ci across all).
LOCK_FD=
lock() {
	command -v flock >/dev/null || return 0
	local file=$1
	exec {LOCK_FD}>"$file"
	flock -w 300 "$LOCK_FD" || die "timed out waiting for lock $file"
}

load_ports() {
	[[ -f $PORTS_FILE ]] || return 1
	# shellcheck disable=SC1090
	source "$PORTS_FILE"
	# A ports file written before local-kms was a component lacks its port:
	# that stack is treated as not running, and start replaces it.
	[[ -n ${KMS_PORT:-} ]]
}

# probe checks one endpoint once: "sqs URL" (GET /health), "dynamodb URL"
# (ListTables) or "kms URL" (ListKeys). Node is used so that nothing beyond
# the emulators' own runtime is needed.
probe() {
	node --input-type=module -e '
const [kind, url] = process.argv.slice(1);
const ctl = AbortSignal.timeout(2000);
try {
  let res;
  if (kind === "sqs") {
    res = await fetch(url + "/health", { signal: ctl });
  } else if (kind === "kms") {
    res = await fetch(url + "/", {
      method: "POST",
      signal: ctl,
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys" },
      body: "{}",
    });
  } else {
    const now = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
    res = await fetch(url + "/", {
      method: "POST",
      signal: ctl,
      headers: {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "X-Amz-Date": now,
        Authorization: `AWS4-HMAC-SHA256 Credential=local/${now.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`,
      },
      body: "{}",
    });
  }
  const body = await res.text();
  const expected = { sqs: "ok", dynamodb: "TableNames", kms: "Keys" }[kind];
  const ok = res.status === 200 && body.includes(expected);
  process.exit(ok ? 0 : 1);
} catch {
  process.exit(1);
}' "$1" "$2" 2>/dev/null
}

healthy() {
	probe sqs "http://127.0.0.1:$SQS_PORT" && probe dynamodb "http://127.0.0.1:$DYNAMODB_PORT" &&
		probe kms "http://127.0.0.1:$KMS_PORT"
}

# stop_component ends component $1's process group: TERM, then KILL.
stop_component() {
	local name=$1 pid i
	if pid=$(running_pid "$name"); then
		log "stopping $name (pid $pid)"
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
			group_alive "$pid" || kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if group_alive "$pid" || kill -0 "$pid" 2>/dev/null; then
			log "$name did not stop within ${STOP_TIMEOUT}s; killing it"
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				group_alive "$pid" || break
				sleep 0.1
			done
		fi
	fi
	rm -f -- "$(pid_file "$name")"
}

stop_all() {
	local name
	# The proxy first, so it never forwards to a stopped dynalite.
	for name in dynamoproxy dynalite local-kms fauxqs; do
		stop_component "$name"
	done
	rm -f -- "$ENV_FILE" "$PORTS_FILE"
}

print_env() { cat -- "$ENV_FILE"; }

check_node() {
	command -v node >/dev/null || die "node is not installed (Node.js 20 or newer is needed)"
	command -v npm >/dev/null || die "npm is not installed"
	node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
		die "Node.js 20 or newer is needed, found $(node --version)"
}

# install_emulators runs npm ci when node_modules is missing or older than
# the lockfile. Everything comes from the npm registry; install scripts are
# off (.npmrc): classic-level, the only package with one, ships prebuilt
# binaries, and dynalite runs in memory anyway.
install_emulators() {
	local stamp="$SCRIPT_DIR/node_modules/.package-lock.json"
	if [[ -f $stamp && ! $SCRIPT_DIR/package-lock.json -nt $stamp ]]; then
		return 0
	fi
	mkdir -p -- "$SCRIPT_DIR/.state"
	(
		lock "$SCRIPT_DIR/.state/npm.lock"
		if [[ -f $stamp && ! $SCRIPT_DIR/package-lock.json -nt $stamp ]]; then
			exit 0 # installed by a concurrent start
		fi
		log "installing emulators (npm ci in localstack/)"
		cd -- "$SCRIPT_DIR"
		npm ci --no-audit --no-fund >&2
	) || die "npm ci failed in $SCRIPT_DIR"
}

build_proxy() {
	command -v go >/dev/null || die "go is not installed (needed to build cmd/dynamoproxy)"
	mkdir -p -- "$state_dir/bin"
	(cd -- "$REPO_ROOT" && go build -o "$state_dir/bin/dynamoproxy" ./cmd/dynamoproxy) ||
		die "building cmd/dynamoproxy failed"
}

# build_kms builds local-kms from its own module (localstack/kms), which pins
# it; the module proxy serves it like any Go module.
build_kms() {
	mkdir -p -- "$state_dir/bin"
	go -C "$SCRIPT_DIR/kms" build -o "$state_dir/bin/local-kms" . ||
		die "building localstack/kms (local-kms) failed"
}

# pick_free_ports prints four distinct free loopback ports.
pick_free_ports() {
	node -e '
const net = require("net");
const servers = [0, 1, 2, 3].map(() => net.createServer());
Promise.all(servers.map((s) => new Promise((ok, fail) => { s.once("error", fail); s.listen(0, "127.0.0.1", ok); })))
  .then(() => { console.log(servers.map((s) => s.address().port).join(" ")); servers.forEach((s) => s.close()); })
  .catch((e) => { console.error(e.message); process.exit(1); });'
}

port_in_use() {
	node -e '
const s = require("net").createServer();
s.once("error", () => process.exit(0));
s.listen(Number(process.argv[1]), "127.0.0.1", () => s.close(() => process.exit(1)));' "$1"
}

# launch starts "$@" as component $1 in a new session (its own process
# group), detached from this shell, with output to its log file. Descriptors
# other than 0-2 are closed first: the lock, and any pipe the caller handed
# down, must not stay open for as long as the emulators run.
launch() {
	local name=$1
	shift
	local out
	out=$(log_file "$name")
	: >"$out"
	(
		fds=(/proc/"$BASHPID"/fd/*)
		for fd in "${fds[@]##*/}"; do
			if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then
				eval "exec $fd>&-" 2>/dev/null || true
			fi
		done
		exec setsid nohup "$@" >>"$out" 2>&1 </dev/null
	) &
	printf '%s\n' "$!" >"$(pid_file "$name")"
}

show_logs() {
	local name f
	for name in "${COMPONENTS[@]}"; do
		f=$(log_file "$name")
		[[ -s $f ]] || continue
		log "--- last lines of $f"
		tail -n 20 -- "$f" >&2 || true
	done
}

# start_stack launches the four processes on the chosen ports and waits
# until they answer. Returns non-zero (after stopping them) on failure.
start_stack() {
	launch fauxqs node "$SCRIPT_DIR/emulators/fauxqs.mjs" --host 127.0.0.1 --port "$SQS_PORT"
	launch dynalite node "$SCRIPT_DIR/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$DYNALITE_PORT" \
		--createTableMs 0 --deleteTableMs 0 --updateTableMs 0
	launch dynamoproxy "$state_dir/bin/dynamoproxy" -listen "127.0.0.1:$DYNAMODB_PORT" \
		-upstream "http://127.0.0.1:$DYNALITE_PORT" -ttl-interval "$ttl_interval"
	# The account and region of the ARNs it makes are those of fauxqs's and
	# of the env file.
	launch local-kms env KMS_DATA_PATH="$KMS_DATA_DIR" KMS_ACCOUNT_ID=000000000000 KMS_REGION=us-east-1 \
		"$state_dir/bin/local-kms" -listen "127.0.0.1:$KMS_PORT"

	local deadline=$((SECONDS + READY_TIMEOUT)) name
	while :; do
		for name in "${COMPONENTS[@]}"; do
			if ! running_pid "$name" >/dev/null; then
				log "$name exited during startup"
				show_logs
				stop_all
				return 1
			fi
		done
		if healthy; then
			return 0
		fi
		if ((SECONDS >= deadline)); then
			log "emulators not ready after ${READY_TIMEOUT}s (SQS on $SQS_PORT, DynamoDB on $DYNAMODB_PORT, KMS on $KMS_PORT)"
			show_logs
			stop_all
			return 1
		fi
		sleep 0.2
	done
}

write_env() {
	local tmp
	tmp=$(mktemp "$state_dir/.ports.XXXXXX")
	printf 'SQS_PORT=%s\nDYNAMODB_PORT=%s\nDYNALITE_PORT=%s\nKMS_PORT=%s\n' "$SQS_PORT" "$DYNAMODB_PORT" "$DYNALITE_PORT" "$KMS_PORT" >"$tmp"
	mv -f -- "$tmp" "$PORTS_FILE"
	tmp=$(mktemp "$state_dir/.env.XXXXXX")
	cat >"$tmp" <<EOF
export AWS_ENDPOINT_URL=http://127.0.0.1:9
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$SQS_PORT
export AWS_ENDPOINT_URL_SNS=http://127.0.0.1:$SQS_PORT
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$SQS_PORT
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DYNAMODB_PORT
export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$KMS_PORT
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
EOF
	chmod 644 -- "$tmp"
	mv -f -- "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- commands

cmd_start() {
	lock "$state_dir/lock"

	local name alive=0
	for name in "${COMPONENTS[@]}"; do
		running_pid "$name" >/dev/null && alive=$((alive + 1))
	done
	if ((alive == ${#COMPONENTS[@]})) && load_ports && [[ -f $ENV_FILE ]] && healthy; then
		log "already running (state dir $state_dir)"
		print_env
		return 0
	fi
	if ((alive > 0)); then
		log "stack in $state_dir is incomplete or not answering; restarting it"
		show_logs
	fi
	stop_all

	check_node
	install_emulators
	build_proxy
	build_kms

	local attempt attempts=1
	$free_ports && attempts=3
	for ((attempt = 1; attempt <= attempts; attempt++)); do
		if $free_ports; then
			read -r SQS_PORT DYNAMODB_PORT DYNALITE_PORT KMS_PORT < <(pick_free_ports) ||
				die "could not find free loopback ports"
		else
			SQS_PORT=$sqs_port DYNAMODB_PORT=$dynamodb_port DYNALITE_PORT=$dynalite_port KMS_PORT=$kms_port
			local p
			for p in "$SQS_PORT" "$DYNAMODB_PORT" "$DYNALITE_PORT" "$KMS_PORT"; do
				if port_in_use "$p"; then
					die "port $p on 127.0.0.1 is already in use (another program, or a stack of another state dir); stop it, pick other ports (--sqs-port, --dynamodb-port, --dynalite-port, --kms-port) or use --free-ports"
				fi
			done
		fi
		log "starting in $state_dir: SQS, SNS and S3 127.0.0.1:$SQS_PORT, DynamoDB 127.0.0.1:$DYNAMODB_PORT (dynalite 127.0.0.1:$DYNALITE_PORT), KMS 127.0.0.1:$KMS_PORT"
		if start_stack; then
			write_env
			log "ready"
			print_env
			return 0
		fi
		# Free ports are picked, then bound: another program may take one in
		# between. Only that is worth another try.
		if ((attempt < attempts)) && grep -qiE 'EADDRINUSE|address already in use' -- "$state_dir"/*.log 2>/dev/null; then
			log "a port was taken meanwhile; retrying with other ports"
			continue
		fi
		break
	done
	die "emulators failed to start (logs in $state_dir)"
}

cmd_stop() {
	lock "$state_dir/lock"
	local name any=false
	for name in "${COMPONENTS[@]}"; do
		running_pid "$name" >/dev/null && any=true
	done
	stop_all
	$any && log "stopped (state dir $state_dir)" || log "nothing running (state dir $state_dir)"
	return 0
}

cmd_status() {
	local name pid running=0 port
	load_ports || true
	for name in "${COMPONENTS[@]}"; do
		case $name in
		fauxqs) port=${SQS_PORT:-?} ;;
		dynalite) port=${DYNALITE_PORT:-?} ;;
		dynamoproxy) port=${DYNAMODB_PORT:-?} ;;
		local-kms) port=${KMS_PORT:-?} ;;
		esac
		if pid=$(running_pid "$name"); then
			running=$((running + 1))
			printf '%-12s running  pid %-7s 127.0.0.1:%s\n' "$name" "$pid" "$port"
		else
			printf '%-12s stopped\n' "$name"
		fi
	done
	if ((running == 0)); then
		printf 'state dir %s: not running\n' "$state_dir"
		return 3
	fi
	if ((running == ${#COMPONENTS[@]})) && [[ -n ${SQS_PORT:-} ]] && healthy; then
		printf 'state dir %s: healthy; env file %s\n' "$state_dir" "$ENV_FILE"
		return 0
	fi
	printf 'state dir %s: degraded (run start to repair, stop to clean up)\n' "$state_dir"
	return 1
}

cmd_env() {
	[[ -f $ENV_FILE ]] || die "no env file in $state_dir: run start first"
	print_env
}

case $cmd in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
-h | --help | help) usage ;;
*)
	usage
	die "unknown command: $cmd"
	;;
esac
