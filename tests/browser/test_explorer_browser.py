"""Real-browser tests of the explorer: Voila and JupyterLab serve the explorer notebook, headless Chromium drives them.

Each starts its server on 127.0.0.1 with a free port (JupyterLab: opens the notebook and runs all
cells), switches the fusion strategy in the ``<select>`` like a user, and checks that the fused
image really changed (pixels of the element's screenshot, not only its URL). In Voila it then
picks a RoadScene pair and checks that source B and the fused image arrive in colour (the decoded
image behind the ``<img>``, whose channels differ). Prints the
in-browser latency from the change to the new image and saves full-page screenshots
(``results/explorer/screenshot.png`` for Voila, ``screenshot_jupyterlab.png`` beside it;
``EXPLORER_SCREENSHOT`` changes the path).

Needs Chromium and its driver (Debian: ``apt-get install -y chromium chromium-driver``); skipped
when they are missing. The page uses DenseFuse (released weights in ``data/``) unless
``EXPLORER_CHECKPOINT`` names a Res2NetFuse checkpoint, so it does not depend on the pipeline.
Run it with ``tests/browser/run_browser_test.sh``.
"""

from __future__ import annotations

import base64
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
from contextlib import contextmanager, suppress
from pathlib import Path

import nbformat
import numpy as np
import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from PIL import Image

from res2netfuse.datasets import pair_set
from res2netfuse.explorer import dataset_options

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explorer.ipynb"
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
def workdir(data_dir: Path) -> Path:
    """A folder with the explorer notebook parameterised for DenseFuse (or $EXPLORER_CHECKPOINT), outside the repo."""
    ckpt = os.environ.get("EXPLORER_CHECKPOINT", "")
    params = {"model": "res2netfuse", "checkpoint": ckpt} if ckpt else {"model": "densefuse"}
    work = Path(tempfile.mkdtemp(prefix="explorer-browser-"))
    nb = parameterize_notebook(load_notebook_node(str(NOTEBOOK)), {**params, "device": "cpu"})
    nbformat.write(nb, work / NOTEBOOK.name)
    return work


@contextmanager
def server(args: list[str], work: Path, name: str) -> Iterator[str]:
    """Run ``python -m <args> --port=<free port>`` in ``work``; yield its URL once it answers HTTP."""
    port = free_port()
    env = {**os.environ, "RES2NETFUSE_ROOT": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE", "MPLBACKEND": "Agg",
           "JUPYTER_CONFIG_DIR": str(work / ".jupyter"), "JUPYTERLAB_SETTINGS_DIR": str(work / ".lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(work / ".lab-workspaces")}
    log_path = work / f"{name}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", *args, f"--port={port}"], cwd=work, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:  # any HTTP answer means the server is up (Voila's GET / would already start a kernel)
                    urllib.request.urlopen(url + "static/none", timeout=2)  # noqa: S310 (our local server)
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"{name} did not start:\n{log_path.read_text()[-3000:]}")
                    time.sleep(0.5)
            yield url
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started (its own session)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def voila_url(workdir: Path) -> Iterator[str]:
    with server(["voila", NOTEBOOK.name, "--no-browser", "--Voila.ip=127.0.0.1", "--show_tracebacks=True"],
                workdir, "voila") as url:
        yield url


