#!/usr/bin/env bash
# Runs a command with the local AWS emulators.
#
#   with-emulators.sh --fresh CMD...   start private emulators on free ports,
#                                      run CMD, stop them (used by make test)
#   with-emulators.sh --dev CMD...     reuse the dev emulators if they are
#                                      running, else start them and stop them
#                                      when CMD ends (used by make dev)
#
# CMD runs with the emulators' env file in its environment: an
# AWS_ENDPOINT_URL_<SERVICE> for SQS, SNS and S3 (fauxqs), DynamoDB and KMS,
# AWS_ENDPOINT_URL refusing every other service, and local credentials.
# A --fresh stack's state dir, local-kms's keys included, is removed after.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
emulators="$here/emulators.sh"

mode="${1:-}"
shift || true
case "$mode" in
  --fresh)
    state_dir="$(mktemp -d "${TMPDIR:-/tmp}/jobs-emulators.XXXXXX")"
    started=1
    "$emulators" start --free-ports --state-dir "$state_dir" >/dev/null
    ;;
  --dev)
    state_dir="$here/.state/dev"
    started=0
    if ! "$emulators" status --state-dir "$state_dir" >/dev/null 2>&1; then
      "$emulators" start --state-dir "$state_dir"
      started=1
    else
      echo "Reusing the emulators already running (stop them with: make emulators-stop)"
    fi
    ;;
  *)
    echo "usage: $0 --fresh|--dev COMMAND..." >&2
    exit 2
    ;;
esac

cleanup() {
  status=$?
  if [ "$status" != 0 ] && [ "$mode" = --fresh ]; then
    # Whatever failed, show what the emulators said: a crash is found here.
    "$emulators" status --state-dir "$state_dir" >&2 || true
    for log in "$state_dir"/*.log; do
      [ -f "$log" ] || continue
      echo "--- last lines of $log" >&2
      tail -n 40 "$log" >&2
    done
  fi
  if [ "$started" = 1 ]; then
    "$emulators" stop --state-dir "$state_dir" >/dev/null || true
    if [ "$mode" = --fresh ]; then rm -rf "$state_dir"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC1091
. "$state_dir/env"
"$@"
