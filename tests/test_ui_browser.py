"""`toontalker ui` in a real browser: the server runs in a subprocess on a free loopback port, Debian's
chromium (driven by Playwright, no browser download) uploads the example media, runs a short animation
(tiny preset, random weights: the page and pipeline are real, the pictures meaningless) and gets a playable
video back; a bad upload shows its error in the page.

Skipped with a message where chromium, playwright or gradio (the `ui` extra) is absent. Set
``TOONTALKER_UI_SCREENSHOT=docs/img/ui.png`` to keep the page's screenshot (docs/ui.md's picture) and
``TOONTALKER_UI_TEST_WEIGHTS=default`` to run on the shipped demo weights instead (slower).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toontalker.ui.media import ExampleMedia, find_examples
from toontalker.video import probe

pytestmark = pytest.mark.slow

pytest.importorskip("gradio", reason="the ui extra is not installed: pip install -e '.[ui]'")
pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# MIT sample media (../shared/data), used while the repository has no examples/ folder
FALLBACK_EXAMPLES = ("cartoon/images/liveportrait_s7.jpg", "real/videos/liveportrait_d0.mp4")
MAX_UPLOAD_MB = 5
FRAMES = 8
START_SECONDS = 240  # import gradio + torch + mediapipe on a busy 2-core machine


def _pick(paths: tuple[Path, ...], word: str) -> Path:
    """The first of ``paths`` whose name has ``word`` (the domain the page's defaults expect), else the first."""
    return next((p for p in paths if word in p.name.lower()), paths[0])


def _chromium() -> str:
    path = os.environ.get("TOONTALKER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("chromium not found (apt-get install -y chromium, or set TOONTALKER_CHROMIUM)")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def examples(request, tmp_path_factory) -> ExampleMedia:
    """The repository's examples/, else a folder linking the MIT sample media."""
    found = find_examples()
    if found.sources and found.drivers:
        return found
    shared = request.getfixturevalue("shared_data")
    folder = tmp_path_factory.mktemp("examples")
    for relative in FALLBACK_EXAMPLES:
        shutil.copyfile(shared / relative, folder / Path(relative).name)
    return find_examples(folder)


@pytest.fixture(scope="module")
def server(examples, tmp_path_factory):
    """``python -m toontalker ui`` on a free loopback port; yields its URL, stops it with SIGTERM."""
    port, work = _free_port(), tmp_path_factory.mktemp("ui-work")
    weights = (
        [] if os.environ.get("TOONTALKER_UI_TEST_WEIGHTS") == "default" else ["--preset", "tiny", "--random-weights"]
    )
    command = [
        sys.executable,
        "-m",
        "toontalker",
        "ui",
        "--port",
        str(port),
        "--device",
        "cpu",
        "--max-upload-mb",
        str(MAX_UPLOAD_MB),
        "--work-dir",
        str(work),
        "--examples",
        str(examples.folder),
        *weights,
    ]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    log = work.parent / f"server-{port}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + START_SECONDS
    url = f"http://127.0.0.1:{port}/"
    while f"serving on {url}" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"toontalker ui did not start (exit {process.poll()}):\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    yield url
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        pytest.fail(f"toontalker ui did not stop on SIGTERM:\n{log.read_text()[-3000:]}")
    assert process.returncode == 0, log.read_text()[-3000:]  # a clean stop


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, server):
    """A fresh page on the server, recording every host it asks for."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.hosts = set()
    page.on("request", lambda request: page.hosts.add(request.url.split("/")[2]))
    page.goto(server)
    page.wait_for_selector("#tt-run", timeout=60_000)
    yield page
    context.close()


def test_page_shows_the_weights_and_the_examples_offline(page, examples, server):
    assert (
        "RANDOM WEIGHTS (tiny)" in page.inner_text("#tt-weights-random")
        or os.environ.get("TOONTALKER_UI_TEST_WEIGHTS") == "default"
    )
    page.click("#tt-driving-example input")
    offered = page.get_by_role("option").all_inner_texts()
    assert [name.strip() for name in offered] == [p.name for p in examples.drivers]
    assert page.hosts == {server.split("/")[2]}  # no font, script or analytics from anywhere else


def _record_progress(page) -> None:
    """Keep every 'N/M frames' text the progress bar shows (it is gone when the video arrives)."""
    page.evaluate("""() => {
        window.ttProgress = [];
        const target = document.querySelector('#tt-result');
        new MutationObserver(() => {
            const match = target.innerText.match(/\\d+\\/\\d+ frames/);
            if (match) window.ttProgress.push(match[0]);
        }).observe(target, {subtree: true, childList: true, characterData: true});
    }""")


def test_upload_the_examples_and_animate(page, examples, tmp_path):
    source, driver = _pick(examples.sources, "cartoon"), _pick(examples.drivers, "real")
    page.set_input_files("#tt-source-file input[type=file]", str(source))
    page.click("#tt-driving-example input")
    page.get_by_role("option", name=driver.name).click()
    page.wait_for_selector("#tt-source-crop img", timeout=60_000)
    page.wait_for_selector("#tt-driving-crop img", timeout=60_000)
    assert re.fullmatch(r"\d+,\d+,\d+,\d+", page.input_value("#tt-source-box textarea"))
    assert "face found by" in page.inner_text("#tt-source-message")
    page.fill("#tt-max-frames input", str(FRAMES))
    page.get_by_text("Cropping and batching").click()
    page.fill("#tt-batch-size input", "2")
    page.get_by_label("Side by side (source | driver | result)").check()
    _record_progress(page)
    page.click("#tt-run")
    page.wait_for_selector("#tt-result video", timeout=120_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('#tt-result video');"
        " return v.readyState >= 2 && v.duration > 0 && v.videoWidth > 0; }",
        timeout=30_000,
    )
    width, height, duration = page.evaluate(
        "() => { const v = document.querySelector('#tt-result video');"
        " return [v.videoWidth, v.videoHeight, v.duration]; }"
    )
    assert width == 3 * height and duration == pytest.approx(FRAMES / probe(driver).fps, abs=0.05)
    assert page.inner_text("#tt-run-message").startswith(f"Done: {FRAMES} frames, {width}x{height}")
    assert page.evaluate("window.ttProgress")  # the progress bar counted frames
    href = page.get_attribute("#tt-download a[href]", "href")
    downloaded = tmp_path / "result.mp4"
    downloaded.write_bytes(page.request.get(href).body())
    assert probe(downloaded).frames == FRAMES
    _screenshot(page, tmp_path / "ui.png")


def _screenshot(page, path: Path) -> None:
    """The page as a small palette PNG; copied to $TOONTALKER_UI_SCREENSHOT where set."""
    from PIL import Image

    page.screenshot(path=str(path), full_page=True)
    image = Image.open(path).convert("RGB")
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    assert path.stat().st_size > 10_000
    keep = os.environ.get("TOONTALKER_UI_SCREENSHOT")
    if keep:
        shutil.copyfile(path, keep)


def test_a_bad_upload_shows_its_error(page, tmp_path):
    fake = tmp_path / "holiday.png"
    fake.write_bytes(b"this is not a picture")
    page.set_input_files("#tt-source-file input[type=file]", str(fake))
    page.wait_for_function(
        "() => document.querySelector('#tt-source-message').innerText.includes('holiday.png')", timeout=30_000
    )
    assert page.inner_text("#tt-source-message") == "Error: holiday.png: not an image (unrecognised format)"
    big = tmp_path / "long.mp4"
    big.write_bytes(bytes((MAX_UPLOAD_MB + 1) * 2**20))
    page.set_input_files("#tt-driving-file input[type=file]", str(big))
    toast = page.wait_for_selector(".toast-body", timeout=30_000)
    assert "exceed the maximum allowed size" in toast.inner_text() and "long.mp4" in toast.inner_text()
    page.click("#tt-run")  # the bad source is still there: the run refuses it with the same message
    page.wait_for_function(
        "() => document.querySelector('#tt-run-message').innerText.includes('Error')", timeout=30_000
    )
    assert page.inner_text("#tt-run-message") == "Error: holiday.png: not an image (unrecognised format)"
