/*
 * The KTAP parser; tests/harness/ktap.h states the rules it applies.
 *
 * Each line is first classified on its own (classify), then applied to the
 * stack of open blocks (ktap_feed_line).  The parser never stops at a
 * problem: it records the first one, which is usually the cause of any
 * later ones, and keeps counting so the summary still shows what ran.
 */
#include "tests/harness/ktap.h"

#include <stdarg.h>

#include "lib/printf.h"

/*
 * Numbers longer than this are not KTAP.  Refusing them keeps the
 * arithmetic from overflowing.
 */
#define NUMBER_MAX 99999999u

enum line_kind { LINE_OTHER, LINE_VERSION, LINE_PLAN, LINE_RESULT };

/* What one line says, independent of what came before it. */
struct line {
	enum line_kind kind;
	unsigned depth;
	unsigned number;	/* the plan's N, or the result's number */
	bool ok;		/* result: "ok" rather than "not ok" */
	bool skip;		/* result: has a "# SKIP" directive */
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * If [*s, end) starts with word, consumes it.  With nocase, word must be
 * lower case and matches in any case.
 */
static bool eat(const char **s, const char *end, const char *word, bool nocase)
{
	const char *t = *s;

	for (; *word != '\0'; word++, t++) {
		if (t == end)
			return false;
		if (nocase ? to_lower(*t) != *word : *t != *word)
			return false;
	}
	*s = t;
	return true;
}

/* If [*s, end) starts with a decimal number of at most NUMBER_MAX, consumes it. */
static bool eat_number(const char **s, const char *end, unsigned *n)
{
	const char *t = *s;

	if (t == end || !is_digit(*t))
		return false;
	for (*n = 0; t < end && is_digit(*t); t++) {
		*n = *n * 10 + (unsigned)(*t - '0');
		if (*n > NUMBER_MAX)
			return false;
	}
	*s = t;
	return true;
}

/* True when s is the end of the line or a space separating more words. */
static bool at_word_end(const char *s, const char *end)
{
	return s == end || *s == ' ';
}

/* True when a result's description has a "# SKIP" directive (SKIP in any case). */
static bool has_skip(const char *s, const char *end)
{
	for (; s < end; s++) {
		const char *t = s + 1;

		if (*s != '#')
			continue;
		while (t < end && *t == ' ')
			t++;
		if (eat(&t, end, "skip", true))
			return true;
	}
	return false;
}

/* Parses "ok N [desc]" or "not ok N [desc]" into *l. */
static bool parse_result(const char *s, const char *end, struct line *l)
{
	l->ok = !eat(&s, end, "not ", false);
	if (!eat(&s, end, "ok ", false) || !eat_number(&s, end, &l->number))
		return false;
	if (!at_word_end(s, end))
		return false;
	l->skip = has_skip(s, end);
	return true;
}

/* Parses "1..N" into l->number; anything after a space is allowed, as in TAP. */
static bool parse_plan(const char *s, const char *end, struct line *l)
{
	return eat(&s, end, "1..", false) && eat_number(&s, end, &l->number) &&
	       at_word_end(s, end);
}

static bool is_version(const char *s, const char *end)
{
	return eat(&s, end, "KTAP version 1", false) && s == end;
}

/* Finds a line's depth and what kind of KTAP line it is, if any. */
static struct line classify(const char *s, size_t len)
{
	const char *end = s + len;
	struct line l = { .kind = LINE_OTHER };
	unsigned spaces = 0;

