"""Evidence files: checked, hashed and stored content-addressed under the data directory.

Files are written before the database row and named by their SHA-256, so a rolled-back
transaction leaves at most an unreferenced file, never a row pointing at nothing.

A file is typed by its content as well as its name: the bytes must be what the extension says
(a ``.pdf`` starts with ``%PDF-``, a ``.docx`` is a Word package, a ``.txt`` has no NUL bytes...),
so an executable renamed ``report.pdf`` is refused before anyone downloads it.
"""

from __future__ import annotations

import errno
import hashlib
import mimetypes
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import BinaryIO

from models.store.errors import InvalidInput, StorageError
from models.store.settings import Settings, get_settings

_CHUNK = 1024 * 1024


def safe_filename(name: str) -> str:
    """The last path part of an uploaded name, with nothing that could climb out of a folder."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = name.strip().lstrip(".")
    if not name or name in {".", ".."}:
        raise InvalidInput("the file name is empty or only dots; rename the file and try again")
    return name[:200]


def check_file_type(filename: str, settings: Settings) -> str:
    ext = Path(filename).suffix.lower()
    if ext not in settings.allowed_upload_types:
        raise InvalidInput(
            f"file type {ext or '(none)'!r} is not accepted; use one of: {', '.join(settings.allowed_upload_types)}"
        )
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


# what the first bytes of a file look like, to name it when it is not what its extension says
_SIGNATURES = (
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "a Linux executable"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"),
    (b"\xfe\xed\xfa", "a macOS executable"),
    (b"\xca\xfe\xba\xbe", "a Java class or macOS executable"),
    (b"#!", "a script"),
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office (OLE) document"),
)
_MAGIC = {".pdf": b"%PDF-", ".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}
_OFFICE = {
    ".docx": ("word/document.xml", "a Word document"),
    ".xlsx": ("xl/workbook.xml", "an Excel workbook"),
}
_TEXT = {".txt", ".csv", ".md", ".json", ".html"}
_BINARY_FOR_TEXT = tuple(sig for sig, _ in _SIGNATURES if sig != b"#!")


def _looks_like(head: bytes) -> str:
    for sig, what in _SIGNATURES:
        if head.startswith(sig):
            return f"it starts like {what}"
    return "its first bytes match no known format"


def check_content(path: Path, clean: str) -> None:
    """Refuse a stored upload whose bytes are not what its extension says."""
    ext = Path(clean).suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(1024)
    wrong = None
    if ext in _MAGIC:
        sig = _MAGIC[ext]
        # readers accept a PDF header anywhere in the first kilobyte; images must start with theirs
        ok = sig in head if ext == ".pdf" else head.startswith(sig)
        if not ok:
            wrong = f"is not a {ext[1:].upper()} file ({_looks_like(head)})"
    elif ext in _OFFICE:
        part, what = _OFFICE[ext]
        try:
            with zipfile.ZipFile(path) as zf:
                ok = part in zf.namelist()
        except (zipfile.BadZipFile, OSError):
            ok = False
        if not ok:
            wrong = f"is not {what} ({_looks_like(head)})"
    elif ext in _TEXT:
        if head.startswith(_BINARY_FOR_TEXT):
            wrong = f"is not a text file ({_looks_like(head)})"
        else:
            with path.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    if b"\x00" in chunk:
                        wrong = "is not a text file (it holds NUL bytes, as programs and binary files do)"
                        break
    if wrong:
        raise InvalidInput(f"{clean!r} {wrong}; a file must be what its name says. Nothing was saved")


_STORAGE_ERRNOS = {
    errno.ENOSPC: "the disk holding the evidence files is full",
    errno.EDQUOT: "the disk quota for the evidence files is used up",
    errno.EROFS: "the evidence folder is on a read-only disk",
}


def store_file(stream: BinaryIO, filename: str, settings: Settings | None = None) -> dict:
    """Copy ``stream`` into the evidence store within the size limit; returns the file's facts."""
    settings = settings or get_settings()
    clean = safe_filename(filename)
    media_type = check_file_type(clean, settings)
    try:
        return _store(stream, clean, media_type, settings)
    except OSError as e:
        if e.errno not in _STORAGE_ERRNOS:
            raise
        raise StorageError(
            f"{_STORAGE_ERRNOS[e.errno]}: {clean!r} was not stored and nothing was saved. "
            f"Free some space, or ask the administrator to, and attach it again ({e.strerror})"
        ) from e


def _store(stream: BinaryIO, clean: str, media_type: str, settings: Settings) -> dict:
    root = settings.evidence_dir
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise InvalidInput(
                        f"{clean!r} is larger than the {settings.upload_limit_words} limit; "
                        "attach a smaller file or a citation instead"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput(f"{clean!r} is empty; attach a file with content")
        check_content(Path(tmp), clean)
        sha = digest.hexdigest()
        rel = Path(sha[:2]) / sha
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {
        "filename": clean,
        "stored_path": str(Path("evidence") / rel),
        "sha256": sha,
        "size_bytes": size,
        "media_type": media_type,
    }


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int = 40) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:limit].strip("-") or "item"
