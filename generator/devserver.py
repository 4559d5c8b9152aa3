"""`micromall serve`: build, serve the output, rebuild and reload the browser on changes.

The live-reload library stays behind this module. Content problems found while serving are
printed, and shown over every page in the browser (preview_error.py) while the last good build
keeps being served underneath. `--lan` listens on every interface and prints the address and a
QR code (lan.py, terminal_qr.py) for opening the preview on a phone. When the shop takes orders
over HTTP (`checkout: {handler: http}`), the order service is mounted under /api on the same
origin, with its own throw-away database, so the whole flow works locally with one command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from .build import BuildResult, BuildState, build, default_cache_dir
from .errors import ContentError, count_line
from .model import Site
from .preview_error import ErrorOverlay

#: Edits in these folders of content/ rebuild only the pages they touch; any other change
#: (site.yml, stores, templates, static files, themes) rebuilds everything.
INCREMENTAL_FOLDERS = {"catalog": (".yml", ".yaml"), "stories": (".md",), "pages": (".md",)}
#: How often the sources are checked for changes (seconds).
POLL = 0.1
#: After a change is seen, how long the sources must stay unchanged before the rebuild starts
#: (seconds): an editor that truncates a file and then writes it would otherwise have the
#: half-written file built (a product missing from it, its page deleted for a moment).
SETTLE = 0.02
#: A file in the cache folder that livereload watches so that it does not watch the whole working
#: folder; the preview reloads the browsers itself after every rebuild (see _reload_browsers).
RELOAD_MARKER = ".micromall-reload"
#: Where `--lan` listens: every interface.
ALL_INTERFACES = "0.0.0.0"  # nosec B104 - what --lan is for; it warns that the shop is visible to the network


def needs_full_build(site_dir: Path, changed: set[Path]) -> bool:
    """Whether these changed files need a full rebuild rather than an incremental one."""
    content = site_dir / "content"
    for path in changed:
        try:
            parts = path.relative_to(content).parts
        except ValueError:
            return True
        if len(parts) != 2 or path.suffix not in INCREMENTAL_FOLDERS.get(parts[0], ()):
            return True
    return False


class Preview:
    """The preview's builds: a full one first, then, after each edit, a rebuild of only what the
    edit touches (see depends.py). Edits are found by comparing the size and time of every
    watched file with the last look; edits after a failed build are kept until one succeeds."""

    def __init__(self, site_dir: Path, out_dir: Path, base_url: str, watched: list[Path]) -> None:
        self.site_dir, self.out_dir, self.base_url, self.watched = site_dir, out_dir, base_url, watched
        self.state: BuildState | None = None
        self.seen = self.scan()
        self.pending: set[Path] = set()

    def scan(self) -> dict[Path, tuple[int, int]]:
        found: dict[Path, tuple[int, int]] = {}
        for root in self.watched:
            if root.is_file():
                st = root.stat()
                found[root] = (st.st_mtime_ns, st.st_size)
                continue
            for folder, _, names in os.walk(root):
                for name in names:
                    path = Path(folder, name)
                    with contextlib.suppress(OSError):
                        st = path.stat()
                        found[path] = (st.st_mtime_ns, st.st_size)
        return found

    def changes(self) -> set[Path]:
        now = self.scan()
        changed = {p for p in now.keys() | self.seen.keys() if now.get(p) != self.seen.get(p)}
        self.seen = now
        return changed

    def settled_changes(self) -> set[Path]:
        """The changed files, once a look SETTLE seconds later finds nothing more changing."""
        changed = self.changes()
        while changed:
            time.sleep(SETTLE)
            more = self.changes()
            if not more:
                break
            changed |= more
        return changed

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        """A full build, or with `changed`, a rebuild of what those files touch."""
        if changed is not None:
            self.pending |= changed
        previous = None if self.state is None or needs_full_build(self.site_dir, self.pending) else self.state
        result = build(self.site_dir, self.out_dir, base_url=self.base_url, track=True, previous=previous)
        self.state = result.state
        self.pending.clear()
        return result


def serve(site_dir: Path, out_dir: Path | None, host: str, port: int, lan: bool = False) -> None:
    """Serve a preview build; without `out_dir` it goes to a temporary folder, removed at exit,
    so that preview URLs (http://127.0.0.1:8000/) never end up in the published public/.
    With `lan`, listen on every interface and build for this machine's address on the network."""
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="micromall-preview-") as tmp:
            serve(site_dir, Path(tmp) / "public", host, port, lan)
        return
    # SIGTERM (a test, a process manager) unwinds like Ctrl+C: the worker processes of a build
    # in progress are stopped and the temporary folder is removed, instead of being left behind.
    signal.signal(signal.SIGTERM, _exit)

    lan_ip = None
    if lan:
        from .lan import lan_address

        host, lan_ip = ALL_INTERFACES, lan_address()
    preview_url = f"http://{lan_ip or ('127.0.0.1' if lan else host)}:{port}/"
    watched = [site_dir / "site.yml", site_dir / "content", site_dir / "templates", site_dir / "static"]
    watched += [site_dir / "locale"]  # the shop's own wording of interface text
    watched += [t.path for t in _theme_chain(site_dir)]
    preview = Preview(site_dir, out_dir, preview_url, [p for p in watched if p.exists()])
    result = preview.build()
    click.echo(result.summary())
    marker = default_cache_dir(site_dir) / RELOAD_MARKER
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    errors = ErrorOverlay()

    def poll() -> None:
        changed = preview.settled_changes()
        if not changed:
            return
        try:
            done = preview.build(changed)
        except ContentError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(count_line(exc.problems) + " (still serving the last good build)", err=True)
            errors.show(exc.problems)
            _reload_browsers()  # the pages come back with the errors over them
            return
        click.echo(f"{done.summary()} ({done.rendered} pages rendered)")
        errors.clear()
        _reload_browsers()

    api = _order_api(result.site, site_dir, out_dir)
    server = _make_server(api, errors)
    server.watch(str(marker), delay="forever")  # never reloads by itself; see RELOAD_MARKER
    from tornado.ioloop import PeriodicCallback

    PeriodicCallback(poll, POLL * 1000).start()
    click.echo(f"Serving the shop on {preview_url} (Ctrl+C stops); edits rebuild it.")
    if lan:
        _announce_lan(preview_url, lan_ip is not None, port)
    if api is not None:
        click.echo(f"Orders go to the preview order service at {preview_url}api/ (a throw-away database).")
    # restart_delay="forever": no reload of every open page when the server starts (livereload's default)
    server.serve(root=str(out_dir), host=host, port=port, open_url_delay=None, restart_delay="forever", debug=False)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _announce_lan(url: str, found: bool, port: int) -> None:
    """The phone's way in: the address, its QR code, and what listening on the network means."""
    from .terminal_qr import terminal_qr

    if found:
        click.echo(f"On a phone on the same network, open {url} or scan:")
        click.echo(terminal_qr(url, sys.stdout), nl=False)
    else:
        click.echo(f"No network address found for this machine; the preview listens on port {port} of every interface.")
    click.echo(
        "Warning: the shop and its preview order service are visible to every device on this network.",
        err=True,
    )


