"""The attribution gallery panels render (quick mode) into non-trivial pictures."""

from __future__ import annotations

import numpy as np

from kerasviz.demo import run_demo
from kerasviz.demo.attribution import PANELS


def test_panels_render(tmp_path, monkeypatch, lite0):
    import kerasviz.demo

    # The session's Lite0 (already traced by other tests) instead of a fresh copy.
    monkeypatch.setattr(kerasviz.demo.DemoContext, "backbone", property(lambda self: lite0))
    outcomes = run_demo(tmp_path, quick=True, only=[p.name for p in PANELS], progress=False)
    assert [o.panel.name for o in outcomes] == [p.name for p in PANELS]
    for o in outcomes:
        assert o.error is None, o.error
        from PIL import Image

        picture = np.asarray(Image.open(o.path))
        assert picture.ndim == 3 and picture.std() > 10 and o.details
