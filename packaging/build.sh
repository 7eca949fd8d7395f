#!/usr/bin/env bash
# Build the one-folder bundle of TCM Desktop with PyInstaller (Linux; Windows uses the same spec, see
# .github/workflows/windows-installer.yml and docs/packaging.md).
#
#   bash packaging/build.sh                 # dist/tcm-desktop/            app + tcm-retrain (CPU torch)
#   bash packaging/build.sh --no-retrain    # dist/tcm-desktop-inference/  app only, no torch
#
# The build runs in its own virtual environment (default .build-venv, TCM_BUILD_VENV overrides; created on
# first use, reused after) so that the torch it freezes is the CPU build: the development environment may
# hold a CUDA torch, whose libraries must never ship. CPU torch comes from, in this order: TCM_TORCH_PIP
# (pip arguments, e.g. "torch==2.14.1 --index-url https://download.pytorch.org/whl/cpu"), a torch-*+cpu
# wheel in pip's find-links folder (an offline wheelhouse), else the PyTorch CPU index. The build stops if
# the environment's torch has CUDA, or if any CUDA library ends up in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

RETRAIN=1
for arg in "$@"; do
    case "$arg" in
        --no-retrain) RETRAIN=0 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

VENV="${TCM_BUILD_VENV:-.build-venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x "$VENV/bin/python" ]; then
    echo "build.sh: creating the build environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

echo "build.sh: installing the app and PyInstaller into $VENV"
"$PY" -m pip install -q -e ".[package]"

if [ "$RETRAIN" = 1 ]; then
    if ! "$PY" -c "import torch, sys; sys.exit(torch.version.cuda is not None)" 2>/dev/null; then
        if [ -n "${TCM_TORCH_PIP:-}" ]; then
            # shellcheck disable=SC2086  # pip arguments, split on purpose
            "$PY" -m pip install -q $TCM_TORCH_PIP
        else
            links="${PIP_FIND_LINKS:-$("$PY" -m pip config get global.find-links 2>/dev/null || true)}"
            wheel=""
            for folder in $links; do
                found=$(ls "$folder"/torch-*+cpu-cp311-*.whl 2>/dev/null | sort -V | tail -1 || true)
                [ -n "$found" ] && wheel="$found"
            done
            if [ -n "$wheel" ]; then
                echo "build.sh: CPU torch from the wheelhouse: $wheel"
                "$PY" -m pip install -q "$wheel"
            else
                "$PY" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu \
                    || { echo "build.sh: no CPU torch; set TCM_TORCH_PIP (see docs/packaging.md)" >&2; exit 2; }
            fi
        fi
    fi
    # the rest of the train extra (torch and torchvision excepted: the CPU torch above; torchvision is not frozen)
    mapfile -t TRAIN_REQS < <("$PY" packaging/train_requirements.py)
    "$PY" -m pip install -q "${TRAIN_REQS[@]}"
    "$PY" -c "import torch, sys; print('build.sh: torch', torch.__version__); sys.exit(torch.version.cuda is not None)" \
        || { echo "build.sh: the build environment's torch is a CUDA build; install the CPU wheel" >&2; exit 2; }
    NAME=tcm-desktop
else
    NAME=tcm-desktop-inference
fi

echo "build.sh: PyInstaller ($NAME)"
TCM_PACKAGE_RETRAIN="$RETRAIN" "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath "build/pyinstaller-$NAME" packaging/tcm_desktop.spec

# CUDA runtime, cuDNN, cuBLAS ... and torch's CUDA parts, by library name (libicudata is ICU, not CUDA)
cuda=$(find "dist/$NAME" -type f \( -name '*.so*' -o -iname '*.dll' -o -iname '*.pyd' \) -printf '%f\n' \
    | grep -iE '^(lib)?(cuda|cudart|cudnn|cublas|cufft|curand|cusolver|cusparse|nccl|nvrtc|nvjitlink|nvtoolsext|nvshmem|torch_cuda|c10_cuda|caffe2_nvrtc)' \
    || true)
if [ -n "$cuda" ]; then
    echo "build.sh: CUDA libraries in the bundle:" >&2
    echo "$cuda" >&2
    exit 1
fi
echo "build.sh: built dist/$NAME ($(du -sh "dist/$NAME" | cut -f1)); no CUDA libraries"
