/*
 * Sleep locks (kern/lock.h), Mach's lock_t: readers share, a writer is
 * alone, whoever finds the lock taken sleeps until it is let go, an
 * upgrade fails when another reader asked first (and then holds nothing),
 * and the timestamp moves with every write hold let go.
 *
 * The other party is a kernel thread; the test yields to let it run as
 * far as it can, then looks at what it did and where it sleeps.  A map's
 * lock is one: vm_region, which only reads, and a fault that changes no
 * entry share it with a reader; faults racing for the same pages under
 * shared holds still give each page one frame.
 */
#include "kern/lock.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "tests/harness/ktest.h"
#include "tests/kern/vm_user_test.h"
#include "vm/pmap.h"
#include "vm/vm_fault.h"
#include "vm/vm_map_internal.h"
#include "vm/vm_user.h"

static struct sleep_lock lock;

/* What the other thread does, and how far it got. */
struct party {
	bool write;                    /* take it for writing, else for reading */
	bool upgrade;                  /* read, then upgrade */
	volatile bool holds;           /* it holds the lock (and waits to be told to let go) */
	volatile bool upgraded;        /* the upgrade's answer, once it came */
	volatile bool let_go;          /* told to let go */
	volatile bool done;
	struct thread *thread;
};

static void party_run(void *arg)
{
	struct party *p = arg;
	bool held = p->write ? lock_write(&lock) : lock_read(&lock);

	if (held && p->upgrade)
		held = p->upgraded = lock_read_to_write(&lock);
	p->holds = held;
	while (held && !p->let_go)
		sched_yield();
	if (held)
		lock_done(&lock);
	p->holds = false;
	p->done = true;
}

static void start(struct party *p)
{
	p->thread = thread_create_kernel("locker", party_run, p);
	KT_ASSERT(p->thread != NULL);
}

static void yield_a_while(void)
{
	for (int i = 0; i < 20; i++)
		sched_yield();
}

/* Asleep on the lock, not spinning for it. */
static bool sleeps_on_the_lock(const struct party *p)
{
	return !p->done && p->thread->state == THREAD_WAITING && p->thread->wait_event == &lock;
}

static void finish(struct party *p)
{
	p->let_go = true;
	KT_WAIT_FOR(p->done);
	KT_EXPECT(p->done);
}

KTEST(sleep_lock, readers_share_and_a_writer_waits_for_them)
{
	struct party reader = { 0 }, writer = { .write = true };

	sleep_lock_init(&lock, "test", LOCK_RANK_MAP);
	KT_ASSERT(lock_read(&lock));
	start(&reader);
	KT_WAIT_FOR(reader.holds);
	KT_EXPECT(reader.holds);                       /* two readers at once */
	start(&writer);
	KT_WAIT_FOR(sleeps_on_the_lock(&writer));
	KT_EXPECT(!writer.holds);
	KT_EXPECT(sleeps_on_the_lock(&writer));
	finish(&reader);
	yield_a_while();
	KT_EXPECT(!writer.holds);                      /* one reader is left: us */
	lock_done(&lock);
	KT_WAIT_FOR(writer.holds);
	KT_EXPECT(writer.holds);
	finish(&writer);
	KT_EXPECT(!lock_held(&lock));
}

KTEST(sleep_lock, a_writer_is_alone_and_each_write_hold_moves_the_timestamp)
{
	struct party reader = { 0 };

	sleep_lock_init(&lock, "test", LOCK_RANK_MAP);
	uint32_t stamp = lock.timestamp;
	KT_ASSERT(lock_write(&lock));
	KT_EXPECT(lock_write_held(&lock));
	start(&reader);
	KT_WAIT_FOR(sleeps_on_the_lock(&reader));
	KT_EXPECT(sleeps_on_the_lock(&reader));
	KT_EXPECT_EQ(lock.timestamp, stamp);           /* held, not yet let go */
	lock_done(&lock);
	KT_EXPECT_EQ(lock.timestamp, stamp + 1);
	KT_WAIT_FOR(reader.holds);
	KT_EXPECT(reader.holds);
	finish(&reader);
	KT_EXPECT_EQ(lock.timestamp, stamp + 1);       /* a read hold leaves it */
}

