"""Evidence files: checked, hashed and stored content-addressed under the data directory.

Files are written before the database row and named by their SHA-256, so a rolled-back
transaction leaves at most an unreferenced file, never a row pointing at nothing.
"""

from __future__ import annotations

import errno
import hashlib
import mimetypes
import os
import re
import tempfile
import unicodedata
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


_STORAGE_ERRNOS = {errno.ENOSPC: "the disk holding the evidence files is full",
                   errno.EDQUOT: "the disk quota for the evidence files is used up",
                   errno.EROFS: "the evidence folder is on a read-only disk"}


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
                        f"{clean!r} is larger than the {settings.max_upload_bytes // (1024 * 1024)} MB limit; "
                        "attach a smaller file or a citation instead"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput(f"{clean!r} is empty; attach a file with content")
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
    return {"filename": clean, "stored_path": str(Path("evidence") / rel), "sha256": sha,
            "size_bytes": size, "media_type": media_type}


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int = 40) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:limit].strip("-") or "item"
