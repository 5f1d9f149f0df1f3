from kerasviz.cli import main
from kerasviz.images import sample_image, save_image


def test_predict_end_to_end(tmp_path, capsys):
    path = save_image(tmp_path / "cat.png", sample_image("chelsea"))
    assert main(["--no-progress", "predict", str(path), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "1. Egyptian cat" in out and "(class 285)" in out


def test_errors_are_one_line_not_tracebacks(tmp_path, capsys):
    missing = tmp_path / "missing.png"
    assert main(["predict", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "kerasviz predict: error:" in err and "Traceback" not in err


def test_layers_lists_names(capsys):
    assert main(["layers", "--backbone", "vgg16", "--weights", "none"]) == 0
    assert "block5_conv3" in capsys.readouterr().out
