"""Tests for sketchembednet.schedules (the α curriculum)."""

import pytest

from sketchembednet import schedules


@pytest.mark.parametrize(
    "step, expected",
    [(0, 0.0), (9_999, 0.0), (10_000, 0.05), (25_000, 0.10), (100_000, 0.5), (300_000, 0.5)],
)
def test_paper_quickdraw_curriculum(step, expected):
    value = schedules.alpha(step, start=0.0, increment=0.05, interval=10_000, maximum=0.5)
    assert float(value) == pytest.approx(expected, abs=1e-6)


def test_start_step_delays_and_cap_holds():
    kwargs = dict(start=0.1, increment=0.2, interval=100, maximum=0.75, start_step=1_000)
    assert float(schedules.alpha(500, **kwargs)) == pytest.approx(0.1)
    assert float(schedules.alpha(1_150, **kwargs)) == pytest.approx(0.3)
    assert float(schedules.alpha(10_000, **kwargs)) == pytest.approx(0.75)


def test_interval_must_be_positive():
    with pytest.raises(ValueError, match="interval must be positive"):
        schedules.alpha(10, interval=0)
