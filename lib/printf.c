/*
 * kvformat and the ksnprintf family; see lib/printf.h for what is supported.
 *
 * A conversion is handled in two steps: parse_spec reads "%-08.3lx" into a
 * struct spec, then convert fetches the argument and prints it.  Every
 * printed field has the same shape,
 *
 *	[spaces] prefix [zeros] body [spaces]
 *
 * where the prefix is a sign or "0x", so emit_field does all the padding
 * and the conversions only decide what goes in each part.
 */
#include "lib/printf.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Widths and precisions are capped here so that the padding arithmetic
 * can never overflow an int, whatever a format or a '*' argument says.
 */
#define COUNT_MAX 1000000

/* The argument sizes that the length modifiers name. */
enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z };

/* One parsed conversion specification. */
struct spec {
	bool left;		/* '-': pad on the right */
	bool zero;		/* '0': pad integers with zeros */
	bool plus;		/* '+': show a sign on positive numbers */
	bool space;		/* ' ': a space where '+' would be */
	bool alt;		/* '#': "0x" for %x, a leading 0 for %o */
	int width;		/* minimum field width; 0 when absent */
	int prec;		/* precision; -1 when absent */
	enum length len;
	char conv;		/* conversion character; '\0' if fmt ended */
};

/* Where kvformat's output goes, and how much has gone there. */
struct out {
	kputc_fn put;
	void *arg;
	int count;
};

/* Sends one character to the output and counts it. */
static void emit(struct out *o, char c)
{
	o->put(c, o->arg);
	o->count++;
}

/* Sends c n times; sends nothing when n <= 0. */
static void emit_repeat(struct out *o, char c, int n)
{
	for (; n > 0; n--)
		emit(o, c);
}

/* Sends the first n characters of s. */
static void emit_chars(struct out *o, const char *s, int n)
{
	for (int i = 0; i < n; i++)
		emit(o, s[i]);
}

/* The length of a NUL-terminated string (there is no libc here). */
static int str_len(const char *s)
{
	int n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Emits one field, padded with spaces to the spec's width on the side the
 * '-' flag chooses.  Zeros between prefix and body are the caller's
 * business, because only integers have them.
 */
static void emit_field(struct out *o, const struct spec *s,
		       const char *prefix, int zeros, const char *body, int n)
{
	int plen = str_len(prefix);
	int pad = s->width - plen - zeros - n;

	if (!s->left)
		emit_repeat(o, ' ', pad);
	emit_chars(o, prefix, plen);
	emit_repeat(o, '0', zeros);
	emit_chars(o, body, n);
	if (s->left)
		emit_repeat(o, ' ', pad);
}

/* Consumes flag characters at *fmt, recording them in s. */
static void parse_flags(const char **fmt, struct spec *s)
{
	for (;; (*fmt)++) {
		switch (**fmt) {
		case '-': s->left = true; break;
		case '0': s->zero = true; break;
		case '+': s->plus = true; break;
		case ' ': s->space = true; break;
		case '#': s->alt = true; break;
		default: return;
		}
	}
}

/*
 * Consumes a decimal number or a '*' (which takes an int argument) into
 * *n, clamped to +-COUNT_MAX.  Returns false, consuming nothing, when
 * neither is there.
 */
static bool parse_count(const char **fmt, va_list *ap, int *n)
{
	if (**fmt == '*') {
		(*fmt)++;
		*n = va_arg(*ap, int);
	} else if (is_digit(**fmt)) {
		for (*n = 0; is_digit(**fmt); (*fmt)++)
			if (*n <= COUNT_MAX)
				*n = *n * 10 + (**fmt - '0');
	} else {
		return false;
	}
	if (*n > COUNT_MAX)
		*n = COUNT_MAX;
	if (*n < -COUNT_MAX)
		*n = -COUNT_MAX;
	return true;
}

/* Consumes a length modifier, if there is one. */
static enum length parse_length(const char **fmt)
{
	const char *f = *fmt;

	switch (f[0]) {
	case 'h':
		*fmt += f[1] == 'h' ? 2 : 1;
		return f[1] == 'h' ? LEN_HH : LEN_H;
	case 'l':
		*fmt += f[1] == 'l' ? 2 : 1;
		return f[1] == 'l' ? LEN_LL : LEN_L;
	case 'z':
		*fmt += 1;
		return LEN_Z;
	default:
		return LEN_NONE;
	}
}

/*
 * Parses the specification that follows a '%' into *s and returns the
 * first character after it.  A negative '*' width means '-' and its
 * magnitude; a negative '*' precision means none, as in C.
 */
static const char *parse_spec(const char *fmt, va_list *ap, struct spec *s)
{
	int n;

	*s = (struct spec){ .prec = -1 };
	parse_flags(&fmt, s);
	if (parse_count(&fmt, ap, &n)) {
		s->left |= n < 0;
		s->width = n < 0 ? -n : n;
	}
	if (*fmt == '.') {
		fmt++;
		if (!parse_count(&fmt, ap, &n))
			n = 0;		/* "%.d" is precision 0 */
		s->prec = n < 0 ? -1 : n;
	}
	s->len = parse_length(&fmt);
	s->conv = *fmt;
	return *fmt != '\0' ? fmt + 1 : fmt;
}

/* Fetches a signed integer argument of the size s->len names. */
static int64_t fetch_signed(const struct spec *s, va_list *ap)
{
	switch (s->len) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H:  return (short)va_arg(*ap, int);
	case LEN_L:  return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z:  return va_arg(*ap, ptrdiff_t);	/* signed size_t */
	default:     return va_arg(*ap, int);
	}
}

