/*
 * Files on the boot volume: the FAT volume this loader itself was read
 * from, reached through the Loaded Image protocol's DeviceHandle and that
 * device's Simple File System protocol.  mica.elf, mica.cfg and the
 * modules all live there, so the ESP is the whole installation.
 */
#include "boot/efi/loader.h"

EFI_STATUS volume_open(EFI_HANDLE image, EFI_FILE_HANDLE *root)
{
	EFI_GUID image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_LOADED_IMAGE *loaded;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	EFI_STATUS status;

	status = BS->HandleProtocol(image, &image_guid, (void **)&loaded);
	if (EFI_ERROR(status))
		return fail(status, L"no Loaded Image protocol on the loader: %r", status);
	status = BS->HandleProtocol(loaded->DeviceHandle, &fs_guid, (void **)&fs);
	if (EFI_ERROR(status))
		return fail(status, L"the boot device has no file system: %r", status);
	status = fs->OpenVolume(fs, root);
	if (EFI_ERROR(status))
		return fail(status, L"cannot open the boot volume: %r", status);
	return EFI_SUCCESS;
}

/* UEFI paths are UCS-2 with backslashes; mica.cfg may use either slash. */
static void efi_path(CHAR16 *dst, const char *src)
{
	unsigned i;

	for (i = 0; i + 1 < CFG_PATH_MAX && src[i] != '\0'; i++)
		dst[i] = src[i] == '/' ? L'\\' : (CHAR16)src[i];
	dst[i] = L'\0';
}

/* The file's size: setting the position to all ones moves it to the end (UEFI spec, SetPosition). */
static EFI_STATUS file_size(EFI_FILE_HANDLE h, UINT64 *size)
{
	EFI_STATUS status = h->SetPosition(h, ~0ull);

	if (!EFI_ERROR(status))
		status = h->GetPosition(h, size);
	if (!EFI_ERROR(status))
		status = h->SetPosition(h, 0);
	return status;
}

/*
 * Opens path for reading and learns its size.  A missing file is reported,
 * unless may_be_missing, in which case EFI_NOT_FOUND comes back quietly.
 */
EFI_STATUS file_open(EFI_FILE_HANDLE root, const char *path, bool may_be_missing,
                     struct efi_file *f)
{
	EFI_STATUS status;

	efi_path(f->path, path);
	status = root->Open(root, &f->handle, f->path, EFI_FILE_MODE_READ, 0);
	if (status == EFI_NOT_FOUND && may_be_missing)
		return status;
	if (EFI_ERROR(status))
		return fail(status, L"cannot open %s: %r", f->path, status);
	status = file_size(f->handle, &f->size);
	if (EFI_ERROR(status)) {
		file_close(f);
		return fail(status, L"cannot find the size of %s: %r", f->path, status);
	}
	return EFI_SUCCESS;
}

void file_close(struct efi_file *f)
{
	f->handle->Close(f->handle);
}

/* Reads len bytes of f from offset into buf; f stays open. */
EFI_STATUS file_read_at(struct efi_file *f, UINT64 offset, UINT64 len, void *buf)
{
	EFI_STATUS status = f->handle->SetPosition(f->handle, offset);
	UINT64 done = 0;

	while (done < len && !EFI_ERROR(status)) {
		UINTN chunk = len - done;
		status = f->handle->Read(f->handle, &chunk, (UINT8 *)buf + done);
		if (!EFI_ERROR(status) && chunk == 0)
			status = EFI_END_OF_FILE;        /* shorter than its size said */
		done += chunk;
	}
	if (EFI_ERROR(status))
		return fail(status, L"cannot read %s: %r", f->path, status);
	return EFI_SUCCESS;
}

/* Reads all f->size bytes into buf, then closes f, whatever happened. */
EFI_STATUS file_read(struct efi_file *f, void *buf)
{
	EFI_STATUS status = file_read_at(f, 0, f->size, buf);

	file_close(f);
	return status;
}

/*
 * Reads the whole of path into pool memory, which the caller frees with
 * FreePool.  A file larger than max_size is refused before it is read.
 */
EFI_STATUS file_load(EFI_FILE_HANDLE root, const char *path, bool may_be_missing,
                     UINT64 max_size, void **data, UINT64 *size)
{
	struct efi_file f;
	EFI_STATUS status = file_open(root, path, may_be_missing, &f);

	if (EFI_ERROR(status))
		return status;
	if (f.size > max_size) {
		file_close(&f);
		return fail(EFI_BAD_BUFFER_SIZE, L"%s is larger than %lu bytes", f.path, max_size);
	}
	/* one byte more: a pool allocation of 0 bytes is not portable */
	status = BS->AllocatePool(EfiLoaderData, f.size + 1, data);
	if (EFI_ERROR(status)) {
		file_close(&f);
		return fail(status, L"cannot allocate %lu bytes to read %s: %r", f.size + 1, f.path,
		            status);
	}
	*size = f.size;
	status = file_read(&f, *data);
	if (EFI_ERROR(status))
		BS->FreePool(*data);
	return status;
}
