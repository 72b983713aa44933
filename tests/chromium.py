"""Debian's Chromium (package chromium), and the flags the browser tests and
benchmarks/browser.py start it with: headless, and nothing that reaches for the network."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
