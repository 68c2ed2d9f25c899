#!/usr/bin/env bash
# The installed-SDK tests (see CMakeLists.txt here). One step per call:
#   sdk_install_test.sh STEP SOURCE_DIR BUILD_DIR PREFIX WORK_DIR CMAKE [STEP ARGS...]
# Every installed program runs with LD_LIBRARY_PATH and TERN_PLUGIN_PATH removed: run
# paths and the install layout alone must make it work.
set -euo pipefail

step=$1 source_dir=$2 build_dir=$3 prefix=$4 work=$5 cmake=$6
shift 6
models=$source_dir/sdk/examples/models
samples=$source_dir/tests/data/fmnist_test300_f32.npy.gz

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
clean_env() { env -u LD_LIBRARY_PATH -u TERN_PLUGIN_PATH "$@"; }
# Configures and builds an example from its own folder, as a user would.
build_example() {
  local name=$1
  rm -rf "$work/$name"
  "$cmake" -S "$source_dir/sdk/examples/$name" -B "$work/$name" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >"$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; fail "configuring $name against $prefix"; }
  "$cmake" --build "$work/$name" >>"$work/$name.log" 2>&1 || { cat "$work/$name.log"; fail "building $name"; }
}
# The value of "key" in a `tern --json` result.
json_field() { grep -o "\"$1\": *[^,]*" | head -1 | sed 's/.*: *//'; }
# Fails unless each plugin file exports exactly the descriptor entry.
check_exports() {
  local plugin symbols
  for plugin in "$@"; do
    symbols=$(nm -D --defined-only "$plugin" | awk '{print $3}')
    [[ $symbols == tern_plugin_descriptor ]] || fail "$plugin exports more than tern_plugin_descriptor: $symbols"
    echo "$(basename "$plugin"): exports only tern_plugin_descriptor"
  done
}

case $step in
install)
  rm -rf "$prefix" "$prefix.moved" "$work"
  mkdir -p "$work"
  "$cmake" --install "$build_dir" --prefix "$prefix" >"$work/install.log" || fail "cmake --install"
  for file in bin/tern lib/libtern_core.so lib/libtern_sdk.so lib/libtern_c.so include/tern/tern.hpp \
    include/tern/tern.h include/tern/runtime.hpp include/tern/version.hpp include/tern/plugin_export.hpp \
    lib/cmake/Tern/TernConfig.cmake lib/cmake/Tern/TernPlugin.cmake lib/cmake/Tern/tern_plugin.map \
    lib/tern/plugins/libtern-cpu.so lib/tern/plugins/libtern-onnx.so lib/tern/plugins/libtern-template.so \
    bin/tern-conformance share/tern/importer_skip_list.txt; do
    [[ -e $prefix/$file ]] || fail "the install lacks $file"
  done
  # Run paths are relative ($ORIGIN): the prefix works wherever it is moved.
  mv "$prefix" "$prefix.moved"
  plugins=$(clean_env "$prefix.moved/bin/tern" plugins) || fail "tern plugins from a moved prefix"
  mv "$prefix.moved" "$prefix"
  grep -q "$prefix.moved/lib/tern/plugins/libtern-cpu.so" <<<"$plugins" || fail "cpu plugin not found in the prefix: $plugins"
  # A host in another language dlopen()s libtern_c.so alone: its run path finds the rest.
  version=$(clean_env /usr/bin/python3 -c "import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.tern_version.restype = ctypes.c_char_p
print(lib.tern_version().decode())" "$prefix/lib/libtern_c.so") || fail "Python ctypes cannot load $prefix/lib/libtern_c.so"
  [[ -n $version ]] || fail "tern_version() through ctypes gave nothing"
  accuracy=$(clean_env "$prefix/bin/tern" eval "$models/convnet.onnx" --dataset "$samples" \
    --labels "$source_dir/tests/data/fmnist_test300_labels.npy.gz" --json | json_field accuracy)
  [[ -n $accuracy ]] || fail "tern eval from the prefix gave no accuracy"
  echo "installed into $prefix; tern eval from it: accuracy $accuracy on 300 samples; libtern_c.so $version via ctypes"
  ;;
embed_host)
  reference=$1 in_tree_c=$2
  build_example embed_host
  want=$("$reference" "$models/convnet.onnx" cpu "$samples" 16)
  got=$(clean_env "$work/embed_host/embed_host" "$models/convnet.onnx" cpu "$samples" 16)
  echo "$got"
  [[ $(grep '^top-1:' <<<"$got") == "$want" ]] || fail "embed_host says '$(grep '^top-1:' <<<"$got")', the in-tree C++ API '$want'"
  # The C host built against the install prints the same logits, bit for bit, as the
  # in-tree build of the same program (which the C API test compares with C++).
  got_c=$(clean_env "$work/embed_host/embed_host_c" "$models/convnet.onnx" cpu 4)
  want_c=$("$in_tree_c" "$models/convnet.onnx" cpu 4)
  [[ $got_c == "$want_c" ]] || fail "embed_host_c from the install differs from the in-tree build"
  echo "embed_host top-1 equals the in-tree C++ API's: $want; embed_host_c equals the in-tree C program"
  ;;
