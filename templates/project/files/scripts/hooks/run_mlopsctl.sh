#!/bin/sh
# Runs mlopsctl for the git hooks (.pre-commit-config.yaml's, and `mlopsctl hooks install`'s
# own, which keep a copy beside them): the mlopsctl on PATH, else the interpreter that ran
# `mlopsctl hooks install` (git config mlopsctl.python), as pre-commit's own hook script
# does, so a commit from an IDE without the virtual environment still checks.
if command -v mlopsctl >/dev/null 2>&1; then
  exec mlopsctl "$@"
fi
python=$(git config --get mlopsctl.python 2>/dev/null)
if [ -n "$python" ] && [ -x "$python" ]; then
  exec "$python" -m mlopsctl "$@"
fi
echo "mlopsctl not found: activate the environment it is installed in, or run" \
  "'mlopsctl hooks install' from it." >&2
exit 127
