import numpy as np

from kerasviz.demo import DemoContext
from kerasviz.demo.faststyle import MIXES, PANELS, render_style_mix
from kerasviz.faststyle import stylize
from kerasviz.faststyle.weights import load_demo_network


def test_bundled_network_is_small_and_three_style():
    from kerasviz.faststyle.weights import DEMO_NETWORK

    net, info = load_demo_network()
    assert DEMO_NETWORK.stat().st_size < 5 * 2**20
    assert net.get_layer("in_norm").gamma.shape[0] == 3 and len(info["styles"]) == 3
    assert "train_fast_style.py" in info["command"]


def test_style_mix_panel(tmp_path, chelsea):
    picture, details = render_style_mix(DemoContext(out=tmp_path, quick=True))
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[1] > 5 * 128
    assert "3-style" in details and PANELS[0].family == "style"
    net, _ = load_demo_network()
    content = chelsea[::2, ::2]
    outs = stylize(net, np.repeat(content[None], len(MIXES), 0), np.array(MIXES, np.float32)).astype(float)
    # the pure styles differ from each other and from the photo; a 50/50 mix lies between its ends
    assert np.abs(outs[0] - outs[2]).mean() > 10 and np.abs(outs[2] - outs[4]).mean() > 10
    assert np.abs(outs[0] - content).mean() > 10
    middle, ends = outs[1].mean(axis=(0, 1)), np.stack([outs[0], outs[2]]).mean(axis=(1, 2))
    assert np.all(middle >= ends.min(axis=0) - 10) and np.all(middle <= ends.max(axis=0) + 10)
