#!/usr/bin/env python
"""Write README.md's tables that come from the technique registry and the command line.

Usage: `python scripts/readme_tables.py [README.md]` (rewrites the file in place);
`tests/test_readme.py` fails when the README differs from what this writes.

- The command table (`| family | commands |`): every subcommand, family by family, in
  `kerasviz --help` order.
- The technique table (between `<!-- techniques -->` markers): every entry of
  `kerasviz.registry.TECHNIQUES` with its family, what it needs, its output and its command.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from kerasviz.cli import build_parser, command_families
from kerasviz.registry import TECHNIQUES
from kerasviz.technique import FAMILY_TITLES, OUTPUTS

COMMAND_TABLE = re.compile(r"\| family \| commands \|\n\|[-| ]+\|\n(?:\|.*\|\n)+")
TECHNIQUE_TABLE = re.compile(r"<!-- techniques -->\n.*?<!-- /techniques -->", re.S)


def command_table() -> str:
    """The Markdown command table, one row per family."""
    rows = ["| family | commands |", "|---|---|"]
    for family, commands in command_families(build_parser()).items():
        rows.append(f"| {FAMILY_TITLES[family]} | {', '.join(f'`{c}`' for c in commands)} |")
    return "\n".join(rows) + "\n"


def technique_table() -> str:
    """The Markdown technique table between its markers."""
    rows = [
        "<!-- techniques -->",
        "| technique | function | family | needs | returns | command |",
        "|---|---|---|---|---|---|",
    ]
    for t in TECHNIQUES:
        needs = ", ".join(n.replace("_", " ") for n in t.needs)
        rows.append(
            f"| {t.title} | `{t.name}` | {FAMILY_TITLES[t.family]} | {needs} | {OUTPUTS[t.output]} | `kerasviz {t.command}` |"
        )
    return "\n".join(rows) + "\n<!-- /techniques -->"


def render(text: str) -> str:
    """README text with both tables regenerated.

    Args:
        text: README.md as it is.

    Returns:
        README.md as it should be.
    """
    text = COMMAND_TABLE.sub(lambda _: command_table(), text, count=1)
    return TECHNIQUE_TABLE.sub(lambda _: technique_table(), text, count=1)


def main(path: str = "README.md") -> None:
    """Rewrite the README's generated tables in place."""
    readme = Path(path)
    readme.write_text(render(readme.read_text()))


if __name__ == "__main__":
    main(*sys.argv[1:])
