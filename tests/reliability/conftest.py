"""Reliability tests (issue 7): concurrency, faults, hostile input. Store fixtures come from
``tests/conftest.py``; long-running tests are marked ``slow`` (deselect with ``-m "not slow"``)."""

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (concurrency runs)")


@pytest.fixture(autouse=True)
def spawn_safe_main(monkeypatch):
    """Streamlit's AppTest, run earlier in the same pytest process, leaves a ``__main__`` whose
    file is dashboard/app.py; a child started with "spawn" would re-run that script before its
    target. Hide the main module's origin so children import only what they need."""
    import sys

    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__spec__", None, raising=False)
    monkeypatch.setattr(main, "__file__", None, raising=False)
