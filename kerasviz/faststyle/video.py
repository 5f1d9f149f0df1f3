"""Stylize a video with a transform network: streamed, batched, frame rate and audio kept, and
temporally stable.

Frames are read and written by the ffmpeg binary that `imageio-ffmpeg` ships (no system codecs
needed), `batch_size` frames at a time, so memory stays bounded whatever the length. Each batch
goes through the network in one compiled call (or one request to TF Serving).

Stylizing frames independently flickers: small changes in a frame move the network's strokes.
As in the video style-transfer literature (Ruder, Dosovitskiy & Brox, 2016; the blending of Lai
et al., 2018), each stylized frame is blended with the previous *output* frame warped to it by
optical flow (OpenCV's DIS flow on the input frames), only where the flow is reliable: the
forward-backward consistency check of Sundaram et al. (2010) marks occluded and disoccluded
pixels, motion boundaries and pixels that leave the frame, and a brightness check marks wrong
matches (e.g. at a scene cut). `stable=False` turns this off (frame-by-frame).

ffmpeg is started without imageio-ffmpeg's `preexec_fn=os.setpgrp` (its documented switch
`IMAGEIO_FFMPEG_NO_PREVENT_SIGINT`, set here unless the user set it): a pre-exec hook makes Python
`fork()` a process whose gRPC threads (a `StyleClient`, the embedded server) then run their fork
handlers in the child, which now and then killed ffmpeg before it started (a broken pipe, or
"cannot read this video" with a gRPC epoll error). Without the hook Python uses `vfork`, which runs
no fork handlers. The price: Ctrl-C reaches ffmpeg too, which ends the partial video cleanly.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Tuple, Union

import cv2
import numpy as np

from ..checks import check_bool, check_fraction, check_int, check_number
from ..errors import ImageError, ParameterError
from ..images.longer_side import longer_side_shape
from ..progress import progress_bar

os.environ.setdefault("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", "1")

__all__ = ["VideoResult", "FlowBlender", "read_video", "stylize_video", "MIN_RESIZE_SIDE", "MAX_RESIZE_SIDE"]

Stylizer = Callable[[np.ndarray], np.ndarray]

#: Bounds of the longer side `stylize_video(size=...)` and `kerasviz stylize --size` resize to:
#: 4..4096 px (4096² is 16.8 M pixels; the width-32 network's activations take ~2 GB per layer there).
MIN_RESIZE_SIDE, MAX_RESIZE_SIDE = 4, 4096


@dataclass
class VideoResult:
    """What `stylize_video` returns.

    Attributes:
        path: The written video.
        frames: Frames written.
        fps: Frame rate (that of the source).
        size: `(height, width)` of the written frames.
        audio: Whether the source's audio track was copied in.
        seconds: Wall-clock time of the whole call.
        frames_per_second: `frames / seconds` (reading, stylizing, blending and writing).
    """

    path: Path
    frames: int
    fps: float
    size: Tuple[int, int]
    audio: bool
    seconds: float
    frames_per_second: float


class FlowBlender:
    """Blend each stylized frame with the previous output warped by reliable optical flow."""

    def __init__(self, blend: float = 0.7, *, consistency: float = 0.01, brightness: float = 20.0) -> None:
        """Create the blender (one per video: it keeps the previous frames).

        Args:
            blend: Weight of the warped previous output where the flow is reliable, in `[0, 1)`.
            consistency: Relative tolerance of the forward-backward check (Sundaram et al.).
            brightness: Largest mean absolute difference (0–255) between a pixel and its warped
                previous input for the match to count (catches scene cuts and flow failures).
        """
        self.blend = float(blend)
        self.consistency = float(consistency)
        self.brightness = float(brightness)
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._previous: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None  # gray, input, output

    def reliable_warp(self, gray: np.ndarray, previous_gray: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where each pixel of the current frame was in the previous one, and whether that is reliable.

        Args:
            gray: Current input frame, uint8 `(H, W)`.
            previous_gray: Previous input frame, uint8 `(H, W)`.

        Returns:
            `(map_x, map_y, reliable)`: float32 `(H, W)` coordinates in the previous frame (for
            `cv2.remap`) and a bool `(H, W)` mask passing the forward-backward, motion-boundary
            and in-frame checks.
        """
        height, width = gray.shape
        backward = self._flow.calc(gray, previous_gray, None)  # current pixel -> previous frame
        forward = self._flow.calc(previous_gray, gray, None)  # previous pixel -> current frame
        grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
        map_x, map_y = grid_x + backward[..., 0], grid_y + backward[..., 1]
        forward_there = cv2.remap(forward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        round_trip = np.sum((backward + forward_there) ** 2, axis=-1)
        scale = np.sum(backward**2, axis=-1) + np.sum(forward_there**2, axis=-1)
        reliable = round_trip <= self.consistency * scale + 0.5
        du = np.stack(np.gradient(backward[..., 0]), -1)
        dv = np.stack(np.gradient(backward[..., 1]), -1)
        boundary = np.sum(du**2, -1) + np.sum(dv**2, -1) > 0.01 * np.sum(backward**2, -1) + 0.002
        inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
        return map_x, map_y, reliable & ~boundary & inside

    def __call__(self, frame: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The stable output for the next frame.

        Args:
            frame: The input frame, uint8 `(H, W, 3)`.
            stylized: The network's output for it, uint8 `(H, W, 3)`.

        Returns:
            uint8 `(H, W, 3)`: `stylized` where the flow is unreliable (and for the first
            frame), blended with the warped previous output elsewhere.
        """
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if self._previous is None or self._previous[0].shape != gray.shape or self.blend == 0:
            output = stylized
        else:
            previous_gray, previous_frame, previous_output = self._previous
            map_x, map_y, reliable = self.reliable_warp(gray, previous_gray)
            warp = lambda image: cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            mismatch = np.abs(warp(previous_frame).astype(np.float32) - frame).mean(axis=-1)
            reliable &= mismatch <= self.brightness
            weight = cv2.GaussianBlur(reliable.astype(np.float32), (5, 5), 0)[..., None] * self.blend
            blended = weight * warp(previous_output).astype(np.float32) + (1 - weight) * stylized
            output = np.clip(np.round(blended), 0, 255).astype(np.uint8)
        self._previous = (gray, frame, output)
        return output


def _check_source(source: Union[str, os.PathLike]) -> Path:
    path = Path(source)
    if not path.is_file():
        raise ImageError(f"The video file does not exist. Received: source={str(source)!r}")
    return path


def read_video(source: Union[str, os.PathLike]) -> Tuple[dict, Iterator[np.ndarray]]:
    """Open a video for streaming.

    Args:
        source: A video file any ffmpeg reads (mp4, mov, avi, webm, gif, ...).

    Returns:
        `(meta, frames)`: ffmpeg's metadata (`fps`, `size` as `(width, height)`, `duration`,
        `audio_codec` when there is an audio track) and an iterator of uint8 `(H, W, 3)` frames.

    Raises:
        ImageError: The file is missing or ffmpeg cannot read it.
    """
    import imageio_ffmpeg

    path = _check_source(source)
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as error:
        reason = (str(error).strip().splitlines() or ["no video stream"])[-1]
        raise ImageError(f"ffmpeg cannot read this video ({reason}). Received: source={str(source)!r}") from None
    width, height = meta["size"]

    def frames() -> Iterator[np.ndarray]:
        for data in reader:
            yield np.frombuffer(data, np.uint8).reshape(height, width, 3)

    return meta, frames()


def _resize(frame: np.ndarray, size: Optional[Tuple[int, int]]) -> np.ndarray:
    if size is None or frame.shape[:2] == size:
        return frame
    return cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def _stylizer(net: Any, style_weights: Any, batch_size: int) -> Stylizer:
    """A function `frames (N, H, W, 3) uint8 -> stylized uint8` from a network or a callable."""
    import keras

    if isinstance(net, keras.Model):
        from .inference import check_style_weights, stylize
        from .network import transform_net_config

        n_styles = transform_net_config(net)["n_styles"]
        check_style_weights(style_weights, n_styles, 1)  # fail before ffmpeg starts
        return lambda frames: stylize(net, frames, style_weights, batch_size=batch_size)
    if callable(net):
        return lambda frames: np.asarray(net(frames, style_weights))
    raise ParameterError(
        "`net` must be a transform network (keras.Model) or a callable (frames, style_weights) -> "
        f"stylized frames, e.g. a StyleClient's stylize. Received: net of type {type(net).__name__}"
    )


def stylize_video(
    net: Any,
    source: Union[str, os.PathLike],
    out: Union[str, os.PathLike],
    style_weights: Any = None,
    *,
    stable: bool = True,
    blend: float = 0.7,
    batch_size: int = 8,
    size: Optional[int] = None,
    quality: float = 8.0,
    progress: Optional[bool] = None,
) -> VideoResult:
    """Stylize every frame of a video and write the result, keeping its frame rate and audio.

    Args:
        net: A transform network (`build_transform_net`, trained), or a callable
            `(frames uint8 (N, H, W, 3), style_weights) -> (N, H, W, 3)` such as
            `lambda f, w: StyleClient(...).stylize(f, style_weights=w)` (TF Serving).
        source: Input video file (anything ffmpeg reads).
        out: Output video (`.mp4` recommended: H.264; parent folders are created).
        style_weights: For a multi-style network, one convex mix `(n_styles,)` for all frames.
        stable: Blend with the flow-warped previous output where reliable (see module doc);
            `False` stylizes frame by frame.
        blend: Weight of the warped previous output on reliable pixels, in `[0, 0.95]`.
        batch_size: Frames per network call (and the most frames held in memory), >= 1.
        size: Resize frames so the longer side is this first, in [4, `MAX_RESIZE_SIDE`] = [4, 4096]
            (`None` keeps the source size).
        quality: Encoder quality in `[0, 10]` (10 best; imageio-ffmpeg's scale).
        progress: Show a progress bar; `None` uses the global setting.

    Returns:
        A `VideoResult` (frames, fps, size, audio kept, frames/s).

    Raises:
        ImageError: The source is missing or unreadable, or has frames smaller than 4×4.
        ModelError: `net` is a Keras model but not a transform network.
        ParameterError: Bad `style_weights`, `blend`, `batch_size`, `size` or `quality`.
    """
    import imageio_ffmpeg

    started = time.perf_counter()
    stable = check_bool(stable, "stable")
    blend = check_fraction(blend, "blend", high=0.95)
    batch_size = check_int(batch_size, "batch_size", low=1, high=1024)
    quality = check_number(quality, "quality", low=0, high=10)
    longer = None if size is None else check_int(size, "size", low=MIN_RESIZE_SIDE, high=MAX_RESIZE_SIDE)
    run = _stylizer(net, style_weights, batch_size)
    meta, frames = read_video(source)
    width, height = meta["size"]
    shape = (height, width)
    if longer is not None:
        shape = longer_side_shape(height, width, longer, min_side=MIN_RESIZE_SIDE)
    if min(shape) < 4:
        raise ImageError(f"Video frames must be at least 4×4. Received: source frames of {height}×{width}")
    fps = float(meta["fps"])
    audio = bool(meta.get("audio_codec")) and not str(out).lower().endswith(".gif")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    even = shape[0] % 2 == 0 and shape[1] % 2 == 0  # 4:2:0 chroma needs even sides; else keep 4:4:4
    writer = imageio_ffmpeg.write_frames(
        str(out), (shape[1], shape[0]), fps=fps, quality=quality, macro_block_size=1,
        pix_fmt_out="yuv420p" if even else "yuv444p",
        audio_path=str(source) if audio else None, audio_codec="aac" if audio else None,
    )
    writer.send(None)  # start ffmpeg
    blender = FlowBlender(blend) if stable else None
    estimate = int(round(float(meta.get("duration") or 0) * fps)) or None
    bar = progress_bar(total=estimate, desc="stylize-video", unit="frame", progress=progress)
    count = 0
    try:
        batch = []
        for frame in _chain(frames, [None]):
            if frame is not None:
                batch.append(_resize(frame, shape))
            if batch and (len(batch) == batch_size or frame is None):
                inputs = np.stack(batch)
                outputs = run(inputs)
                for original, stylized in zip(inputs, outputs):
                    result = blender(original, stylized) if blender is not None else stylized
                    writer.send(np.ascontiguousarray(result, np.uint8))
                count += len(batch)
                bar.update(len(batch))
                batch = []
    finally:
        bar.close()
        writer.close()
        frames.close()
    seconds = time.perf_counter() - started
    return VideoResult(out, count, fps, shape, audio, seconds, count / seconds if seconds else 0.0)


def _chain(first: Iterator[Any], rest: list) -> Iterator[Any]:
    yield from first
    yield from rest
