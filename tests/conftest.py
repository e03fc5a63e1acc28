import os

import pytest

# Qt must never try to open a real window during tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


_EXIT = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    session.config.stash[_EXIT] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Leave at once when pytest has reported everything, with pytest's exit status.

    PySide6 with pyqtgraph can crash while the interpreter shuts down, after every
    test has passed and the summary is printed, when Python finalises widgets that
    Qt has already torn down (PYSIDE-2254; pyqtgraph issue 2520). Skipping that
    shutdown keeps such a crash from turning a passing run red. It changes no
    result: this runs last, after the report, and exits with the run's status.
    """
    import sys

    status = config.stash.get(_EXIT, None)
    if status is None or "PySide6.QtCore" not in sys.modules:
        return                                   # no Qt loaded: a normal exit is safe
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
