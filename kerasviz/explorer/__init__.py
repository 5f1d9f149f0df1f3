"""`kerasviz explore`: an interactive explorer in the browser, and the small JSON API behind it.

A long-lived aiohttp process holds one model and its compiled functions; the page (plain
HTML / JS / CSS under `static/`, no CDN) calls the API. Technique names and options come from
`kerasviz.registry`, so a technique added there appears in the page without a line here.

Modules: `pictures` (PNG bytes), `image_store` (uploads, samples, the images folder),
`workbench` (the model's computations), `jobs` (long work with progress and cancel),
`neuron_jobs` (feature visualization and top patches, cached on disk), `routes` (the API),
`app` (the aiohttp application), `server` (binding and serving).
"""

from __future__ import annotations

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
