"""LibreOffice, headless, as the spreadsheet a person opens the product's files in.

``./tracker test`` installs Debian's ``libreoffice-calc-nogui``; a machine without it fails these
tests loudly rather than skipping them (a skipped check would look green)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# LibreOffice's CSV filter options: separator, text delimiter, character set (76 UTF-8, 1 Windows-1252)
CSV_UTF8 = "44,34,76,1"
CSV_SEMICOLON_UTF8 = "59,34,76,1"
CSV_WINDOWS_1252 = "44,34,1,1"


def convert(files: list[Path], to: str, outdir: Path, *, infilter: str | None = None) -> list[Path]:
    """Open each file in LibreOffice Calc with its defaults and save it as ``to`` (``xlsx``, or a
    ``csv:...`` filter string); returns the written files in the order given."""
    if SOFFICE is None:
        pytest.fail(
            "LibreOffice is missing: apt-get install -y libreoffice-calc-nogui (./tracker test does this)"
        )
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / ".lo-profile"  # a private profile: parallel runs never share LibreOffice's lock
    cmd = [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore"]
    if infilter:
        cmd.append(f"--infilter={infilter}")
    cmd += ["--convert-to", to, "--outdir", str(outdir), *map(str, files)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    ext = to.split(":", 1)[0]
    out = [outdir / f"{f.stem}.{ext}" for f in files]
    missing = [p for p in out if not p.is_file()]
    assert not missing, f"LibreOffice wrote nothing for {missing}: {run.stdout}\n{run.stderr}"
    return out


def cells(xlsx: Path) -> list:
    """Every non-empty cell of every sheet, as openpyxl reads it (formulas stay formulas)."""
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)  # not data_only: a formula shows as data_type "f"
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
