/*
 * A streaming KTAP version 1 parser that counts test results.
 *
 * It judges test output: the host's test programs (tools/ktap-summary) and,
 * later, the kernel's own user test programs.  It is fed one line at a
 * time, keeps fixed-size state (no allocation), and at the end says how
 * many leaf results passed, failed and skipped, and whether every stream
 * was complete.  docs/testing.md describes the format; in short:
 *
 *  - A line's depth is its leading spaces / 4.  A line whose indentation
 *    is not a multiple of four is not KTAP.
 *  - "KTAP version 1" opens a block at its depth.  At depth 0 it starts a
 *    new stream, ending the previous one; input may hold several streams.
 *  - "1..N" is the block's plan; "ok N desc" and "not ok N desc" are its
 *    results, numbered 1, 2, 3...  "# SKIP" (any case) after the
 *    description makes a result a skip.
 *  - A result at depth d that follows a block at depth d + 1 closes that
 *    block and is the subtest's summary.  Every other result is a leaf,
 *    and only leaves are counted.
 *  - Everything else is not KTAP and is ignored: boot messages, "# ..."
 *    diagnostics, and every line before the first depth-0 version line.
 *
 * A stream is complete when each block had a plan, as many results as its
 * plan, correct numbering, and a summary line closing it (depth > 0).
 */
#ifndef MICA_HARNESS_KTAP_H
#define MICA_HARNESS_KTAP_H

#include <stdbool.h>
#include <stddef.h>

#define KTAP_MAX_DEPTH 8	/* a stream and seven levels of subtests */
#define KTAP_WHY_MAX 80		/* longest problem description, with NUL */

struct ktap_counts {
	unsigned passed, failed, skipped;
};

/* One open block: its plan and how many results it has had so far. */
struct ktap_block {
	bool has_plan;
	unsigned planned;
	unsigned results;
};

struct ktap_parser {
	struct ktap_block blocks[KTAP_MAX_DEPTH];	/* blocks[d]: open block at depth d */
	unsigned open;			/* blocks[0 .. open-1] are open */
	bool started;			/* a depth-0 version line has been seen */
	bool incomplete;		/* a problem was found; why says which */
	struct ktap_counts counts;	/* leaves so far, across all streams */
	char why[KTAP_WHY_MAX];		/* the first problem found */
};

/* Makes *p ready for a new input. */
void ktap_init(struct ktap_parser *p);

/*
 * Feeds one line: len bytes at line, without the '\n' and not necessarily
 * NUL-terminated.  A trailing '\r' and other trailing blanks are ignored.
 */
void ktap_feed_line(struct ktap_parser *p, const char *line, size_t len);

/*
 * Ends the input.  Fills *counts with the leaf counts and returns true when
 * every stream was complete.  When it was not, and why is non-NULL, *why
 * points at a description of the first problem found, such as "plan 1..3
 * but 2 results"; the text lives in *p.  When complete, *why is set to NULL.
 */
bool ktap_finish(struct ktap_parser *p, struct ktap_counts *counts,
		 const char **why);

#endif
