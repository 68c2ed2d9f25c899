/* Runs a model exported by `tern export --target c` on the images of images.h and prints
 * each output float's bit pattern in hex, one line per image, so that a host build and a
 * Cortex-M build of this same file can be compared exactly (run_mcu.sh diffs them).
 *
 * Compile with the export's folder and the generated images on the include path and
 *   -DTERN_MODEL_HEADER=\"NAME.h\" -DTERN_MODEL=NAME -DTERN_MODEL_UPPER=NAME_IN_CAPITALS
 * (the preprocessor cannot change case, hence the two spellings of NAME).
 *
 * On a Cortex-M (picolibc, semihosting, QEMU -icount shift=0) it also prints three final lines:
 *   instructions=N   instructions per inference (NAME_run), averaged over the images, from
 *                    SysTick on the processor clock: QEMU's virtual clock advances 1 ns per
 *                    instruction, so one tick is TERN_NS_PER_TICK_NUM / _DEN instructions
 *                    (mps2-an386: 25 MHz, 40; mps3-an547: 32 MHz, 31.25 = 125/4). A busy loop
 *                    of known length checks that factor before anything is measured.
 *   stack_bytes=N    the deepest stack NAME_run used, measured on one extra run with SysTick
 *                    off: the free stack is painted with a pattern first.
 *   arena_bytes=N    NAME_ARENA_SIZE, as compiled (for run_mcu.sh's report).
 * The host build prints neither. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "images.h"
#include TERN_MODEL_HEADER

#if !defined(TERN_MODEL) || !defined(TERN_MODEL_UPPER)
#error "define TERN_MODEL (the export's NAME) and TERN_MODEL_UPPER (NAME in capitals)"
#endif

#define TH_PASTE_(a, b) a##b
#define TH_PASTE(a, b) TH_PASTE_(a, b)
#define TH_RUN TH_PASTE(TERN_MODEL, _run)
#define TH_INPUT_SIZE TH_PASTE(TERN_MODEL_UPPER, _INPUT_SIZE)
#define TH_OUTPUT_SIZE TH_PASTE(TERN_MODEL_UPPER, _OUTPUT_SIZE)
#define TH_ARENA_SIZE TH_PASTE(TERN_MODEL_UPPER, _ARENA_SIZE)

/* The images must be samples of this model's input (C99 has no _Static_assert). */
typedef char th_image_size_matches_input[(TERN_IMAGE_SIZE == TH_INPUT_SIZE) ? 1 : -1];

/* uint32_t elements: the arena's 4-byte alignment the export asks for. At least one element
 * so that an export needing no arena still gets a valid pointer. */
static uint32_t th_arena[(TH_ARENA_SIZE + 3) / 4 + 1];
static float th_outputs[TERN_IMAGE_COUNT][TH_OUTPUT_SIZE];

#if defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define TH_CORTEX_M 1

#if !defined(TERN_NS_PER_TICK_NUM) || !defined(TERN_NS_PER_TICK_DEN)
#error "define TERN_NS_PER_TICK_NUM/_DEN: 1e9 / the board's SysTick (processor) clock in Hz"
#endif

/* SysTick (architectural in ARMv7-M and ARMv8-M, so the same on both boards). */
#define TH_SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define TH_SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define TH_SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define TH_SYST_ENABLE_TICKINT_CPUCLK 7u

static volatile uint32_t th_wraps;
static uint32_t th_reload;

/* picolibc's vector table calls this weak handler on every SysTick wrap: the 24-bit counter
 * wraps every 2^24 ticks (about 671 million instructions on mps2-an386). */
void arm_systick_isr(void);
void arm_systick_isr(void) { ++th_wraps; }

static void th_ticks_start(uint32_t reload) {
  TH_SYST_CSR = 0;
  th_reload = reload;
  th_wraps = 0;
  TH_SYST_RVR = reload;
  TH_SYST_CVR = 0; /* any write clears it: counting starts from the reload value */
  TH_SYST_CSR = TH_SYST_ENABLE_TICKINT_CPUCLK;
}

/* Ticks since th_ticks_start; wraps is read around the counter until it is stable, so a wrap
 * between the two reads is never half-counted. */
static uint64_t th_ticks_stop(void) {
  uint32_t wraps, value;
  do {
    wraps = th_wraps;
    value = TH_SYST_CVR;
  } while (wraps != th_wraps);
  TH_SYST_CSR = 0;
  return (uint64_t)wraps * ((uint64_t)th_reload + 1) + (th_reload - value);
}

static uint64_t th_ticks_to_instructions(uint64_t ticks) { return ticks * TERN_NS_PER_TICK_NUM / TERN_NS_PER_TICK_DEN; }

