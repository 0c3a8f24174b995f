/*
 * What only the firmware can tell the kernel: where the ACPI tables begin
 * and what the screen's linear framebuffer looks like.  Both must be asked
 * before ExitBootServices; both are optional, and a machine without them
 * still boots (boot_info then says 0).
 */
#include "boot/efi/loader.h"

/*
 * The RSDP's physical address from the system table's configuration
 * table: the ACPI 2.0 entry if there is one (it has the XSDT), else the
 * ACPI 1.0 entry, else 0.
 */
UINT64 acpi_rsdp_find(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	UINT64 rsdp = 0;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
		if (CompareGuid(&t->VendorGuid, &acpi20) == 0)
			return (UINT64)t->VendorTable;
		if (CompareGuid(&t->VendorGuid, &acpi10) == 0)
			rsdp = (UINT64)t->VendorTable;
	}
	return rsdp;
}

static void set_channels(struct boot_framebuffer *fb, unsigned red, unsigned green,
                         unsigned blue, unsigned size)
{
	fb->red_shift = red;
	fb->green_shift = green;
	fb->blue_shift = blue;
	fb->red_size = fb->green_size = fb->blue_size = size;
}

/* A colour channel given as a bit mask (one run of ones): its lowest bit and its width. */
static void mask_channel(UINT32 mask, uint8_t *shift, uint8_t *size)
{
	*shift = mask ? __builtin_ctz(mask) : 0;
	*size = 0;
	while (*shift + *size < 32 && (mask >> (*shift + *size) & 1))
		(*size)++;
}

/* Fills fb's pixel layout from the mode; false for a mode with no linear framebuffer. */
static bool pixel_layout(const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info,
                         struct boot_framebuffer *fb)
{
	const EFI_PIXEL_BITMASK *m = &info->PixelInformation;
	UINT32 all = m->RedMask | m->GreenMask | m->BlueMask | m->ReservedMask;

	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
		set_channels(fb, 0, 8, 16, 8);
		fb->bpp = 32;
		return true;
	case PixelBlueGreenRedReserved8BitPerColor:
		set_channels(fb, 16, 8, 0, 8);
		fb->bpp = 32;
		return true;
	case PixelBitMask:
		mask_channel(m->RedMask, &fb->red_shift, &fb->red_size);
		mask_channel(m->GreenMask, &fb->green_shift, &fb->green_size);
		mask_channel(m->BlueMask, &fb->blue_shift, &fb->blue_size);
		fb->bpp = all ? (32 - __builtin_clz(all) + 7) / 8 * 8 : 0;
		return fb->bpp != 0;
	default:                      /* PixelBltOnly: drawing only through Blt() */
		return false;
	}
}

/* Records the Graphics Output Protocol's current mode in *fb, or leaves fb->addr 0. */
void framebuffer_find(struct boot_framebuffer *fb)
{
	EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;

	fb->addr = 0;
	if (EFI_ERROR(BS->LocateProtocol(&gop_guid, NULL, (void **)&gop)) || gop->Mode == NULL)
		return;
	info = gop->Mode->Info;
	if (!pixel_layout(info, fb))
		return;
	fb->addr = gop->Mode->FrameBufferBase;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->pitch = info->PixelsPerScanLine * (fb->bpp / 8);
}