KTEST(sleep_lock, an_upgrade_alone_succeeds_and_a_second_one_fails_holding_nothing)
{
	struct party first = { .upgrade = true };

	sleep_lock_init(&lock, "test", LOCK_RANK_MAP);
	KT_ASSERT(lock_read(&lock));
	KT_EXPECT(lock_read_to_write(&lock));          /* the only reader */
	KT_EXPECT(lock_write_held(&lock));
	lock_done(&lock);

	KT_ASSERT(lock_read(&lock));
	start(&first);
	KT_WAIT_FOR(sleeps_on_the_lock(&first));
	KT_EXPECT(sleeps_on_the_lock(&first));         /* its upgrade waits for our read hold */
	KT_EXPECT(!lock_read_to_write(&lock));         /* it asked first: ours fails ... */
	KT_EXPECT(!lock_held(&lock));                 /* ... and we hold nothing */
	KT_WAIT_FOR(first.upgraded);
	KT_EXPECT(first.upgraded);
	KT_EXPECT(first.holds);
	KT_EXPECT(first.thread->state != THREAD_WAITING);
	finish(&first);
	KT_EXPECT(!lock_held(&lock));
}

KTEST(sleep_lock, a_write_hold_becomes_a_read_hold_without_a_gap)
{
	struct party reader = { 0 }, writer = { .write = true };

	sleep_lock_init(&lock, "test", LOCK_RANK_MAP);
	KT_ASSERT(lock_write(&lock));
	start(&reader);
	start(&writer);
	KT_WAIT_FOR(sleeps_on_the_lock(&reader) && sleeps_on_the_lock(&writer));
	KT_EXPECT(sleeps_on_the_lock(&reader));
	KT_EXPECT(sleeps_on_the_lock(&writer));
	lock_write_to_read(&lock);
	KT_EXPECT(!lock_write_held(&lock));
	KT_EXPECT(lock_held(&lock));
	KT_WAIT_FOR(reader.holds);
	KT_EXPECT(reader.holds);                       /* readers share with us now */
	KT_EXPECT(!writer.holds);                      /* a writer still waits */
	finish(&reader);
	lock_done(&lock);
	KT_WAIT_FOR(writer.holds);
	KT_EXPECT(writer.holds);
	finish(&writer);
}

/* One vm_region on a map, from a thread of its own. */
struct region_call {
	vm_map_t map;
	kern_return_t kr;
	volatile bool done;
};

static void region_run(void *arg)
{
	struct region_call *c = arg;
	struct vm_region_basic_info_64 info;
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_address_t addr = 0;
	vm_size_t size;

	c->kr = vm_region(c->map, &addr, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
	                  &count);
	c->done = true;
}

KTEST(sleep_lock, vm_region_shares_the_map_with_a_reader)
{
	struct task *task;
	struct region_call c = { 0 };

	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	test_alloc_at(task->map, 0x40000000, PAGE_SIZE);
	c.map = task->map;
	KT_ASSERT(vm_map_lock_read(task->map));
	KT_ASSERT(thread_create_kernel("region", region_run, &c) != NULL);
	KT_WAIT_FOR(c.done);
	KT_EXPECT(c.done);                             /* not asleep behind our read hold */
	vm_map_unlock(task->map);
	KT_WAIT_FOR(c.done);
	KT_EXPECT_EQ(c.kr, KERN_SUCCESS);
	task_terminate(task);
	task_deallocate(task);
}

/* One vm_fault on a map, from a thread of its own. */
struct fault_call {
	vm_map_t map;
	vm_offset_t start;
	size_t npages;                 /* faults each page of [start, start + npages pages) */
	kern_return_t kr;
	volatile bool done;
	struct thread *thread;
};

static void fault_run(void *arg)
{
	struct fault_call *c = arg;

	c->kr = KERN_SUCCESS;
	for (size_t i = 0; i < c->npages && c->kr == KERN_SUCCESS; i++)
		c->kr = vm_fault(c->map, c->start + i * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE);
	c->done = true;
}

static void fault_start(struct fault_call *c)
{
	c->thread = thread_create_kernel("faulter", fault_run, c);
	KT_ASSERT(c->thread != NULL);
}