/* Fetches an unsigned integer argument of the size s->len names. */
static uint64_t fetch_unsigned(const struct spec *s, va_list *ap)
{
	switch (s->len) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:  return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:  return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z:  return va_arg(*ap, size_t);
	default:     return va_arg(*ap, unsigned int);
	}
}

/* Writes v's digits so that they end at buf_end; returns how many. */
static int to_digits(uint64_t v, unsigned base, bool upper, char *buf_end)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		*--buf_end = digits[v % base];
		v /= base;
		n++;
	} while (v != 0);
	return n;
}

/*
 * Prints v in base after prefix (a sign or "0x"), with at least s->prec
 * digits, or zero-padded to the width under '0' when there is no
 * precision (C ignores '0' then, and with '-').
 */
static void format_integer(struct out *o, const struct spec *s, uint64_t v,
			   unsigned base, const char *prefix)
{
	char buf[22];		/* 2^64 - 1 in octal */
	bool no_digits = v == 0 && s->prec == 0;	/* C: "%.0d" of 0 is "" */
	int n = no_digits ? 0 : to_digits(v, base, s->conv == 'X',
					  buf + sizeof buf);
	int zeros = s->prec > n ? s->prec - n : 0;

	/* '#' for octal means "make the first digit a 0". */
	if (s->alt && base == 8 && zeros == 0 && (v != 0 || no_digits))
		zeros = 1;
	if (s->zero && !s->left && s->prec < 0) {
		int fill = s->width - str_len(prefix) - n;
		if (fill > zeros)
			zeros = fill;
	}
	emit_field(o, s, prefix, zeros, buf + sizeof buf - n, n);
}

/* %d and %i: the sign goes in the prefix so zero padding follows it. */
static void convert_signed(struct out *o, const struct spec *s, va_list *ap)
{
	int64_t v = fetch_signed(s, ap);
	/* Negating in unsigned arithmetic makes INT64_MIN safe. */
	uint64_t magnitude = v < 0 ? -(uint64_t)v : (uint64_t)v;
	const char *sign = v < 0 ? "-" : s->plus ? "+" : s->space ? " " : "";

	format_integer(o, s, magnitude, 10, sign);
}

/* %u, %o, %x and %X. */
static void convert_unsigned(struct out *o, const struct spec *s, va_list *ap,
			     unsigned base)
{
	uint64_t v = fetch_unsigned(s, ap);
	const char *prefix = "";

	/* As in C, '#' adds no "0x" to a zero. */
	if (s->alt && base == 16 && v != 0)
		prefix = s->conv == 'X' ? "0X" : "0x";
	format_integer(o, s, v, base, prefix);
}

/* %p: always "0x" and all 16 digits, so addresses line up in dumps. */
static void convert_pointer(struct out *o, const struct spec *s, va_list *ap)
{
	struct spec ps = *s;

	ps.prec = 16;
	format_integer(o, &ps, (uintptr_t)va_arg(*ap, void *), 16, "0x");
}

/* %s: at most s->prec characters; NULL prints as "(null)". */
static void convert_string(struct out *o, const struct spec *s, va_list *ap)
{
	const char *str = va_arg(*ap, const char *);
	int n = 0;

	if (str == NULL)
		str = "(null)";
	/* Test the precision first: the string need not be terminated within it. */
	while ((s->prec < 0 || n < s->prec) && str[n] != '\0')
		n++;
	emit_field(o, s, "", 0, str, n);
}

/* %c: the character is passed as an int, like every small argument. */
static void convert_char(struct out *o, const struct spec *s, va_list *ap)
{
	char c = (char)va_arg(*ap, int);

	emit_field(o, s, "", 0, &c, 1);
}

/*
 * Prints one conversion.  [start, end) is its text in the format, which
 * is echoed as written when the conversion is unknown or cut off by the
 * end of the format, so a bad format shows up in the output.
 */
static void convert(struct out *o, const struct spec *s, va_list *ap,
		    const char *start, const char *end)
{
	switch (s->conv) {
	case 'd': case 'i': convert_signed(o, s, ap); break;
	case 'u': convert_unsigned(o, s, ap, 10); break;
	case 'o': convert_unsigned(o, s, ap, 8); break;
	case 'x': case 'X': convert_unsigned(o, s, ap, 16); break;
	case 'p': convert_pointer(o, s, ap); break;
	case 's': convert_string(o, s, ap); break;
	case 'c': convert_char(o, s, ap); break;
	case '%': emit(o, '%'); break;
	default: emit_chars(o, start, (int)(end - start)); break;
	}
}

int kvformat(kputc_fn put, void *arg, const char *fmt, va_list ap)
{
	struct out o = { put, arg, 0 };
	struct spec s;
	va_list args;

	/* Helpers take the va_list by address, which only a local copy allows portably. */
	va_copy(args, ap);
	while (*fmt != '\0') {
		const char *start = fmt;

		if (*fmt != '%') {
			emit(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &args, &s);
		convert(&o, &s, &args, start, fmt);
	}
	va_end(args);
	return o.count;
}

/* ksnprintf's destination: a buffer that stops filling one byte short of its end. */
struct sbuf {
	char *buf;
	size_t size;
	size_t len;		/* characters produced, stored or not */
};

/* Stores c if there is still room for it and the final NUL. */
static void sbuf_put(char c, void *arg)
{
	struct sbuf *b = arg;

	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sbuf b = { buf, size, 0 };
	int n = kvformat(sbuf_put, &b, fmt, ap);

	if (size > 0)
		buf[b.len < size ? b.len : size - 1] = '\0';
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
