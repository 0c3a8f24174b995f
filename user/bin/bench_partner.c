/*
 * The other side of make bench's context_switch (user/bin/bench.c):
 * gives the CPU back at once, every time, until it is terminated.
 */
#include <mica/mica.h>

int main(void)
{
	for (;;)
		mica_yield();
}
