import numpy as np
import pytest

from kerasviz.cli import build_parser, main
from kerasviz.faststyle import build_transform_net, export_style_model, stylize
from kerasviz.images import load_image, sample_image


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    net = build_transform_net(2, width=4)
    base = tmp_path_factory.mktemp("models") / "style"
    export_style_model(net, base)
    return base, net


def test_stylize_writes_png(model_dir, tmp_path, capsys):
    base, net = model_dir
    out = tmp_path / "out.png"
    code = main(["stylize", "skimage:chelsea", "--model", str(base), "--style-weights", "0.5", "0.5",
                 "--size", "64", "--out", str(out)])
    assert code == 0 and "wrote" in capsys.readouterr().out
    picture = load_image(out)
    assert picture.shape == (43, 64, 3)
    expected = stylize(net, load_image(np.asarray(sample_image("chelsea")), (43, 64)), [0.5, 0.5])
    assert np.abs(picture - expected).max() <= 1


def test_stylize_errors_are_one_line(model_dir, tmp_path, capsys):
    base, _ = model_dir
    assert main(["stylize", "skimage:chelsea", "--model", str(base), "--style-weights", "1", "1",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert main(["stylize", "skimage:no_such_picture", "--model", str(base)]) == 2
    assert main(["stylize", "skimage:chelsea", "--model", str(tmp_path / "empty")]) == 2
    assert main(["stylize", "skimage:chelsea"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and all(line.startswith("kerasviz stylize: error:") for line in errors)


def test_stylize_parser_is_extensible():
    parser = build_parser()
    args = parser.parse_args(["stylize", "a.png", "--model", "m"])
    assert args.model == "m" and args.style_weights is None and callable(args.handler)


@pytest.mark.slow
def test_train_style_end_to_end(tmp_path, capsys):  # ~30-50 s: traces Lite0's gradient
    folder = tmp_path / "photos"
    folder.mkdir()
    from kerasviz.images import save_image

    save_image(folder / "a.png", sample_image("chelsea", 40))
    save_image(folder / "b.jpg", sample_image("coffee", 48))
    args = ["train-style", "--content", str(folder), "--style", "skimage:brick", "--image-size", "32",
            "--batch-size", "1", "--steps", "2", "--width", "4", "--checkpoint-dir", str(tmp_path / "ck"),
            "--checkpoint-every", "1", "--save", str(tmp_path / "net.keras"), "--export", str(tmp_path / "models")]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "trained 2 steps (from 0)" in text and (tmp_path / "models" / "1" / "saved_model.pb").is_file()
    assert (tmp_path / "net.keras").is_file()
    assert main(["train-style", "--content", str(tmp_path / "nothing"), "--style", "skimage:brick",
                 "--image-size", "32", "--steps", "1"]) == 2
