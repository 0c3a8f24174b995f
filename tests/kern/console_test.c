/* kprintf in the kernel, and the log ring buffer that keeps what it printed. */
#include "kern/console.h"
#include "tests/harness/ktest.h"
#include "lib/printf.h"
#include "lib/string.h"

KTEST(console, ksnprintf_formats_in_kernel)
{
	char buf[96];

	ksnprintf(buf, sizeof(buf), "%d %u %x %lx %p %s %c %zu|%5d|%-4s|%08x", -7, 7u, 0xbeefu,
	          0xffffffff80000000ul, (void *)0x1000, "mica", 'm', (size_t)42, 12, "ab", 0xabcu);
	KT_EXPECT_STREQ(buf, "-7 7 beef ffffffff80000000 0x0000000000001000 mica m 42|   12|ab  |00000abc");
}

KTEST(console, kprintf_output_reaches_the_log)
{
	char tail[64];
	unsigned long before = log_total();

	kprintf("    # console test marker %d\n", 12345);
	KT_EXPECT_EQ(log_total() - before, strlen("    # console test marker 12345\n"));
	size_t n = log_tail(tail, 9);
	KT_ASSERT_EQ(n, 9);
	KT_EXPECT(memcmp(tail, "er 12345\n", 9) == 0);
}

KTEST(console, quiet_messages_still_reach_the_log)
{
	char tail[32];
	unsigned long before = log_total();

	console_set_quiet(true);
	klog("quiet line\n");
	console_set_quiet(false);
	KT_EXPECT_EQ(log_total() - before, 11);
	KT_ASSERT_EQ(log_tail(tail, 11), 11);
	KT_EXPECT(memcmp(tail, "quiet line\n", 11) == 0);
}

KTEST(console, log_ring_keeps_the_newest_bytes)
{
	static char tail[LOG_SIZE];   /* bigger than a kernel stack */

	/* fill the ring more than once, quietly, then check the newest end */
	console_set_quiet(true);
	for (int i = 0; i < LOG_SIZE / 16 + 100; i++)
		klog("%015d\n", i);
	console_set_quiet(false);
	KT_EXPECT_EQ(log_tail(tail, sizeof(tail)), LOG_SIZE);
	KT_EXPECT(memcmp(tail + LOG_SIZE - 16, "000000000004195\n", 16) == 0);
}
