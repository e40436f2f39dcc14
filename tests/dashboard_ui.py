"""What the dashboard's browser tests share besides fixtures (those are in conftest:
`seeded_server`, `seeded_api`, `expect`, `shots`, `browser`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Where SPECMOCK_SCREENSHOTS=1 writes the docs' pictures.
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def show(page: Any, view: str) -> None:
    """Open the dashboard's tab `view` and wait until it shows."""
    page.click(f"#tab-{view}")
    page.wait_for_selector(f"#{view}:not([hidden])")
