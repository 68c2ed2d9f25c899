#!/usr/bin/env bash
# Runs a C export of `tern export --target c` on a Cortex-M under QEMU and on the host, checks
# that both print the very same output bits for every image, and prints the footprint as one
# JSON line (also written to WORKDIR/footprint.json):
#
#   run_mcu.sh EXPORT_DIR NAME IMAGES.npy[.gz] WORKDIR [cortex-m4|cortex-m55]
#
# EXPORT_DIR holds NAME.h, NAME.c and NAME_weights.c; IMAGES is float32 [N, ...] (the first
# TERN_MCU_IMAGES, default 20, are used). cortex-m4 runs on QEMU's mps2-an386, cortex-m55 on
# mps3-an547. Exit status: 0 equal outputs, 77 tools missing (CTest's skip), 1 anything else.
# Every file it makes goes to WORKDIR: images.c/.h, host.txt and target.txt (the two outputs),
# prog.elf, the target objects and footprint.json.
# Environment: TERN_MCU_IMAGES (image count), TERN_MCU_QEMU_TIMEOUT (seconds, default 240).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() {
  echo "run_mcu: FAIL: $*" >&2
  exit 1
}
skip() {
  echo "SKIP: $*"
  exit 77
}

# `run_mcu.sh --check [CPU]` only checks the tools (status 0 or 77), for scripts that would
# otherwise spend time on a quantization and an export first.
check_only=false
if [[ ${1:-} == --check ]]; then
  check_only=true
  cpu=${2:-cortex-m4}
elif [[ $# -ge 4 && $# -le 5 ]]; then
  [[ -d $1 ]] || fail "$1 is not a folder"
  export_dir=$(cd "$1" && pwd)
  name=$2
  images=$3
  workdir=$4
  cpu=${5:-cortex-m4}
else
  echo "usage: run_mcu.sh EXPORT_DIR NAME IMAGES.npy WORKDIR [cortex-m4|cortex-m55]" >&2
  echo "       run_mcu.sh --check [cortex-m4|cortex-m55]" >&2
  exit 2
fi
count=${TERN_MCU_IMAGES:-20}
qemu_timeout=${TERN_MCU_QEMU_TIMEOUT:-240}

# Board facts (QEMU 7.2, hw/arm/mps2.c and hw/arm/mps2-tz.c). "Flash" is whatever RAM the
# board maps at the boot vector address 0, "RAM" the next block at 0x20000000. SysTick runs
# on the processor clock: with -icount shift=0 one instruction is 1 ns of virtual time, so a
# tick is 1e9 / clock = NUM / DEN instructions.
case $cpu in
  cortex-m4)
    machine=mps2-an386
    cpu_flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
    # ZBT SSRAM1 4 MiB at 0, ZBT SSRAM2&3 4 MiB at 0x20000000; SYSCLK 25 MHz: 40 ns a tick.
    memory=__flash=0x00000000,--defsym=__flash_size=0x400000,--defsym=__ram=0x20000000,--defsym=__ram_size=0x400000
    ns_per_tick=(40 1)
    ;;
  cortex-m55)
    machine=mps3-an547
    cpu_flags=(-mcpu=cortex-m55 -mthumb -mfloat-abi=hard)
    # ITCM 512 KiB at 0 (the secure boot VTOR is 0), DTCM 512 KiB at 0x20000000; the core
    # boots secure and the SAU, off, makes all of it secure. SYSCLK 32 MHz: 31.25 ns a tick.
    memory=__flash=0x00000000,--defsym=__flash_size=0x80000,--defsym=__ram=0x20000000,--defsym=__ram_size=0x80000
    ns_per_tick=(125 4)
    ;;
  *)
    echo "run_mcu: unknown cpu '$cpu' (cortex-m4 or cortex-m55)" >&2
    exit 2
    ;;
esac

for tool in gcc arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm python3 timeout; do
  command -v "$tool" >/dev/null || skip "$tool not found (scripts/setup-deps.sh installs it)"
done
arm-none-eabi-gcc --specs=picolibc.specs -E -x c /dev/null >/dev/null 2>&1 ||
  skip "picolibc for arm-none-eabi not found (package picolibc-arm-none-eabi)"
# A pyenv python3 may lack NumPy where Debian's has it (scripts/setup-deps.sh says why).
python=python3
python3 -c 'import numpy' 2>/dev/null || python=/usr/bin/python3
"$python" -c 'import numpy' 2>/dev/null || skip "python3 has no numpy (package python3-numpy)"
qemu-system-arm -M help | grep -q "^$machine " || skip "qemu-system-arm has no $machine machine"
$check_only && exit 0

upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")

for file in "$name.h" "$name.c" "${name}_weights.c"; do
  [[ -f $export_dir/$file ]] || fail "$export_dir/$file is missing"
done

mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
"$python" "$here/make_images.py" "$images" "$workdir" --count "$count" || fail "could not make images from $images"