def _reload_browsers() -> None:
    """Reload every open preview page now. Called by the preview after each rebuild, failed or
    not, instead of through a watched file: livereload ignores a change that comes within 3 s of
    the last reload, which would keep the error panel up after a quick fix."""
    from livereload.handlers import LiveReloadHandler

    LiveReloadHandler.reload_waiters("*")


def _order_api(site: Site, site_dir: Path, out_dir: Path) -> Any:
    """The order service's WSGI app for the preview, or None when the shop does not use one."""
    checkout = site.config.checkout
    if checkout.handler != "http" or not checkout.endpoint.startswith("/api/"):
        return None
    from .orders.app import make_app
    from .orders.config import load_service_config

    config_file = site_dir / "orders.yml"
    config = load_service_config(
        config_file if config_file.is_file() else None,
        site_dir,
        {"catalog": str(out_dir / "catalog.json"), "database": str(out_dir.parent / "preview-orders.sqlite3")},
    )
    return make_app(config)


def _make_server(api: Any, errors: ErrorOverlay) -> Any:
    """A livereload server that also routes /api/ to the order service when there is one, and
    serves the HTML pages with the error panel while the latest rebuild failed."""
    from livereload import Server
    from livereload.handlers import StaticFileHandler
    from tornado import web
    from tornado.wsgi import WSGIContainer

    from .preview_error import file_handler

    class PreviewServer(Server):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.SFH = file_handler(StaticFileHandler, errors)

        def get_web_handlers(self, script: bytes) -> list[Any]:
            handlers: list[Any] = super().get_web_handlers(script)
            if api is not None:
                handlers.insert(0, (r"/api/.*", web.FallbackHandler, {"fallback": WSGIContainer(api)}))
            return handlers

    return PreviewServer()


def _theme_chain(site_dir: Path) -> list:  # type: ignore[type-arg]
    from .load import load_site
    from .themes import load_theme

    site, _ = load_site(site_dir)
    return load_theme(site.config.theme, site_dir).chain
