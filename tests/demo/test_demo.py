"""`kerasviz demo --quick`: every panel renders a real picture and the gallery links them all."""

import re

import numpy as np
import pytest
from PIL import Image

import kerasviz.demo as demo
from kerasviz.cli import main
from kerasviz.demo import Panel, all_panels, run_demo

FAMILIES = {"attribution", "inspect", "synthesis", "style"}


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    return out, run_demo(out, quick=True, progress=False)


def test_every_family_has_panels():
    panels = all_panels()
    assert {p.family for p in panels} >= FAMILIES
    assert len({p.name for p in panels}) == len(panels) >= 20


@pytest.mark.slow  # ~90 s on 2 cores: every panel of `kerasviz demo --quick`
def test_quick_demo_renders_every_panel(gallery):
    out, outcomes = gallery
    failures = {o.panel.name: o.error for o in outcomes if o.error}
    assert not failures, failures
    for outcome in outcomes:
        picture = np.asarray(Image.open(outcome.path))
        assert picture.ndim == 3 and picture.shape[2] == 3 and min(picture.shape[:2]) >= 64, outcome.panel.name
        assert picture.std() > 10, f"{outcome.panel.name} is blank"
        assert outcome.details, f"{outcome.panel.name} has no caption"


@pytest.mark.slow  # shares the quick gallery above
def test_index_references_exist(gallery):
    out, outcomes = gallery
    html = (out / "index.html").read_text()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == len(outcomes)
    assert all((out / source).is_file() for source in sources)


def test_a_failing_panel_is_reported_and_the_rest_render(tmp_path, monkeypatch, capsys):
    def broken(ctx):
        raise RuntimeError("this panel is broken")

    def fine(ctx):
        return np.full((64, 64, 3), 200, np.uint8), "a grey square"

    monkeypatch.setattr(demo, "all_panels", lambda: [Panel("broken", "Broken", broken), Panel("fine", "Fine", fine)])
    assert main(["--no-progress", "demo", "--out", str(tmp_path)]) == 1
    assert (tmp_path / "fine.png").is_file() and not (tmp_path / "broken.png").exists()
    assert "this panel is broken" in (tmp_path / "index.html").read_text()
    assert "broken" in capsys.readouterr().err


def test_demo_context_images_use_the_one_named_image_loader(tmp_path):
    from kerasviz.demo import DemoContext
    from kerasviz.images import load_image

    ctx = DemoContext(out=tmp_path, quick=True)
    brick = ctx.image("brick", 32)
    np.testing.assert_array_equal(brick, load_image("skimage:brick", 32))
    assert ctx.image("skimage:brick", 32) is brick  # one cache entry per picture and size
    assert ctx.image("chelsea", None).shape == (300, 451, 3)
