#!/usr/bin/env bash
# `pip install .` from a clean clone into a fresh virtual environment, then a working tern
# from it: an ONNX model loaded, run on cpu, quantized, with LD_LIBRARY_PATH, PYTHONPATH and
# TERN_PLUGIN_PATH unset; the wheel's contents and every run path checked. Not in CTest: a
# Release build of the core, the SDK, the module and three plugins (about 4 minutes on 2
# cores; ccache, with CCACHE_BASEDIR set to the clone, shortens a rerun).
#
#   tests/install/pip_install_check.sh [--worktree | --copy PATH ...] [--keep] [REPO]
#
# REPO (default: this checkout) is cloned as committed. --worktree adds its uncommitted
# changes (modified and untracked files that git does not ignore; deleted files removed);
# --copy PATH (relative to REPO, repeatable) adds only those. --keep leaves the work folder
# (also left on failure; pip-install.log there has the whole build output).
# Environment: PYTHON (default /usr/bin/python3, Debian's, which has the -dev headers),
# CMAKE_BUILD_PARALLEL_LEVEL (default 2). Needs scripts/setup-deps.sh's packages and PyPI
# (scikit-build-core, pybind11, numpy).
set -euo pipefail

worktree=0 keep=0 copies=() repo=
while (($#)); do
  case $1 in
  --worktree) worktree=1 ;;
  --copy) copies+=("$2"); shift ;;
  --keep) keep=1 ;;
  -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
  *) repo=$1 ;;
  esac
  shift
done
repo=$(cd "${repo:-$(dirname "$0")/../..}" && git rev-parse --show-toplevel)
python=${PYTHON:-/usr/bin/python3}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tern-pip.XXXXXX")
# Kept on failure (or with --keep) for a look at it.
trap 'status=$?; if ((keep || status)); then echo "work folder: $work"; else rm -rf "$work"; fi' EXIT

step "clone $repo ($(git -C "$repo" rev-parse --short HEAD))"
git clone -q "$repo" "$work/src"
copy_in() { # PATH...: the working tree's version of each, or its absence
  local path
  for path in "$@"; do
    if [[ -e $repo/$path || -L $repo/$path ]]; then
      mkdir -p "$work/src/$(dirname "$path")"
      cp -a "$repo/$path" "$work/src/$path"
    else
      rm -rf "${work:?}/src/$path"
    fi
    echo "   + $path"
  done
}
if ((worktree)); then
  mapfile -d '' changed < <(git -C "$repo" ls-files -z --modified --others --exclude-standard)
  copy_in "${changed[@]}"