custom_backend)
  build_example custom_backend
  # Installing the plugin into Tern's prefix is all it takes for `tern` to find it.
  "$cmake" --install "$work/custom_backend" --prefix "$prefix" >>"$work/custom_backend.log" 2>&1 ||
    fail "installing the naive plugin"
  naive=$prefix/lib/tern/plugins/libtern-naive.so
  [[ -f $naive ]] || fail "the naive plugin was not installed into $prefix/lib/tern/plugins"
  clean_env "$prefix/bin/tern" plugins | grep -q "naive" || fail "tern plugins does not list naive"
  check_exports "$naive"
  ;;
custom_backend_eval)
  make_conv1d=$1
  tern=$prefix/bin/tern
  eval_accuracy() { clean_env "$tern" eval "$1" --dataset fashion-mnist --limit 1000 --backend "$2" --json | json_field accuracy; }
  naive=$(eval_accuracy "$models/convnet.onnx" naive)
  cpu=$(eval_accuracy "$models/convnet.onnx" cpu)
  [[ -n $cpu && $naive == "$cpu" ]] || fail "convnet on naive: accuracy $naive, on cpu: $cpu"
  echo "convnet.onnx, 1000 Fashion-MNIST test images: naive $naive, cpu $cpu"
  # resnet_tiny has Add and GlobalAveragePool, which naive lacks: naive alone refuses it
  # with the node's name, naive,cpu runs those nodes on cpu.
  if out=$(clean_env "$tern" eval "$models/resnet_tiny.onnx" --limit 10 --backend naive 2>&1); then
    fail "resnet_tiny ran on naive alone"
  fi
  grep -q "node '.*' (Add) \[naive: no Add kernel for (float32, float32)\]" <<<"$out" || fail "naive alone on resnet_tiny: $out"
  mixed=$(eval_accuracy "$models/resnet_tiny.onnx" naive,cpu)
  cpu=$(eval_accuracy "$models/resnet_tiny.onnx" cpu)
  [[ -n $cpu && $mixed == "$cpu" ]] || fail "resnet_tiny on naive,cpu: accuracy $mixed, on cpu: $cpu"
  echo "resnet_tiny.onnx, 1000 images: naive,cpu $mixed, cpu $cpu"
  info=$(clean_env "$tern" info "$models/resnet_tiny.onnx" --backend naive,cpu)
  echo "$info"
  grep -q "backend 'naive': cannot run 4 node(s)" <<<"$info" || fail "tern info does not say which nodes naive cannot run"
  grep -q "(Add): no Add kernel for (float32, float32)" <<<"$info" || fail "tern info does not say why naive cannot run Add"
  grep -q "(GlobalAveragePool) on cpu \[" <<<"$info" || fail "tern info does not say GlobalAveragePool runs on cpu"
  # naive has a Conv kernel but runs 2-D convolutions only: it declines a 1-D one, which
  # then runs on cpu, and tern info says why.
  "$make_conv1d" "$work/conv1d.onnx" || fail "writing the 1-D Conv model"
  info=$(clean_env "$tern" info "$work/conv1d.onnx" --backend naive,cpu)
  echo "$info"
  grep -q "conv1d (Conv) on cpu \[onednn\]: naive: .*2-D" <<<"$info" || fail "tern info does not say why naive declined the 1-D Conv"
  grep -q "relu (Relu) on" <<<"$info" && fail "Relu left naive: $info"
  for backends in naive,cpu cpu; do
    mkdir -p "$work/conv1d_$backends"
    clean_env "$tern" run "$work/conv1d.onnx" --input "$work/x.npy" --backend $backends --output-dir "$work/conv1d_$backends" \
      >/dev/null || fail "tern run --backend $backends on the 1-D Conv model"
  done
  cmp "$work/conv1d_naive,cpu/y.npy" "$work/conv1d_cpu/y.npy" || fail "the 1-D Conv model on naive,cpu differs from cpu"
  echo "1-D Conv model: naive declines the Conv (runs on cpu), Relu runs on naive, output equal to cpu's"
  ;;
custom_backend_conformance)
  # ONNX's node tests on the out-of-tree backend, with the one command docs/PLUGINS.md gives.
  clean_env "$prefix/bin/tern-conformance" --backend naive --min-run 1
  ;;
exports)
  check_exports "$build_dir"/lib/tern/plugins/*.so
  ;;
*) fail "unknown step $step" ;;
esac
