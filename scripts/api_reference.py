"""Print the README's API reference: every public name, one line each, grouped by family.

Usage: `python scripts/api_reference.py > /tmp/api.md`, then paste between the API markers of
README.md (the test `tests/test_api.py` checks every public name appears there).
"""

from __future__ import annotations

import inspect
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import kerasviz  # noqa: E402

FAMILIES = [
    ("Foundation", ("kerasviz.backbones", "kerasviz.features", "kerasviz.images", "kerasviz.progress", "kerasviz.errors", "kerasviz.targets")),
    ("Inspect", ("kerasviz.inspect",)),
    ("Attribution", ("kerasviz.attribution",)),
    ("Synthesis", ("kerasviz.synthesis",)),
    ("Fast style", ("kerasviz.faststyle",)),
    ("Serving", ("kerasviz.serving",)),
]


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


def main() -> None:
    seen = set()
    for title, prefixes in FAMILIES:
        rows = []
        for name in kerasviz.__all__:
            obj = getattr(kerasviz, name)
            module = getattr(obj, "__module__", "") or ""
            if name in seen or not module.startswith(prefixes):
                continue
            seen.add(name)
            rows.append(f"- `{signature(name, obj)}` — {summary(obj)}")
        if rows:
            print(f"### {title}\n")
            print("\n".join(rows) + "\n")
    rest = [n for n in kerasviz.__all__ if n not in seen]
    if rest:
        print("### Other\n")
        print("\n".join(f"- `{n}` — {summary(getattr(kerasviz, n))}" for n in rest) + "\n")


if __name__ == "__main__":
    main()
