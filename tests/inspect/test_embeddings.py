"""extract_features, nearest_neighbors, neighbors_grid, embed_2d, embedding_plot."""

from __future__ import annotations

import numpy as np
import pytest

from kerasviz import ImageError, LayerNotFoundError, ModelError, ParameterError
from kerasviz.inspect import (
    SkippedImageWarning,
    embed_2d,
    embedding_plot,
    extract_features,
    nearest_neighbors,
    neighbors_grid,
)
from kerasviz.inspect.layer_outputs import layer_function


@pytest.fixture(scope="module")
def features(digits):
    return extract_features(digits.model, digits.images, batch_size=64)


# ---------------------------------------------------------------- extract_features


def test_extract_features_are_the_classifier_input(digits, features):
    # smoke + cardinality + feature: default layer = input of the last Dense ("fc" output, 64-d)
    assert features.shape == (len(digits.images), 64) and features.dtype == np.float32
    head = digits.model.get_layer("logits")
    logits = digits.model.predict(digits.images.astype("float32"), verbose=0)
    np.testing.assert_allclose(np.asarray(head(features)), logits, rtol=1e-4, atol=1e-4)


def test_extract_features_pools_feature_maps_and_batches_consistently(digits):
    one_by_one = extract_features(digits.model, digits.images[:5], layer="conv2", batch_size=1)
    batched = extract_features(digits.model, digits.images[:5], layer="conv2", batch_size=4)
    assert one_by_one.shape == (5, 32)  # (N, 12, 12, 32) averaged over positions
    np.testing.assert_allclose(one_by_one, batched, rtol=1e-5, atol=1e-5)
    single = extract_features(digits.model, digits.images[0], layer="conv2")
    np.testing.assert_allclose(single, batched[:1], rtol=1e-5, atol=1e-5)


def test_extract_features_lite0_penultimate(lite0, chelsea, coffee):
    features = extract_features(lite0, np.stack([chelsea, coffee]))
    assert features.shape == (2, 1280)
    assert np.all(features >= 0) and features.std() > 0  # pooled ReLU features


def test_compiled_forward_is_not_retraced(digits):
    extract_features(digits.model, digits.images[:3], layer="conv3")
    fn = layer_function(
        __import__("kerasviz").backbones.as_backbone(digits.model), "conv3", "pool"
    ).fn
    count = fn.experimental_get_tracing_count()
    extract_features(digits.model, digits.images[:7], layer="conv3", batch_size=2)
    assert fn.experimental_get_tracing_count() == count == 1


def test_folder_streams_and_skips_unreadable_files(digits, image_folder):
    with pytest.warns(SkippedImageWarning) as caught:
        features, sources = extract_features(
            digits.model, image_folder, batch_size=5, return_sources=True
        )
    skipped = " ".join(str(w.message) for w in caught)
    assert "notes.txt" in skipped and "broken.jpg" in skipped and ".hidden" not in skipped
    assert len(sources) == features.shape[0] == 12  # hidden file ignored, two files skipped
    order = [int(s[-6:-4]) for s in sources]
    expected = extract_features(digits.model, digits.images[order])
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-4)
    files = extract_features(digits.model, sources[:3])  # a list of paths works too
    np.testing.assert_allclose(files, expected[:3], rtol=1e-4, atol=1e-4)


def test_folder_errors(digits, tmp_path):
    with pytest.raises(ImageError, match="No such folder"):
        extract_features(digits.model, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="no files"):
        extract_features(digits.model, tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.txt").write_text("x")
    with pytest.warns(SkippedImageWarning, match="a.txt"):
        with pytest.raises(ImageError, match="None of the 1 file"):
            extract_features(digits.model, tmp_path / "bad")


def test_extract_features_exceptions(digits, vgg16):
    with pytest.raises(ModelError):
        extract_features("not a model", digits.images)
    with pytest.raises(LayerNotFoundError, match="conv1"):
        extract_features(digits.model, digits.images, layer="conv_1")
    with pytest.raises(ParameterError, match="batch_size"):
        extract_features(digits.model, digits.images, batch_size=0)
    with pytest.raises(ImageError):
        extract_features(digits.model, digits.images / 255.0 - 1.0)
    with pytest.raises(ModelError, match=r"size \(224, 224\)"):
        extract_features(vgg16, np.zeros((1, 64, 64, 3)))  # fc2 sits behind a Flatten


# ---------------------------------------------------------------- nearest neighbours


def test_nearest_neighbors_small_example():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [5.5, 0.0]])
    distances, indices = nearest_neighbors(points, [0, 2], k=2, metric="euclidean")
    np.testing.assert_array_equal(indices, [[1, 2], [3, 1]])  # the query itself left out
    np.testing.assert_allclose(distances, [[1.0, 5.0], [0.5, 4.0]])
    _, indices = nearest_neighbors(points, np.array([[5.4, 0.0]]), k=1, metric="euclidean")
    assert indices.tolist() == [[3]]  # vectors search every row


def test_nearest_neighbors_exceptions():
    points = np.eye(4)
    for bad, match in [
        (dict(queries=[7]), "indices"),
        (dict(queries=[0], k=4), "at most 3"),
        (dict(queries=[0], k=0), "positive"),
        (dict(queries=np.ones((1, 3))), "D = 4"),
        (dict(queries=[0], metric="nope"), "metric"),
    ]:
        with pytest.raises(ParameterError, match=match):
            nearest_neighbors(points, **{"k": 1, **bad})
    with pytest.raises(ParameterError, match="NaN"):
        nearest_neighbors(np.full((3, 2), np.nan), [0])


