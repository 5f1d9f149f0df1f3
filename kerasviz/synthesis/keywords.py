"""Keywords that moved into option records: the old spelling is folded where it went, with a
`DeprecationWarning` that says where; and the check that a keyword holds its record."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import warnings
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar

from ..errors import ParameterError

__all__ = ["check_record", "moved_fields", "moved_keywords", "set_field"]

F = TypeVar("F", bound=Callable[..., Any])


def moved_keywords(moves: Mapping[str, Tuple[str, Optional[str]]]) -> Callable[[F], F]:
    """Decorate a function whose keywords moved into option records; the old spelling still works.

    A call with an old keyword gets it folded where it went (the field of the record given, or
    of the record's default in the signature; or the renamed keyword) and a `DeprecationWarning`
    that says where it went. The wrapper keeps the narrow signature (`inspect.signature` follows
    `__wrapped__`), which is what help, docs and tab completion show.

    Args:
        moves: Old keyword -> `(record keyword, field)` (`"weights.style"`: a field of a record
            inside the record), or `(new keyword, None)` for a rename.

    Returns:
        The decorator.

    Raises:
        ParameterError: (from the wrapper) An old keyword together with its new spelling, or a
            value the record refuses.
    """

    def decorate(function: F) -> F:
        defaults = {name: p.default for name, p in inspect.signature(function).parameters.items()}

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            old = [name for name in kwargs if name in moves]
            if old:
                kwargs = _fold(function.__name__, kwargs, old, moves, defaults)
            return function(*args, **kwargs)

        wrapper.moved_keywords = dict(moves)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _replace(record: Any, fields: Mapping[str, Any]) -> Any:
    """`dataclasses.replace`, where `"weights.style"` replaces a field of a nested record."""
    flat = {field: value for field, value in fields.items() if "." not in field}
    nested: Dict[str, Dict[str, Any]] = {}
    for field, value in fields.items():
        if "." in field:
            outer, inner = field.split(".", 1)
            nested.setdefault(outer, {})[inner] = value
    flat.update({outer: _replace(getattr(record, outer), inner) for outer, inner in nested.items()})
    return dataclasses.replace(record, **flat)


def _fold(name: str, kwargs: Dict[str, Any], old: list, moves: Mapping[str, Tuple[str, Optional[str]]],
          defaults: Mapping[str, Any]) -> Dict[str, Any]:
    kwargs = dict(kwargs)
    updates: Dict[str, Dict[str, Any]] = {}
    renamed: Dict[str, list] = {}
    spelled = []
    for key in old:
        keyword, field = moves[key]
        value = kwargs.pop(key)
        if field is None:
            if keyword in kwargs:
                raise ParameterError(f"{name}: give `{keyword}` only (`{key}` is its old name). Received: both")
            kwargs[keyword] = value
            spelled.append(f"`{key}` -> `{keyword}=...`")
        else:
            updates.setdefault(keyword, {})[field] = value
            renamed.setdefault(keyword, []).append((key, field))
    bases = {keyword: kwargs.get(keyword, defaults.get(keyword)) for keyword in updates}
    for keyword, base in bases.items():
        if not dataclasses.is_dataclass(base):
            raise ParameterError(f"{name}: `{keyword}` must be an option record. Received: {keyword}={base!r}")
        record = type(base).__name__
        spelled += [f"`{key}` -> `{keyword}={record}({field}=...)`" for key, field in renamed[keyword]]
    warnings.warn(f"{name}: keywords moved ({'; '.join(spelled)}); the old spelling will go.",
                  DeprecationWarning, stacklevel=3)  # before the records check the values
    for keyword, fields in updates.items():
        kwargs[keyword] = _replace(bases[keyword], fields)
    return kwargs


def moved_fields(records: Mapping[str, type]) -> Dict[str, Tuple[str, str]]:
    """Each field of some option records as a moved keyword: `{"seed": ("execution", "seed")}`.

    Args:
        records: Keyword -> record class (a dataclass).

    Returns:
        Field name -> `(record keyword, field)`, for `moved_keywords`.
    """
    return {field.name: (keyword, field.name) for keyword, record in records.items() for field in dataclasses.fields(record)}


def check_record(value: Any, kind: type, name: str) -> Any:
    """`value` if it is a `kind` option record.

    Args:
        value: The argument.
        kind: The record class.
        name: The keyword, for the message.

    Returns:
        `value`.

    Raises:
        ParameterError: `value` is not a `kind`.
    """
    if not isinstance(value, kind):
        raise ParameterError(f"`{name}` must be a {kind.__name__}(...). Received: {name}={value!r}")
    return value


def set_field(record: Any, name: str, value: Any) -> None:
    """Store the normalized value of a field of a frozen record (from its `__post_init__`).

    Args:
        record: The frozen dataclass being made.
        name: The field.
        value: Its checked, normalized value.
    """
    object.__setattr__(record, name, value)
