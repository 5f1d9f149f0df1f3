"""The registry as the page sees it: techniques and their options as JSON, and the options a
request sends parsed back into the technique's keyword arguments."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ..errors import ParameterError
from ..registry import TECHNIQUES, get_technique
from ..technique import NEEDS, OUTPUTS, Option, Technique

__all__ = ["technique_catalog", "parse_options", "explainable"]


def _option_json(option: Option) -> Dict[str, Any]:
    return {
        "name": option.name,
        "type": option.type.__name__,
        "default": option.default,
        "help": option.help,
        "choices": list(option.choices) if option.choices else None,
        "repeat": option.repeat,
    }


def explainable(technique: Technique) -> bool:
    """Whether the explorer can run a technique on an image with `technique_map`.

    Args:
        technique: A registry entry.

    Returns:
        True when its output is a picture-shaped kind of `kerasviz.technique.OUTPUTS`.
    """
    return technique.output in OUTPUTS


def technique_catalog(has_classifier: bool = True) -> List[Dict[str, Any]]:
    """Every registered technique as JSON, in registry order.

    Args:
        has_classifier: The model has class scores (else techniques needing them are marked
            unavailable, with the reason).

    Returns:
        Dicts with `name`, `title`, `family`, `summary`, `targeted`, `needs` (with their
        descriptions), `output`, `options` (name, type, default, help, choices, repeat) and
        `available` / `unavailable_reason`.
    """
    catalog = []
    for technique in TECHNIQUES:
        if not explainable(technique):
            continue
        reason: Optional[str] = None
        if "class_scores" in technique.needs and not has_classifier:
            reason = NEEDS["class_scores"]
        catalog.append(
            {
                "name": technique.name,
                "title": technique.title,
                "family": technique.family,
                "summary": technique.summary,
                "targeted": technique.targeted,
                "needs": {need: NEEDS.get(need, need) for need in technique.needs},
                "output": technique.output,
                "options": [_option_json(option) for option in technique.options],
                "available": reason is None,
                "unavailable_reason": reason,
            }
        )
    return catalog


def _convert(option: Option, value: Any, technique: str) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        if option.type is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            converted: Any = int(value)
        elif option.type is float:
            converted = float(value)
        else:
            converted = str(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"Option {option.name!r} of {technique} takes a {option.type.__name__}. "
            f"Received: {option.name}={value!r}"
        ) from None
    if option.choices and converted not in option.choices:
        raise ParameterError(
            f"Option {option.name!r} of {technique} is one of {list(option.choices)}. Received: {option.name}={value!r}"
        )
    return converted


def parse_options(name: str, raw: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Turn a request's options into the technique's keyword arguments.

    Empty values mean the option's default (left out). A repeated option takes a list or one
    value.

    Args:
        name: A registered technique name.
        raw: `{option name: value}` from the request (strings or JSON numbers), or None.

    Returns:
        Keyword arguments for `technique_map`.

    Raises:
        ParameterError: Unknown technique or option, a value of the wrong type or not among the
            choices.
    """
    technique = get_technique(name)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ParameterError(f"`options` must be a JSON object. Received: options={str(raw)[:80]!r}")
    known = {option.name: option for option in technique.options}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ParameterError(
            f"{technique.title} has no option {', '.join(map(repr, unknown))}; its options are "
            f"{sorted(known) or 'none'}. Received: options={dict(raw)!r}"
        )
    parsed: Dict[str, Any] = {}
    for key, value in raw.items():
        option = known[key]
        if option.repeat:
            values = value if isinstance(value, (list, tuple)) else [value]
            items = [v for v in (_convert(option, v, technique.title) for v in values) if v is not None]
            if items:
                parsed[key] = items if len(items) > 1 else items[0]
        else:
            converted = _convert(option, value, technique.title)
            if converted is not None:
                parsed[key] = converted
    return parsed
