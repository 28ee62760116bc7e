#!/usr/bin/env bash
# One-off: install the project's git hooks (branch, commit message and file-name checks).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
git config --local core.autocrlf input
exec mlopsctl hooks install
