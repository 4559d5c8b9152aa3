"""`micromall serve`: build, serve the output, rebuild and reload the browser on changes.

The live-reload library stays behind this module. Content problems found while serving are
printed, and shown over every page in the browser (preview_error.py) while the last good build
keeps being served underneath. `--lan` listens on every interface and prints the address and a
QR code (lan.py, terminal_qr.py) for opening the preview on a phone. When the shop takes orders
over HTTP (`checkout: {handler: http}`), the order service is mounted under /api on the same
origin, with its own throw-away database, so the whole flow works locally with one command.
"""

from __future__ import annotations

import signal
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .build import BuildResult, build, default_cache_dir
from .buildstate import BuildState
from .errors import ContentError, MicromallError, Problem, count_line
from .model import Site
from .preview_error import ErrorOverlay
from .reuse import Reuse
from .watch import POLL, Sources

#: Edits in these folders of content/ rebuild only the pages they touch; any other change
#: (site.yml, stores, templates, static files, themes) rebuilds everything.
INCREMENTAL_FOLDERS = {"catalog": (".yml", ".yaml"), "stories": (".md",), "pages": (".md",)}
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
    edit touches (see depends.py). Edits are found by watch.py; edits after a failed build are
    kept until one succeeds."""

    def __init__(self, site_dir: Path, out_dir: Path, base_url: str, watched: list[Path]) -> None:
        self.site_dir, self.out_dir, self.base_url = site_dir, out_dir, base_url
        self.state: BuildState | None = None
        self.reuse = Reuse()  # what each rebuild takes over from the build before
        self.built_at = 0.0  # when the last rebuild ended (time.monotonic)
        self.sources = Sources(watched)
        self.pending: set[Path] = set()

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        """A full build, or with `changed`, a rebuild of what those files touch."""
        if changed is not None:
            self.pending |= changed
        previous = None if self.state is None or needs_full_build(self.site_dir, self.pending) else self.state
        result = build(self.site_dir, self.out_dir, base_url=self.base_url, previous=previous, reuse=self.reuse)
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
    if port == 0:  # "any free port": chosen now, because the pages are built for the address
        port = _free_port(host)
    preview_url = f"http://{lan_ip or ('127.0.0.1' if lan else host)}:{port}/"
    watched = [site_dir / "site.yml", site_dir / "content", site_dir / "templates", site_dir / "static"]
    watched += [site_dir / "locale"]  # the shop's own wording of interface text
    watched += [t.path for t in _theme_chain(site_dir)]
    preview = Preview(site_dir, out_dir, preview_url, [p for p in watched if p.exists()])
    errors = ErrorOverlay()
    api = OrderApi(site_dir, out_dir)
    if _rebuild(preview, errors, api) is None:
        click.echo("The first build failed: the preview shows the problems until the files are fixed.", err=True)
    marker = default_cache_dir(site_dir) / RELOAD_MARKER
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()

    sources = preview.sources

    def look() -> None:
        changed = sources.settled_changes()
        if changed:
            _rebuild(preview, errors, api, changed)
            _reload_browsers()  # failed or not: the pages come back with or without the panel
            preview.built_at = time.monotonic()

    def tick() -> None:
        if sources.fileno() is None and time.monotonic() >= sources.next_look:
            look()  # on a timer: the kernel does not say when
        preview.reuse.flush_one(time.monotonic() - preview.built_at)  # once nobody waits

    server = _make_server(api, errors)
    server.watch(str(marker), delay="forever")  # never reloads by itself; see RELOAD_MARKER
    from tornado.ioloop import IOLoop, PeriodicCallback

    def on_events(fd: int, events: int) -> None:
        look()
        if sources.fileno() is None:  # the system stopped watching: looked at on a timer now
            IOLoop.current().remove_handler(fd)
            sources.close()

    if (fd := sources.fileno()) is not None:
        IOLoop.current().add_handler(fd, on_events, IOLoop.READ)
    PeriodicCallback(tick, POLL * 1000).start()
    click.echo(f"Serving the shop on {preview_url} (Ctrl+C stops); edits rebuild it.")
    if lan:
        _announce_lan(preview_url, lan_ip is not None, port)
    # restart_delay="forever": no reload of every open page when the server starts (livereload's default)
    try:
        server.serve(root=str(out_dir), host=host, port=port, open_url_delay=None, restart_delay="forever", debug=False)
    finally:
        preview.reuse.flush()
        preview.reuse.close()
        sources.close()


def _rebuild(
    preview: Preview, errors: ErrorOverlay, api: OrderApi, changed: set[Path] | None = None
) -> BuildResult | None:
    """One build of the preview; None when it failed. Whatever stops it is printed and shown over
    the pages: a content problem as `path:line:col: field: message`, a theme or usage problem as
    its message, and a bug in micromall with its traceback in the terminal (where a developer
    reads it) and one line in the browser. The preview keeps running in every case."""
    try:
        done = preview.build(changed)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        still = " (still serving the last good build)" if preview.state is not None else ""
        click.echo(count_line(exc.problems) + still, err=True)
        errors.show(exc.problems)
        return None
    except MicromallError as exc:
        click.echo(f"error: {exc}", err=True)
        errors.show([Problem("build", 0, "", str(exc))])
        return None
    except Exception as exc:  # a bug: the traceback is for whoever fixes micromall
        traceback.print_exc()
        message = f"micromall stopped on an internal error ({type(exc).__name__}: {exc}); the terminal shows where"
        errors.show([Problem("build", 0, "", message)])
        return None
    click.echo(done.summary() if changed is None else f"{done.summary()} ({done.rendered} pages rendered)")
    errors.clear()
    api.start(done.site, preview.base_url)
    return done


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


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


class OrderApi:
    """The order service under /api/ for shops whose checkout posts there (`checkout: {handler:
    http}`), with its own throw-away database. It starts with the first build that succeeds, so a
    shop whose first build failed, or that switches to the HTTP checkout while the preview runs,
    gets it without a restart; until then /api/ answers 503 with a JSON message."""

    def __init__(self, site_dir: Path, out_dir: Path) -> None:
        self.site_dir, self.out_dir = site_dir, out_dir
        self.app: Any = None

    def start(self, site: Site, url: str) -> None:
        checkout = site.config.checkout
        if self.app is not None or checkout.handler != "http" or not checkout.endpoint.startswith("/api/"):
            return
        from .orders.app import make_app
        from .orders.config import load_service_config

        config_file = self.site_dir / "orders.yml"
        config = load_service_config(
            config_file if config_file.is_file() else None,
            self.site_dir,
            {
                "catalog": str(self.out_dir / "catalog.json"),
                "database": str(self.out_dir.parent / "preview-orders.sqlite3"),
            },
        )
        self.app = make_app(config)
        click.echo(f"Orders go to the preview order service at {url}api/ (a throw-away database).")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.app is not None:
            return self.app(environ, start_response)
        body = b'{"error": "not_started", "message": "The preview order service starts after a successful build."}'
        start_response(
            "503 Service Unavailable", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


def _make_server(api: Any, errors: ErrorOverlay) -> Any:
    """A livereload server that also routes /api/ to the preview's order service, and
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
            handlers.insert(0, (r"/api/.*", web.FallbackHandler, {"fallback": WSGIContainer(api)}))
            return handlers

    return PreviewServer()


def _theme_chain(site_dir: Path) -> list:  # type: ignore[type-arg]
    """The themes the shop builds with, to watch them: read from site.yml alone (loading the whole
    shop here would parse every catalog file once more before the first build). With site.yml
    unusable, the default theme's; the first build reports what is wrong."""
    from .config import parse_config
    from .load import Loader
    from .themes import ThemeError, load_theme

    loader = Loader(site_dir)
    src = loader.read_yaml(site_dir / "site.yml")
    config = parse_config(src, loader.image, lambda name: load_theme(name, site_dir))[0] if src else None
    try:
        return load_theme(config.theme if config is not None else "default", site_dir).chain
    except ThemeError:
        return load_theme("default", site_dir).chain
