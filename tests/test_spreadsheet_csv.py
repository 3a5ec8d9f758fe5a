"""CSV files as real spreadsheet programs write them (LibreOffice headless, with its filter
options): ``;``-separated, Windows-1252 (refused, naming the right byte and how to save as UTF-8
in Excel and in LibreOffice), a byte-order mark before the bad byte, and leading zeros that stay
because the .xlsx export marks text cells as text."""

from __future__ import annotations

import re

import pytest
from openpyxl import Workbook

from models.store.db import read_session
from models.store.errors import InvalidInput
from models.workflow.bulk_export import COLUMNS, export_edits_file
from models.workflow.csv_import import parse_recommendations_csv
from models.workflow.edit_files import parse_edit_file
from tests.helpers import make_rec
from tests.spreadsheets import CSV_SEMICOLON_UTF8, CSV_WINDOWS_1252, convert

CSV = "csv:Text - txt - csv (StarCalc):"


@pytest.fixture
def edit_file(engine, users, tmp_path):
    make_rec(engine, "rec-cafe", owner="Café Office — J5")
    make_rec(engine, "rec-zero", owner="00123")
    with read_session(engine) as s:
        export_edits_file(s, tmp_path / "edits.xlsx")
    return tmp_path / "edits.xlsx"


def test_a_semicolon_separated_utf8_csv_from_libreoffice_reads_back_with_leading_zeros(edit_file, tmp_path):
    (written,) = convert([edit_file], CSV + CSV_SEMICOLON_UTF8, tmp_path / "lo")
    data = written.read_bytes()
    assert data.splitlines()[0].count(b";") == len(COLUMNS) - 1 and b"," not in data.splitlines()[0]
    parsed = parse_edit_file(data, written.name)
    assert not parsed.problems
    assert {r.key: r.values["owner"] for r in parsed.rows} == {
        "rec-cafe": "Café Office — J5",
        "rec-zero": "00123",
    }


def test_a_windows_1252_csv_from_libreoffice_is_refused_naming_the_byte_and_how_to_save_as_utf8(
    edit_file, tmp_path
):
    (written,) = convert([edit_file], CSV + CSV_WINDOWS_1252, tmp_path / "lo")
    data = written.read_bytes()
    offset = next(i for i, b in enumerate(data) if b >= 0x80)
    with pytest.raises(InvalidInput) as refused:
        parse_edit_file(data, written.name)
    message = str(refused.value)
    line = data[:offset].count(b"\n") + 1
    assert f"byte 0x{data[offset]:02X} at byte offset {offset:,} (line {line}," in message
    assert "looks saved as Windows-1252" in message
    assert '"CSV UTF-8 (Comma delimited) (*.csv)"' in message and '"Unicode (UTF-8)"' in message
    assert "Edit filter settings" in message


def test_the_bad_byte_is_named_by_its_offset_in_the_file_even_after_a_byte_order_mark():
    data = (
        "\ufeffkey,title,summary,theme,who_must_act,owner\nk-1,Caf".encode("utf-8")
        + b"\xe9"
        + b",S,research,us,O\n"
    )
    offset = data.index(b"\xe9")
    with pytest.raises(
        InvalidInput, match=re.escape(f"byte 0xE9 at byte offset {offset} (line 2, column 8)")
    ):
        parse_recommendations_csv(data)


def test_an_import_file_typed_in_a_spreadsheet_and_saved_by_libreoffice_as_csv_imports(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["key", "title", "summary", "theme", "who_must_act", "owner"])
    ws.append(
        ["00123", "Reviser le groupe de travail", "Résumé, avec une virgule", "research", "us", "007 Office"]
    )
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"  # text cells, as the import template asks
    wb.save(tmp_path / "new.xlsx")
    (written,) = convert([tmp_path / "new.xlsx"], CSV + CSV_SEMICOLON_UTF8, tmp_path / "lo")
    ((line, item),) = parse_recommendations_csv(written.read_bytes())
    assert (item.key, item.summary, item.owner) == ("00123", "Résumé, avec une virgule", "007 Office")
