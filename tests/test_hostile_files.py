"""Files built to exhaust the server, and long imports that must not shut everyone else out: a
few-kilobyte workbook declaring ``A1:XFD1048576``, a workbook that unpacks to far more than it
weighs, a time budget for reading, a long CSV import written in batches while sign-ins and edits
go on, and one upload limit for the pages, the server and the messages."""

from __future__ import annotations

import io
import re
import threading
import tomllib
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from models.rules.auth import authenticate, create_user
from models.rules.users import operator_user
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput
from models.store.settings import Settings, get_settings
from models.store.tables import Recommendation
from models.workflow.bulk_export import export_edits
from models.workflow.csv_import import import_in_batches, parse_recommendations_csv
from models.workflow.edit_files import parse_edit_file, parse_xlsx
from tests.helpers import change, make_rec

REPO = Path(__file__).resolve().parents[1]


def exported_xlsx(engine) -> bytes:
    buf = io.BytesIO()
    with read_session(engine) as s:
        export_edits(s, buf, fmt="xlsx")
    return buf.getvalue()


def rewrite_sheet(xlsx: bytes, edit) -> bytes:
    """The same workbook with the recommendations sheet's XML passed through ``edit``."""
    src, out = zipfile.ZipFile(io.BytesIO(xlsx)), io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            body = src.read(name)
            if name == "xl/worksheets/sheet1.xml":
                body = edit(body.decode()).encode()
            dst.writestr(name, body)
    return out.getvalue()


def declare_everything(xml: str) -> str:
    xml = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml)
    return (
        xml
        if "<dimension" in xml
        else xml.replace("<sheetViews>", '<dimension ref="A1:XFD1048576"/><sheetViews>', 1)
    )


@pytest.fixture
def two_recs(engine, users):
    make_rec(engine, "rec-a")
    make_rec(engine, "rec-b")
    return engine


def test_a_small_workbook_declaring_the_whole_sheet_is_read_only_to_the_headers_width(two_recs, monkeypatch):
    data = rewrite_sheet(exported_xlsx(two_recs), declare_everything)
    assert len(data) < 10_000
    from openpyxl.worksheet import _read_only

    widths = []
    real = _read_only.ReadOnlyWorksheet._cells_by_row

    def spy(self, min_col, min_row, max_col, max_row, values_only=False):
        widths.append(max_col or self.max_column)
        return real(self, min_col, min_row, max_col, max_row, values_only)

    monkeypatch.setattr(_read_only.ReadOnlyWorksheet, "_cells_by_row", spy)
    parsed = parse_xlsx(data)
    assert [r.key for r in parsed.rows] == ["rec-a", "rec-b"] and not parsed.problems
    assert widths and max(widths) <= 40, widths  # never the declared 16,384 columns


def test_a_workbook_with_a_cell_at_the_last_row_is_refused_not_walked(two_recs):
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    data = rewrite_sheet(
        exported_xlsx(two_recs), lambda x: declare_everything(x).replace("</sheetData>", far, 1)
    )
    with pytest.raises(InvalidInput, match="goes on past row 200,001"):
        parse_xlsx(data)


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused(two_recs):
    padding = " " * (30 * 1024 * 1024)  # compresses to some 30 KB
    data = rewrite_sheet(
        exported_xlsx(two_recs), lambda x: x.replace("</sheetData>", f"</sheetData>{padding}", 1)
    )
    assert len(data) < 200_000
    with pytest.raises(InvalidInput, match="too large to read: it unpacks to"):
        parse_xlsx(data, Settings(upload_limit_mb=1))


def test_reading_a_workbook_stops_at_the_time_budget(engine, users, monkeypatch):
    for i in range(300):
        make_rec(engine, f"rec-{i:03d}")
    data = exported_xlsx(engine)
    monkeypatch.setenv("RECTRACK_IMPORT_TIME_BUDGET_SECONDS", "0")
    get_settings.cache_clear()
    with pytest.raises(InvalidInput, match=r"took longer than 0 s \(stopped at row 256\)"):
        parse_edit_file(data, "edits.xlsx")