@pytest.fixture(scope="module")
def jupyterlab_url(workdir: Path) -> Iterator[str]:
    with server(["jupyterlab", "--no-browser", "--ip=127.0.0.1", "--IdentityProvider.token=",
                 "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={workdir}",
                 "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                 "--LabApp.extension_manager=readonly", *(["--allow-root"] if os.geteuid() == 0 else [])],
                workdir, "jupyterlab") as url:
        yield url


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
        value = driver.execute_script(f"return Boolean({condition});")
        if value:
            return value
        time.sleep(0.2)
    text = driver.execute_script("return document.body.innerText;")
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; page text:\n{text[-3000:]}")


def element_pixels(element: object, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    """The element's on-screen pixels, resampled to ``size`` (the layout may shift by a few px)."""
    shot = Image.open(bytes_io.BytesIO(element.screenshot_as_png)).convert("L")
    return np.asarray(shot.resize(size, Image.Resampling.BILINEAR), dtype=np.int16)


STATUS = "document.querySelector('.explorer-status .widget-html-content')"
TABLE = "document.querySelector('.explorer-metrics .widget-html-content')"


def switch_strategy(driver: object, frontend: str) -> None:
    """Wait for the first image, switch l1 -> max in the <select>, check the pixels changed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    wait_for(driver, f"{STATUS} && {STATUS}.innerText.includes('\u2713')", PAGE_TIMEOUT, "the first fused image")
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
    wait_for(driver, f"{STATUS}.innerText.includes('\u2713 max')", 60, "the status line of the new strategy")
    print(f"\n{frontend}: strategy l1 -> max, new fused image in the browser after {latency_ms / 1000:.2f} s; "
          f"kernel: {driver.execute_script(f'return {STATUS}.innerText;')}")
    fused = driver.find_element(By.CSS_SELECTOR, "img.explorer-fused")
    after = element_pixels(fused)
    assert fused.get_attribute("src") != src_before
    assert before.shape == after.shape and np.abs(after - before).mean() > 1.0, "the fused image did not change"


def shown_image(driver: object, css: str) -> np.ndarray:
    """The picture an ``<img>`` shows, decoded from its blob URL: exact pixels, whatever the layout."""
    data_url = driver.execute_async_script("""
        const done = arguments[arguments.length - 1], reader = new FileReader();
        reader.onload = () => done(reader.result);
        fetch(document.querySelector(arguments[0]).src).then(r => r.blob()).then(b => reader.readAsDataURL(b));""",
                                           css)
    return np.asarray(Image.open(bytes_io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def colour_share(rgb: np.ndarray) -> float:
    """Share of pixels whose channels differ by more than 2 levels (gray: 0; the cyan zoom box adds < 2 %)."""
    return float((np.ptp(rgb.astype(np.int16), axis=-1) > 2).mean())


def switch_to_colour_pair(driver: object) -> None:
    """Pick RoadScene in the data set <select>; source B and the fused image must turn to colour."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    assert colour_share(shown_image(driver, "img.explorer-fused")) < 0.05, "the gray pair is shown in colour"
    label = dict((value, text) for text, value in dataset_options())["roadscene"]
    first = pair_set("roadscene").pairs()[0][0]
    views = {view: f"img.explorer-{view}" for view in ("b", "fused")}
    old = {view: driver.find_element(By.CSS_SELECTOR, css).get_attribute("src") for view, css in views.items()}
    Select(driver.find_element(By.CSS_SELECTOR, ".explorer-dataset select")).select_by_visible_text(label)
    wait_for(driver, f"{STATUS}.innerText.includes('\u2713') && {STATUS}.innerText.includes('on roadscene/{first}')",
             120, "the RoadScene pair's fused image")
    for view, css in views.items():  # each image widget applies its new value on its own (asynchronous) schedule
        wait_for(driver, f"document.querySelector('{css}').src !== {old[view]!r}", 30, f"the new image of {view!r}")
        share = colour_share(shown_image(driver, css))
        print(f"RoadScene {first}: {share:.0%} of the pixels of view {view!r} are coloured")
        assert share > 0.3, f"view {view!r} of the RoadScene pair is not in colour ({share:.1%} coloured pixels)"


def screenshot(driver: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight));")
    driver.set_window_size(1600, max(1500, height + 200))
    assert driver.save_screenshot(str(path))
    print(f"screenshot: {path}")


def test_strategy_switch_and_colour_pair_in_voila(voila_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By

    browser.get(voila_url)
    switch_strategy(browser, "Voila")
    wait_for(browser, f"{TABLE}.innerText.includes('MS_SSIM') && !{TABLE}.innerText.includes('\u2026')",
             PAGE_TIMEOUT, "the metrics table")
    assert "delta" in browser.find_element(By.CSS_SELECTOR, ".explorer-metrics").text
    switch_to_colour_pair(browser)
    screenshot(browser, SCREENSHOT)


def test_bad_uploads_give_messages_in_the_page(voila_url: str, browser: object, data_dir: Path,
                                              tmp_path: Path) -> None:
    """Upload through the FileUpload buttons: a non-image and a size mismatch give messages, a good pair fuses."""
    from selenium.webdriver.common.by import By

    browser.get(voila_url)
    wait_for(browser, f"{STATUS} && {STATUS}.innerText.includes('\u2713')", PAGE_TIMEOUT, "the first fused image")
    # ipywidgets' FileUpload clicks a detached <input type=file>; put it into the page instead of
    # opening the native dialog, so that selenium can hand it a file like a user would.
    browser.execute_script("""
        const click = HTMLInputElement.prototype.click;
        HTMLInputElement.prototype.click = function () {
            if (this.type !== 'file') return click.call(this);
            this.classList.add('captured-upload');
            document.body.appendChild(this);
        };""")
    message = "document.querySelector('.explorer-upload-msg').innerText"

    def upload(source: str, path: Path, expect: str) -> None:
        button = f"//button[contains(@class, 'widget-upload') and contains(., '{source}')]"
        browser.find_element(By.XPATH, button).click()
        browser.find_elements(By.CSS_SELECTOR, "input.captured-upload")[-1].send_keys(str(path))
        counted = f"[...document.querySelectorAll('.widget-upload')].some(b => b.innerText.includes('{source} (1)'))"
        wait_for(browser, counted, 30, f"the upload of {path.name}")
        browser.find_element(By.XPATH, "//button[contains(., 'fuse uploaded pair')]").click()
        wait_for(browser, f"{message}.includes({expect!r})", 60, f"the message {expect!r}")

    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    upload("source A", data_dir / "fusion/tno/ir/01.png", "choose one file for each source")
    upload("source B", notes, "notes.txt: cannot be read as an image")
    upload("source B", data_dir / "fusion/mri_ct/mri/11.png", "must have the same size")
    upload("source B", data_dir / "fusion/tno/vi/01.png", "Using 01.png + 01.png")
    wait_for(browser, f"{STATUS}.innerText.includes('\u2713 l1 (r=0) on upload/')", 120, "the uploaded pair's image")
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text


def test_strategy_switch_in_jupyterlab(jupyterlab_url: str, browser: object) -> None:
    browser.set_window_size(1600, 1500)
    browser.get(f"{jupyterlab_url}lab/tree/{NOTEBOOK.name}")
    wait_for(browser, "window.jupyterapp && window.jupyterapp.shell.currentWidget && "
             "window.jupyterapp.shell.currentWidget.sessionContext && "
             "window.jupyterapp.shell.currentWidget.sessionContext.session && "
             "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", 120, "the notebook's kernel")
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    switch_strategy(browser, "JupyterLab")
    screenshot(browser, SCREENSHOT.with_stem(f"{SCREENSHOT.stem}_jupyterlab"))
