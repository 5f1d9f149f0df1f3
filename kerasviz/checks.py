"""The one set of argument checks, validated at every public boundary with one message style.

Each check returns the value normalized (an `int`, a `float`, a tuple) or raises `ParameterError`
whose message says what is expected and ends with the Keras convention `Received: name=value`:

    >>> check_int(0, "steps", low=1)
    ParameterError: `steps` must be an integer in [1, inf]. Received: steps=0
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence, Tuple, TypeVar

import numpy as np

from .errors import ParameterError

__all__ = [
    "check_bool",
    "check_choice",
    "check_fraction",
    "check_int",
    "check_names",
    "check_number",
    "check_optional_int",
    "check_side",
    "check_size",
]

T = TypeVar("T")


def _bound(value: float) -> str:
    return "inf" if value == math.inf else "-inf" if value == -math.inf else f"{value:g}"


def check_int(value: Any, name: str, *, low: float = -math.inf, high: float = math.inf) -> int:
    """Return `value` as an int, or raise unless it is an integer in `[low, high]`.

    Args:
        value: The argument (bools are refused; NumPy integers are accepted).
        name: The argument's name, for the message.
        low: Smallest allowed value (inclusive).
        high: Largest allowed value (inclusive).

    Returns:
        `int(value)`.

    Raises:
        ParameterError: Not an integer, or outside `[low, high]`.
    """
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or not low <= value <= high
    ):
        raise ParameterError(
            f"`{name}` must be an integer in [{_bound(low)}, {_bound(high)}]. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_optional_int(
    value: Any, name: str, *, low: float = -math.inf, high: float = math.inf
) -> Optional[int]:
    """`None`, or `check_int(value, name, low=low, high=high)`.

    Args:
        value: The argument or `None`.
        name: The argument's name, for the message.
        low: Smallest allowed value (inclusive).
        high: Largest allowed value (inclusive).

    Returns:
        `None` or the int.

    Raises:
        ParameterError: Not `None` and not an integer in `[low, high]`.
    """
    return None if value is None else check_int(value, name, low=low, high=high)


def check_number(
    value: Any,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Return `value` as a float, or raise unless it is a finite number within the bounds.

    Args:
        value: The argument (bools, NaN and infinities are refused).
        name: The argument's name, for the message.
        low: Lower bound, inclusive unless `open_low`.
        high: Upper bound, inclusive unless `open_high`.
        open_low: Exclude `low` itself (e.g. a strictly positive step size).
        open_high: Exclude `high` itself.

    Returns:
        `float(value)`.

    Raises:
        ParameterError: Not a finite real number, or outside the bounds.
    """
    ok = (
        not isinstance(value, (bool, np.bool_))
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
    )
    if ok:
        ok = (value > low if open_low else value >= low) and (
            value < high if open_high else value <= high
        )
    if not ok:
        bracket = ("(" if open_low else "[") + f"{_bound(low)}, {_bound(high)}" + (
            ")" if open_high else "]"
        )
        raise ParameterError(
            f"`{name}` must be a finite number in {bracket}. Received: {name}={value!r}"
        )
    return float(value)


def check_fraction(value: Any, name: str, *, low: float = 0.0, high: float = 1.0) -> float:
    """A finite number in `[low, high]` (by default `[0, 1]`).

    Args:
        value: The argument.
        name: The argument's name, for the message.
        low: Lower bound (inclusive).
        high: Upper bound (inclusive).

    Returns:
        `float(value)`.

    Raises:
        ParameterError: Not a finite number in `[low, high]`.
    """
    return check_number(value, name, low=low, high=high)


def check_bool(value: Any, name: str) -> bool:
    """Return `value` if it is a bool (Python or NumPy).

    Args:
        value: The argument.
        name: The argument's name, for the message.

    Returns:
        `bool(value)`.

    Raises:
        ParameterError: Not a bool.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


def check_choice(value: Any, name: str, choices: Sequence[T]) -> T:
    """Return `value` if it is one of `choices`.

    Args:
        value: The argument.
        name: The argument's name, for the message.
        choices: The allowed values.

    Returns:
        `value` unchanged.

    Raises:
        ParameterError: `value` is not one of `choices`.
    """
    try:
        known = value in choices
    except TypeError:  # unhashable value against a set
        known = False
    if not known:
        raise ParameterError(
            f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}"
        )
    return value


def check_names(value: Any, name: str, *, default: Sequence[str] = ()) -> Tuple[str, ...]:
    """One name or a sequence of names (e.g. layer names) as a non-empty tuple of strings.

    Args:
        value: A string, a sequence of strings, or `None` for `default`.
        name: The argument's name, for the message.
        default: Used when `value` is `None`.

    Returns:
        The names, in order.

    Raises:
        ParameterError: Empty, or an entry that is not a non-empty string.
    """
    names = tuple(default) if value is None else (value,) if isinstance(value, str) else None
    if names is None:
        try:
            names = tuple(value)
        except TypeError:
            names = ()
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ParameterError(
            f"`{name}` must be a name or a non-empty list of names. Received: {name}={value!r}"
        )
    return names


def check_size(value: Any, name: str = "size") -> Tuple[int, int]:
    """An image size: an int `s` (a square `s x s`) or `(height, width)` of positive ints.

    Args:
        value: The size.
        name: The argument's name, for the message.

    Returns:
        `(height, width)`.

    Raises:
        ParameterError: Not a positive int or a pair of positive ints.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        pair: Any = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    else:
        pair = None
    if pair is None or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) and v > 0
        for v in pair
    ):
        raise ParameterError(
            f"`{name}` must be a positive int or a (height, width) pair of positive ints. "
            f"Received: {name}={value!r}"
        )
    return int(pair[0]), int(pair[1])


def check_side(value: Any, name: str = "size", *, low: int = 1, high: int = 1 << 16) -> Tuple[int, int]:
    """An image size (as `check_size`) whose sides both lie in `[low, high]` pixels.

    Args:
        value: The size: an int or `(height, width)`.
        name: The argument's name, for the message.
        low: Smallest allowed side in pixels.
        high: Largest allowed side in pixels.

    Returns:
        `(height, width)`.

    Raises:
        ParameterError: Not a size, or a side outside `[low, high]`.
    """
    height, width = check_size(value, name)
    if min(height, width) < low or max(height, width) > high:
        raise ParameterError(
            f"`{name}` must have sides between {low} and {high} pixels. "
            f"Received: {name}={value!r}"
        )
    return height, width
