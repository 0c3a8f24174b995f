/*
 * ktap-summary FILE...: counts the test results in KTAP output files.
 *
 * Each file is parsed as one input (it may hold several streams) with the
 * kernel's own parser, tests/harness/ktap.c, and gets a line
 *
 *	# FILE: P passed, F failed, S skipped[; incomplete: WHY]
 *
 * An incomplete file (a stream that stopped early, bad plan or numbering,
 * or a file that cannot be read) counts as one more failure.  The last
 * line is the total, "N passed, N failed" and ", N skipped" if any were.
 * Exits 1 when anything failed, 0 otherwise, 2 on bad usage.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "tests/harness/ktap.h"

/* Feeds every line of path to p; returns false when the file cannot be read. */
static bool feed_file(struct ktap_parser *p, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool readable;

	if (f == NULL)
		return false;
	/* getline, so that lines of any length arrive whole. */
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			len--;
		ktap_feed_line(p, line, (size_t)len);
	}
	readable = !ferror(f);
	free(line);
	fclose(f);
	return readable;
}

/* Prints path's summary line and adds its counts, and any incompleteness, to *total. */
static void summarize(const char *path, struct ktap_counts *total)
{
	struct ktap_parser p;
	struct ktap_counts c;
	const char *why;
	bool complete;

	ktap_init(&p);
	if (feed_file(&p, path)) {
		complete = ktap_finish(&p, &c, &why);
	} else {
		ktap_finish(&p, &c, NULL);
		complete = false;
		why = "cannot read";
	}
	printf("# %s: %u passed, %u failed, %u skipped",
	       path, c.passed, c.failed, c.skipped);
	if (!complete)
		printf("; incomplete: %s", why);
	printf("\n");
	total->passed += c.passed;
	total->failed += c.failed + !complete;
	total->skipped += c.skipped;
}

int main(int argc, char **argv)
{
	struct ktap_counts total = { 0, 0, 0 };

	if (argc < 2) {
		fprintf(stderr, "usage: ktap-summary FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		summarize(argv[i], &total);
	printf("%u passed, %u failed", total.passed, total.failed);
	if (total.skipped > 0)
		printf(", %u skipped", total.skipped);
	printf("\n");
	return total.failed > 0;
}
