"""Tests for sketchembednet.data.safe_pickle (NumPy-only unpickling)."""

import io
import os
import pickle

import numpy as np
import pytest

from sketchembednet.data import safe_pickle


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_numpy_data_round_trips(protocol):
    obj = {"a": np.arange(6, dtype=np.int16).reshape(2, 3), "b": [np.int64(3), 1.5, "x", b"y"],
           "c": np.array([np.ones((2, 3)), np.zeros((1, 3))], dtype=object)}
    out = safe_pickle.load(io.BytesIO(pickle.dumps(obj, protocol=protocol)))
    np.testing.assert_array_equal(out["a"], obj["a"])
    assert out["b"] == obj["b"] and out["c"][1].shape == (1, 3)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo unsafe",))


@pytest.mark.parametrize("payload", [_RunsCode(), {"x": [np.arange(2), _RunsCode()]}])
def test_code_is_refused(payload):
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle global"):
        safe_pickle.load(io.BytesIO(pickle.dumps(payload)))
