"""Tests for sketchembednet.sampling."""

import doctest

import numpy as np
import tensorflow as tf

from sketchembednet import sampling
from sketchembednet import testing
from sketchembednet.data import strokes
from sketchembednet.layers import mixture
from sketchembednet.models.sketch_decoder import SketchDecoder

Z = 6


def _decoder(end_bias=0.0, seed=0):
    decoder = SketchDecoder(rnn_units=16, hyper_units=8, hyper_embedding_size=4, num_mixtures=3)
    decoder.build(((None, Z), (None, None, 5)))
    testing.perturb_weights(decoder.weights, stddev=0.3, seed=seed)
    bias = decoder.head.dense.bias
    bias.assign(tf.tensor_scatter_nd_update(bias, [[2]], [end_bias]))
    return decoder


def _z(batch=5, seed=1):
    return tf.random.stateless_normal([batch, Z], [seed, 0])


def test_doctests():
    assert doctest.testmod(sampling).failed == 0


def test_sample_mixture_is_importable_from_sampling():
    assert sampling.sample_mixture is mixture.sample_mixture


def test_shapes_start_token_and_one_hot_pen():
    s5, lengths = sampling.sample(_decoder(), _z(), max_len=12, seed=3)
    assert s5.shape == (5, 13, 5) and lengths.shape == (5,)
    s = s5.numpy()
    np.testing.assert_array_equal(s[:, 0], [strokes.START_TOKEN] * 5)
    np.testing.assert_array_equal(s[:, 1:, 2:].sum(-1), 1.0)


def test_each_sketch_stops_at_its_first_end_token():
    s5, lengths = sampling.sample(_decoder(end_bias=-1.0), _z(64), max_len=20, seed=4)
    s, lengths = s5.numpy(), lengths.numpy()
    assert lengths.min() < 10 and len(set(lengths)) > 3  # Sketches end at different steps ...
    for row, length in zip(s, lengths):
        assert not np.any(row[1:length + 1, 4])  # ... no end before their length ...
        ends = np.tile(strokes.END_TOKEN, (20 - length, 1))  # [0, 5] if it never ended
        np.testing.assert_array_equal(row[length + 1:], ends)


def test_never_ending_sketches_have_max_len():
    s5, lengths = sampling.sample(_decoder(end_bias=-100.0), _z(), max_len=7, seed=5)
    np.testing.assert_array_equal(lengths, 7)
    assert not np.any(s5.numpy()[:, :, 4])


def test_same_seed_same_sketches_and_greedy_is_deterministic():
    decoder, z = _decoder(), _z()
    a = sampling.sample(decoder, z, max_len=10, seed=7)[0]
    b = sampling.sample(decoder, z, max_len=10, seed=7)[0]
    c = sampling.sample(decoder, z, max_len=10, seed=8)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    g1 = sampling.sample(decoder, z, max_len=10, greedy=True, seed=1)[0]
    g2 = sampling.sample(decoder, z, max_len=10, greedy=True, seed=2)[0]
    np.testing.assert_array_equal(g1, g2)


def test_greedy_sample_follows_the_decoder_step_by_step():
    decoder, z = _decoder(end_bias=-100.0), _z(2)
    s5, _ = sampling.sample(decoder, z, max_len=6, greedy=True)
    states = decoder.initial_state(z)
    prev = s5[:, 0]
    for t in range(6):
        raw, states = decoder.step(z, prev, states)
        prev = decoder.head.sample(raw, greedy=True)
        np.testing.assert_allclose(prev, s5[:, t + 1], atol=1e-5)


def test_one_traced_loop_for_any_batch_max_len_and_temperature():
    decoder = _decoder()
    sampling.sample(decoder, _z(3), max_len=5, temperature=0.5, seed=1)
    sampling.sample(decoder, _z(4), max_len=9, temperature=0.9, seed=2)  # relaxes B to None
    before = sampling._sample_loop.experimental_get_tracing_count()
    sampling.sample(decoder, _z(2), max_len=3, temperature=1.0, seed=3)
    sampling.sample(decoder, _z(7), max_len=30, temperature=0.1, seed=4)
    assert sampling._sample_loop.experimental_get_tracing_count() == before
