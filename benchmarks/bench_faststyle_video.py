"""Video stylization throughput: frames per second of `stylize_video` at 256² (reading, batched
network calls, flow-based stabilization, H.264 writing), stable vs frame-by-frame, on a synthetic
pan-and-zoom clip of a skimage photo with the bundled network.

`ratio` = frame-by-frame seconds / stable seconds (< 1: the cost of the optical-flow blending).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict, List

import cv2
import imageio_ffmpeg
import numpy as np

from benchmarks.common import format_table, ratio_row
from kerasviz.faststyle import stylize_video
from kerasviz.faststyle.weights import load_demo_network


def _clip(path: Path, frames: int, side: int) -> Path:
    import skimage.data

    photo = skimage.data.astronaut()
    writer = imageio_ffmpeg.write_frames(str(path), (side, side), fps=25, quality=9, macro_block_size=1)
    writer.send(None)
    for t in range(frames):
        scale = 1.6 - 0.4 * t / (frames - 1)
        cx, cy = 200 + 80 * t / (frames - 1), 210
        matrix = np.array([[scale, 0, cx - scale * side / 2], [0, scale, cy - scale * side / 2]])
        writer.send(np.ascontiguousarray(cv2.warpAffine(photo, matrix, (side, side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                                        borderMode=cv2.BORDER_REFLECT)))
    writer.close()
    return path


def run(quick: bool = False) -> List[Dict[str, Any]]:
    """Time `stylize_video` at 256², stable and frame by frame.

    Args:
        quick: 24 frames instead of 64.

    Returns:
        One `ratio_row` with `stable_fps` and `naive_fps`.
    """
    net = load_demo_network()[0]
    frames = 24 if quick else 64
    with tempfile.TemporaryDirectory() as folder:
        source = _clip(Path(folder) / "clip.mp4", frames, 256)
        stylize_video(net, source, Path(folder) / "warm.mp4", [0, 0, 1], progress=False)  # trace once
        naive = stylize_video(net, source, Path(folder) / "naive.mp4", [0, 0, 1], stable=False, progress=False)
        stable = stylize_video(net, source, Path(folder) / "stable.mp4", [0, 0, 1], progress=False)
    row = ratio_row(f"stylize_video 256² x {frames} frames (bundled w16)", "frame by frame", "stable (DIS flow blend)",
                    naive.seconds, stable.seconds)
    row["naive_fps"], row["stable_fps"] = naive.frames_per_second, stable.frames_per_second
    return [row]


if __name__ == "__main__":
    results = run()
    print(format_table(results))
    for r in results:
        print(f"{r['benchmark']}: stable {r['stable_fps']:.1f} frames/s, frame by frame {r['naive_fps']:.1f} frames/s")
