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
    assert main(["stylize", "skimage:chelsea", "--model", str(base), "--size", "60000"]) == 2  # was a MemoryError
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and all(line.startswith("kerasviz stylize: error:") for line in errors)
    assert "--size must be between 4 and 4096" in errors[-1]


def test_plain_stylize_uses_the_bundled_network_and_says_which_style(tmp_path, capsys):
    """`kerasviz stylize IMAGE` without --model / --server: the bundled 3-style network, style 0."""
    from kerasviz.faststyle.weights import load_demo_network

    out = tmp_path / "plain.png"
    assert main(["stylize", "skimage:chelsea", "--size", "48", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    net, info = load_demo_network()
    first = info["styles"][0].split(":")[-1]
    assert f"bundled network style_mix3.keras, style {first}" in said
    expected = stylize(net, load_image(np.asarray(sample_image("chelsea")), (32, 48)))
    assert np.abs(load_image(out) - expected).max() <= 1
    assert main(["stylize", "skimage:chelsea", "--size", "48", "--style-weights", "0", "0.5", "0.5", "--out", str(out)]) == 0
    assert "mix " in capsys.readouterr().out


def test_stylizer_is_always_a_callable(model_dir, tmp_path):
    from kerasviz.cli.stylize_command import stylizer

    base, net = model_dir
    keras_path = tmp_path / "net.keras"
    net.save(keras_path)
    image = sample_image("chelsea", 32)
    for model in (str(base), str(keras_path), None):
        args = build_parser().parse_args(["stylize", "x.png"] + (["--model", model] if model else []))
        run = stylizer(args)
        assert callable(run) and run(image, None).shape == (32, 32, 3)


def test_cli_choices_match_the_library():
    """The parser's own copies (no TensorFlow import to build it) equal the library's lists."""
    from kerasviz.cli import faststyle as cli
    from kerasviz.faststyle.distribute import STRATEGIES
    from kerasviz.faststyle.litert import QUANTIZATIONS

    assert cli.STRATEGIES == STRATEGIES and cli.QUANTIZATIONS == tuple(q for q in QUANTIZATIONS if q)


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


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    net = build_transform_net(3, width=4)
    path = tmp_path_factory.mktemp("nets") / "net.keras"
    net.save(path)
    return path, net


def test_export_style_tflite_and_stylize_with_it(keras_file, tmp_path, capsys):
    path, net = keras_file
    out = tmp_path / "lite" / "style.tflite"
    assert main(["export-style", str(path), "--format", "tflite", "--quantization", "float16", "--out", str(out)]) == 0
    assert out.is_file() and f"wrote {out}" in capsys.readouterr().out
    png = tmp_path / "o.png"
    assert main(["stylize", "skimage:chelsea", "--model", str(out), "--size", "40", "--style-weights", "0", "1", "0",
                 "--out", str(png)]) == 0
    expected = stylize(net, load_image(np.asarray(sample_image("chelsea")), (27, 40)), [0, 1, 0])
    assert np.abs(load_image(png) - expected).max() <= 3  # float16 weights
    assert main(["export-style", str(path), "--out", str(tmp_path / "models")]) == 0
    assert (tmp_path / "models" / "1" / "saved_model.pb").is_file()
    assert main(["export-style", str(path), "--out", str(tmp_path / "m2"), "--quantization", "dynamic"]) == 2
    assert main(["export-style", str(tmp_path / "missing.keras"), "--out", str(tmp_path / "m3")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("kerasviz export-style: error:") for line in errors)


def test_stylize_video(keras_file, tmp_path, capsys):
    from kerasviz.faststyle.video import read_video

    path, net = keras_file
    source = _write_clip(tmp_path / "in.mp4")
    out = tmp_path / "out.mp4"
    assert main(["stylize", str(source), "--model", str(path), "--style-weights", "0", "0", "1", "--batch-size", "3",
                 "--out", str(out)]) == 0
    assert "7 frames, 10 fps, 48x32" in capsys.readouterr().out
    meta, frames = read_video(out)
    assert meta["fps"] == 10 and len(list(frames)) == 7
    assert main(["stylize", str(source), "--model", str(path), "--no-stable", "--out", str(tmp_path / "n.mp4")]) == 0
    assert main(["stylize", str(tmp_path / "none.mp4"), "--model", str(path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def _write_clip(path, frames=7):
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(str(path), (48, 32), fps=10, macro_block_size=1)
    writer.send(None)
    for t in range(frames):
        writer.send(np.ascontiguousarray(sample_image("astronaut", 96)[t : t + 32, 2 * t : 2 * t + 48], np.uint8))
    writer.close()
    return path


def test_stylize_video_through_the_server(keras_file, tmp_path, capsys):
    from kerasviz.faststyle.video import read_video
    from kerasviz.serving import ModelConfigOptions, ServingServer

    path, net = keras_file
    export_style_model(net, tmp_path / "models")
    server = ServingServer("style", tmp_path / "models", model_config=ModelConfigOptions(file_system_poll_wait_seconds=0))
    grpc_port, rest_port = server.start()
    try:
        source = _write_clip(tmp_path / "in.mp4")
        for address, name in ((f"127.0.0.1:{grpc_port}", "grpc.mp4"), (f"http://127.0.0.1:{rest_port}", "rest.mp4")):
            assert main(["stylize", str(source), "--server", address, "--style-weights", "0", "1", "0", "--no-stable",
                         "--batch-size", "4", "--out", str(tmp_path / name)]) == 0
        local = tmp_path / "local.mp4"
        assert main(["stylize", str(source), "--model", str(path), "--style-weights", "0", "1", "0", "--no-stable",
                     "--out", str(local)]) == 0
    finally:
        server.stop(grace=1)
    assert capsys.readouterr().out.count("7 frames, 10 fps, 48x32") == 3
    served, via_rest, expected = (np.stack(list(read_video(tmp_path / n)[1])) for n in ("grpc.mp4", "rest.mp4", "local.mp4"))
    assert np.abs(served.astype(int) - expected).mean() < 1 and np.abs(via_rest.astype(int) - expected).mean() < 1


def test_train_style_ctrl_c_is_clean(monkeypatch, tmp_path, capsys):
    import kerasviz.faststyle as faststyle

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(faststyle, "train_style_network", interrupted)
    code = main(["train-style", "--content", "skimage:chelsea", "--style", "skimage:brick", "--image-size", "32",
                 "--checkpoint-dir", str(tmp_path / "ck")])
    err = capsys.readouterr().err
    assert code == 130 and "Traceback" not in err
    assert "interrupted; the last checkpoint in" in err and "run the same command again to resume" in err


def test_train_style_multi_worker_needs_tf_config(monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    assert main(["train-style", "--content", "skimage:chelsea", "--style", "skimage:brick", "--strategy", "multi_worker"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kerasviz train-style: error:") and "TF_CONFIG" in err and "\n" not in err
