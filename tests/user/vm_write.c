/*
 * vm_write from user space, as the seed declares it, on the program's own
 * task port: writing to oneself works like memmove, errors change
 * nothing, and out-of-line memory moves between maps.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include <mica/mica.h>

#define BIG (16ul << 20)

static vm_address_t alloc(vm_size_t size)
{
	vm_address_t a = 0;

	return vm_allocate(mach_task_self(), &a, size, VM_FLAGS_ANYWHERE) == KERN_SUCCESS ? a : 0;
}

/* Sizes and offsets around page boundaries, each checked byte for byte and around. */
static void writes_like_memmove(void)
{
	static const vm_size_t sizes[] = { 1, 4095, 4096, 4097, 2 * 4096 };
	static const vm_size_t offsets[] = { 0, 1, 4095 };
	vm_address_t src = alloc(4 * PAGE_SIZE), dst = alloc(4 * PAGE_SIZE);
	unsigned wrong = 0;

	KT_ASSERT(src && dst);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t so = 0; so < 3; so++)
			for (size_t dof = 0; dof < 3; dof++) {
				unsigned seed = (unsigned)(i * 9 + so * 3 + dof + 1);
				char *s = (char *)src + offsets[so], *d = (char *)dst + offsets[dof];
				ktap_fill((void *)src, 4 * PAGE_SIZE, seed);
				memset((void *)dst, 0, 4 * PAGE_SIZE);
				wrong += vm_write(mach_task_self(), (vm_address_t)d, (pointer_t)s,
						  (mach_msg_type_number_t)sizes[i]) != KERN_SUCCESS;
				wrong += memcmp(d, s, sizes[i]) != 0;
				wrong += offsets[dof] && d[-1] != 0;
				wrong += d[sizes[i]] != 0;
			}
	KT_EXPECT_EQ(wrong, 0);
}

/* Whole pages are copied, not shared: changing the source afterwards leaves the target. */
static void whole_pages_are_a_snapshot(void)
{
	vm_address_t src = alloc(2 * PAGE_SIZE), dst = alloc(2 * PAGE_SIZE);

	KT_ASSERT(src && dst);
	ktap_fill((void *)src, 2 * PAGE_SIZE, 11);
	KT_ASSERT_EQ(vm_write(mach_task_self(), dst, src, 2 * PAGE_SIZE), KERN_SUCCESS);
	memset((void *)src, 0xff, 2 * PAGE_SIZE);
	KT_EXPECT_EQ(ktap_count_wrong((void *)dst, 2 * PAGE_SIZE, 11), 0);
	memset((void *)dst, 0, PAGE_SIZE);
	KT_EXPECT_EQ(((unsigned char *)src)[0], 0xff);
}

static void sixteen_mib(void)
{
	vm_address_t src = alloc(BIG), dst = alloc(BIG);

	KT_ASSERT(src && dst);
	ktap_fill((void *)src, BIG, 16);
	KT_ASSERT_EQ(vm_write(mach_task_self(), dst, src, BIG), KERN_SUCCESS);
	KT_EXPECT_EQ(ktap_count_wrong((void *)dst, BIG, 16), 0);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), src, BIG), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), dst, BIG), KERN_SUCCESS);
}

