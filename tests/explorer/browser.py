"""Helpers of the browser tests: a real `kerasviz explore` subprocess on a free loopback port and
headless Chromium driven by Selenium (Debian's `chromium` and `chromium-driver`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, List, Optional

import pytest

#: How CI installs what these tests need (no browser download at run time).
INSTALL_HINT = "apt-get install -y chromium chromium-driver && pip install selenium (the [test] extra)"


def chromium_paths() -> tuple[str, str]:
    """`(chromium, chromedriver)` paths, or skip the test with the reason."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip(f"browser tests need Chromium and its driver, not installed here: {INSTALL_HINT}")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip(f"browser tests need Selenium: {INSTALL_HINT}")
    return browser, driver


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ExplorerProcess:
    """`python -m kerasviz explore ...` in a subprocess, its output in a log file."""

    def __init__(self, args: List[str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KERASVIZ_PROGRESS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.log_path = log
        self._log = open(log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kerasviz", "explore", "--port", str(self.port), *args],
            stdout=self._log, stderr=subprocess.STDOUT, env=env,
        )

    def get_json(self, path: str) -> tuple[int, Any]:
        """GET an API route."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def wait_ready(self, timeout: float = 400.0) -> dict:
        """Wait for `/api/health` to answer 200 (fails with the log if the process dies)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"kerasviz explore exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                status, body = self.get_json("/api/health")
                if status == 200:
                    return body
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"kerasviz explore not ready:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        """Terminate the process (this one only)."""
        self.process.terminate()
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def start_chromium(browser: str, driver: str, width: int = 1400, height: int = 1000) -> Any:
    """Headless Chromium with console logging on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", "--use-fake-ui-for-media-stream",
                 "--use-fake-device-for-media-stream", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def wait_for(condition: Any, timeout: float = 120.0, what: str = "", driver: Optional[Any] = None) -> Any:
    """Poll `condition()` until truthy; fail with the page's status text otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    status = driver.find_element("css selector", "[data-testid=status]").text if driver else ""
    raise AssertionError(f"timed out waiting for {what}; status: {status!r}")


def console_errors(driver: Any, allowed: tuple = ()) -> List[str]:
    """SEVERE browser-console entries since the last call, minus those containing an allowed text."""
    entries = driver.get_log("browser")
    return [e["message"] for e in entries if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)]


def result_pixels(driver: Any, testid: str) -> Any:
    """The RGB pixels of an `<img>` on the page, read through a canvas, as a uint8 array."""
    import numpy as np

    data = driver.execute_script(
        """
        const image = document.querySelector(`[data-testid="${arguments[0]}"]`);
        const canvas = document.createElement("canvas");
        canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
        const context = canvas.getContext("2d");
        context.drawImage(image, 0, 0);
        return [canvas.width, canvas.height, Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data)];
        """,
        testid,
    )
    width, height, flat = data
    return np.asarray(flat, np.uint8).reshape(height, width, 4)[..., :3]
