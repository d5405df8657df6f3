"""Doctests of sketchembednet.evaluation.results (its logic is tested in tests/tools_test.py)."""

import doctest

from sketchembednet.evaluation import results


def test_doctests():
    assert doctest.testmod(results).failed == 0
