"""Print README.md's compatibility table (model families x technique families) from the
conformance test's results.

Regenerate:

    KERASVIZ_CONFORMANCE_TABLE=results.json python -m pytest -m "slow or not slow" \\
        tests/test_conformance.py
    python scripts/compatibility_table.py results.json --readme README.md

`results.json` is a list of `[model, technique, reason]` (reason `null` when the cell worked,
else the allowed refusal's justification from `ALLOWED` in the test); runs merge into it. A
table cell is "ok" when every technique of the family worked on the model, "ok except" naming
the refused techniques (or "only" naming those that worked), "refused" when every technique refused (footnotes give the reasons,
from the test's `ALLOWED`), and blank when the
conformance test did not run that cell (e.g. only the default, non-slow part ran).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

#: Technique families (columns) -> the conformance test's technique names.
FAMILIES: Dict[str, Tuple[str, ...]] = {
    "inspect": ("features", "activation_maps", "filters", "patches", "extract_features"),
    "gradients": (
        "saliency",
        "smoothgrad",
        "integrated_gradients",
        "gradient_x_input",
        "guided_backprop",
    ),
    "occlusion": ("occlusion",),
    "CAMs": (
        "gradcam",
        "gradcam_plus_plus",
        "score_cam",
        "layer_cam",
        "eigen_cam",
        "hires_cam",
        "xgrad_cam",
        "ablation_cam",
    ),
    "attention rollout": ("attention_rollout",),
    "class / feature visualization": ("visualize_class", "visualize_feature"),
    "DeepDream, inversion": ("deep_dream", "invert_features"),
    "style, texture": ("style_transfer", "synthesize_texture"),
}

#: Display names of the zoo models (tests/model_zoo.py); Applications keep their own names.
ZOO_NAMES = {
    "zoo_sequential": "Sequential CNN (softmax)",
    "zoo_nested": "nested model",
    "zoo_headless": "headless backbone",
    "zoo_ops": "keras.ops graph",
    "zoo_multi_output": "multi-output (`output=`)",
    "zoo_subclassed": "subclassed model",
    "zoo_vit": "ViT (MultiHeadAttention)",
}


def family_cell(
    results: Dict[Tuple[str, str], Optional[str]],
    model: str,
    techniques: Sequence[str],
    notes: Dict[str, int],
) -> str:
    """One table cell: how the techniques of one family fared on one model."""
    ran = [t for t in techniques if (model, t) in results]
    if not ran:
        return ""
    refused = [t for t in ran if results[model, t] is not None]
    if not refused:
        return "ok" if len(ran) == len(techniques) else f"ok ({len(ran)}/{len(techniques)} run)"
    marks = sorted({notes.setdefault(results[model, t], len(notes) + 1) for t in refused})
    refs = ", ".join(f"[{mark}]" for mark in marks)
    if len(refused) == len(ran):
        return f"refused {refs}"
    worked = [t for t in ran if t not in refused]
    if len(worked) < len(refused):
        return "only " + ", ".join(f"`{t}`" for t in worked) + f"; others refused {refs}"
    return "ok except " + ", ".join(f"`{t}`" for t in refused) + f" {refs}"


def markdown_table(cells: List[List[Optional[str]]]) -> str:
    """The Markdown table and its footnotes.

    Args:
        cells: `[model, technique, reason or None]` rows from the conformance test.

    Returns:
        Markdown text.
    """
    results = {(model, technique): reason for model, technique, reason in cells}
    models: List[str] = []
    for model, _, _ in cells:
        if model not in models:
            models.append(model)
    notes: Dict[str, int] = {}
    lines = [
        "| model | " + " | ".join(FAMILIES) + " |",
        "|---|" + "---|" * len(FAMILIES),
    ]
    for model in models:
        row = [family_cell(results, model, techniques, notes) for techniques in FAMILIES.values()]
        lines.append(f"| {ZOO_NAMES.get(model, model)} | " + " | ".join(row) + " |")
    lines.append("")
    lines.extend(f"[{number}] {note}  " for note, number in notes.items())
    return "\n".join(lines) + "\n"


START, END = "<!-- compatibility table -->\n", "<!-- /compatibility table -->\n"


def replace_table(readme: str, table: str) -> str:
    """README text with the table between the `<!-- compatibility table -->` markers replaced.

    Raises:
        SystemExit: The markers are missing.
    """
    if START not in readme or END not in readme:
        raise SystemExit(f"README has no {START.strip()} ... {END.strip()} block")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + START + table + END + tail


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the table for a results file, or write it into README.md (`--readme`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="JSON written by tests/test_conformance.py")
    parser.add_argument("--readme", type=Path, help="write the table into this README.md")
    args = parser.parse_args(argv)
    table = markdown_table(json.loads(args.results.read_text()))
    if args.readme is None:
        print(table, end="")
    else:
        args.readme.write_text(replace_table(args.readme.read_text(), table))


if __name__ == "__main__":
    main()
