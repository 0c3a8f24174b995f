/*
 * Parsing mica.cfg (config.h, docs/boot.md).  The file is read line by
 * line; each line is a keyword and its arguments separated by blanks.
 * Anything the loader cannot honour exactly -- an unknown keyword, a value
 * too long for boot_info, a second command line -- is an error with its
 * line number, never a silent truncation.
 */
#include <stdbool.h>
#include "boot/efi/config.h"

/* The messages below quote these limits. */
_Static_assert(CFG_PATH_MAX == 128 && BOOT_INFO_NAME_MAX == 64, "update the messages");
_Static_assert(BOOT_INFO_CMDLINE_MAX == 512 && BOOT_INFO_MAX_MODULES == 16, "update the messages");

/* A piece of the text, not NUL-terminated: nothing is copied until it is known to fit. */
struct span {
	const char *p;
	uint64_t n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';   /* \r: files written with CRLF */
}

/* s without the blanks at either end. */
static struct span trim(struct span s)
{
	while (s.n > 0 && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Splits the first blank-separated word off *rest, which keeps the trimmed remainder. */
static struct span take_word(struct span *rest)
{
	struct span word = { rest->p, 0 };

	while (word.n < rest->n && !is_blank(rest->p[word.n]))
		word.n++;
	*rest = trim((struct span){ rest->p + word.n, rest->n - word.n });
	return word;
}

static bool span_is(struct span s, const char *word)
{
	uint64_t i;

	for (i = 0; i < s.n && word[i] != '\0'; i++)
		if (s.p[i] != word[i])
			return false;
	return i == s.n && word[i] == '\0';
}

/* Copies s as a string into dst of cap bytes; false, copying nothing, if it does not fit. */
static bool copy_span(char *dst, uint64_t cap, struct span s)
{
	if (s.n >= cap)
		return false;
	for (uint64_t i = 0; i < s.n; i++)
		dst[i] = s.p[i];
	dst[s.n] = '\0';
	return true;
}

/* Is every byte of s printable ASCII?  Paths become UEFI's UCS-2 one byte per character. */
static bool is_ascii_text(struct span s)
{
	for (uint64_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] < 0x20 || (unsigned char)s.p[i] > 0x7e)
			return false;
	return true;
}

/* `module PATH [NAME]`: args is everything after the keyword. */
static const char *parse_module(struct span args, struct mica_cfg *cfg)
{
	struct span path = take_word(&args), name = take_word(&args);
	struct cfg_module *m = &cfg->modules[cfg->module_count];

	if (path.n == 0 || args.n != 0)
		return "module takes a path and an optional name";
	if (cfg->module_count == BOOT_INFO_MAX_MODULES)
		return "more than 16 modules";
	if (path.p[0] != '/' && path.p[0] != '\\')
		return "a module path must start with / (the volume's root)";
	if (!is_ascii_text(path))
		return "a module path must be printable ASCII";
	if (!copy_span(m->path, sizeof(m->path), path))
		return "module path longer than 127 bytes";
	if (!copy_span(m->name, sizeof(m->name), name.n ? name : path))
		return "module name longer than 63 bytes";
	cfg->module_count++;
	return 0;
}

/* One line, without its newline. */
static const char *parse_line(struct span line, struct mica_cfg *cfg, bool *have_cmdline)
{
	struct span rest = trim(line), keyword = take_word(&rest);

	for (uint64_t i = 0; i < line.n; i++)
		if (line.p[i] == '\0')
			return "NUL byte: not a text file";
	if (keyword.n == 0 || keyword.p[0] == '#')
		return 0;
	if (span_is(keyword, "module"))
		return parse_module(rest, cfg);
	if (!span_is(keyword, "cmdline"))
		return "unknown keyword (expected cmdline or module)";
	if (*have_cmdline)
		return "a second cmdline line";
	*have_cmdline = true;
	if (!copy_span(cfg->cmdline, sizeof(cfg->cmdline), rest))
		return "command line longer than 511 bytes";
	return 0;
}

const char *cfg_parse(const char *text, uint64_t len, struct mica_cfg *cfg, unsigned *line)
{
	bool have_cmdline = false;
	uint64_t start = 0;

	cfg->cmdline[0] = '\0';
	cfg->module_count = 0;
	for (*line = 1; start < len; (*line)++) {
		uint64_t end = start;
		while (end < len && text[end] != '\n')
			end++;
		const char *why = parse_line((struct span){ text + start, end - start }, cfg,
		                             &have_cmdline);
		if (why)
			return why;
		start = end + 1;
	}
	return 0;
}
