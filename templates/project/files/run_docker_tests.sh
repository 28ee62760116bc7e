#!/usr/bin/env bash
# Run ./run_tests.sh inside the development container (docker/docker-compose.main.yml).
# Usage: ./run_docker_tests.sh [run_tests.sh arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose=(docker-compose)
fi
exec "${compose[@]}" -f docker/docker-compose.main.yml run --rm dev ./run_tests.sh "$@"
