"""The explorer in a real browser: headless Chromium (Selenium) against `kerasviz explore` on a
free loopback port, with EfficientNet-Lite0's real weights.

The README screenshot comes from this run: it is written to docs/explorer.png when
`KERASVIZ_WRITE_SCREENSHOT=1`, otherwise to the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from .api_client import object_left_picture
from .browser import (
    ExplorerProcess,
    chromium_paths,
    console_errors,
    result_pixels,
    start_chromium,
    wait_for,
)

HOOKS = ("image-input", "technique-select", "class-select", "layer-select", "run", "result-image",
         "activation-grid", "status")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    """`kerasviz explore` (Lite0) with a small images folder, running until the module ends."""
    browser, driver = chromium_paths()
    from kerasviz.images import sample_image, save_image

    root = tmp_path_factory.mktemp("explorer-browser")
    images = root / "images"
    images.mkdir()
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        save_image(images / f"{name}.png", sample_image(name, size=224))
    process = ExplorerProcess(["--images", str(images), "--cache-dir", str(root / "cache")], root / "explorer.log")
    try:
        process.wait_ready()
        yield process, browser, driver, root
    finally:
        process.stop()


@pytest.fixture(scope="module")
def page(explorer):
    """Chromium on the explorer's page, once the page says it is ready."""
    process, browser, driver_path, _ = explorer
    driver = start_chromium(browser, driver_path)
    try:
        driver.get(process.url + "/")
        wait_for(lambda: "Ready" in _testid(driver, "status").text, 60, "the page to load the model's data", driver)
        yield driver
    finally:
        driver.quit()


def _testid(driver, name):
    return driver.find_element("css selector", f'[data-testid="{name}"]')


def _natural_size(driver, name):
    return tuple(driver.execute_script(
        "const i = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); return [i.naturalHeight, i.naturalWidth, i.complete];",
        name))


def _peak_column(pixels: np.ndarray) -> float:
    """Mean column of the hottest 2 % of a jet-coloured heatmap (hot = red, cold = blue)."""
    heat = pixels[..., 0].astype(np.float32) - pixels[..., 2].astype(np.float32)
    hottest = heat >= np.percentile(heat, 98)
    return float(np.nonzero(hottest)[1].mean())


def _use_image(driver, action) -> None:
    """Do `action` (an upload or a sample choice) and wait until the page has a new image predicted."""
    before = driver.execute_script("return document.body.dataset.imageId || ''")
    action()
    wait_for(lambda: driver.execute_script("return !document.body.dataset.busy && (document.body.dataset.imageId || '')")
             not in (False, "", before), 60, "the new image", driver)
    assert "Error" not in _testid(driver, "status").text, _testid(driver, "status").text


def _upload_and_explain(driver, path: Path, technique: str = "gradcam") -> np.ndarray:
    from selenium.webdriver.support.ui import Select

    before = _testid(driver, "result-image").get_attribute("src")
    _use_image(driver, lambda: _testid(driver, "image-input").send_keys(str(path)))
    Select(_testid(driver, "technique-select")).select_by_value(technique)
    _testid(driver, "run").click()
    wait_for(lambda: " done in " in _testid(driver, "status").text, 60, "the explanation", driver)
    wait_for(lambda: _testid(driver, "result-image").get_attribute("src") not in (None, "", before)
             and _natural_size(driver, "result-image")[2], 30, "the result image", driver)
    return result_pixels(driver, "result-image")


