"""The public API: every exported name is documented (Args / Returns) and listed in the README."""

import inspect
from pathlib import Path

import pytest

import kerasviz

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", kerasviz.__all__)
def test_public_name_is_documented(name):
    obj = getattr(kerasviz, name)
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"{name} has no docstring"
    if inspect.isfunction(obj):
        parameters = [p for p in inspect.signature(obj).parameters if p not in ("self", "args", "kwargs")]
        if parameters:
            assert "Args:" in doc, f"{name}'s docstring has no Args: section"
        assert "Returns:" in doc or "Yields:" in doc or inspect.signature(obj).return_annotation in (None, "None"), (
            f"{name}'s docstring has no Returns: section"
        )


@pytest.mark.parametrize("name", kerasviz.__all__)
def test_public_name_is_in_readme(name):
    assert f"`{name}" in README, f"{name} is missing from README.md's API reference"


def test_version():
    assert kerasviz.__version__.count(".") == 2


def test_no_public_name_is_exported_by_two_families():
    import importlib
    from collections import defaultdict

    owners = defaultdict(list)
    for module, names in kerasviz._NAMED.items():
        for name in names:
            owners[name].append(module)
    for module in kerasviz._FAMILIES:
        for name in importlib.import_module(module).__all__:
            owners[name].append(module)
    assert not {name: where for name, where in owners.items() if len(where) > 1}