/* Each refusal gives the contract's code and leaves the target as it was. */
static void refusals_change_nothing(void)
{
	vm_address_t src = alloc(PAGE_SIZE), ro = alloc(2 * PAGE_SIZE), hole = alloc(PAGE_SIZE);

	KT_ASSERT(src && ro && hole);
	KT_ASSERT_EQ(vm_deallocate(mach_task_self(), hole, PAGE_SIZE), KERN_SUCCESS);
	ktap_fill((void *)src, PAGE_SIZE, 3);
	ktap_fill((void *)ro, 2 * PAGE_SIZE, 4);
	KT_ASSERT_EQ(vm_protect(mach_task_self(), ro + PAGE_SIZE, PAGE_SIZE, 0, VM_PROT_READ),
		     KERN_SUCCESS);
	/* straddles a writable page and a read-only one: all or nothing */
	KT_EXPECT_EQ(vm_write(mach_task_self(), ro + PAGE_SIZE - 16, src, 32),
		     KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(ktap_count_wrong((void *)ro, 2 * PAGE_SIZE, 4), 0);
	KT_EXPECT_EQ(vm_write(mach_task_self(), hole, src, 8), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_write(mach_task_self(), 0xffff800000000000ul, src, 8), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_write(mach_task_self(), ro, hole, 8), MACH_SEND_INVALID_MEMORY);
	KT_EXPECT_EQ(ktap_count_wrong((void *)ro, 2 * PAGE_SIZE, 4), 0);
	KT_EXPECT_EQ(vm_write(mach_task_self(), hole, src, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(MACH_PORT_NULL, ro, src, 8), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(ktap_count_wrong((void *)ro, 2 * PAGE_SIZE, 4), 0);
}

/*
 * vm_read maps the bytes in the caller, a snapshot: under two pages at
 * the start of a page, more at the same page offset, as XNU's.
 */
static void vm_read_brings_a_copy(void)
{
	vm_address_t src = alloc(3 * PAGE_SIZE), ref = alloc(3 * PAGE_SIZE), buf = alloc(PAGE_SIZE);
	vm_address_t hole = alloc(PAGE_SIZE);         /* freed below: allocate nothing after */
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;

	KT_ASSERT(src && ref && buf && hole);
	KT_ASSERT_EQ(vm_deallocate(mach_task_self(), hole, PAGE_SIZE), KERN_SUCCESS);
	ktap_fill((void *)src, 3 * PAGE_SIZE, 31);
	ktap_fill((void *)ref, 3 * PAGE_SIZE, 31);
	KT_ASSERT_EQ(vm_read(mach_task_self(), src + 100, 5000, &data, &count), KERN_SUCCESS);
	KT_EXPECT_EQ(count, 5000);
	KT_EXPECT_EQ(data % PAGE_SIZE, 0);
	KT_EXPECT_EQ(memcmp((void *)data, (void *)(src + 100), 5000), 0);
	vm_offset_t big = 0;
	mach_msg_type_number_t big_count = 0;
	KT_ASSERT_EQ(vm_read(mach_task_self(), src + 100, 2 * PAGE_SIZE, &big, &big_count),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(big_count, 2 * PAGE_SIZE);
	KT_EXPECT_EQ(big % PAGE_SIZE, 100);
	memset((void *)src, 0, 3 * PAGE_SIZE);        /* the copies keep what was read */
	KT_EXPECT_EQ(memcmp((void *)data, (void *)(ref + 100), 5000), 0);
	KT_EXPECT_EQ(memcmp((void *)big, (void *)(ref + 100), 2 * PAGE_SIZE), 0);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), data, count), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), big, big_count), KERN_SUCCESS);

	/* what vm_write put there is what vm_read finds */
	ktap_fill((void *)buf, 64, 32);
	KT_ASSERT_EQ(vm_write(mach_task_self(), src + 7, buf, 64), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_read(mach_task_self(), src + 7, 64, &data, &count), KERN_SUCCESS);
	KT_EXPECT_EQ(ktap_count_wrong((void *)data, 64, 32), 0);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), data, count), KERN_SUCCESS);

	data = 0;
	count = 0;
	KT_EXPECT_EQ(vm_read(mach_task_self(), hole, 16, &data, &count), KERN_INVALID_ADDRESS);
	KT_ASSERT_EQ(vm_protect(mach_task_self(), src, PAGE_SIZE, 0, VM_PROT_NONE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_read(mach_task_self(), src, 16, &data, &count), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(data, 0);
	KT_EXPECT_EQ(count, 0);
}

struct ool_msg {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_ool_descriptor_t data;
} __attribute__((packed, aligned(4)));

/*
 * Out-of-line memory to an ordinary port: it lands at a new address in
 * the receiver (same offset in its page), and with deallocate the
 * sender's pages are gone.
 */
static void out_of_line_memory_moves(void)
{
	mach_port_t p = mach_reply_port();
	vm_address_t src = alloc(3 * PAGE_SIZE), ref = alloc(3 * PAGE_SIZE);
	struct ool_msg m = { 0 };

	KT_ASSERT(p != MACH_PORT_NULL && src && ref);
	ktap_fill((void *)src, 3 * PAGE_SIZE, 21);
	ktap_fill((void *)ref, 3 * PAGE_SIZE, 21);
	m.header.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.header.msgh_remote_port = p;
	m.body.msgh_descriptor_count = 1;
	m.data.address = (void *)(src + 100);
	m.data.size = 2 * PAGE_SIZE;
	m.data.deallocate = 1;
	m.data.type = MACH_MSG_OOL_DESCRIPTOR;
	KT_ASSERT_EQ(mach_msg(&m.header, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0,
			      MACH_PORT_NULL), MACH_MSG_SUCCESS);
	/* the three pages the range touched left the sender: vm_protect finds holes */
	KT_EXPECT_EQ(vm_protect(mach_task_self(), src, PAGE_SIZE, 0, VM_PROT_READ),
		     KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_protect(mach_task_self(), src + 2 * PAGE_SIZE, PAGE_SIZE, 0, VM_PROT_READ),
		     KERN_INVALID_ADDRESS);
	memset(&m, 0, sizeof(m));
	KT_ASSERT_EQ(mach_msg(&m.header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m), p, 1000,
			      MACH_PORT_NULL), MACH_MSG_SUCCESS);
	KT_EXPECT(m.header.msgh_bits & MACH_MSGH_BITS_COMPLEX);
	KT_EXPECT_EQ(m.body.msgh_descriptor_count, 1);
	KT_EXPECT_EQ(m.data.size, 2 * PAGE_SIZE);
	KT_ASSERT(m.data.address != NULL);
	KT_EXPECT_EQ((vm_address_t)m.data.address % PAGE_SIZE, 100);
	KT_EXPECT_EQ(memcmp(m.data.address, (void *)(ref + 100), 2 * PAGE_SIZE), 0);
}

