"""The technique registry: every entry points at a real, exported function with the options it
declares, and every front end (CLI, demo, SmoothGrad, faithfulness) reads it."""

import inspect
import subprocess
import sys

import pytest

import kerasviz
from kerasviz.errors import ParameterError
from kerasviz.registry import TECHNIQUES, get_technique, technique_names
from kerasviz.technique import FAMILIES, NEEDS, OUTPUTS, resolve


@pytest.mark.parametrize("technique", TECHNIQUES, ids=lambda t: t.name)
def test_entry_points_at_an_exported_function_with_its_options(technique):
    function = technique.load()
    assert getattr(kerasviz, technique.name) is function
    assert technique.family in FAMILIES and technique.output in OUTPUTS
    assert set(technique.needs) <= set(NEEDS)
    parameters = inspect.signature(function).parameters
    for option in technique.options:
        assert option.name in parameters, f"{technique.name} has no keyword {option.name!r}"
        assert parameters[option.name].kind is inspect.Parameter.KEYWORD_ONLY
    assert ("target" in parameters) == technique.targeted or technique.name == "eigen_cam"
    if technique.panel is not None:
        assert callable(resolve(technique.panel[1]))


def test_names_are_unique_and_lookups_suggest_close_matches():
    names = [t.name for t in TECHNIQUES]
    assert len(names) == len(set(names))
    assert get_technique("integrated-gradients").name == "integrated_gradients"
    with pytest.raises(ParameterError, match="Did you mean gradcam"):
        get_technique("gradcan")


def test_front_ends_read_the_registry():
    from kerasviz.attribution.smoothgrad import SMOOTHGRAD_METHODS
    from kerasviz.cli import build_parser
    from kerasviz.cli.cams import faithfulness_methods
    from kerasviz.demo import all_panels

    assert SMOOTHGRAD_METHODS == technique_names(noise_tunnel=True)
    commands = build_parser()._subparsers._group_actions[0].choices
    assert all(t.command in commands for t in TECHNIQUES)
    assert set(faithfulness_methods()) == {t.command for t in TECHNIQUES if t.faithfulness} | {"random"}
    panels = {p.name for p in all_panels()}
    assert {t.name for t in TECHNIQUES if t.panel} <= panels


def test_registry_and_help_need_no_tensorflow():
    code = (
        "import sys, kerasviz.registry, kerasviz.cli as cli\n"
        "cli.build_parser().format_help()\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_composite_names_match_the_relevance_package():
    from kerasviz.registry import COMPOSITE_NAMES
    from kerasviz.relevance import COMPOSITES

    assert COMPOSITE_NAMES == tuple(COMPOSITES)


def test_explainer_export_serves_the_servable_techniques():
    from kerasviz.serving.explainer import EXPLAIN_METHODS

    assert set(EXPLAIN_METHODS) == {"saliency", "integrated_gradients", "gradcam"}
    assert EXPLAIN_METHODS == technique_names(servable=True)
