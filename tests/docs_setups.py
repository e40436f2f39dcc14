"""What each docs page needs around it to run, declared in one place (SET_UPS).

tests/test_docs.py runs every page's blocks with the same code (tests/docs_blocks.py);
a page whose commands name things a bare folder lacks declares a set-up here: the files
it names, a server it talks to (a Redis, a provider), what its text becomes here
(`rewrites`), extra checks. A page whose blocks are one story (drift.md: the proxy's
output feeds the next commands) lists its commands in the order they run, with the
steps between them; every command of the page is in the story exactly once.

A set-up is a function (request, folder) -> PageSetup; it may start servers and stop
them with request.addfinalizer. Pages not named here get `user_folder`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from docs_blocks import ShellRun

ROOT = Path(__file__).resolve().parent.parent
THIRDPARTY = ROOT / "tests" / "thirdparty"
#: Written in the docs for the Redis a reader runs; here the test's own redis-server.
DOC_REDIS = "redis://localhost:6379/0"

#: A step of a story: a command of the page (named by how it starts), or what happens between two.
Step = str | Callable[[ShellRun], None]


@dataclass
class PageSetup:
    """What a page's blocks run with, besides the folder the set-up filled."""

    env: dict[str, str] = field(default_factory=dict)
    rewrites: dict[str, str] = field(default_factory=dict)
    refuse_error_documents: bool = False
    #: Python appended to each of the page's Python blocks (a check of what the block made).
    python_epilogue: str = ""
    #: The page's commands in the order they run, and the steps between (None: block by block).
    story: list[Step] | None = None


SetUp = Callable[[pytest.FixtureRequest, Path], PageSetup]


def user_folder(request: pytest.FixtureRequest, folder: Path) -> PageSetup:
    """A user's folder: the documents the pages name, and the project's folders (read-only by intent)."""
    shutil.copy(THIRDPARTY / "petstore-expanded.yaml", folder / "petstore-expanded.yaml")
    (folder / "openapi").mkdir()
    shutil.copy(THIRDPARTY / "petstore-expanded.yaml", folder / "openapi" / "petstore.yaml")
    for name in ("specs", "scenarios", "tests", "examples"):  # a checkout's folders, for pages that name them
        (folder / name).symlink_to(ROOT / name)
    return PageSetup()


PETS = """openapi: 3.1.0
info: {title: pets, version: "1"}
paths:
  /pets:
    get:
      operationId: ListPets
      responses: {"200": {description: ok}}
"""
PETS_DOWN = """name: pets-down
rules:
  - match: {operationId: ListPets}
    respond: {status: 503, allowUndocumented: true}
"""
PETS_OVERLAY = "overlay: 1.0.0\ninfo: {title: pets, version: '1'}\nextends: openapi.yaml\nactions: []\n"


def pets_folder(request: pytest.FixtureRequest, folder: Path) -> PageSetup:
    """cli.md, dashboard.md: `openapi.yaml` (a small pets API), its scenario `pets-down.yaml`
    and `overlay.yaml`; a curl must not get an error document back."""
    (folder / "openapi.yaml").write_text(PETS)
    (folder / "pets-down.yaml").write_text(PETS_DOWN)
    (folder / "overlay.yaml").write_text(PETS_OVERLAY)
    return PageSetup(env={"SPECMOCK_ACCESS_LOG": "0"}, refuse_error_documents=True)


#: Every MockApp a block made answers health `ok`, and closes (a file writes its snapshot).
MOCKS_ARE_HEALTHY = """
from specmock import MockApp as _MockApp

for _made in [value for value in globals().values() if isinstance(value, _MockApp)] or [None]:
    assert _made is not None, "the block made no MockApp"
    assert _made.backend.status()["ok"] is True, _made.backend.status()
    _made.close()
"""


def checkout_folder(request: pytest.FixtureRequest, folder: Path) -> PageSetup:
    """corpus.md: its command runs a benchmark script from the checkout (`benchmarks/`)."""
    (folder / "benchmarks").symlink_to(ROOT / "benchmarks")
    return PageSetup()


def with_redis(request: pytest.FixtureRequest, folder: Path) -> PageSetup:
    """state.md: its Redis URL is the test's redis-server (started when a block needs it)."""
    redis_url: str = request.getfixturevalue("redis_server").url
    return PageSetup(rewrites={DOC_REDIS: redis_url}, python_epilogue=MOCKS_ARE_HEALTHY)


