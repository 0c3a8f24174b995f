/*
 * A program keeps its state while the kernel runs others: across
 * SYS_yield, across the SYSCALL path itself, and across preemption by
 * the timer.  The registers are the kernel's business to save, so they
 * are checked directly, in assembly.
 */
#include <ktap.h>
#include <string.h>

#include <mica/mica.h>

#define YIELDS 1000

static unsigned yields_seen;		/* .bss */
static unsigned long checksum = 1;	/* .data */

static void yields_many_times(void)
{
	unsigned long local = 1;
	unsigned failed = 0;

	for (unsigned i = 0; i < YIELDS; i++) {
		failed += mica_yield() != KERN_SUCCESS;
		yields_seen++;
		checksum = checksum * 31 + i;
		local = local * 31 + i;
	}
	KT_EXPECT_EQ(failed, 0);
	KT_EXPECT_EQ(yields_seen, YIELDS);
	KT_EXPECT_EQ(checksum, local);
}

/* A stack array that spans pages keeps its contents while the program yields. */
static void stack_survives_yields(void)
{
	unsigned char buf[3 * PAGE_SIZE];

	ktap_fill(buf, sizeof buf, 1);
	for (unsigned i = 0; i < 100; i++)
		mica_yield();
	KT_EXPECT_EQ(ktap_count_wrong(buf, sizeof buf, 1), 0);
}

#define STRINGIFY(x) #x
#define STR(x) STRINGIFY(x)

/*
 * uint64_t yield_with_registers(const uint64_t in[12], uint64_t out[12]):
 * loads every register a system call must preserve from in[], makes
 * SYS_yield, stores the same registers to out[] and returns RAX.  It is
 * assembly because C cannot hold values in chosen registers across a
 * call; rdi, which brings in[], is loaded last, and out[] waits on the
 * stack.
 */
uint64_t yield_with_registers(const uint64_t in[12], uint64_t out[12]);
__asm__(".pushsection .text\n"
	"yield_with_registers:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"push %rsi\n\t"
	"mov 0(%rdi), %rbx\n\t"
	"mov 8(%rdi), %rbp\n\t"
	"mov 16(%rdi), %rsi\n\t"
	"mov 24(%rdi), %rdx\n\t"
	"mov 32(%rdi), %r8\n\t"
	"mov 40(%rdi), %r9\n\t"
	"mov 48(%rdi), %r10\n\t"
	"mov 56(%rdi), %r12\n\t"
	"mov 64(%rdi), %r13\n\t"
	"mov 72(%rdi), %r14\n\t"
	"mov 80(%rdi), %r15\n\t"
	"mov 88(%rdi), %rdi\n\t"
	"mov $" STR(SYS_yield) ", %eax\n\t"
	"syscall\n\t"
	"pop %rcx\n\t"			/* out[]; RCX is the system call's anyway */
	"mov %rbx, 0(%rcx)\n\t"
	"mov %rbp, 8(%rcx)\n\t"
	"mov %rsi, 16(%rcx)\n\t"
	"mov %rdx, 24(%rcx)\n\t"
	"mov %r8, 32(%rcx)\n\t"
	"mov %r9, 40(%rcx)\n\t"
	"mov %r10, 48(%rcx)\n\t"
	"mov %r12, 56(%rcx)\n\t"
	"mov %r13, 64(%rcx)\n\t"
	"mov %r14, 72(%rcx)\n\t"
	"mov %r15, 80(%rcx)\n\t"
	"mov %rdi, 88(%rcx)\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n"
	".popsection");

/*
 * The ABI (include/mica/syscall.h): a system call clobbers RAX (the
 * result), RCX and R11, and nothing else.
 */
