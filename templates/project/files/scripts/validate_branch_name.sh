#!/usr/bin/env bash
# Check a branch name (default: the current branch) against the project's branch rules.
# Usage: scripts/validate_branch_name.sh [BRANCH]
set -euo pipefail
exec mlopsctl check-branch "$@"
