/*
 * Kernel stacks in their own stretch of kernel virtual memory: slot i
 * holds a guard page and then the stack, so every stack has an unmapped
 * page below it.  A bitmap says which slots are taken, under kstack_lock,
 * a leaf: the pmap and vm_page calls come after it is let go.
 */
#include "vm/vm_kern.h"
#include "kern/lock.h"
#include "kern/panic.h"
#include "vm/pmap.h"
#include "vm/vm_map_internal.h"
#include "vm/vm_page.h"

#define KSTACK_SLOTS 1024
#define SLOT_SIZE    (KSTACK_SIZE + PAGE_SIZE)

static vm_offset_t kstack_base;               /* start of slot 0 */
static uint64_t slot_used[KSTACK_SLOTS / 64];
static struct spinlock kstack_lock = SPINLOCK_INIT("kstack", LOCK_RANK_LEAF);

void kmem_init(void)
{
	vm_offset_t start, end;

	pmap_virtual_space(&start, &end);
	KASSERT(end - start >= KSTACK_SLOTS * SLOT_SIZE, "kmem_init: kernel VA too small");
	kstack_base = start;
}

static int slot_take(void)
{
	for (int i = 0; i < KSTACK_SLOTS; i++)
		if (!(slot_used[i / 64] & (1ull << (i % 64)))) {
			slot_used[i / 64] |= 1ull << (i % 64);
			return i;
		}
	return -1;
}

static void slot_release(int i)
{
	slot_used[i / 64] &= ~(1ull << (i % 64));
}

/*
 * Unmaps and frees the first n pages of the stack at va: one TLB flush
 * (on many CPUs, one shootdown) for them all, and the frames go back
 * only after it, when no CPU can still write into them.
 */
static void stack_unmap(vm_offset_t va, unsigned n)
{
	paddr_t frames[KSTACK_PAGES];

	for (unsigned i = 0; i < n; i++) {
		bool mapped = pmap_extract(kernel_pmap, va + i * PAGE_SIZE, &frames[i]);
		KASSERT(mapped, "kmem: stack page %#lx unmapped", va + i * PAGE_SIZE);
	}
	if (n > 0)
		pmap_kremove_range(va, n * PAGE_SIZE);
	for (unsigned i = 0; i < n; i++)
		vm_page_free(vm_page_from_phys(frames[i]));
}

vm_offset_t kmem_stack_alloc(void)
{
	spin_lock(&kstack_lock);
	int slot = slot_take();
	spin_unlock(&kstack_lock);
	if (slot < 0)
		return 0;
	vm_offset_t stack = kstack_base + slot * SLOT_SIZE + PAGE_SIZE;
	for (unsigned i = 0; i < KSTACK_PAGES; i++) {
		struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);
		if (p == NULL || pmap_kenter(stack + i * PAGE_SIZE, vm_page_to_phys(p),
		                             VM_PROT_READ | VM_PROT_WRITE) != KERN_SUCCESS) {
			if (p)
				vm_page_free(p);
			stack_unmap(stack, i);
			spin_lock(&kstack_lock);
			slot_release(slot);
			spin_unlock(&kstack_lock);
			return 0;
		}
	}
	return stack;
}

void kmem_stack_free(vm_offset_t stack)
{
	uint64_t slot = (stack - PAGE_SIZE - kstack_base) / SLOT_SIZE;

	KASSERT(stack > kstack_base && slot < KSTACK_SLOTS &&
	        stack == kstack_base + slot * SLOT_SIZE + PAGE_SIZE,
	        "kmem_stack_free: %#lx is not a kernel stack", stack);
	stack_unmap(stack, KSTACK_PAGES);
	spin_lock(&kstack_lock);
	slot_release(slot);
	spin_unlock(&kstack_lock);
}

bool kmem_is_stack_guard(vm_offset_t va)
{
	return va >= kstack_base && va < kstack_base + KSTACK_SLOTS * SLOT_SIZE &&
	       (va - kstack_base) % SLOT_SIZE < PAGE_SIZE;
}

vm_offset_t kmem_first_free_va(void)
{
	return kstack_base + KSTACK_SLOTS * SLOT_SIZE;
}

/*
 * Finds room for size bytes in kernel_map, maps fresh memory there and
 * wires it, undoing the mapping if the wiring fails: 0 then, and
 * kernel_map is as it was.  => kernel_map locked
 */
