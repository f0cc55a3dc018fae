#!/usr/bin/env bash
# Fill bench/wheels/ with the wheels bench/gpu_run.sh installs on the GPU machine, whose
# image (Python 3.12, torch, numpy, scipy, safetensors, accelerate, ...) lacks PrefLens's
# serving and store packages and has older transformers / huggingface_hub. Versions come
# from requirements.lock; --no-deps, so every package needed is named here. The folder is
# git-ignored; it travels with the working tree when named in the run's carry list, and
# the whole tree must stay under 64 MiB.
#
#   make gpu-wheels        (or: bench/gpu_wheels.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
NAMES=(
  transformers huggingface_hub httpx2 httpcore2 truststore tokenizers
  fastapi starlette annotated-doc pydantic pydantic_core pydantic-settings python-dotenv
  typing-inspection annotated-types typing_extensions python-multipart
  uvicorn httptools h11 anyio httpx httpcore
  SQLAlchemy greenlet alembic Mako opentelemetry-api
)
pins=()
for name in "${NAMES[@]}"; do
  pin=$(grep -i "^${name}==" requirements.lock || true)
  [ -n "$pin" ] || { echo "gpu_wheels: $name is not in requirements.lock" >&2; exit 2; }
  pins+=("$pin")
done
rm -rf bench/wheels
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux1_x86_64 -d bench/wheels "${pins[@]}"
du -sh bench/wheels
