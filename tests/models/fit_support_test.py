"""Doctests of sketchembednet.models.fit_support (fit is tested in each model's tests)."""

import doctest

import keras

from sketchembednet.models import fit_support


def test_doctests():
    assert doctest.testmod(fit_support, extraglobs={"keras": keras}).failed == 0