static vm_offset_t kmem_alloc_locked(vm_size_t size, struct entry_reserve *r)
{
	static const struct vm_map_entry fresh = {
		.protection = VM_PROT_DEFAULT, .max_protection = VM_PROT_ALL,
		.inheritance = VM_INHERIT_DEFAULT,
	};
	vm_offset_t addr;

	VM_MAP_ASSERT_LOCKED(kernel_map);
	if (!vm_map_find_space(kernel_map, size, &addr))
		return 0;
	vm_map_insert(kernel_map, addr, addr + size, NULL, 0, &fresh, r);
	if (vm_map_wire(kernel_map, addr, addr + size, VM_PROT_READ | VM_PROT_WRITE) !=
	    KERN_SUCCESS) {
		vm_map_delete(kernel_map, addr, addr + size, r);   /* one whole entry: no clip */
		return 0;
	}
	return addr;
}

/* One hold of the map lock, so no one sees the memory before it is wired. */
vm_offset_t kmem_alloc(vm_size_t size)
{
	struct entry_reserve r;
	vm_offset_t addr = 0;

	size = round_page(size);
	if (size == 0)
		return 0;
	if (!vm_map_lock(kernel_map))
		return 0;
	if (entry_reserve(&r, kernel_map, 1)) {
		addr = kmem_alloc_locked(size, &r);
		entry_reserve_release(&r);
	}
	vm_map_unlock(kernel_map);
	return addr;
}

/* Is [start, end) one whole entry of kernel_map?  => kernel_map locked */
static bool kmem_is_entry(vm_offset_t start, vm_offset_t end)
{
	VM_MAP_ASSERT_LOCKED(kernel_map);
	struct vm_map_entry *e = vm_map_lookup_entry(kernel_map, start);

	return e != NULL && e->start == start && e->end == end;
}

/* A whole entry needs no clip, so its removal takes no memory and cannot fail. */
void kmem_free(vm_offset_t addr, vm_size_t size)
{
	struct entry_reserve r;
	vm_offset_t end = addr + round_page(size);

	vm_map_lock_unint(kernel_map);
	KASSERT(kmem_is_entry(addr, end), "kmem_free: [%#lx, %#lx) is not what kmem_alloc gave",
	        addr, end);
	bool reserved = entry_reserve(&r, kernel_map, 0);
	KASSERT(reserved, "kmem_free: an empty reserve failed");
	vm_map_delete(kernel_map, addr, end, &r);
	entry_reserve_release(&r);
	vm_map_unlock(kernel_map);
}

/* Maps pages of device registers from pa at va; on failure, none stays mapped. */
static kern_return_t device_enter(vm_offset_t va, paddr_t pa, vm_size_t size)
{
	for (vm_size_t done = 0; done < size; done += PAGE_SIZE) {
		if (pmap_kenter_device(va + done, pa + done) == KERN_SUCCESS)
			continue;
		while (done > 0) {
			done -= PAGE_SIZE;
			pmap_kremove(va + done);
		}
		return KERN_RESOURCE_SHORTAGE;
	}
	return KERN_SUCCESS;
}

kern_return_t kmem_map_device(paddr_t pa, vm_size_t size, vm_offset_t *va)
{
	static const struct vm_map_entry device = {
		.protection = VM_PROT_READ | VM_PROT_WRITE,
		.max_protection = VM_PROT_READ | VM_PROT_WRITE,
		.inheritance = VM_INHERIT_NONE, .device = true,
	};
	struct entry_reserve r;
	kern_return_t kr = KERN_SUCCESS;

	KASSERT((pa & PAGE_MASK) == 0, "kmem_map_device: %#lx is not page-aligned", pa);
	size = round_page(size);
	if (!vm_map_lock(kernel_map))
		return KERN_ABORTED;
	if (!entry_reserve(&r, kernel_map, 1)) {
		vm_map_unlock(kernel_map);
		return KERN_RESOURCE_SHORTAGE;
	}
	if (!vm_map_find_space(kernel_map, size, va))
		kr = KERN_NO_SPACE;
	else if ((kr = device_enter(*va, pa, size)) == KERN_SUCCESS)
		vm_map_insert(kernel_map, *va, *va + size, NULL, 0, &device, &r);
	vm_map_unlock(kernel_map);
	entry_reserve_release(&r);
	return kr;
}
