"""Print the README's API reference: every public name, one line each, grouped by family.

Usage: `python scripts/api_reference.py > /tmp/api.md`, then paste between the API markers of
README.md (the test `tests/test_api.py` checks every public name appears there).
"""

from __future__ import annotations

import importlib
import inspect
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import kerasviz  # noqa: E402

FAMILIES = [
    ("Inspect", "kerasviz.inspect"),
    ("Attribution", "kerasviz.attribution"),
    ("Synthesis", "kerasviz.synthesis"),
    ("Fast style", "kerasviz.faststyle"),
    ("Serving", "kerasviz.serving"),
]

#: Module-level constants: their docstring lives in a comment, so describe them here.
CONSTANTS = {
    "PIXELS": "key of the current image batch in an objective's outputs (for pixel regularizers)",
    "PAINTINGS": "names of the public-domain paintings shipped with kerasviz (`load_painting`)",
}


def summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def signature(name: str, obj) -> str:
    if inspect.isclass(obj) and issubclass(obj, Exception):
        return name
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return name
    parts, star = [], False
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL or p.kind is p.VAR_KEYWORD:
            parts.append(("*" if p.kind is p.VAR_POSITIONAL else "**") + p.name)
            star = star or p.kind is p.VAR_POSITIONAL
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"{name}({', '.join(parts)})"


def line(name: str) -> str:
    obj = getattr(kerasviz, name)
    if inspect.isclass(obj) or callable(obj):
        return f"- `{signature(name, obj)}` — {summary(obj)}"
    return f"- `{name} = {obj!r}` — {CONSTANTS.get(name, '')}"


def main() -> None:
    groups = {title: importlib.import_module(module).__all__ for title, module in FAMILIES}
    family_names = {n for names in groups.values() for n in names}
    foundation = [n for n in kerasviz.__all__ if n not in family_names]
    for title, names in [("Foundation", foundation), *groups.items()]:
        print(f"### {title}\n")
        print("\n".join(line(n) for n in names if n in kerasviz.__all__) + "\n")


if __name__ == "__main__":
    main()
