#include "kern/cmdline.h"
#include "lib/string.h"

/* Copies at most len bytes of src into dst[cap], always NUL-terminated. */
static void copy_word(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool word_is(const char *w, size_t len, const char *name)
{
	return strlen(name) == len && strncmp(w, name, len) == 0;
}

/* Applies one option; returns false when it is not one Mica knows. */
static bool take_option(struct boot_options *o, const char *w, size_t len)
{
	if (word_is(w, len, "test")) {
		o->test = true;
	} else if (len > 5 && strncmp(w, "test=", 5) == 0) {
		o->test = true;
		copy_word(o->suites, sizeof(o->suites), w + 5, len - 5);
	} else if (len > 9 && strncmp(w, "usertest=", 9) == 0) {
		copy_word(o->usertests, sizeof(o->usertests), w + 9, len - 9);
	} else if (len > 13 && strncmp(w, "userprograms=", 13) == 0) {
		copy_word(o->usertests, sizeof(o->usertests), w + 13, len - 13);
		o->usertests_only = true;
	} else if (word_is(w, len, "bench")) {
		o->bench = true;
	} else if (word_is(w, len, "profile")) {
		o->profile = true;
	} else if (word_is(w, len, "gdb")) {
		o->gdb = true;
	} else if (word_is(w, len, "preempt=always")) {
		o->preempt_always = true;
	} else if (word_is(w, len, "quiet")) {
		o->quiet = true;
	} else if (len > 5 && strncmp(w, "seed=", 5) == 0 && parse_u64(w + 5, len - 5, &o->seed)) {
		o->seed_given = true;
	} else {
		return false;
	}
	return true;
}

void cmdline_parse(const char *cmdline, struct boot_options *o)
{
	memset(o, 0, sizeof(*o));
	for (const char *p = cmdline; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		size_t len = p - w;
		if (len == 0 || take_option(o, w, len))
			continue;
		if (o->unknown_count < CMDLINE_MAX_UNKNOWN)
			copy_word(o->unknown[o->unknown_count], sizeof(o->unknown[0]), w, len);
		o->unknown_count++;
	}
}

bool cmdline_list_item(const char *list, unsigned i, char *buf, size_t len)
{
	for (const char *p = list; *p;) {
		const char *end = p;
		while (*end && *end != ',')
			end++;
		if (i-- == 0) {
			copy_word(buf, len, p, end - p);
			return true;
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

bool cmdline_list_has(const char *list, const char *name)
{
	char item[64];

	for (unsigned i = 0; cmdline_list_item(list, i, item, sizeof(item)); i++)
		if (strcmp(item, name) == 0)
			return true;
	return false;
}

bool cmdline_suite_selected(const struct boot_options *o, const char *suite)
{
	return cmdline_list_has(o->suites, suite);
}
