#!/usr/bin/env bash
# The GPU benchmark on a fresh device machine: install the wheels carried in bench/wheels/
# (filled here by `make gpu-wheels`) into a private folder, then run bench.gpu_run, which
# writes its JSON to $OUT (or /tmp) after every part. Extra arguments go to bench.gpu_run:
#
#   bench/gpu_run.sh                  # the full run (Qwen2.5-0.5B shape, about 5-7 minutes)
#   bench/gpu_run.sh --tiny           # the CPU rehearsal (tiny model, tiny counts)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# PREFLENS_WHEELS=none skips the install (a machine that has PrefLens's packages, such as
# a developer's virtualenv, where the Python 3.12 wheels would not install).
wheels=${PREFLENS_WHEELS:-bench/wheels}
if [ "$wheels" != none ] && compgen -G "$wheels/*.whl" >/dev/null; then
  site=${PREFLENS_WHEEL_SITE:-/tmp/preflens-site}
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" "$wheels"/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
# The repository is not installed there: its packages are imported from here.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
out_dir=${OUT:-/tmp}
name=gpu_run.json
for arg in "$@"; do [ "$arg" = --tiny ] && name=gpu_run_tiny.json; done
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
# The log beside the JSON, so a part that failed can be read back from $OUT.
set -o pipefail
"$PY" -m bench.gpu_run --out "$out_dir/$name" "$@" 2>&1 | tee "$out_dir/${name%.json}.log"
