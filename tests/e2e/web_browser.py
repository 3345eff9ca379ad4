"""A real browser for the end-to-end tests: Debian's Chromium, driven by Playwright.

Playwright downloads no browser here: it launches the distribution's ``/usr/bin/chromium``
(``apt-get install chromium``; mk/bootstrap.sh installs it), headless, with a fresh profile
and nothing that would call out (no sync, no component updates, no background networking).

Each screen a test visits is saved as a PNG at a desktop and at a phone width into the
screenshots folder: ``$CODEFLOW_LOCAL_DIR/screenshots`` (left in place after the run, and
printed at its end), or ``WEB_SCREENSHOTS_DIR`` (`make screenshots` points it at
docs/screenshots).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import BrowserContext, Locator, Page, ViewportSize, async_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
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
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=360, height=740)
WAIT_MS = 30_000
"""How long a step waits for what it expects to appear (Playwright's auto-waiting)."""


def screenshots_dir() -> Path:
    """Where the screens are saved: WEB_SCREENSHOTS_DIR, else under the run's local dir."""
    chosen = os.environ.get("WEB_SCREENSHOTS_DIR")
    if chosen:
        return Path(chosen)
    local = os.environ.get("CODEFLOW_LOCAL_DIR")
    base = Path(local) if local else Path(tempfile.gettempdir()) / "codeflow-e2e"
    return base / "screenshots"


def chromium_missing() -> str | None:
    """Why no browser test can run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"{CHROMIUM} is not installed: `make bootstrap` (as root) installs Debian's "
            "chromium, or run `sudo apt-get install -y chromium chromium-driver`"
        )
    return None


@asynccontextmanager
async def chromium(base_url: str) -> AsyncIterator[BrowserContext]:
    """A headless Chromium with a profile of its own, deleted afterwards; relative URLs
    (``page.goto("/")``, ``page.request``) are taken from ``base_url``."""
    profile = Path(tempfile.mkdtemp(prefix="codeflow-chromium-"))
    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport=DESKTOP,
                base_url=base_url,
                locale="en-GB",
                timezone_id="UTC",
            )
            context.set_default_timeout(WAIT_MS)
            try:
                yield context
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


async def screenshot(page: Page, name: str) -> None:
    """Save the screen as ``<name>-desktop.png`` and ``<name>-phone.png``; at either width
    the page must fit, with nothing to scroll sideways."""
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        page_width = await page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= viewport["width"], f"{name} is {page_width} px wide on a {width}"
        await page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


def starting_with(full_name: str) -> re.Pattern[str]:
    """An accessible name that starts with ``full_name`` (a checkbox's label goes on)."""
    # Playwright hands the pattern to the page as JavaScript: its slash is escaped too.
    return re.compile("^" + re.escape(full_name).replace("/", "\\/") + r"\b")


def card(page: Page, full_name: str) -> Locator:
    """The dashboard's card of the repository ``full_name``."""
    return page.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=full_name, exact=True)
    )