common=(-std=c99 -Wall -Wextra -Werror -ffp-contract=off
  -I"$export_dir" -I"$workdir"
  "-DTERN_MODEL_HEADER=\"$name.h\"" "-DTERN_MODEL=$name" "-DTERN_MODEL_UPPER=$upper")

# Host: the reference outputs.
gcc "${common[@]}" -O2 -o "$workdir/host_prog" "$here/harness.c" "$workdir/images.c" \
  "$export_dir/$name.c" "$export_dir/${name}_weights.c" || fail "host build failed"
"$workdir/host_prog" >"$workdir/host.txt" || fail "host run exited with status $? ($workdir/host.txt)"

# Target: the export's two objects on their own, so that their sizes can be read.
target=("${common[@]}" -Os "${cpu_flags[@]}" --specs=picolibc.specs --oslib=semihost --crt0=semihost
  "-DTERN_NS_PER_TICK_NUM=${ns_per_tick[0]}u" "-DTERN_NS_PER_TICK_DEN=${ns_per_tick[1]}u")
for source in "$export_dir/$name.c" "$export_dir/${name}_weights.c" "$here/harness.c" "$workdir/images.c"; do
  object=$(basename "$source" .c).o
  arm-none-eabi-gcc "${target[@]}" -c -o "$workdir/$object" "$source" || fail "target build of $source failed"
done
# Integer-only printf (nothing prints floats); a 64 KiB stack region, measured anyway.
arm-none-eabi-gcc "${target[@]}" -DPICOLIBC_INTEGER_PRINTF_SCANF \
  "-Wl,--defsym=$memory,--defsym=__stack_size=0x10000" -o "$workdir/prog.elf" \
  "$workdir/harness.o" "$workdir/images.o" "$workdir/$name.o" "$workdir/${name}_weights.o" ||
  fail "target link failed"

# The semihosting console goes to a file of its own (plain -semihosting writes it to QEMU's
# stderr, mixed with QEMU's own messages); the exit status comes from SYS_EXIT.
status=0
rm -f "$workdir/target.txt"
timeout --kill-after=10 "$qemu_timeout" qemu-system-arm -M "$machine" -cpu "$cpu" -nographic \
  -chardev "file,id=semihosting,path=$workdir/target.txt" \
  -semihosting-config enable=on,target=native,chardev=semihosting \
  -icount shift=0 -kernel "$workdir/prog.elf" \
  </dev/null >"$workdir/qemu.out" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
  cat "$workdir/qemu.out" >&2
  tail -n 12 "$workdir/target.txt" >&2 || true # a fault's register dump, say
  [[ $status -eq 124 || $status -eq 137 ]] && fail "QEMU ran past ${qemu_timeout}s ($machine)"
  fail "the target program exited with status $status on $machine ($workdir/target.txt)"
fi

# Metric lines (key=value) are the target's alone; every other line must match the host's.
grep -v -E '^[a-z_]+=' "$workdir/target.txt" >"$workdir/target_outputs.txt" || true
if ! diff -q "$workdir/host.txt" "$workdir/target_outputs.txt" >/dev/null; then
  diff "$workdir/host.txt" "$workdir/target_outputs.txt" | head -n 6 >&2 || true
  fail "$cpu outputs differ from the host's ($workdir/host.txt vs $workdir/target_outputs.txt)"
fi
lines=$(wc -l <"$workdir/host.txt")
[[ $lines -eq $count ]] || fail "$lines output lines for $count images"

metric() {
  local value
  value=$(sed -n "s/^$1=\([0-9][0-9]*\)$/\1/p" "$workdir/target.txt")
  [[ -n $value ]] || fail "the target printed no $1= line"
  echo "$value"
}
instructions=$(metric instructions)
stack_bytes=$(metric stack_bytes)
arena_bytes=$(metric arena_bytes)

# Berkeley format: text = .text + .rodata (+ other read-only sections), data, bss.
read -r code_text code_data code_bss _ < <(arm-none-eabi-size "$workdir/$name.o" | tail -n 1)
read -r weights_text weights_data weights_bss _ < <(arm-none-eabi-size "$workdir/${name}_weights.o" | tail -n 1)
static_data=$((code_data + weights_data))
static_ram=$((static_data + code_bss + weights_bss))
flash_total=$((code_text + weights_text + static_data))
ram_bytes=$((arena_bytes + stack_bytes + static_ram))

json=$(printf '{"model": "%s", "cpu": "%s", "machine": "%s", "images": %d, "flash_code": %d, "flash_weights": %d, "flash_total": %d, "arena_bytes": %d, "stack_bytes": %d, "static_ram_bytes": %d, "ram_bytes": %d, "instructions": %d}' \
  "$name" "$cpu" "$machine" "$count" "$code_text" "$weights_text" "$flash_total" \
  "$arena_bytes" "$stack_bytes" "$static_ram" "$ram_bytes" "$instructions")
echo "$json" >"$workdir/footprint.json"
echo "$json"