static void fault_finish(struct fault_call *c)
{
	KT_WAIT_FOR(c->done);
	KT_EXPECT(c->done);
	KT_EXPECT_EQ(c->kr, KERN_SUCCESS);
}

#define FAULT_AT 0x40000000ul

KTEST(sleep_lock, a_fault_that_changes_no_entry_shares_the_map_with_a_reader)
{
	struct task *task;
	struct fault_call c = { .start = FAULT_AT + PAGE_SIZE, .npages = 1 };
	paddr_t pa;

	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	test_alloc_at(task->map, FAULT_AT, 2 * PAGE_SIZE);
	/* the first fault gives the entry its object; the next changes no entry */
	KT_ASSERT_EQ(vm_fault(task->map, FAULT_AT, VM_PROT_WRITE), KERN_SUCCESS);
	c.map = task->map;
	KT_ASSERT(vm_map_lock_read(task->map));
	fault_start(&c);
	KT_WAIT_FOR(c.done);
	KT_EXPECT(c.done);                             /* not asleep behind our read hold */
	KT_EXPECT(pmap_extract(task->map->pmap, c.start, &pa));
	vm_map_unlock(task->map);
	fault_finish(&c);
	task_terminate(task);
	task_deallocate(task);
}

KTEST(sleep_lock, a_fault_that_changes_its_entry_waits_for_the_reader)
{
	struct task *task;
	struct fault_call c = { .start = FAULT_AT, .npages = 1 };
	paddr_t pa;

	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	test_alloc_at(task->map, FAULT_AT, PAGE_SIZE);
	c.map = task->map;
	KT_ASSERT(vm_map_lock_read(task->map));
	fault_start(&c);                               /* the entry has no object yet */
	KT_WAIT_FOR(c.thread->state == THREAD_WAITING);
	KT_EXPECT(!c.done);
	KT_EXPECT(c.thread->state == THREAD_WAITING && c.thread->wait_event == &task->map->lock);
	KT_EXPECT(!pmap_extract(task->map->pmap, c.start, &pa));
	vm_map_unlock(task->map);
	fault_finish(&c);
	KT_EXPECT(pmap_extract(task->map->pmap, c.start, &pa));
	task_terminate(task);
	task_deallocate(task);
}

#define RACE_PAGES 64
#define RACERS 3

/* Each page of [FAULT_AT, + n pages) mapped to its object's one page there, and no other page. */
static bool one_page_each(vm_map_t map, size_t n)
{
	bool ok = vm_map_lock_read(map);
	struct vm_map_entry *e = ok ? vm_map_lookup_floor_shared(map, FAULT_AT) : NULL;
	struct vm_object *obj = e ? e->object : NULL;

	ok = obj != NULL && obj->resident_count == n;
	for (size_t i = 0; ok && i < n; i++) {
		paddr_t pa;
		spin_lock(&obj->lock);
		struct vm_page *p = vm_object_page_lookup(obj, e->offset + i * PAGE_SIZE);
		spin_unlock(&obj->lock);
		ok = p && pmap_extract(map->pmap, FAULT_AT + i * PAGE_SIZE, &pa) &&
		     pa == vm_page_to_phys(p);
	}
	if (e)
		vm_map_unlock(map);
	return ok;
}

/*
 * The racers switch at every unlock under preempt=always (make test's
 * preempt-always boot), so each finds a page missing that another is
 * about to insert.
 */
KTEST(sleep_lock, faults_racing_for_the_same_pages_leave_one_page_each)
{
	struct task *task;
	struct fault_call c[RACERS];

	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	test_alloc_at(task->map, FAULT_AT, RACE_PAGES * PAGE_SIZE);
	KT_ASSERT_EQ(vm_fault(task->map, FAULT_AT, VM_PROT_WRITE), KERN_SUCCESS);
	for (int i = 0; i < RACERS; i++) {
		c[i] = (struct fault_call){ .map = task->map, .start = FAULT_AT, .npages = RACE_PAGES };
		fault_start(&c[i]);
	}
	for (int i = 0; i < RACERS; i++)
		fault_finish(&c[i]);
	KT_EXPECT(one_page_each(task->map, RACE_PAGES));
	task_terminate(task);
	task_deallocate(task);
}
