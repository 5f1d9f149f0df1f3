"""Print the README's API reference: every public name, one line each, grouped by family.

Usage: `python scripts/api_reference.py README.md` rewrites the block between the API markers of
README.md (without an argument it prints the block); `tests/test_api.py` checks every public
name appears there.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import kerasviz  # noqa: E402

FAMILIES = [
    ("Inspect", "kerasviz.inspect"),
    ("Attribution", "kerasviz.attribution"),
    ("Relevance (LRP)", "kerasviz.relevance"),
    ("Black-box (models you can only query)", "kerasviz.blackbox"),
    ("Concepts and datasets", "kerasviz.concepts"),
    ("Synthesis", "kerasviz.synthesis"),
    ("Fast style", "kerasviz.faststyle"),
    ("Serving", "kerasviz.serving"),
]

#: Module-level constants: their docstring lives in a comment, so describe them here.
CONSTANTS = {
    "PIXELS": "key of the current image batch in an objective's outputs (for pixel regularizers)",
    "PAINTINGS": "names of the public-domain paintings shipped with kerasviz (`load_painting`)",
    "COMPOSITES": "LRP composites by name (`lrp(composite=...)`): the rules each layer kind gets",
    "RULE_NAMES": "LRP rules a layer can be given with `lrp(rules={layer: rule})`",
    "PLAIN": "a `Regularization` without transforms, blur or clipping (plain gradient ascent)",
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
    shown = tuple(obj) if isinstance(obj, dict) else obj  # a dict: its keys
    return f"- `{name} = {shown!r}` — {CONSTANTS.get(name, '')}"


def metric_lines() -> str:
    """The evaluation section: `kv.evaluate`, `kv.summarize_scores` and every `kv.metrics.<name>`."""
    from kerasviz import metrics

    lines = [line("evaluate"), line("summarize_scores")]
    for name in metrics.METRICS:
        obj = getattr(metrics, name)
        lines.append(f"- `metrics.{signature(name, obj)}` — {summary(obj)}")
    return "\n".join(lines)


def block() -> str:
    """The Markdown between the API markers."""
    groups = {title: importlib.import_module(module).__all__ for title, module in FAMILIES}
    family_names = {n for names in groups.values() for n in names} | {"evaluate", "summarize_scores"}
    foundation = [n for n in kerasviz.__all__ if n not in family_names]
    parts = [
        "## API reference\n",
        "Every name below is exported from `kerasviz` (`import kerasviz as kv`). Shapes and ranges "
        "follow the conventions above. Regenerate with `python scripts/api_reference.py README.md`.\n",
    ]
    for title, names in [("Foundation", foundation), *groups.items()]:
        parts.append(f"### {title}\n\n" + "\n".join(line(n) for n in names if n in kerasviz.__all__) + "\n")
        if title == "Black-box (models you can only query)":
            parts.append("### Evaluation (`kv.metrics`)\n\n" + metric_lines() + "\n")
    return "\n".join(parts)


def main(readme: str = "") -> None:
    """Print the API block, or rewrite it between the markers of `readme`."""
    if not readme:
        print(block())
        return
    path = Path(readme)
    text = path.read_text()
    start, end = text.index("<!-- API -->\n") + len("<!-- API -->\n"), text.index("<!-- /API -->")
    path.write_text(text[:start] + block() + "\n" + text[end:])


if __name__ == "__main__":
    main(*sys.argv[1:])