static void syscall_preserves_registers(void)
{
	static const char *const names[12] = {
		"rbx", "rbp", "rsi", "rdx", "r8", "r9", "r10", "r12", "r13", "r14", "r15", "rdi",
	};
	uint64_t in[12], out[12];

	for (unsigned i = 0; i < 12; i++)
		in[i] = 0x0101010101010101ull * (i + 1) ^ 0x8000000000000000ull;
	KT_EXPECT_EQ(yield_with_registers(in, out), KERN_SUCCESS);
	for (unsigned i = 0; i < 12; i++)
		if (out[i] != in[i])
			ktap_fail_at(__FILE__, __LINE__, "%s was %#lx, came back %#lx", names[i],
				     in[i], out[i]);
}

/* The stack pointer comes back as it went in. */
static void syscall_preserves_stack_pointer(void)
{
	uint64_t before, after, rax = SYS_yield;

	__asm__ volatile("mov %%rsp, %[before]\n\t"
			 "syscall\n\t"
			 "mov %%rsp, %[after]"
			 : [before] "=&r"(before), [after] "=r"(after), "+a"(rax)
			 :
			 : "rcx", "r11", "memory");
	KT_EXPECT_EQ(rax, KERN_SUCCESS);
	KT_EXPECT_EQ(after, before);
}

/*
 * The SSE registers belong to the program too: the kernel saves them for
 * user threads (and never uses them itself).  xmm0 and xmm15, the first
 * and the last, are loaded, kept through many yields and stored again,
 * all in one asm statement so that no compiled code can touch them.
 */
static void sse_registers_survive_yields(void)
{
	static const uint64_t in[4] __attribute__((aligned(16))) = {
		0x0123456789abcdef, 0xfedcba9876543210, 0x0f1e2d3c4b5a6978, 0x8796a5b4c3d2e1f0,
	};
	uint64_t out[4] __attribute__((aligned(16)));
	uint64_t results = 0, n = 100;	/* every result ORed together: KERN_SUCCESS is 0 */

	__asm__ volatile("movdqa (%[in]), %%xmm0\n\t"
			 "movdqa 16(%[in]), %%xmm15\n"
			 "1:\tmov %[yield], %%eax\n\t"
			 "syscall\n\t"
			 "or %%rax, %[results]\n\t"
			 "dec %[n]\n\t"
			 "jnz 1b\n\t"
			 "movdqa %%xmm0, (%[out])\n\t"
			 "movdqa %%xmm15, 16(%[out])"
			 : [results] "+r"(results), [n] "+r"(n)
			 : [in] "r"(in), [out] "r"(out), [yield] "i"(SYS_yield)
			 : "rax", "rcx", "r11", "xmm0", "xmm15", "memory");
	KT_EXPECT_EQ(results, KERN_SUCCESS);
	KT_EXPECT_EQ(memcmp(in, out, sizeof in), 0);
}

/*
 * Runs a 64-bit linear congruential generator (Knuth's MMIX constants)
 * from 1 for chunks * chunk_len steps, yielding after each chunk when
 * asked to.  The empty asm keeps GCC from computing the result without
 * running the loop.
 */
static uint64_t run_lcg(unsigned chunks, unsigned chunk_len, bool yield)
{
	uint64_t x = 1;

	for (unsigned c = 0; c < chunks; c++) {
		for (unsigned i = 0; i < chunk_len; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			__asm__ volatile("" : "+r"(x));
		}
		if (yield)
			mica_yield();
	}
	return x;
}

/*
 * A long computation (a second or so under TCG) gives the timer many
 * chances to preempt the program; it must come to the value computed
 * on the host, and so must the same computation broken up by yields.
 */
static void state_survives_preemption(void)
{
	const uint64_t want = 0x7abae2d0a1937501;	/* by Python, from the same recurrence */

	KT_EXPECT_EQ(run_lcg(1, 20 * 1000 * 1000, false), want);
	KT_EXPECT_EQ(run_lcg(1000, 20 * 1000, true), want);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(yields_many_times),
		KTAP_CASE(stack_survives_yields),
		KTAP_CASE(syscall_preserves_registers),
		KTAP_CASE(syscall_preserves_stack_pointer),
		KTAP_CASE(sse_registers_survive_yields),
		KTAP_CASE(state_survives_preemption),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
