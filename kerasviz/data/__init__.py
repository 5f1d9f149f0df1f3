"""Small data files shipped with kerasviz (public-domain painting styles; see styles/README.md)."""

from __future__ import annotations

from importlib import resources

__all__ = ["PAINTINGS", "painting_bytes"]

#: The shipped paintings: Van Gogh's Starry Night, Hokusai's Great Wave, Picabia's Udnie.
PAINTINGS = ("starry_night", "great_wave", "udnie")


def painting_bytes(name: str) -> bytes:
    """The JPEG file of a shipped painting.

    Args:
        name: One of `PAINTINGS` (not checked here: callers validate it).

    Returns:
        The encoded file's bytes.
    """
    return resources.files(__name__).joinpath("styles", f"{name}.jpg").read_bytes()
