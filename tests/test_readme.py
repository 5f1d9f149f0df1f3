"""The README runs verbatim: every ```python block and every `kerasviz ...` line of the ```bash
blocks, in order, offline, in a temporary folder, so the docs cannot rot.

- Each Python block runs on its own, in a fresh namespace: it must start with its imports, so a
  reader can paste any one block.
- In ```bash blocks, lines starting with `kerasviz ` run (backslash continuations joined,
  `# comments` dropped); other lines (`python -m pip ...`) do not. A command ending in `&`
  (the server) runs in the background until the test ends; the others run in-process through
  `kerasviz.cli.main` and must exit 0 and write their `--out` file.
- Quick settings: `QUICK` lowers step counts and sizes of the slow commands (the same flags a
  reader would turn); the README's ports 8500 / 8501 become free ports.
- `<!-- readme-test: skip REASON -->` on the line before a fenced block skips that block (use it
  only where a block truly cannot run offline in CI, and say why).
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from kerasviz.registry import TECHNIQUES

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: Quick settings per command: flag -> value (replaced where given, added where not).
QUICK: Dict[str, Dict[str, str]] = {
    "dream": {"--size": "64", "--octaves": "1", "--steps": "1"},
    "style-transfer": {"--size": "48", "--steps": "1"},
    "train-style": {"--steps": "1", "--image-size": "32", "--batch-size": "1"},
    "texture": {"--size": "64", "--steps": "2"},
    "visualize-class": {"--size": "64", "--steps": "4"},
    "visualize-feature": {"--size": "64", "--steps": "4"},
    "invert": {"--size": "64", "--steps": "4"},
    "demo": {"--quick": ""},
    # every registered technique: its options' quick values (kerasviz.registry)
    **{t.command: {o.flag: str(o.quick) for o in t.options if o.quick is not None} for t in TECHNIQUES},
}

_FENCE = re.compile(r"(?:<!--\s*readme-test:\s*skip\s*(?P<skip>.*?)-->\s*\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def readme_blocks(text: str) -> List[Tuple[str, str, str]]:
    """`(language, body, skip_reason)` of every fenced block, in order."""
    return [(m["lang"], m["body"], (m["skip"] or "").strip()) for m in _FENCE.finditer(text)]


def cli_lines(body: str) -> List[str]:
    """The `kerasviz ...` commands of a bash block, continuations joined."""
    joined = re.sub(r"\s*\\\n\s*", " ", body)
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("kerasviz ")]


def quick_argv(argv: List[str]) -> List[str]:
    """`argv` with the `QUICK` settings of its command."""
    command = argv[0]
    argv = list(argv)
    for flag, value in QUICK.get(command, {}).items():
        if flag in argv:
            if value:
                argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value] if value else [flag]
    return argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_served(rest_port: int, process: subprocess.Popen, model: str, timeout: float = 240) -> None:
    url = f"http://127.0.0.1:{rest_port}/v1/models/{model}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the background server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if b"AVAILABLE" in response.read():
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the background server did not serve {model!r} within {timeout} s")


def test_parsing_helpers():
    text = "x\n<!-- readme-test: skip needs a GPU -->\n```bash\nkerasviz a \\\n  --b 1  # c\nls\n```\n```python\nprint(1)\n```\n"
    blocks = readme_blocks(text)
    assert blocks == [("bash", "kerasviz a \\\n  --b 1  # c\nls\n", "needs a GPU"), ("python", "print(1)\n", "")]
    assert cli_lines(blocks[0][1]) == ["kerasviz a --b 1  # c"]
    assert quick_argv(["dream", "x.png", "--steps", "20"]) == [
        "dream", "x.png", "--steps", "1", "--size", "64", "--octaves", "1"
    ]


@pytest.mark.slow  # ~2 min on 2 cores: every Python and shell example of the README
def test_readme_runs_verbatim(tmp_path, monkeypatch):
    from kerasviz.cli import main

    grpc_port, rest_port = _free_port(), _free_port()
    text = README.read_text().replace("8500", str(grpc_port)).replace("8501", str(rest_port))
    monkeypatch.chdir(tmp_path)
    background: List[subprocess.Popen] = []
    ran = []
    try:
        for index, (lang, body, skip) in enumerate(readme_blocks(text)):
            start = time.perf_counter()
            if skip:
                ran.append(f"block {index} skipped: {skip}")
                continue
            if lang == "python":
                exec(compile(body, f"README.md python block {index}", "exec"), {"__name__": "__readme__"})
                ran.append(f"python block {index} ({time.perf_counter() - start:.1f} s)")
            elif lang == "bash":
                for line in cli_lines(body):
                    start = time.perf_counter()
                    argv = shlex.split(line, comments=True)[1:]
                    if argv and argv[-1] == "&":
                        process = subprocess.Popen(
                            [sys.executable, "-m", "kerasviz", *argv[:-1]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        )
                        background.append(process)
                        names = [a.split("=", 1)[1] for a in argv if a.startswith("--model_name=")]
                        _wait_until_served(rest_port, process, names[0] if names else "style")
                        ran.append(f"background: {line} ({time.perf_counter() - start:.1f} s)")
                        continue
                    argv = quick_argv(argv)
                    code = main(["--no-progress", *argv])
                    assert code == 0, f"`{line}` exited with {code}"
                    if "--out" in argv and argv[0] != "demo":
                        out = Path(argv[argv.index("--out") + 1])
                        wrote = out.is_file() and out.stat().st_size > 0 or out.is_dir() and any(out.iterdir())
                        assert wrote, f"`{line}` wrote no {out}"
                    ran.append(f"{line} ({time.perf_counter() - start:.1f} s)")
    finally:
        for process in background:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    print("\n".join(ran))  # what ran and how long each took (pytest -s shows it)
    assert any(r.startswith("python") for r in ran) and any(r.startswith("kerasviz") for r in ran), ran


def test_generated_tables_are_current():
    sys.path.insert(0, str(ROOT / "scripts"))
    import readme_tables

    text = README.read_text()
    assert readme_tables.render(text) == text, "README tables are stale: run `python scripts/readme_tables.py`"