	while (end > s && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (; s < end && *s == ' '; s++)
		spaces++;
	if (spaces % 4 != 0)
		return l;
	l.depth = spaces / 4;
	if (is_version(s, end))
		l.kind = LINE_VERSION;
	else if (parse_plan(s, end, &l))
		l.kind = LINE_PLAN;
	else if (parse_result(s, end, &l))
		l.kind = LINE_RESULT;
	return l;
}

/* Records a problem, unless an earlier one is already recorded. */
static void note(struct ktap_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct ktap_parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->incomplete)
		return;
	p->incomplete = true;
	va_start(ap, fmt);
	kvsnprintf(p->why, sizeof p->why, fmt, ap);
	va_end(ap);
}

/* Opens an empty block one level below the innermost open one. */
static void push_block(struct ktap_parser *p)
{
	struct ktap_block *b = &p->blocks[p->open++];

	b->has_plan = false;
	b->planned = 0;
	b->results = 0;
}

/* Pops the innermost block, checking that it got what its plan promised. */
static void pop_block(struct ktap_parser *p)
{
	const struct ktap_block *b = &p->blocks[--p->open];

	if (!b->has_plan)
		note(p, "no plan in block at depth %u", p->open);
	else if (b->results != b->planned)
		note(p, "plan 1..%u but %u results", b->planned, b->results);
}

/*
 * Pops every block at depth >= depth.  A subtest block that goes this way
 * never got the summary line that should have closed it.
 */
static void abandon_blocks(struct ktap_parser *p, unsigned depth)
{
	while (p->open > depth) {
		pop_block(p);
		if (p->open > 0)
			note(p, "subtest block not closed");
	}
}

/* A depth-0 version line: ends the current stream and starts another. */
static void start_stream(struct ktap_parser *p)
{
	abandon_blocks(p, 0);
	p->started = true;
	push_block(p);
}

/* A nested version line: opens a subtest block inside the innermost block. */
static void open_subtest(struct ktap_parser *p, unsigned depth)
{
	if (depth > p->open) {
		note(p, "KTAP version line at depth %u has no parent", depth);
		return;
	}
	if (depth >= KTAP_MAX_DEPTH) {
		note(p, "subtests nested deeper than %d", KTAP_MAX_DEPTH);
		return;
	}
	abandon_blocks(p, depth);	/* a sibling still open was never closed */
	push_block(p);
}

/* A plan line: belongs to the open block at its depth, which gets one plan. */
static void take_plan(struct ktap_parser *p, const struct line *l)
{
	struct ktap_block *b;

	if (l->depth >= p->open) {
		note(p, "plan at depth %u outside any block", l->depth);
		return;
	}
	abandon_blocks(p, l->depth + 1);
	b = &p->blocks[l->depth];
	if (b->has_plan) {
		note(p, "second plan in one block");
		return;
	}
	b->has_plan = true;
	b->planned = l->number;
}

/* Counts a leaf result. */
static void count_leaf(struct ktap_parser *p, const struct line *l)
{
	if (l->skip)
		p->counts.skipped++;
	else if (l->ok)
		p->counts.passed++;
	else
		p->counts.failed++;
}

/*
 * A result line at depth d: the next result of the block at depth d.  If
 * a subtest block at depth d + 1 is open, this line is its summary: it
 * closes that block and is not a leaf.
 */
static void take_result(struct ktap_parser *p, const struct line *l)
{
	bool leaf = l->depth + 1 == p->open;
	struct ktap_block *b;

	if (l->depth >= p->open) {
		note(p, "result %u at depth %u outside any block",
		     l->number, l->depth);
		return;
	}
	if (!leaf) {
		abandon_blocks(p, l->depth + 2);
		pop_block(p);
	}
	b = &p->blocks[l->depth];
	b->results++;
	if (l->number != b->results)
		note(p, "result %u out of order (expected %u)",
		     l->number, b->results);
	if (leaf)
		count_leaf(p, l);
}

void ktap_init(struct ktap_parser *p)
{
	p->open = 0;
	p->started = false;
	p->incomplete = false;
	p->counts = (struct ktap_counts){ 0, 0, 0 };
	p->why[0] = '\0';
}

void ktap_feed_line(struct ktap_parser *p, const char *line, size_t len)
{
	struct line l = classify(line, len);

	if (l.kind == LINE_VERSION && l.depth == 0) {
		start_stream(p);
		return;
	}
	if (!p->started)
		return;		/* lines before the first stream are not KTAP */
	switch (l.kind) {
	case LINE_VERSION: open_subtest(p, l.depth); break;
	case LINE_PLAN: take_plan(p, &l); break;
	case LINE_RESULT: take_result(p, &l); break;
	case LINE_OTHER: break;
	}
}

bool ktap_finish(struct ktap_parser *p, struct ktap_counts *counts,
		 const char **why)
{
	if (!p->started)
		note(p, "no KTAP version line");
	abandon_blocks(p, 0);
	*counts = p->counts;
	if (why != NULL)
		*why = p->incomplete ? p->why : NULL;
	return !p->incomplete;
}
