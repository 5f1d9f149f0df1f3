"""Session fixtures of the fast-style tests: small transform networks with random normalization
parameters (so styles differ and mixes are not trivially equal)."""

import numpy as np
import pytest

from kerasviz.faststyle.layers import ConditionalInstanceNormalization, InstanceNormalization
from kerasviz.faststyle.network import build_transform_net


def _randomize_norms(net, seed):
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if isinstance(layer, InstanceNormalization):
            gamma, beta = layer.get_weights()
            layer.set_weights([1 + 0.5 * rng.standard_normal(gamma.shape).astype("float32"),
                               0.5 * rng.standard_normal(beta.shape).astype("float32")])
    return net


@pytest.fixture(scope="session")
def net1():
    """A single-style network, width 8."""
    return _randomize_norms(build_transform_net(1, width=8), 1)


@pytest.fixture(scope="session")
def net3():
    """A 3-style network (conditional instance norm), width 8, distinct γ/β per style."""
    net = _randomize_norms(build_transform_net(3, width=8), 3)
    assert isinstance(net.get_layer("in_norm"), ConditionalInstanceNormalization)
    return net
