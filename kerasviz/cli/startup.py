"""Quiet start-up for the `kerasviz` command: TensorFlow's and CUDA's import-time log lines
("oneDNN custom operations are on", "Could not find cuda drivers", "failed call to cuInit",
"All log messages before absl::InitializeLog() ...") are hidden from people at a shell.

TensorFlow prints most of these lines through absl *before* its logging is configured, so
`TF_CPP_MIN_LOG_LEVEL` alone does not hide them: `quiet_tensorflow_startup` sets the log-level
variables and imports TensorFlow once with the process's stderr (file descriptor 2) pointed at
`/dev/null`; Python exceptions still propagate. It must run before anything imports TensorFlow,
so `kerasviz/__init__.py` calls it first; it does nothing unless this process is the `kerasviz`
command (`kerasviz ...`, `python -m kerasviz ...`), and nothing if the user set
`TF_CPP_MIN_LOG_LEVEL` (set it to `0` to see every line). This module imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator, MutableMapping, Optional, Sequence

__all__ = ["QUIET_ENVIRONMENT", "is_cli_process", "quiet_stderr", "quiet_tensorflow_startup"]

#: Environment defaults of the command line (a value the user set is never changed).
QUIET_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # C++ INFO, WARNING and ERROR lines (e.g. cuInit on CPU hosts)
    "GRPC_VERBOSITY": "ERROR",  # gRPC's fork / shutdown notes
}


def is_cli_process(argv: Optional[Sequence[str]] = None, orig_argv: Optional[Sequence[str]] = None) -> bool:
    """Whether this Python process is running the `kerasviz` command.

    Args:
        argv: `sys.argv` (default); `argv[0]` is the console script's path.
        orig_argv: `sys.orig_argv` (default), which shows `-m kerasviz` while the package is
            imported.

    Returns:
        `True` for `kerasviz ...`, `python -m kerasviz ...` and `python -m kerasviz.cli ...`.
    """
    argv = sys.argv if argv is None else argv
    orig_argv = getattr(sys, "orig_argv", ()) if orig_argv is None else orig_argv
    script = os.path.basename(argv[0]) if argv else ""
    if script in ("kerasviz", "kerasviz.exe", "kerasviz-script.py"):
        return True
    args = list(orig_argv)
    for index, arg in enumerate(args[:-1]):
        if arg == "-m":
            return args[index + 1] in ("kerasviz", "kerasviz.cli", "kerasviz.__main__")
    return False


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration (C++ writes there directly).

    Yields:
        Nothing; stderr is restored on exit, also when an exception propagates.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr: nothing to hide
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def quiet_tensorflow_startup(
    environ: Optional[MutableMapping[str, str]] = None, *, force: bool = False
) -> bool:
    """Hide TensorFlow's start-up lines when this process is the `kerasviz` command.

    Args:
        environ: The environment to update (default `os.environ`).
        force: Quiet even when this is not the command-line process (used by tests).

    Returns:
        `True` if it set the environment and imported TensorFlow quietly; `False` if it did
        nothing (not the CLI, TensorFlow already imported, or `TF_CPP_MIN_LOG_LEVEL` set).
    """
    environ = os.environ if environ is None else environ
    if not (force or is_cli_process()):
        return False
    if "TF_CPP_MIN_LOG_LEVEL" in environ or "tensorflow" in sys.modules:
        return False
    for name, value in QUIET_ENVIRONMENT.items():
        environ.setdefault(name, value)
    with quiet_stderr():
        import tensorflow  # noqa: F401 - imported here, quietly, once for the whole process
    return True
