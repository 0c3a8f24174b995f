/*
 * mica.cfg, the GNU-EFI loader's configuration file (format: docs/boot.md).
 *
 *	# comment
 *	cmdline test seed=3
 *	module /initrd.img initrd
 *
 * Plain C with no firmware calls, so host tests can parse any text.
 */
#ifndef MICA_BOOT_EFI_CONFIG_H
#define MICA_BOOT_EFI_CONFIG_H

#include <stdint.h>
#include <mica/boot_info.h>

#define CFG_PATH_MAX 128                   /* bytes, with the NUL */
#define CFG_FILE_MAX (64u << 10)           /* a longer mica.cfg is refused */

struct cfg_module {
	char path[CFG_PATH_MAX];           /* on the boot volume; starts with / or \ */
	char name[BOOT_INFO_NAME_MAX];     /* the path when the line gives no name */
};

struct mica_cfg {
	char cmdline[BOOT_INFO_CMDLINE_MAX];
	unsigned module_count;
	struct cfg_module modules[BOOT_INFO_MAX_MODULES];
};

/*
 * Parses the len bytes of text into *cfg.  Returns NULL on success, else a
 * short reason, with *line set to the 1-based line it concerns.  An empty
 * text is valid and gives an empty command line and no modules.
 */
const char *cfg_parse(const char *text, uint64_t len, struct mica_cfg *cfg, unsigned *line);

#endif
