/*
 * The big test image's promise: whatever loaded it brought all of
 * tests/big/pages.asm, page by page, to where the kernel was linked.
 * Only build/big/mica.elf links this file, so only its boots run it.
 */
#include "tests/harness/ktest.h"
#include "vm/vm_page.h"

#define PAGE_WORDS (PAGE_SIZE / sizeof(uint64_t))

extern const uint64_t big_image_pages[][PAGE_WORDS], big_image_pages_end[][PAGE_WORDS];

/* The index of the first word of page that is not mark, or PAGE_WORDS. */
static size_t first_wrong_word(const uint64_t *page, uint64_t mark)
{
	size_t w = 0;

	while (w < PAGE_WORDS && page[w] == mark)
		w++;
	return w;
}

KTEST(big_image, every_page_arrived_intact)
{
	size_t pages = big_image_pages_end - big_image_pages;

	KT_ASSERT(pages * PAGE_SIZE >= (64ul << 20));
	for (size_t n = 0; n < pages; n++) {
		size_t w = first_wrong_word(big_image_pages[n], n + 1);

		if (w < PAGE_WORDS)
			KT_FAIL("page %zu of %zu, word %zu: %#lx, not %#lx",
			        n, pages, w, big_image_pages[n][w], n + 1);
	}
}