/* Exactly 2 * n instructions (subs + bne per iteration), n >= 1. */
static void th_spin(uint32_t n) { __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc"); }

/* Checks the ticks-to-instructions factor: two busy loops whose lengths differ by a known
 * count of instructions (overheads cancel), with a short reload so that the wrap counting is
 * exercised too. Returns 0 when the measured difference is within one tick. */
static int th_check_tick_factor(void) {
  const uint32_t short_n = 100000u, long_n = 2100000u;
  const uint64_t expected = 2u * (uint64_t)(long_n - short_n);
  uint64_t short_ticks, long_ticks, measured, error;
  th_ticks_start(0xFFFFu);
  th_spin(short_n);
  short_ticks = th_ticks_stop();
  th_ticks_start(0xFFFFu);
  th_spin(long_n);
  long_ticks = th_ticks_stop();
  measured = th_ticks_to_instructions(long_ticks - short_ticks);
  error = measured > expected ? measured - expected : expected - measured;
  if (error > th_ticks_to_instructions(1) + 1) {
    printf("error: SysTick factor check: %lu instructions measured for %lu executed\n", (unsigned long)measured,
           (unsigned long)expected);
    return 1;
  }
  return 0;
}

/* Stack painting: picolibc's linker script puts the stack at the top of RAM, its lowest
 * address is __heap_end (nothing here allocates from the heap below it). */
extern uint32_t __heap_end[];
#define TH_STACK_PATTERN 0xC5A5C5A5u

static inline __attribute__((always_inline)) uintptr_t th_sp(void) {
  uintptr_t sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

/* Inlined into main so that no callee frame lies below the painted region's top; a volatile
 * pointer keeps the compiler from turning the loop into a memset call (which would push its
 * frame into the region being painted). */
static inline __attribute__((always_inline)) void th_stack_paint(uintptr_t sp) {
  volatile uint32_t* p = __heap_end;
  volatile uint32_t* end = (volatile uint32_t*)((sp - 16u) & ~(uintptr_t)3u);
  while (p < end) *p++ = TH_STACK_PATTERN;
}

/* Inlined too: its own frame would otherwise land in the painted region it reads. */
static inline __attribute__((always_inline)) uintptr_t th_stack_lowest_used(uintptr_t sp) {
  const volatile uint32_t* p = __heap_end;
  const volatile uint32_t* end = (const volatile uint32_t*)((sp - 16u) & ~(uintptr_t)3u);
  while (p < end && *p == TH_STACK_PATTERN) ++p;
  return (uintptr_t)p;
}
#endif

static void th_print_outputs(int image, const float* output) {
  int i;
  printf("%d:", image);
  for (i = 0; i < TH_OUTPUT_SIZE; ++i) {
    uint32_t bits;
    memcpy(&bits, &output[i], sizeof bits);
    printf(" %08lx", (unsigned long)bits);
  }
  printf("\n");
}

int main(void) {
  int image, status;
#ifdef TH_CORTEX_M
  uint64_t ticks;
  uintptr_t sp, lowest;
  if (th_check_tick_factor() != 0) return 1;
  th_ticks_start(0xFFFFFFu);
#endif
  for (image = 0; image < TERN_IMAGE_COUNT; ++image) {
    status = TH_RUN(tern_images[image], th_outputs[image], th_arena);
    if (status != 0) {
      printf("error: image %d: run returned %d\n", image, status);
      return 1;
    }
  }
#ifdef TH_CORTEX_M
  ticks = th_ticks_stop();
#endif

  for (image = 0; image < TERN_IMAGE_COUNT; ++image) th_print_outputs(image, th_outputs[image]);

#ifdef TH_CORTEX_M
  /* One more run of the first image, SysTick off (an exception frame would add to the depth),
   * on a painted stack; its outputs must equal the first run's. */
  {
    static float again[TH_OUTPUT_SIZE];
    sp = th_sp();
    th_stack_paint(sp);
    status = TH_RUN(tern_images[0], again, th_arena);
    lowest = th_stack_lowest_used(sp);
    if (status != 0 || memcmp(again, th_outputs[0], sizeof again) != 0) {
      printf("error: a second run of image 0 returned %d or other outputs\n", status);
      return 1;
    }
    if (lowest <= (uintptr_t)__heap_end) {
      printf("error: the stack overflowed its %lu bytes\n", (unsigned long)(sp - (uintptr_t)__heap_end));
      return 1;
    }
  }
  printf("instructions=%lu\n", (unsigned long)(th_ticks_to_instructions(ticks) / TERN_IMAGE_COUNT));
  printf("stack_bytes=%lu\n", (unsigned long)(sp - lowest));
  printf("arena_bytes=%lu\n", (unsigned long)(TH_ARENA_SIZE));
#endif
  return 0;
}