fi
((${#copies[@]} == 0)) || copy_in "${copies[@]}"

step "venv ($python) and pip install ./src"
"$python" -m venv "$work/v"
# ccache: paths under the clone hash as relative ones, so a rerun in another clone hits.
export CCACHE_BASEDIR=$work/src
start=$SECONDS
(cd "$work" && nice -n 10 v/bin/pip install -v ./src >pip-install.log 2>&1) ||
  { tail -60 "$work/pip-install.log"; fail "pip install (the whole log: $work/pip-install.log)"; }
echo "   built and installed in $((SECONDS - start)) s"
grep -E 'Found pybind11|Found Python3|Successfully installed' "$work/pip-install.log" | sed 's/^ */   /'

step "wheel contents (pip wheel, incremental: same build folder)"
start=$SECONDS
(cd "$work" && nice -n 10 v/bin/pip wheel -q --no-deps -w wheelhouse ./src) || fail "pip wheel"
wheel=$(ls "$work"/wheelhouse/tern-*.whl)
echo "   $(basename "$wheel"): $(du -h "$wheel" | cut -f1) ($((SECONDS - start)) s)"
listing=$(unzip -l "$wheel")
echo "$listing"
names=$(unzip -Z1 "$wheel")
for expected in tern/__init__.py tern/py.typed tern/_tern.pyi 'tern/_tern\..*\.so' \
  tern/lib/libtern_core.so.0 tern/lib/libtern_sdk.so.0 tern/lib/tern/plugins/libtern-onnx.so \
  tern/lib/tern/plugins/libtern-cpu.so tern/lib/tern/plugins/libtern-ptq.so; do
  grep -qx "$expected" <<<"$names" || fail "the wheel has no $expected"
done
for subpackage in "$repo"/sdk/python/tern/*/__init__.py; do
  [[ -e $subpackage ]] || continue
  sub=tern/$(basename "$(dirname "$subpackage")")/__init__.py
  grep -qx "$sub" <<<"$names" || fail "the wheel has no $sub"
done
! grep -E '(^|/)include/|/cmake/|\.a$|(^|/)bin/|libtern_c\.so|libtern-template|__pycache__|\.so\.[0-9]+\.[0-9]' <<<"$names" ||
  fail "the wheel holds files it should not (above)"

site=$("$work/v/bin/python" -c 'import sysconfig; print(sysconfig.get_path("platlib"))')
step "run paths and ldd in $site/tern"
for binary in "$site"/tern/_tern*.so "$site"/tern/lib/*.so.* "$site"/tern/lib/tern/plugins/*.so; do
  runpath=$(readelf -d "$binary" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p')
  echo "   ${binary#"$site"/}: run path '${runpath}'"
  [[ -z $runpath || $runpath == '$ORIGIN'* ]] || fail "$binary: run path $runpath is not \$ORIGIN-relative"
  deps=$(env -u LD_LIBRARY_PATH ldd "$binary")
  ! grep 'not found' <<<"$deps" || fail "$binary: unresolved libraries"
  ! grep -E 'libtern' <<<"$deps" | grep -v "$site/tern/lib/" || fail "$binary: libtern from outside the venv"
done
env -u LD_LIBRARY_PATH ldd "$site"/tern/_tern*.so | sed 's/^/   /'
env -u LD_LIBRARY_PATH ldd "$site"/tern/lib/tern/plugins/libtern-cpu.so | sed 's/^/   /'

step "import tern from $work/elsewhere: load, run on cpu, quantize"
mkdir -p "$work/elsewhere"
(cd "$work/elsewhere" && env -u LD_LIBRARY_PATH -u TERN_PLUGIN_PATH -u PYTHONPATH TERN_REPO="$repo" \
  "$work/v/bin/python" - <<'EOF') || fail "the installed tern does not work"
import importlib.metadata, os, re
import numpy as np
import tern

repo = os.environ["TERN_REPO"]
print("tern", tern.__version__, "from", os.path.dirname(tern.__file__))
version = re.search(r"project\(Tern\s+VERSION\s+([0-9.]+)", open(f"{repo}/CMakeLists.txt").read())[1]
assert tern.__version__ == importlib.metadata.version("tern") == version, (tern.__version__, version)
assert "site-packages" in tern.__file__, tern.__file__
assert "progress" in (importlib.metadata.metadata("tern").get_all("Provides-Extra") or [])
backends = {b.name: b for b in tern.available_backends()}
print("backends:", {name: (b.source, b.usable, b.reason) for name, b in backends.items()})
assert "cpu" in backends and backends["cpu"].usable, "no usable cpu backend"

g = tern.load_model(f"{repo}/sdk/examples/models/convnet.onnx")
print("zeros:", tern.SequentialScheduler(g).forward(np.zeros((1, 1, 28, 28), np.float32))[0])
images = tern.read_npy(f"{repo}/tests/data/fmnist_test300_f32.npy.gz")  # 300 Fashion-MNIST tests
labels = tern.read_npy(f"{repo}/tests/data/fmnist_test300_labels.npy.gz")
float_top1 = (tern.SequentialScheduler(g).forward(images)[0].argmax(1) == labels).mean()
tern.ptq.auto_assign_node_precision(g, tern.int8, tern.int8, tern.int32)
times = tern.ptq.quantize_network(g, images[:100])
# The quantized graph reads its float inputs pre-scaled (as the seed tutorial feeds them).
int8_top1 = (tern.SequentialScheduler(g).forward(tern.ptq.scale_input(g, images))[0].argmax(1) == labels).mean()
print(f"top-1 on 300 samples: float {float_top1:.3f}, int8 {int8_top1:.3f}; PTQ steps (s): {times}")
assert float_top1 > 0.85 and int8_top1 > float_top1 - 0.03, (float_top1, int8_top1)
print("OK")
EOF
echo "PASS: pip install from $repo"
