#!/usr/bin/env bash
# Run the test suites in order (unit, integration, e2e) or the ones named; see `mlopsctl test --help`.
# Usage: ./run_tests.sh [--setup] [--wsl] [unit|integration|e2e|performance|security|all]... [-- PYTEST_ARGS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

setup=false
suites=()
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --setup) setup=true ;;
    --wsl) ;;  # accepted for compatibility; mlopsctl needs no WSL-specific handling
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    --) shift; passthrough=("$@"); break ;;
    -*) echo "run_tests.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) suites+=("$1") ;;
  esac
  shift
done

if [ "$setup" = true ]; then
  python -m pip install -r requirements-dev.txt
  [ ${#suites[@]} -eq 0 ] && exit 0
fi

args=(test)
[ ${#suites[@]} -gt 0 ] && args+=("${suites[@]}")
[ ${#passthrough[@]} -gt 0 ] && args+=(-- "${passthrough[@]}")
exec mlopsctl "${args[@]}"
