"""Reading an uploaded zip without trusting it.

A bundle to verify comes from anyone, so its central directory is checked before a single byte is
decompressed: links, duplicate names, absolute or ``..`` paths and encrypted entries are refused,
and every entry's declared size (which ``zipfile`` never exceeds when reading) is capped, each and
in total, so a small zip bomb cannot fill memory or disk. A folder entry is ignored, and a bundle
re-zipped from its unpacked folder (so every name starts with one folder) is read under that
folder, so a bundle unzipped and zipped again with another tool still verifies. Every failure is
a :class:`BundleUnreadable` with a sentence naming it, never a traceback.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from models.store.settings import get_settings

MB = 1024 * 1024
SMALL_FILE_BYTES = 64 * MB  # manifest, signature: read whole, so held to this
MAX_LINE_BYTES = 16 * MB  # one event or record line of a .jsonl file
READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError)


class BundleUnreadable(Exception):
    """The zip, or one entry of it, cannot be read safely; ``str(e)`` says why."""


@dataclass(frozen=True)
class Limits:
    total_bytes: int
    entry_bytes: int
    entries: int

    @classmethod
    def from_settings(cls) -> Limits:
        s = get_settings()
        return cls(s.bundle_max_total_mb * MB, s.bundle_max_entry_mb * MB, s.bundle_max_entries)


_DRIVE = re.compile(r"^[A-Za-z]:")


def _refusal(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "has an absolute path"
    if ".." in parts:
        return "has a '..' path that points outside the bundle"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


class SafeZip:
    """The files of a checked zip by their name in the bundle; read through :meth:`open`."""

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        limits = limits or Limits.from_settings()
        try:
            self._zf = zipfile.ZipFile(path)
            infos = self._zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, *READ_ERRORS, ValueError) as e:
            raise BundleUnreadable(f"not a readable zip file ({e})") from None
        try:
            self.entries = self._check(infos, limits)
        except BundleUnreadable:
            self._zf.close()
            raise

    def _check(self, infos: list[zipfile.ZipInfo], limits: Limits) -> dict[str, zipfile.ZipInfo]:
        if len(infos) > limits.entries:
            raise BundleUnreadable(
                f"the zip has {len(infos):,} entries, more than the {limits.entries:,} a bundle may have"
            )
        seen: set[str] = set()
        files: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            if (why := _refusal(info)) is not None:
                raise BundleUnreadable(f"zip entry {info.filename!r} {why}: refused")
            if info.filename in seen:
                raise BundleUnreadable(f"zip entry {info.filename!r} appears twice: refused")
            seen.add(info.filename)
            if info.is_dir():
                continue
            if info.file_size > limits.entry_bytes:
                raise BundleUnreadable(
                    f"zip entry {info.filename!r} would expand to {info.file_size:,} bytes, more than the "
                    f"{limits.entry_bytes:,} allowed for one file (RECTRACK_BUNDLE_MAX_ENTRY_MB): refused "
                    "before reading"
                )
            total += info.file_size
            if total > limits.total_bytes:
                raise BundleUnreadable(
                    f"the zip would expand to more than {limits.total_bytes:,} bytes "
                    "(RECTRACK_BUNDLE_MAX_TOTAL_MB): refused before reading"
                )
            files[info.filename] = info
        return _under_one_folder(files)

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self, name: str) -> IO[bytes]:
        try:
            return self._zf.open(self.entries[name])
        except READ_ERRORS as e:
            raise BundleUnreadable(f"{name}: cannot be read ({e})") from None

    def read_small(self, name: str) -> bytes:
        info = self.entries[name]
        if info.file_size > SMALL_FILE_BYTES:
            raise BundleUnreadable(f"{name} is {info.file_size:,} bytes: too large to be one")
        try:
            with self.open(name) as fh:
                return fh.read()
        except READ_ERRORS as e:
            raise BundleUnreadable(f"{name}: cannot be read ({e})") from None

    def chunks(self, name: str) -> Iterator[bytes]:
        try:
            with self.open(name) as fh:
                while chunk := fh.read(MB):
                    yield chunk
        except READ_ERRORS as e:
            raise BundleUnreadable(f"{name}: cannot be read ({e})") from None

    def lines(self, name: str) -> Iterator[tuple[int, bytes]]:
        """(line number, line) of a text file, each line held to MAX_LINE_BYTES."""
        try:
            with self.open(name) as fh:
                n = 0
                while line := fh.readline(MAX_LINE_BYTES + 1):
                    n += 1
                    if len(line) > MAX_LINE_BYTES:
                        raise BundleUnreadable(f"{name} line {n} is longer than {MAX_LINE_BYTES:,} bytes")
                    yield n, line
        except READ_ERRORS as e:
            raise BundleUnreadable(f"{name}: cannot be read ({e})") from None


def _under_one_folder(files: dict[str, zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """``{name: info}``, or, when the bundle was zipped as one folder (``x/manifest.json``, every
    file under ``x/``), the same with ``x/`` taken off."""
    if "manifest.json" in files or not files:
        return files
    tops = {name.split("/", 1)[0] for name in files}
    if len(tops) == 1 and all("/" in name for name in files):
        prefix = tops.pop() + "/"
        if prefix + "manifest.json" in files:
            return {name[len(prefix) :]: info for name, info in files.items()}
    return files
