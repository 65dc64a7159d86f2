"""Real-browser test of the explorer: Voila serves notebook 06, headless Chromium drives it.

Starts ``voila`` on 127.0.0.1 with a free port, loads the page, switches the fusion strategy in
the ``<select>`` like a user, and checks that the fused image really changed (pixels of the
element's screenshot, not only its URL). Prints the in-browser latency from the change to the
new image, and saves a full-page screenshot (default ``results/explorer/screenshot.png``).

Needs Chromium and its driver (Debian: ``apt-get install -y chromium chromium-driver``); skipped
when they are missing. The page uses DenseFuse (released weights in ``data/``) unless
``EXPLORER_CHECKPOINT`` names a Res2NetFuse checkpoint, so it does not depend on the pipeline.
Run it with ``tests/browser/run_browser_test.sh``.
"""

from __future__ import annotations

import io as bytes_io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "06_explore_fusion_strategies.ipynb"
SCREENSHOT = Path(os.environ.get("EXPLORER_SCREENSHOT", ROOT / "results" / "explorer" / "screenshot.png"))
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1600,1500")
PAGE_TIMEOUT = 240  # s: kernel start, imports, model load and the first encode on a busy 2-core machine

webdriver = pytest.importorskip("selenium.webdriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="needs chromium + chromedriver (apt-get install -y chromium chromium-driver)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def voila_url(data_dir: Path) -> Iterator[str]:
    """Serve notebook 06 (parameterised for DenseFuse or $EXPLORER_CHECKPOINT) with Voila; yield its URL."""
    ckpt = os.environ.get("EXPLORER_CHECKPOINT", "")
    params = {"model": "res2netfuse", "checkpoint": ckpt} if ckpt else {"model": "densefuse"}
    work = Path(tempfile.mkdtemp(prefix="explorer-voila-"))
    nb = parameterize_notebook(load_notebook_node(str(NOTEBOOK)), {**params, "device": "cpu"})
    nbformat.write(nb, work / NOTEBOOK.name)
    port = free_port()
    env = {**os.environ, "RES2NETFUSE_ROOT": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE", "MPLBACKEND": "Agg"}
    log = (work / "voila.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", str(work / NOTEBOOK.name), f"--port={port}", "--no-browser",
         "--Voila.ip=127.0.0.1", "--show_tracebacks=True"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # any HTTP answer means the server is up (GET / would already start a kernel)
                urllib.request.urlopen(url + "voila/static/", timeout=2)  # noqa: S310 (our local server)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"voila did not start:\n{(work / 'voila.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # voila and the kernel it started (its own session)
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='explorer-chromium-')}")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: object, condition: str, timeout: float, what: str) -> object:
    """Poll the JavaScript expression ``condition`` until it is truthy; fail with the page's errors."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {condition};")
        if value:
            return value
        time.sleep(0.2)
    text = driver.execute_script("return document.body.innerText;")
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; page text:\n{text[-3000:]}")


def element_pixels(element: object) -> np.ndarray:
    return np.asarray(Image.open(bytes_io.BytesIO(element.screenshot_as_png)).convert("L"), dtype=np.int16)


def test_strategy_switch_in_the_browser(voila_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    driver = browser
    start = time.monotonic()
    driver.get(voila_url)
    status = "document.querySelector('.explorer-status .widget-html-content')"
    wait_for(driver, f"{status} && {status}.innerText.includes('\u2713')", PAGE_TIMEOUT, "the first fused image")
    print(f"\npage ready after {time.monotonic() - start:.1f} s")
    assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text

    fused = driver.find_element(By.CSS_SELECTOR, "img.explorer-fused")
    before, src_before = element_pixels(fused), fused.get_attribute("src")
    driver.execute_script("""
        const img = document.querySelector('img.explorer-fused');
        window.__changedAt = null;
        new MutationObserver(() => { if (window.__changedAt === null) window.__changedAt = performance.now(); })
            .observe(img, {attributes: true, attributeFilter: ['src']});
        window.__changeStart = performance.now();""")
    Select(driver.find_element(By.CSS_SELECTOR, ".explorer-strategy select")).select_by_value("max")
    wait_for(driver, "window.__changedAt !== null", 120, "the fused image to change")
    latency_ms = driver.execute_script("return window.__changedAt - window.__changeStart;")
    wait_for(driver, f"{status}.innerText.includes('\u2713 max')", 60, "the status line of the new strategy")
    print(f"strategy switch l1 -> max: new fused image in the browser after {latency_ms / 1000:.2f} s; "
          f"kernel: {driver.execute_script(f'return {status}.innerText;')}")

    fused = driver.find_element(By.CSS_SELECTOR, "img.explorer-fused")
    after = element_pixels(fused)
    assert fused.get_attribute("src") != src_before
    assert before.shape == after.shape and np.abs(after - before).mean() > 1.0, "the fused image did not change"

    table = "document.querySelector('.explorer-metrics .widget-html-content')"
    wait_for(driver, f"{table}.innerText.includes('MS_SSIM') && !{table}.innerText.includes('\u2026')",
             PAGE_TIMEOUT, "the metrics table")
    assert "delta" in driver.find_element(By.CSS_SELECTOR, ".explorer-metrics").text
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight));")
    driver.set_window_size(1600, max(1500, height + 200))
    assert driver.save_screenshot(str(SCREENSHOT))
    print(f"screenshot: {SCREENSHOT} (total {time.monotonic() - start:.1f} s)")
