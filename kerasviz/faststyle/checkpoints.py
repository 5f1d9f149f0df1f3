"""Restore a training run from the newest readable checkpoint of a folder.

A checkpoint whose files are truncated or corrupt (a copy cut short, a disk that filled during a
save) is skipped with a warning and the previous one is restored; a checkpoint that is readable
but belongs to another network is a `ParameterError` (training on would overwrite it).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import List, Optional

import tensorflow as tf

from ..errors import ParameterError

__all__ = ["checkpoint_paths", "restore_newest_readable"]


def checkpoint_paths(folder: Path) -> List[str]:
    """The checkpoint prefixes the folder's `checkpoint` state file lists, oldest first.

    Args:
        folder: A `tf.train.CheckpointManager` folder.

    Returns:
        Path prefixes (empty when there is no state file).
    """
    state = tf.train.get_checkpoint_state(str(folder))
    if state is None:
        return []
    paths = [str(p) for p in state.all_model_checkpoint_paths]
    if state.model_checkpoint_path and state.model_checkpoint_path not in paths:
        paths.append(str(state.model_checkpoint_path))
    return [p if Path(p).is_absolute() else str(folder / p) for p in paths]


def restore_newest_readable(checkpoint: tf.train.Checkpoint, folder: Path, config_file: str) -> Optional[str]:
    """Restore the newest checkpoint of `folder` that reads, falling back one at a time.

    Args:
        checkpoint: The `tf.train.Checkpoint` of the network, optimizer and step.
        folder: The checkpoint folder.
        config_file: Name of the folder's network configuration file (for messages).

    Returns:
        The restored prefix, or `None` when the folder holds no checkpoint.

    Raises:
        ParameterError: A readable checkpoint does not fit the network, or checkpoints exist
            and none of them can be read.
    """
    paths = checkpoint_paths(folder)
    for path in reversed(paths):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
            return path
        except (AssertionError, ValueError) as error:  # e.g. other shapes under a copied config
            raise ParameterError(
                f"The checkpoint {path} does not fit this network (its variables have other shapes "
                f"than {config_file} says); train into a new checkpoint_dir. Details: {str(error)[:300]}"
            ) from None
        except (IndexError, OSError, tf.errors.OpError) as error:  # truncated / corrupt files
            warnings.warn(
                f"The checkpoint {path} cannot be read ({type(error).__name__}: {str(error)[:120]}); "
                "falling back to the previous one.",
                RuntimeWarning,
                stacklevel=3,
            )
    if paths:
        raise ParameterError(
            f"None of the checkpoints in {folder} can be read (truncated or corrupt files); remove them or "
            f"train into a new checkpoint_dir. Received: checkpoint_dir={str(folder)!r}"
        )
    return None
