#!/usr/bin/env bash
# Every GPU check of the book in one prepared run (DEVELOPERS.md: a lent GPU, 15 minutes of device time in all):
#   1. the CUDA tests (tests/test_cuda.py and the CUDA cases of the train and koopman tests);
#   2. benchmarks/bench_train.py: pruning_utils.train against a standard loop, K networks at once, snapshots;
#   3. benchmarks/projection.py --device cuda on the paper profiles: each profile's smoke run on the GPU, its
#      measured time per step and the projected length of the whole profile on this GPU.
# Logs and JSON go to $OUT (default ./gpu_check_out). Wheels the GPU machine lacks (ripser and its needs, for
# chapter 05's diagrams; mlxtend) are installed from .whl/ when it is there (see benchmarks/RESULTS.md).
#
#   OUT=/tmp/out bash benchmarks/gpu_check.sh            # on the GPU machine
#   QUICK=1 OUT=/tmp/out bash benchmarks/gpu_check.sh    # a tiny setting, to try it on a CPU
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_check_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=${PY:-python3}
if [ -d .whl ] && ! $PY -c "import ripser, mlxtend" 2>/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi";
  $PY -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__,
'cuda', torch.version.cuda, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')";
  git rev-parse HEAD 2>/dev/null; nproc; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
status=0
if [ -n "${QUICK:-}" ]; then
  timeout 300 $PY -m pytest -q -p no:cacheprovider -o addopts="" tests/test_cuda.py 2>&1 | tee "$OUT/tests.log" || status=1
  timeout 300 $PY benchmarks/bench_train.py --quick --repeats 1 --k 4 --out "$OUT/bench_train.json" 2>&1 \
    | tee "$OUT/bench_train.log" || status=1
  timeout 300 $PY benchmarks/projection.py --batches 2 --out "$OUT/projection.json" foundations:default \
    2>&1 | tee "$OUT/projection.log" || status=1
  exit $status
fi
timeout 150 $PY -m pytest -q -p no:cacheprovider -o addopts="" tests/test_cuda.py tests/test_train.py \
  tests/test_koopman.py 2>&1 | tee "$OUT/tests.log" || status=1
timeout 200 $PY benchmarks/bench_train.py --device cuda --repeats 2 --k 8 --compile --out "$OUT/bench_train.json" \
  2>&1 | tee "$OUT/bench_train.log" || status=1
timeout 200 $PY benchmarks/projection.py --device cuda --batches 4 --out "$OUT/projection_cuda.json" \
  foundations:paper koopman:paper koopman:paper_resnet20 spline:paper spline:paper_preresnet bounds:paper \
  pruning_at_init:paper pruning_at_init:paper_resnet32 topology:paper lenses:paper \
  2>&1 | tee "$OUT/projection_cuda.log" || status=1
exit $status
