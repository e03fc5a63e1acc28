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


@pytest.fixture
def curved_relu_lstm():
    """``make(T) -> (network, x, target)``: an LSTM (2 inputs, 3 units) whose ReLU forget
    gate is 3 and whose candidate and forget rows are zero, so C stays 0 while dL/dC
    triples at each step back from the loss; and a nudge to the candidate's weights
    starts a C that triples at every step, so the loss curves too sharply there for any
    central difference to measure its slope. Inputs seeded, target ones."""
    import numpy as np

    from lstm_viz.model import Network, Options, init_params

    def make(T: int):
        H = 3
        b = np.zeros(4 * H)
        b[H:2 * H] = 3.0
        p = init_params("lstm", 2, H, seed=1)
        w_ih, w_hh = p.weight_ih.copy(), p.weight_hh.copy()
        w_ih[H:3 * H] = 0.0
        w_hh[H:3 * H] = 0.0
        net = Network(p.replace(weight_ih=w_ih, weight_hh=w_hh, bias_ih=b, bias_hh=np.zeros(4 * H)),
                      options=Options(forget_activation="relu"))
        return net, np.random.default_rng(0).normal(size=(T, 2)), np.ones(H)

    return make