def widgets_provider(request: pytest.FixtureRequest, folder: Path) -> PageSetup:
    """`openapi.yaml` is the Widgets spec and $PROVIDER_URL a `specmock serve` of it; its
    token in $TOKEN and in SPECMOCK_HEADER (what `verify` and `replay` send)."""
    from contract_support import SECRET, WIDGETS, specmock

    shutil.copy(WIDGETS, folder / "openapi.yaml")
    upstream = specmock(folder, "upstream", "serve", "--spec", str(WIDGETS))
    request.addfinalizer(upstream.stop)
    env = {"PROVIDER_URL": upstream.url, "TOKEN": SECRET.split()[1], "SPECMOCK_HEADER": f"Authorization: {SECRET}"}
    return PageSetup(env=env)


def drift_story(request: pytest.FixtureRequest, folder: Path) -> PageSetup:
    """drift.md, with a Widgets provider (`widgets_provider`).

    The proxy records a consumer's traffic; once it stops, its report, JUnit file and
    recorded scenario exist and the recorded scenario serves; a fresh provider then
    answers the pact verifier, `verify` and `replay`; the pytest plugin writes a pact.
    """
    from contract_support import consumer_run

    setup = widgets_provider(request, folder)
    upstream_url = setup.env["PROVIDER_URL"]

    def consumer_traffic(shell: ShellRun) -> None:
        consumer_run(shell.url())

    def provider_journal(shell: ShellRun) -> None:  # what `--specmock-journal` writes, for replay
        (folder / "journal.json").write_text(httpx.get(f"{upstream_url}/__specmock/journal").text)

    def stop_proxy(shell: ShellRun) -> None:
        assert all(status in (0, -15) for status in shell.stop()), "the proxy did not exit cleanly"
        assert (folder / "drift.json").exists() and (folder / "drift.xml").exists()
        assert (folder / "recorded.yaml").exists()

    def fresh_provider(shell: ShellRun) -> None:  # the pact's first state is "only the fixtures"
        shell.stop()
        shell.serve("specmock serve --spec openapi.yaml")  # port 8080 is this provider now
        shell.env["PROVIDER_URL"] = shell.url()

    def a_consumer_test(shell: ShellRun) -> None:
        (folder / "test_shop.py").write_text(
            "import pytest\n\n"
            f"@pytest.mark.specmock(spec={str(folder / 'openapi.yaml')!r})\n"
            "def test_list(specmock):\n"
            "    assert specmock.client.get('/widgets', headers={'Authorization': 'Bearer t'}).status_code == 200\n"
        )

    def pact_written(shell: ShellRun) -> None:
        assert (folder / "pacts" / "shop-widgets.json").exists() and (folder / "journal.json").exists()

    story: list[Step] = [
        "specmock proxy",
        consumer_traffic,
        "curl -s",
        provider_journal,
        stop_proxy,
        "specmock serve",
        fresh_provider,
        "pact verifier",
        "specmock verify",
        "specmock replay",
        a_consumer_test,
        "pytest --specmock-pact",
        pact_written,
    ]
    setup.story = story
    return setup


@dataclass(frozen=True)
class Page:
    """A page that needs more than a user's folder."""

    set_up: SetUp
    #: At least how many runnable blocks of each language it holds (a page emptied by mistake is noticed).
    at_least: dict[str, int]
    #: Its commands run as one story (in the set-up's order), not block by block.
    story: bool = False


SET_UPS: dict[str, Page] = {
    "cli.md": Page(pets_folder, {"sh": 5}),
    "dashboard.md": Page(pets_folder, {"sh": 2}),
    "state.md": Page(with_redis, {"sh": 4, "python": 2}),
    "corpus.md": Page(checkout_folder, {"sh": 1}),
    "drift.md": Page(drift_story, {"sh": 7}, story=True),
}


def set_up(page: Path, request: pytest.FixtureRequest, folder: Path) -> PageSetup:
    """Fill `folder` for `page`'s blocks and say what they run with."""
    make = SET_UPS[page.name].set_up if page.name in SET_UPS else user_folder
    return make(request, folder)


def is_story(page: Path) -> bool:
    return page.name in SET_UPS and SET_UPS[page.name].story
