#!/usr/bin/env bash
# Installs what is missing and builds semharness: Debian packages, the pinned torch wheel (its LibTorch) and
# scikit-learn into .venv, then configures and builds build/. Idempotent: a second run only rebuilds what changed.
#   scripts/setup.sh               everything (the binary, the tests, the benchmarks)
#   scripts/setup.sh TARGET...     only these ninja targets (quickstart builds `semharness` alone)
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.15.0
DEBIAN_PACKAGES=(
  build-essential cmake ninja-build ccache git pkg-config python3 python3-venv sqlite3
  libfmt-dev libboost-program-options-dev libsqlite3-dev libsqlitecpp-dev zlib1g-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libgoogle-perftools-dev libjpeg62-turbo-dev libpng-dev
  dataset-fashion-mnist
)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  echo "setup: installing torch==$TORCH_VERSION into .venv (LibTorch for the C++ build)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "torch==$TORCH_VERSION"
fi
# scikit-learn only for the independent probe cross-check (ctest probe_crosscheck, tests/crosscheck/); unpinned.
if ! .venv/bin/python -c "import sklearn" 2>/dev/null; then
  echo "setup: installing scikit-learn into .venv (the probe cross-check of tests/crosscheck)"
  .venv/bin/pip install -q --disable-pip-version-check scikit-learn
fi

# torchvision and Pillow only for the augmentation cross-check (tests/test_augment_ops.cpp runs
# tests/crosscheck/torchvision_augment.py): torchvision's own tensor ops are the reference. --no-deps keeps the
# pinned torch; only torchvision's pure-tensor transforms are used, which need none of its compiled ops.
if ! .venv/bin/python -W ignore -c "import torchvision.transforms" 2>/dev/null; then
  echo "setup: installing torchvision into .venv (the augmentation cross-check of tests/crosscheck)"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps torchvision==0.29.2 pillow
fi

if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >build-configure.log 2>&1 || { cat build-configure.log; exit 1; }
  rm -f build-configure.log
fi
echo "setup: building (ninja -C build${*:+ $*})"
ninja -C build "$@"
