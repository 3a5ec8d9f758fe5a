"""Pages that show one screenful whatever the store holds: the record picker (search by key prefix
or title words, the chosen record kept), the paginated Recommendations list, the Timeline's
picker, and the trail page reading a stored verdict (models.trail.verdicts) instead of verifying."""

from __future__ import annotations

import sqlite3

from models.store.db import make_engine
from tests.helpers import change, cli, shown
from tests.test_dashboard_pages import app, open_page, templates, use_store  # noqa: F401  (fixtures)

KEY = "deare09-pme-expansion"


def _db(url: str):
    return sqlite3.connect(url.removeprefix("sqlite:///"))


def _recs_page(user: str = "vic", **state):
    at = app(user)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run().switch_page("app_pages/recommendations.py").run()


def test_the_detail_picker_finds_a_record_by_title_words_and_by_key_prefix(use_store):
    url = use_store("seeded")
    (title,) = _db(url).execute("select title from recommendation where key = ?", (KEY,)).fetchone()
    at = _recs_page()
    words = " ".join(w for w in title.split() if len(w) > 3)[:40].upper()
    at.text_input(key="rec_detail_q").input(words).run()
    assert f"{KEY} — {title}"[:100] in [o[:100] for o in at.selectbox(key="rec_detail").options]
    at.selectbox(key="rec_detail").set_value(KEY).run()
    assert not at.exception
    assert [shown(h.value) for h in at.subheader][:1] == [title]
    at.text_input(key="rec_detail_q").input("deare09").run()
    options = at.selectbox(key="rec_detail").options
    assert options and all(o.startswith("deare09") for o in options)  # options read "KEY — title"
    assert at.selectbox(key="rec_detail").value == KEY


def test_the_chosen_record_stays_chosen_when_the_search_does_not_find_it(use_store):
    use_store("seeded")
    at = _recs_page(detail_key=KEY)
    assert at.selectbox(key="rec_detail").value == KEY
    at.text_input(key="rec_detail_q").input("zzzz nothing like this").run()
    options = at.selectbox(key="rec_detail").options
    assert len(options) == 1 and options[0].startswith(f"{KEY} — ")
    assert at.selectbox(key="rec_detail").value == KEY
    assert KEY in str(at.query_params["rec"])


def test_a_deep_link_opens_its_record_though_it_is_not_on_the_first_page(use_store):
    url = use_store("seeded")
    (last,) = _db(url).execute("select max(key) from recommendation").fetchone()
    at = app("vic")
    at.query_params["rec"] = last
    at.run().switch_page("app_pages/recommendations.py").run()
    assert not at.exception
    assert at.selectbox(key="rec_detail").value == last
    assert last not in set(at.get("dataframe")[0].value["key"])  # the list is on its first page


