"""Reliability tests (issue 7): concurrency, faults, hostile input. Store fixtures come from
``tests/conftest.py``; long-running tests are marked ``slow`` (deselect with ``-m "not slow"``)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (concurrency runs)")
