"""Open notebooks in JupyterLab, run every cell, and check that every widget really rendered."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(480)]

# Notebooks opened in the browser: the gallery (every explorer) and the quickstart.
NOTEBOOKS = ["widget_gallery.ipynb", "00_quickstart.ipynb"]
# Texts that JupyterLab / ipywidgets show when a widget's frontend failed.
FAILURE_TEXTS = ["javascript error", "Error displaying widget", "Failed to load model class"]
RUN_TIMEOUT_S = 240


def _run_all(page, panel, attempts: int = 4) -> None:
    """Run > Run All Cells; retried until a cell starts (a click can land before Lab is ready)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(attempts):
        _dismiss_dialogs(page)
        try:  # a "Select Kernel" dialog can open after the dismissal and block the click
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=10_000)
            page.locator('li[data-command="runmenu:run-all"]').click(timeout=10_000)
        except PlaywrightTimeout:
            continue  # dismissed at the top of the loop
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            if any(p.strip() not in ("", "[ ]:") for p in prompts):
                return
            time.sleep(0.5)
        page.keyboard.press("Escape")
    raise AssertionError(f"no cell started after {attempts} Run All attempts")


def _wait_until_done(page, panel, n_code_cells: int, stall_s: float = 30.0) -> None:
    """Every code cell has an execution count and none is queued or running.

    A kernel that JupyterLab replaces while Run All is under way (seen under load: a late
    "Select Kernel" dialog) drops the queued cells: nothing runs, nothing waits. When the
    prompts stop changing for ``stall_s`` with cells left unrun and none queued, Run All is
    issued again (the gallery's cells can be re-run).
    """
    deadline = time.monotonic() + RUN_TIMEOUT_S
    last, changed_at, reruns = None, time.monotonic(), 0
    while time.monotonic() < deadline:
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        done = [p for p in prompts if p.strip() and "*" not in p and p.strip() != "[ ]:"]
        if len(prompts) == n_code_cells and len(done) == n_code_cells:
            return
        if prompts != last:
            last, changed_at = prompts, time.monotonic()
        elif (
            time.monotonic() - changed_at > stall_s
            and not any("*" in p for p in prompts)
            and reruns < 3
        ):
            reruns += 1
            _run_all(page, panel)
            changed_at = time.monotonic()
        time.sleep(1)
    raise AssertionError(f"cells still running after {RUN_TIMEOUT_S} s: {prompts}")


def _drawn_colors(png: bytes) -> int:
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    return len(np.unique(img, axis=0))


def _dismiss_dialogs(page) -> None:
    for _ in range(3):
        dialog = page.locator(".jp-Dialog")
        if dialog.count() == 0:
            return
        # accept first: on "Select Kernel" the reject button means "No Kernel"
        accept = dialog.locator("button.jp-mod-accept")
        (accept if accept.count() else dialog.locator("button.jp-mod-reject")).first.click()
        time.sleep(0.5)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_renders_in_jupyterlab(lab_server, browser, notebook, tmp_path_factory):
    import nbformat

    nb = nbformat.read(lab_server.root / notebook, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(lab_server.notebook_url(notebook))
    page.locator(".jp-Notebook").first.wait_for(timeout=90_000)
    # Kernel ready: the status shows "Idle" once the session has started.
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
        timeout=90_000, state="attached"
    )
    panel = page.locator(".jp-NotebookPanel").first
    shots = tmp_path_factory.mktemp("screenshots")
    try:
        _run_all(page, panel)
        _wait_until_done(page, panel, n_code)
    finally:
        page.screenshot(path=str(shots / f"{notebook}-run.png"))
    time.sleep(3)  # let WebGL draw its first frames

    page.screenshot(path=str(shots / f"{notebook}.png"))

    text = "\n".join(panel.locator(".jp-OutputArea").all_inner_texts())
    for failure in FAILURE_TEXTS:
        assert failure.lower() not in text.lower(), f"{notebook}: {failure!r} shown; see {shots}"
    tracebacks = panel.locator(".jp-OutputArea-output[data-mime-type*='error']")
    assert tracebacks.count() == 0, f"{notebook}: error output: {tracebacks.first.inner_text()}"

    canvases = panel.locator(".jp-OutputArea-output canvas")
    n_canvas = canvases.count()
    assert n_canvas >= 1, f"{notebook}: no 3D canvas rendered"
    for i in range(n_canvas):
        canvas = canvases.nth(i)
        canvas.scroll_into_view_if_needed()
        time.sleep(1)
        png = canvas.screenshot(path=str(shots / f"{notebook}-canvas{i}.png"))
        assert _drawn_colors(png) > 20, f"{notebook}: canvas {i} is blank (see {shots})"
    legends = panel.locator(".lilib-legend")
    assert legends.count() >= 1, f"{notebook}: no colour legend shown"
    assert not errors, f"{notebook}: javascript page errors: {errors}"
    page.close()
