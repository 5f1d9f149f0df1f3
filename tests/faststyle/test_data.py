import numpy as np
import pytest

from kerasviz.errors import ImageError
from kerasviz.faststyle.data import list_image_files, training_dataset
from kerasviz.images import sample_image, save_image


@pytest.fixture(scope="module")
def photos():
    return np.stack([sample_image(n, (40, 56)) for n in ("chelsea", "coffee", "astronaut")])


def _take(dataset, n):
    return [(c.numpy(), s.numpy()) for c, s in dataset.take(n)]


def test_batches_shapes_ranges(photos):
    crops, styles = _take(training_dataset(photos, 32, 4, 3), 1)[0]
    assert crops.shape == (4, 32, 32, 3) and crops.dtype == np.float32
    assert 0 <= crops.min() and crops.max() <= 255
    assert styles.shape == (4,) and styles.dtype == np.int32 and set(styles) <= {0, 1, 2}


def test_stream_from_step_k_is_the_tail_of_the_stream_from_0(photos):
    full = _take(training_dataset(photos, 32, 2, 3, start_step=0, seed=7), 5)
    tail = _take(training_dataset(photos, 32, 2, 3, start_step=3, seed=7), 2)
    for (a, sa), (b, sb) in zip(full[3:], tail):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(sa, sb)
    other = _take(training_dataset(photos, 32, 2, 3, seed=8), 1)[0][0]
    assert not np.array_equal(other, full[0][0])


def test_each_epoch_visits_every_image_once(photos):
    # shorter side 40 = crop size: no resize, each crop is a 40x40 window of one 40x56 photo
    crops = np.concatenate([c for c, _ in _take(training_dataset(photos, 40, 3, 1), 2)])

    def source(crop):
        return [i for i, p in enumerate(photos) if any(np.array_equal(crop, p[:, o : o + 40]) for o in range(17))]

    found = [source(c) for c in crops]
    assert all(len(f) == 1 for f in found)
    assert sorted(f[0] for f in found[:3]) == [0, 1, 2] and sorted(f[0] for f in found[3:]) == [0, 1, 2]


def test_folder_source(tmp_path, photos):
    (tmp_path / "sub").mkdir()
    save_image(tmp_path / "a.png", photos[0])
    save_image(tmp_path / "sub" / "b.jpg", photos[1])
    (tmp_path / "notes.txt").write_text("not an image")
    assert [p.name for p in list_image_files(tmp_path)] == ["a.png", "b.jpg"]
    crops, _ = _take(training_dataset(tmp_path, 24, 2, 1), 1)[0]
    assert crops.shape == (2, 24, 24, 3)


def test_bad_sources(tmp_path):
    with pytest.raises(ImageError):
        list_image_files(tmp_path / "missing")
    with pytest.raises(ImageError):
        list_image_files(tmp_path)
    (tmp_path / "x.png").write_bytes(b"garbage")
    with pytest.raises(ImageError, match="x.png"):
        list_image_files(tmp_path)
    with pytest.raises(ImageError):
        training_dataset(np.zeros((2, 8, 8)), 32, 1, 1)


def test_augment_scales_flips_and_stays_resumable(photos):
    full = _take(training_dataset(photos, 20, 3, 1, seed=3, augment=True), 6)
    tail = _take(training_dataset(photos, 20, 3, 1, start_step=4, seed=3, augment=True), 2)
    for (a, _), (b, _) in zip(full[4:], tail):
        np.testing.assert_array_equal(a, b)
    crops = np.concatenate([c for c, _ in full])
    assert crops.shape == (18, 20, 20, 3) and 0 <= crops.min() and crops.max() <= 255
    # with scales in [20, 40] px and flips, crops are no longer windows of the images at one scale
    plain = np.concatenate([c for c, _ in _take(training_dataset(photos, 20, 3, 1, seed=3), 6)])
    assert not np.allclose(crops, plain)
