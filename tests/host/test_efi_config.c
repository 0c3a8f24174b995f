/*
 * Tests of boot/efi/config.c, the mica.cfg parser: what it accepts, and
 * that everything it cannot honour exactly is refused with the right line.
 */
#include <string.h>

#include "boot/efi/config.h"
#include "tests/host/htest.h"

static struct mica_cfg cfg;

/* Parses a NUL-terminated text; returns the parser's reason (NULL on success). */
static const char *parse(const char *text, unsigned *line)
{
	return cfg_parse(text, strlen(text), &cfg, line);
}

/* Expects text to be refused at line want_line for the reason want. */
static void expect_refused(const char *text, unsigned want_line, const char *want)
{
	unsigned line = 0;

	HT_EXPECT_STREQ(parse(text, &line), want);
	HT_EXPECT_EQ(line, want_line);
}

static void test_empty_file_gives_empty_cmdline(void)
{
	unsigned line;

	HT_EXPECT_STREQ(parse("", &line), NULL);
	HT_EXPECT_STREQ(cfg.cmdline, "");
	HT_EXPECT_EQ(cfg.module_count, 0u);
}

static void test_comments_blanks_and_crlf_are_ignored(void)
{
	unsigned line;

	HT_EXPECT_STREQ(parse("# Mica\r\n\r\n   \t\n  # indented comment\r\ncmdline  test seed=3 \r\n",
	                      &line), NULL);
	HT_EXPECT_STREQ(cfg.cmdline, "test seed=3");
}

static void test_cmdline_keeps_inner_text(void)
{
	unsigned line;

	HT_EXPECT_STREQ(parse("cmdline a  b\t# not a comment", &line), NULL);
	HT_EXPECT_STREQ(cfg.cmdline, "a  b\t# not a comment");
	HT_EXPECT_STREQ(parse("cmdline\n", &line), NULL);
	HT_EXPECT_STREQ(cfg.cmdline, "");
}

static void test_modules_with_and_without_names(void)
{
	unsigned line;

	HT_EXPECT_STREQ(parse("module /boot/initrd.img initrd\nmodule \\EFI\\x.bin\n", &line), NULL);
	HT_EXPECT_EQ(cfg.module_count, 2u);
	HT_EXPECT_STREQ(cfg.modules[0].path, "/boot/initrd.img");
	HT_EXPECT_STREQ(cfg.modules[0].name, "initrd");
	HT_EXPECT_STREQ(cfg.modules[1].path, "\\EFI\\x.bin");
	HT_EXPECT_STREQ(cfg.modules[1].name, "\\EFI\\x.bin");
}

static void test_length_limits_are_exact(void)
{
	char text[700], line_text[600];
	unsigned line;

	memset(line_text, 'x', 511);
	line_text[511] = '\0';
	snprintf(text, sizeof(text), "cmdline %s", line_text);
	HT_EXPECT_STREQ(parse(text, &line), NULL);
	HT_EXPECT_EQ(strlen(cfg.cmdline), 511u);
	snprintf(text, sizeof(text), "\ncmdline %sy", line_text);
	expect_refused(text, 2, "command line longer than 511 bytes");

	memset(line_text, 'p', 127);
	line_text[0] = '/';
	line_text[127] = '\0';
	snprintf(text, sizeof(text), "module %s m", line_text);
	HT_EXPECT_STREQ(parse(text, &line), NULL);
	snprintf(text, sizeof(text), "module %sp m", line_text);
	expect_refused(text, 1, "module path longer than 127 bytes");
	expect_refused("module /a 0123456789012345678901234567890123456789012345678901234567890123",
	               1, "module name longer than 63 bytes");
}

static void test_too_many_modules(void)
{
	char text[400] = "";

	for (int i = 0; i < 17; i++)
		strcat(text, "module /m\n");
	expect_refused(text, 17, "more than 16 modules");
}

static void test_bad_lines_are_refused_with_their_number(void)
{
	expect_refused("cmdline a\n# ok\nkernel /mica.elf\n", 3, "unknown keyword (expected cmdline or module)");
	expect_refused("cmdline a\ncmdline b\n", 2, "a second cmdline line");
	expect_refused("module\n", 1, "module takes a path and an optional name");
	expect_refused("module /a b c\n", 1, "module takes a path and an optional name");
	expect_refused("\n\nmodule initrd.img\n", 3, "a module path must start with / (the volume's root)");
	expect_refused("module /caf\xc3\xa9\n", 1, "a module path must be printable ASCII");
}

static void test_nul_byte_is_refused(void)
{
	unsigned line = 0;
	const char *why = cfg_parse("cmdline a\nx\0y\n", 14, &cfg, &line);

	HT_EXPECT_STREQ(why, "NUL byte: not a text file");
	HT_EXPECT_EQ(line, 2u);
}

static const struct ht_case cases[] = {
	HT_CASE(test_empty_file_gives_empty_cmdline),
	HT_CASE(test_comments_blanks_and_crlf_are_ignored),
	HT_CASE(test_cmdline_keeps_inner_text),
	HT_CASE(test_modules_with_and_without_names),
	HT_CASE(test_length_limits_are_exact),
	HT_CASE(test_too_many_modules),
	HT_CASE(test_bad_lines_are_refused_with_their_number),
	HT_CASE(test_nul_byte_is_refused),
};
HT_MAIN("efi_config", cases)
