"""Activation atlas: neighbouring cells hold similar activations; memory bounded by the batch."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from kerasviz.concepts import activation_atlas, write_atlas_page
from kerasviz.errors import ParameterError


def _neighbour_vs_random_similarity(cells):
    rows, cols = cells.column("row").to_numpy(), cells.column("col").to_numpy()
    vectors = np.stack(cells.column("activation").to_numpy(zero_copy_only=False))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    near = np.abs(rows[:, None] - rows[None]) + np.abs(cols[:, None] - cols[None]) == 1
    pairs = ~np.eye(len(rows), dtype=bool)
    return cosine[near].mean(), cosine[pairs].mean()


def test_neighbouring_cells_are_similar_and_the_page_is_written(trained_cnn, zoo_digits, tmp_path):
    images = zoo_digits[0][600:800].astype(np.float32)
    atlas = activation_atlas(trained_cnn, images, "conv3", grid=6, steps=8, render_batch=16,
                             projection="pca", cell_size=16)
    assert atlas.image.shape == (96, 96, 3) and atlas.image.dtype == np.uint8
    assert atlas.cells.num_rows >= 8 and sum(atlas.cells.column("count").to_pylist()) <= 800
    near, anywhere = _neighbour_vs_random_similarity(atlas.cells)
    assert near > anywhere + 0.02, (near, anywhere)
    occupied = atlas.image.reshape(6, 16, 6, 16, 3).std(axis=(1, 3, 4)) > 0
    for row, col in zip(atlas.cells.column("row").to_pylist(), atlas.cells.column("col").to_pylist()):
        assert occupied[row, col]  # a rendered cell, not the white background
    page = write_atlas_page(tmp_path / "atlas.html", atlas, class_names=[str(i) for i in range(10)])
    text = page.read_text()
    assert text.count('class="cell"') == atlas.cells.num_rows and "data:image/png;base64," in text
    common = int(np.bincount(trained_cnn.predict(images, verbose=0).argmax(-1)).argmax())
    one_class = activation_atlas(trained_cnn, images, "conv3", grid=4, steps=2, projection="pca",
                                 class_filter=common, cell_size=16, min_count=1)
    assert set(one_class.cells.column("top_class").to_pylist()) == {common}
    with pytest.raises(ParameterError, match="at least 4 activations"):
        activation_atlas(trained_cnn, images, "conv3", class_filter=[], projection="pca")


def test_memory_is_bounded_by_the_batch(trained_cnn, zoo_digits, tmp_path):
    from kerasviz.images import save_image

    folder = tmp_path / "images"
    for i, image in enumerate(zoo_digits[0][:320]):
        save_image(folder / f"{i:03d}.png", image)
    peaks = {}
    for count in (32, 320):  # 1x and 10x the batch
        subset = sorted(folder.iterdir())[:count]
        activation_atlas(trained_cnn, subset, "conv3", grid=3, steps=1, projection="pca",
                         batch_size=32, spatial="mean", cell_size=16, render_batch=4)
        tracemalloc.start()
        activation_atlas(trained_cnn, subset, "conv3", grid=3, steps=1, projection="pca",
                         batch_size=32, spatial="mean", cell_size=16, render_batch=4)
        peaks[count] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    all_images = 320 * 32 * 32 * 3 * 4  # the 10x set as float32 pixels: 3.9 MB
    assert peaks[320] < 0.5 * all_images, peaks
    assert peaks[320] < 2.5 * peaks[32], peaks  # not 10x


@pytest.mark.slow
def test_umap_atlas(trained_cnn, zoo_digits):
    atlas = activation_atlas(trained_cnn, zoo_digits[0][600:900].astype(np.float32), "conv3", grid=8,
                             steps=16, render_batch=32)
    near, anywhere = _neighbour_vs_random_similarity(atlas.cells)
    assert near > anywhere + 0.05, (near, anywhere)