def test_feature_neighbours_share_labels_more_than_pixel_neighbours(digits, features):
    # Measured (seed 0, 397 held-out digits, k=5): feature space 0.92 of neighbours share the
    # query's label, pixel space 0.35 (digits sit at random places, in random tints).
    queries = np.arange(len(features))
    _, by_feature = nearest_neighbors(features, queries, k=5)
    pixels = digits.images.reshape(len(features), -1).astype(np.float32)
    _, by_pixel = nearest_neighbors(pixels, queries, k=5, metric="euclidean")
    feature_agree = (digits.labels[by_feature] == digits.labels[:, None]).mean()
    pixel_agree = (digits.labels[by_pixel] == digits.labels[:, None]).mean()
    assert feature_agree > 0.75
    assert feature_agree > pixel_agree + 0.3


def test_neighbors_grid_picture(digits, features):
    picture = neighbors_grid(
        digits.images, features, [0, 1, 2], k=4, labels=digits.labels.tolist(), tile_size=32
    )
    assert picture.dtype == np.uint8 and picture.ndim == 3
    assert picture.shape[1] > 2 * 5 * 32  # two blocks of 1 + 4 tiles
    with pytest.raises(ParameterError, match="one row per image"):
        neighbors_grid(digits.images[:5], features, [0], k=2)
    with pytest.raises(ParameterError, match="row indices"):
        neighbors_grid(digits.images, features, np.zeros((1, 64)), k=2)


# ---------------------------------------------------------------- 2-D embeddings


def _knn_accuracy(points, labels):
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    return cross_val_score(KNeighborsClassifier(5), points, labels, cv=5).mean()


# Measured on the first 200 held-out digits (5-fold 5-NN on the 2-D map; chance is 0.10):
# PCA 0.72, t-SNE 0.93, UMAP 0.91 (pixels instead of features: 0.19, 0.33, 0.33).
@pytest.mark.parametrize(
    "method, threshold, options",
    [
        ("pca", 0.4, {}),
        ("tsne", 0.6, {"max_iter": 300}),  # fewer iterations than the default 1000: faster
        pytest.param("umap", 0.6, {}, marks=pytest.mark.slow),
    ],
)
def test_embedding_separates_classes(digits, features, method, threshold, options):
    points = embed_2d(features[:200], method, **options)
    assert points.shape == (200, 2) and points.dtype == np.float32
    assert _knn_accuracy(points, digits.labels[:200]) > threshold


def test_embed_2d_small_sets_and_seeds(features):
    for method, options in (("pca", {}), ("tsne", {"max_iter": 250})):
        first = embed_2d(features[:6], method, random_state=1, **options)
        assert first.shape == (6, 2) and np.all(np.isfinite(first))
        again = embed_2d(features[:6], method, random_state=1, **options)
        np.testing.assert_allclose(first, again, atol=1e-5)


def test_embed_2d_exceptions(features):
    with pytest.raises(ParameterError, match="method"):
        embed_2d(features, "mds")
    with pytest.raises(ParameterError, match="at least 3 rows"):
        embed_2d(features[:2])
    with pytest.raises(ParameterError):
        embed_2d(features[:, :1], "pca")
    with pytest.raises(ParameterError, match="NaN"):
        embed_2d(np.full((5, 3), np.inf))
    with pytest.raises(ParameterError):
        embed_2d(features, "pca", not_an_option=3)


# ---------------------------------------------------------------- embedding_plot


def _solid_images(count):
    colours = np.linspace(10, 245, count)
    return np.repeat(colours[:, None, None, None], 8 * 8 * 3, axis=1).reshape(count, 8, 8, 3)


def test_embedding_plot_places_thumbnails():
    points = np.array([[0.0, 0.0], [1.0, 1.0]])  # left-bottom and right-top
    canvas = embedding_plot(
        points, np.stack([np.zeros((4, 4, 3)), np.full((4, 4, 3), 200.0)]), size=40, thumb=10
    )
    assert canvas.shape == (40, 40, 3) and canvas.dtype == np.uint8
    assert canvas[35, 5, 0] == 0  # first image at the bottom left (y goes up)
    assert canvas[5, 35, 0] == 200  # second at the top right
    assert canvas[20, 20, 0] == 255  # background between them


def test_embedding_plot_grid_has_no_overlap():
    count = 10
    images = _solid_images(count)
    rng = np.random.default_rng(0)
    canvas = embedding_plot(rng.normal(size=(count, 2)) * 0.01, images, size=64, grid=True)
    cell = 64 // 4  # ceil(sqrt(10)) = 4 columns, 3 rows
    assert canvas.shape == (3 * cell, 4 * cell, 3)
    values = np.rint(images[:, 0, 0, 0]).astype(np.uint8)
    centres = canvas[cell // 2 :: cell, cell // 2 :: cell, 0].ravel()
    for value in values:  # every image drawn exactly once: nothing hidden under another
        assert (centres == value).sum() == 1


def test_embedding_plot_grid_keeps_layout():
    # four points at the corners land in the four corner cells of a 2 x 2 grid
    points = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    images = _solid_images(4)
    canvas = embedding_plot(points, images, size=20, grid=True)
    corners = [canvas[5, 5, 0], canvas[5, 15, 0], canvas[15, 5, 0], canvas[15, 15, 0]]
    assert corners == np.rint(images[:, 0, 0, 0]).astype(np.uint8).tolist()


def test_embedding_plot_exceptions():
    images = _solid_images(3)
    with pytest.raises(ParameterError, match="one point per image"):
        embedding_plot(np.zeros((2, 2)), images)
    with pytest.raises(ParameterError, match="finite"):
        embedding_plot(np.full((3, 2), np.nan), images)
    with pytest.raises(ParameterError):
        embedding_plot(np.zeros((3, 2)), images, size=10, thumb=20)
    with pytest.raises(ImageError):
        embedding_plot(np.zeros((3, 2)), images[..., 0])
