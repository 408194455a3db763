#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (the Dockerfile in
# the nngrade repository does the same). It installs the grader into its own virtualenv and
# makes the hidden configuration and the reference solution readable by root only.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${NNGRADE_VENV:-/opt/nngrade/venv}"
TORCH_REQUIREMENT=@@TORCH_REQUIREMENT@@
# Where the CPU build of torch comes from; empty: the default package index.
TORCH_INDEX_URL=@@TORCH_INDEX_URL@@

python_ok() {
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

find_python() {
    local py
    for py in python3.13 python3.12 python3.11 python3; do
        if command -v "$py" >/dev/null && python_ok "$py"; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

if ! PY="$(find_python)"; then
    # Ubuntu images: the system Python may be older than 3.11, or lack venv/ensurepip.
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv
    PY="$(find_python)"
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-cache-dir --upgrade pip
if [ -n "$TORCH_INDEX_URL" ]; then
    "$VENV/bin/python" -m pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" \
        "$TORCH_REQUIREMENT"
fi
"$VENV/bin/python" -m pip install --no-cache-dir -r "$SOURCE/requirements.txt" "$SOURCE/engine"
"$VENV/bin/python" -c 'import autograder.gradescope.run, jsonschema, torch, numpy'

# Student code runs as an unprivileged user: it must not read what is below.
chown -R root:root "$SOURCE"
chmod -R go-rwx "$SOURCE"