def _csv(n: int) -> bytes:
    lines = ["key,title,summary,theme,who_must_act,owner"] + [
        f"imp-{i:05d},Imported {i},A summary,counter_drug,us,OSD Policy" for i in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_long_import_commits_in_batches_and_sign_ins_and_edits_go_on_meanwhile(engine, users):
    with write_session(engine) as s:
        create_user(
            s,
            username="alice",
            role="viewer",
            password="correct horse battery staple",
            actor=operator_user(s),
        )
    make_rec(engine, "rec-live")
    rows = parse_recommendations_csv(_csv(1200))
    first_batch, during = threading.Event(), {}
    done_so_far = [0]

    def progress(done, total):
        done_so_far[0] = done
        first_batch.set()

    def others():
        first_batch.wait(60)
        with write_session(engine) as s:
            authenticate(s, username="alice", password="correct horse battery staple")
        change(engine, "rec-live", status="under_review", reason="edited while the import runs")
        during["imported when they were done"] = done_so_far[0]

    t = threading.Thread(target=others)
    t.start()
    n = import_in_batches(
        engine, rows=rows, actor_name="ed", filename="big.csv", batch_rows=100, progress=progress
    )
    t.join(60)
    assert n == 1200
    assert 0 < during["imported when they were done"] < 1200, during  # they did not wait for the end
    with read_session(engine) as s:
        assert len(s.exec(select(Recommendation.key).where(Recommendation.key.like("imp-%"))).all()) == 1200


def test_a_file_with_one_bad_row_imports_nothing_even_when_long(engine, users):
    make_rec(engine, "imp-00999")  # already in the store
    with pytest.raises(InvalidInput, match="line 1001, key: key 'imp-00999' already exists"):
        import_in_batches(
            engine,
            rows=parse_recommendations_csv(_csv(1200)),
            actor_name="ed",
            filename="big.csv",
            batch_rows=100,
        )
    with read_session(engine) as s:
        assert s.exec(select(Recommendation.key).where(Recommendation.key.like("imp-%"))).all() == [
            "imp-00999"
        ]


def test_one_upload_limit_in_settings_the_server_config_the_pages_and_the_messages(monkeypatch):
    default = Settings().upload_limit_mb
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 2 * default == 40  # a file over the limit is refused in words
    import subprocess

    import cli.setup

    calls = []
    monkeypatch.setenv("RECTRACK_UPLOAD_LIMIT_MB", "33")
    get_settings.cache_clear()
    monkeypatch.setattr(cli.setup, "upgrade", lambda *a, **k: None)
    monkeypatch.setattr(cli.setup, "_seed", lambda: "seeded")
    monkeypatch.setattr(cli.setup, "_first_admin", lambda: None)
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: calls.append(cmd) or 0)
    from tests.helpers import cli

    assert cli("serve").exit_code == 0
    cmd = calls[0]
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "66"
    assert get_settings().max_import_bytes == get_settings().max_upload_bytes == 33 * 1024 * 1024


@pytest.mark.parametrize("page, user", [("bulk", "ed"), ("update", "ed"), ("trail", "aud")])
def test_every_uploader_states_and_uses_the_one_limit(page, user, tmp_path, monkeypatch):
    from tests.e2e.seeded_store import build_store
    from tests.test_dashboard_pages import APP, clear_caches

    monkeypatch.setenv("DATABASE_URL", build_store(tmp_path / "s.db", seeded=True))
    monkeypatch.setenv("RECTRACK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RECTRACK_UPLOAD_LIMIT_MB", "7")
    clear_caches()
    try:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.session_state["username"] = user
        at.run()
        at.switch_page(f"app_pages/{page}.py").run()
        uploaders = at.get("file_uploader")
        assert uploaders
        for u in uploaders:  # evidence uploaders let twice the limit through, to refuse it by name
            evidence = (u.key or "").startswith(("upd_file_", "clo_file_", "fix_file_"))
            assert u.proto.max_upload_size_mb == (14 if evidence else 7), (u.key, u.proto.max_upload_size_mb)
            assert "up to 7 MB" in u.proto.label, u.proto.label
    finally:
        clear_caches()