def test_explorer_in_chromium(page, explorer, tmp_path):
    """Upload, Grad-CAM on the object, activation grid, no console errors, screenshot, corrupt upload."""
    from PIL import Image
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    from kerasviz.images import sample_image

    driver = page
    for hook in HOOKS:  # all on the first view
        assert _testid(driver, hook).is_displayed(), hook
    assert _testid(driver, "image-input").get_attribute("type") == "file"
    techniques = [o.get_attribute("value") for o in Select(_testid(driver, "technique-select")).options]
    _, registry = explorer[0].get_json("/api/techniques")
    assert techniques == [t["name"] for t in registry["techniques"]] and "gradcam" in techniques
    classes = Select(_testid(driver, "class-select")).options
    assert len(classes) == 1001 and classes[286].get_attribute("value") == "285"

    # the cat in the left half of a wide grey picture: Grad-CAM's peak must be on the left
    photo = tmp_path / "cat-left.png"
    Image.fromarray(object_left_picture(sample_image("chelsea", size=224))).save(photo)
    pixels = _upload_and_explain(driver, photo)
    assert _natural_size(driver, "result-image")[:2] == (224, 224)
    assert _peak_column(pixels) < 112 - 10, _peak_column(pixels)
    top = driver.find_element("css selector", "#predictions li").get_attribute("data-index")
    assert Select(_testid(driver, "class-select")).first_selected_option.get_attribute("value") == top

    # a layer: its activation grid appears
    Select(_testid(driver, "layer-select")).select_by_value("block6a_project_conv")
    wait_for(lambda: "strongest channels" in _testid(driver, "status").text, 60, "the activation grid", driver)
    wait_for(lambda: _natural_size(driver, "activation-grid")[1] > 100, 30, "the grid picture", driver)
    grid = result_pixels(driver, "activation-grid")
    assert grid.std() > 10  # a real picture, not a blank

    # click a channel: its neuron page shows the activation map and guided backprop
    grid_element = _testid(driver, "activation-grid")
    ActionChains(driver).move_to_element_with_offset(
        grid_element, -grid_element.size["width"] // 2 + 5, -grid_element.size["height"] // 2 + 5).click().perform()
    wait_for(lambda: "channel" in driver.find_element("id", "neuron-title").text, 30, "the neuron page", driver)
    strongest = driver.execute_script("return state.grid.channels[0]")  # the top-left tile
    assert driver.find_element("id", "neuron-title").text == f"block6a_project_conv · channel {strongest}"
    for element in ("neuron-activation", "neuron-guided"):
        wait_for(lambda e=element: driver.execute_script(f"return document.getElementById('{e}').naturalWidth") == 224,
                 60, element, driver)
    assert console_errors(driver) == []
    screenshot = REPO / "docs" / "explorer.png" if os.environ.get("KERASVIZ_WRITE_SCREENSHOT") == "1" else tmp_path / "explorer.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(screenshot))
    assert Image.open(screenshot).size[0] >= 1000

    # a corrupt upload: the reason in the status line, and the app keeps working
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG" * 10)
    _testid(driver, "image-input").send_keys(str(corrupt))
    wait_for(lambda: "Error" in _testid(driver, "status").text, 30, "the error message", driver)
    assert "image" in _testid(driver, "status").text.lower()
    assert console_errors(driver, allowed=("status of 400",)) == []
    assert explorer[0].get_json("/api/health")[0] == 200
    # the same picture mirrored: the peak moves to the right half
    photo = tmp_path / "cat-right.png"
    Image.fromarray(object_left_picture(sample_image("chelsea", size=224), side="right")).save(photo)
    pixels = _upload_and_explain(driver, photo)
    assert _peak_column(pixels) > 112 + 10, _peak_column(pixels)
    assert console_errors(driver) == []


@pytest.mark.slow
def test_neuron_page_compare_and_style_in_chromium(page, explorer, tmp_path):
    """Click a channel: activation map, guided backprop and a feature visualization appear; compare; style."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    driver = page
    _use_image(driver, lambda: Select(driver.find_element("id", "sample-select")).select_by_value("coffee"))
    Select(_testid(driver, "layer-select")).select_by_value("block5a_project_conv")
    wait_for(lambda: "strongest channels" in _testid(driver, "status").text, 60, "the grid", driver)
    grid = _testid(driver, "activation-grid")
    ActionChains(driver).move_to_element_with_offset(grid, grid.size["width"] // 2 - 5, -grid.size["height"] // 2 + 5).click().perform()
    wait_for(lambda: "channel" in driver.find_element("id", "neuron-title").text, 30, "the neuron page", driver)
    wait_for(lambda: driver.execute_script("return document.getElementById('neuron-feature').naturalWidth") > 0,
             400, "the feature visualization", driver)
    wait_for(lambda: driver.execute_script("return document.getElementById('neuron-patches').naturalWidth") > 0,
             400, "the top patches", driver)
    driver.find_element("id", "compare-button").click()
    wait_for(lambda: "Compared" in _testid(driver, "status").text, 120, "the comparison", driver)
    assert len(driver.find_elements("css selector", "#compare-results img")) == 3
    # a feature visualization can be cancelled from the page
    grid = _testid(driver, "activation-grid")
    ActionChains(driver).move_to_element_with_offset(grid, 0, -grid.size["height"] // 2 + 5).click().perform()
    wait_for(lambda: driver.find_element("id", "feature-cancel").is_displayed(), 30, "the cancel button", driver)
    driver.find_element("id", "feature-cancel").click()
    wait_for(lambda: "cancelled" in driver.find_element("id", "feature-status").text, 120, "the cancellation", driver)
    # the webcam (Chromium's fake camera): a snapshot becomes the current image
    driver.find_element("id", "camera-button").click()
    wait_for(lambda: driver.find_element("id", "snap-button").is_enabled(), 30, "the camera", driver)
    wait_for(lambda: driver.execute_script("return document.getElementById('camera').videoWidth") > 0, 30, "video", driver)
    _use_image(driver, lambda: driver.find_element("id", "snap-button").click())
    driver.find_element("id", "style-button").click()
    wait_for(lambda: driver.execute_script("return document.getElementById('style-image').naturalWidth") == 224,
             120, "the stylized image", driver)
    assert console_errors(driver) == []
    driver.set_window_size(1400, 1400)
    driver.save_screenshot(str(tmp_path / "explorer-neuron.png"))
