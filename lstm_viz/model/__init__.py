"""The NumPy engine: LSTM, GRU and simple-RNN cells with exact BPTT. Never imports Qt."""

from .cells import (Clamp, ModelInputError, Network, Options, check_loss_class, gru_trace, loss_at,
                    lstm_trace, rnn_trace)
from .encoding import ENCODINGS, Encoded, SequenceError, detect_encoding, encode
from .io import WeightsFileError, load_state_dict, load_weights, save_weights
from .trace import Trace
from .weights import GATES, KINDS, Params, WeightsError, init_params

__all__ = [
    "GATES", "KINDS", "Clamp", "ModelInputError", "Network", "Options", "Params", "Trace",
    "WeightsError", "check_loss_class", "gru_trace", "init_params", "loss_at", "lstm_trace",
    "rnn_trace",
    "ENCODINGS", "Encoded", "SequenceError", "detect_encoding", "encode",
    "WeightsFileError", "load_state_dict", "load_weights", "save_weights",
]
