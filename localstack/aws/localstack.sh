#!/usr/bin/env bash
# The deployed stack on LocalStack (needs Docker and LOCALSTACK_AUTH_TOKEN).
#
#   localstack.sh up      start LocalStack (docker compose) and wait until healthy
#   localstack.sh deploy  build the functions for the Docker host and deploy
#                         the CDK app of infra/ with cdklocal, with
#                         $LOCALSTACK_DEPLOY_ARGS (e.g. -c authIssuer=https://...)
#   localstack.sh test    run the integration suite against LocalStack
#   localstack.sh down    stop LocalStack
#
# The test suite is the one `make test` runs against the local emulators,
# unchanged: only the endpoints differ.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
endpoint="${LOCALSTACK_ENDPOINT:-http://localhost.localstack.cloud:4566}"
compose=(docker compose -f "$here/docker-compose.yml")

need_docker() {
  if ! docker info >/dev/null 2>&1; then
    echo "localstack: Docker is not running here; LocalStack needs a Docker engine." >&2
    exit 1
  fi
}

# What every AWS client of the project reads to reach LocalStack instead of AWS.
aws_env() {
  export AWS_ENDPOINT_URL="$endpoint" AWS_ENDPOINT_URL_SQS="$endpoint" \
    AWS_ENDPOINT_URL_SNS="$endpoint" AWS_ENDPOINT_URL_DYNAMODB="$endpoint" \
    AWS_ENDPOINT_URL_S3="$endpoint" AWS_ENDPOINT_URL_KMS="$endpoint" \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
}

case "${1:-}" in
  up)
    need_docker
    "${compose[@]}" up -d --wait
    echo "localstack: ready at $endpoint"
    ;;
  deploy)
    need_docker
    aws_env
    # The functions run in containers of the Docker host's architecture.
    case "$(docker info --format '{{.Architecture}}')" in
      aarch64|arm64) goarch=arm64 lambda_arch=arm64 ;;
      *) goarch=amd64 lambda_arch=x86_64 ;;
    esac
    make -C "$repo" --no-print-directory build LAMBDA_GOARCH="$goarch"
    (cd "$repo/infra" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
    cdklocal=("$repo/infra/node_modules/.bin/cdklocal")
    export CDK_DISABLE_CLI_TELEMETRY=true
    cd "$repo"
    "${cdklocal[@]}" bootstrap --no-notices aws://000000000000/us-east-1
    "${cdklocal[@]}" deploy --no-notices --require-approval never \
      --context lambdaArchitecture="$lambda_arch" ${LOCALSTACK_DEPLOY_ARGS:-} \
      --outputs-file "$repo/build/localstack-outputs.json"
    echo "localstack: stack outputs in build/localstack-outputs.json"
    ;;
  test)
    aws_env
    cd "$repo"
    go test -race -count=1 -timeout 30m ./...
    ;;
  down)
    need_docker
    "${compose[@]}" down
    ;;
  *)
    echo "usage: $0 up|deploy|test|down" >&2
    exit 2
    ;;
esac
