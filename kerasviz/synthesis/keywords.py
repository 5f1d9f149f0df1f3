"""Keywords that moved into option records: calling with the old spelling says where it went."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Dict, Mapping, TypeVar

from ..errors import ParameterError

__all__ = ["fold_flat_options", "moved_fields", "moved_keywords"]

F = TypeVar("F", bound=Callable[..., Any])


def moved_keywords(moves: Dict[str, str]) -> Callable[[F], F]:
    """Decorate a function whose keywords moved: an old keyword raises `ParameterError`.

    The wrapper keeps the function's signature (`inspect.signature` follows `__wrapped__`), so
    the narrow signature is what help, docs and tab completion show.

    Args:
        moves: Old keyword -> where it went (e.g. `"ascent=Ascent(step_size=...)"`).

    Returns:
        The decorator.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            moved = [name for name in kwargs if name in moves]
            if moved:
                where = "; ".join(f"`{name}` -> {moves[name]}" for name in moved)
                raise ParameterError(
                    f"{function.__name__}: these keywords moved into option records: {where}. "
                    f"Received: {', '.join(f'{name}={kwargs[name]!r}' for name in moved)}"
                )
            return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def moved_fields(records: Mapping[str, type]) -> Dict[str, str]:
    """Where each field of some option records is passed: `{"seed": "execution=Execution(seed=...)"}`.

    Args:
        records: Keyword -> record class (a dataclass).

    Returns:
        Field name -> its new spelling.
    """
    return {
        field.name: f"{keyword}={record.__name__}({field.name}=...)"
        for keyword, record in records.items()
        for field in dataclasses.fields(record)
    }


def fold_flat_options(options: Mapping[str, Any], records: Mapping[str, type], defaults: Mapping[str, Any]) -> Dict[str, Any]:
    """Fold flat record fields (`seed=1`) into their records (`execution=Execution(seed=1)`).

    What wrappers that pass `**options` on (`visualize_class`) use to keep accepting the old
    flat spelling: each flat field replaces that field of the record given (or of the default).

    Args:
        options: Keyword options, flat fields and records mixed.
        records: Keyword -> record class.
        defaults: Keyword -> the record used when none is given (absent: the class's default).

    Returns:
        The options with every flat field folded into its record.

    Raises:
        ParameterError: A record keyword holding something else than its record.
    """
    owner = {field.name: keyword for keyword, record in records.items() for field in dataclasses.fields(record)}
    folded = {name: value for name, value in options.items() if name not in owner}
    for keyword, record in records.items():
        flat = {name: value for name, value in options.items() if owner.get(name) == keyword}
        if not flat:
            continue
        base = folded.get(keyword, defaults.get(keyword, record()))
        if not isinstance(base, record):
            raise ParameterError(f"`{keyword}` must be a {record.__name__}(...). Received: {keyword}={base!r}")
        folded[keyword] = dataclasses.replace(base, **flat)
    return folded