/* An unreadable out-of-line range is refused and nothing is queued. */
static void unreadable_memory_is_refused(void)
{
	mach_port_t p = mach_reply_port();
	struct ool_msg m = { 0 };

	KT_ASSERT(p != MACH_PORT_NULL);
	m.header.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.header.msgh_remote_port = p;
	m.body.msgh_descriptor_count = 1;
	m.data.address = (void *)0x1000;           /* in the null guard */
	m.data.size = 64;
	m.data.type = MACH_MSG_OOL_DESCRIPTOR;
	KT_EXPECT_EQ(mach_msg(&m.header, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0,
			      MACH_PORT_NULL), MACH_SEND_INVALID_MEMORY);
	m.body.msgh_descriptor_count = 2;          /* more than the message holds */
	KT_EXPECT_EQ(mach_msg(&m.header, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0,
			      MACH_PORT_NULL), MACH_SEND_MSG_TOO_SMALL);
	m.body.msgh_descriptor_count = 1;
	m.data.type = 7;
	KT_EXPECT_EQ(mach_msg(&m.header, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0,
			      MACH_PORT_NULL), MACH_SEND_INVALID_TYPE);
	KT_EXPECT_EQ(mach_msg(&m.header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m), p, 0,
			      MACH_PORT_NULL), MACH_RCV_TIMED_OUT);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(writes_like_memmove),
		KTAP_CASE(whole_pages_are_a_snapshot),
		KTAP_CASE(sixteen_mib),
		KTAP_CASE(refusals_change_nothing),
		KTAP_CASE(vm_read_brings_a_copy),
		KTAP_CASE(out_of_line_memory_moves),
		KTAP_CASE(unreadable_memory_is_refused),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