def test_the_list_holds_one_page_of_rows_and_counts_every_match(use_store):
    url = use_store("seeded")
    db = _db(url)
    (total,) = db.execute("select count(*) from recommendation").fetchone()
    assert total > 100, "the seeded store must be bigger than one page for this test"
    at = _recs_page()
    first = at.get("dataframe")[0].value
    assert len(first) == 100
    assert f"{total:,} recommendation(s); 1–100 shown" in "\n".join(c.value for c in at.caption)
    pages = -(-total // 100)
    at.number_input(key="rec_page").set_value(pages).run()
    last = at.get("dataframe")[0].value
    assert len(last) == total - 100 * (pages - 1)
    assert set(first["key"]).isdisjoint(last["key"])
    expected = [k for (k,) in db.execute("select key from recommendation order by key")][-len(last) :]
    assert list(last["key"]) == expected
    # a filter counts its own matches and starts again at the first page
    (n_impl,) = db.execute("select count(*) from recommendation where status = 'implemented'").fetchone()
    at.selectbox(key="rec_status").set_value("implemented").run()
    assert at.number_input(key="rec_page").value == 1
    assert len(at.get("dataframe")[0].value) == min(n_impl, 100)
    assert f"{n_impl:,} recommendation(s)" in "\n".join(c.value for c in at.caption)


def test_the_timeline_opens_a_record_through_the_picker(use_store):
    use_store("seeded")
    at = open_page("timeline", "vic")
    at.slider(key="tl_period").set_value((1800, 2100)).run()
    assert not at.exception
    picker = at.selectbox(key="tl_pick")
    assert picker.options
    at.text_input(key="tl_pick_q").input("deare09").run()
    at.selectbox(key="tl_pick").set_value(KEY).run()
    at.button(key="tl_open").click().run()
    assert [t.value for t in at.title][:1] == ["Recommendations"]
    assert at.selectbox(key="rec_detail").value == KEY


def test_the_trail_page_reads_the_verdict_rectrack_verify_stored(use_store, monkeypatch):
    url = use_store("seeded")
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli("verify").exit_code == 0
    db = _db(url)
    (head,) = db.execute("select max(seq) from auditevent").fetchone()
    at = open_page("trail", "aud")
    assert any("Hash chain verified" in s.value and f"all {head:,} events" in s.value for s in at.success)
    caption = "\n".join(shown(c.value) for c in at.caption)
    assert "Last full verification" in caption and "by rectrack verify" in caption
    # an event already verified is edited in place: the stored verdict still stands until a full
    # verification, which the button runs
    db.execute("update auditevent set reason = 'rewritten' where seq = 3")
    db.commit()
    at.button(key="tr_verify_all").click().run()
    assert any("does not verify" in shown(e.value) for e in at.error)
    assert any("event 3" in shown(m.value) for m in at.markdown)


def test_events_after_the_stored_verdict_are_checked_from_it(use_store, monkeypatch):
    url = use_store("seeded")
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli("verify").exit_code == 0
    db = _db(url)
    (head,) = db.execute("select max(seq) from auditevent").fetchone()
    engine = make_engine(url)
    change(engine, KEY, progress=55)
    engine.dispose()
    at = open_page("trail", "aud")
    assert any(f"all {head + 1:,} events" in s.value for s in at.success)
    assert "the 1 event(s) since were checked" in "\n".join(shown(c.value) for c in at.caption)
    # the next event is altered after it was written: checking from the checkpoint finds it
    engine = make_engine(url)
    change(engine, KEY, progress=60)
    engine.dispose()
    db.execute("update auditevent set reason = 'rewritten' where seq = ?", (head + 2,))
    db.commit()
    at = open_page("trail", "aud")
    assert any("does not verify" in shown(e.value) for e in at.error)
    assert any(f"event {head + 2}" in shown(m.value) for m in at.markdown)


def _update_page(user: str, **state):
    at = app(user)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run().switch_page("app_pages/update.py").run()


def test_the_update_picker_offers_an_office_editor_only_their_offices_records(use_store):
    from tests.e2e.seeded_store import NORTHCOM

    url = use_store("seeded")
    db = _db(url)
    theirs = {k for (k,) in db.execute("select key from recommendation where owner = ?", (NORTHCOM,))}
    (other,) = db.execute(
        "select key from recommendation where owner != ? order by key limit 1", (NORTHCOM,)
    ).fetchone()
    assert theirs and other
    at = _update_page("nc", detail_key=other)  # the session was on another office's record
    assert not at.exception
    picker = at.selectbox(key="upd_key")
    assert {o.split(" — ")[0] for o in picker.options} <= theirs and picker.value in theirs
    at.text_input(key="upd_key_q").input(other).run()  # searching for it does not offer it either
    assert other not in {o.split(" — ")[0] for o in at.selectbox(key="upd_key").options}


def test_the_update_picker_searches_and_keeps_the_record_after_a_visit_elsewhere(use_store):
    url = use_store("seeded")
    (last,) = _db(url).execute("select max(key) from recommendation").fetchone()
    at = _update_page("ed")
    at.text_input(key="upd_key_q").input(last).run()
    at.selectbox(key="upd_key").set_value(last).run()
    assert at.session_state["upd_loaded"]["key"] == last
    at.switch_page("app_pages/overview.py").run()
    at.switch_page("app_pages/update.py").run()
    assert not at.exception
    assert at.selectbox(key="upd_key").value == last and at.session_state["upd_loaded"]["key"] == last


def test_an_office_with_no_records_is_told_so_on_the_update_page(use_store):
    use_store("seeded")
    at = _update_page("scoped")
    assert not at.exception
    assert any("No recommendation is owned by your office" in shown(i.value) for i in at.info)
