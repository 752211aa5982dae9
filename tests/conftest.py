"""Suite-wide policy.

- Offline: the hub is never reached (models come from installed packages).
- In CI (the environment variable CI is set, as CI sets it) a skipped test is a failed test:
  whatever CI needs (a browser, a checkpoint, a built site, bubblewrap) must be there, so a
  skip there can only hide a broken set-up. Locally a skip stays a skip, with its reason.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _fail_skip_in_ci(report) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be skipped: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


@pytest.fixture(scope="session")
def encoder():
    import ctxembed

    return ctxembed.load_encoder()


@pytest.fixture
def edited(monkeypatch):
    """``edited(module)``: from now on, :func:`code_version` sees ``module``'s code changed."""
    from ctxembed.core import cache

    real = cache._source
    changed = set()
    monkeypatch.setattr(cache, "_source", lambda name: real(name) + (b"\n# edited\n" if name in changed else b""))

    def edit(module):
        changed.add(module)
        cache.code_version.cache_clear()

    yield edit
    cache.code_version.cache_clear()
