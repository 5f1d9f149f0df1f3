"""RISE's random masks (Petsiuk et al. 2018), made batch by batch.

Each mask is a random binary `cell x cell` grid (each cell kept with probability `p`), upsampled
bilinearly to `(cell + 1) * ceil(size / cell)` pixels exactly as the authors' code does
(`skimage.transform.resize(order=1, mode="reflect", anti_aliasing=False)`) and cropped at a
random shift. The upsampling is linear and separable, so it is two small matrix products per
batch; only the grids and shifts of all masks (a few bytes each) are drawn up front, so the masks
do not depend on the batch size and never all exist at full resolution.
"""

from __future__ import annotations

import functools
from typing import Tuple

import numpy as np

__all__ = ["RiseMasks", "upsampling_matrix"]


@functools.lru_cache(maxsize=32)
def upsampling_matrix(cells: int, size: int) -> np.ndarray:
    """The `(size, cells)` matrix of skimage's order-1 "reflect" resize along one axis.

    Args:
        cells: Input length.
        size: Output length.

    Returns:
        float32 `(size, cells)`; `resize(grid) == R_rows @ grid @ R_cols.T`.
    """
    from skimage.transform import resize

    basis = np.eye(cells, dtype=np.float64)[:, :, None]
    columns = [resize(basis[k], (size, 1), order=1, mode="reflect", anti_aliasing=False)[:, 0] for k in range(cells)]
    return np.stack(columns, axis=1).astype(np.float32)


class RiseMasks:
    """The masks of one RISE run: `masks[slice]` is a float32 `(B, H, W)` batch in [0, 1].

    Args:
        count: Number of masks.
        cell: Grid cells per side.
        p: Probability of keeping a cell.
        size: `(H, W)` of the images.
        seed: Random seed (same seed, same masks).
    """

    def __init__(self, count: int, cell: int, p: float, size: Tuple[int, int], seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.size = size
        cell_hw = np.ceil(np.asarray(size) / cell).astype(int)
        up = (cell + 1) * cell_hw
        self.grids = (rng.random((count, cell, cell)) < p).astype(np.float32)
        self.shifts = np.stack([rng.integers(0, cell_hw[0], count), rng.integers(0, cell_hw[1], count)], axis=1)
        self.rows = upsampling_matrix(cell, int(up[0]))
        self.cols = upsampling_matrix(cell, int(up[1]))

    def __len__(self) -> int:
        return len(self.grids)

    def factors(self, part: slice) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The masks of `part` as products: `mask_i = rows[i] @ grids[i] @ columns[i].T`.

        Cropping the upsampled grid at a shift is taking the upsampling matrices' rows at that
        shift, so a mask costs two small products and no full-size upsampled grid.

        Args:
            part: A slice of `range(len(self))`.

        Returns:
            float32 `(grids (B, c, c), rows (B, H, c), columns (B, W, c))`.
        """
        height, width = self.size
        shifts = self.shifts[part]
        rows = self.rows[shifts[:, :1] + np.arange(height)[None]]
        columns = self.cols[shifts[:, 1:] + np.arange(width)[None]]
        return self.grids[part], rows, columns

    def __getitem__(self, part: slice) -> np.ndarray:
        grids, rows, columns = self.factors(part)
        return np.matmul(np.matmul(rows, grids), columns.transpose(0, 2, 1))
