"""`micromall serve`: build, serve the output, rebuild and reload the browser on changes.

The live-reload library stays behind this module. Content problems found while serving are
printed and the last good build keeps being served. When the shop takes orders over HTTP
(`checkout: {handler: http}`), the order service is mounted under /api on the same origin,
with its own throw-away database, so the whole flow works locally with one command.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from .build import build
from .errors import ContentError, count_line
from .model import Site


def serve(site_dir: Path, out_dir: Path | None, host: str, port: int) -> None:
    """Serve a preview build; without `out_dir` it goes to a temporary folder, removed at exit,
    so that preview URLs (http://127.0.0.1:8000/) never end up in the published public/."""
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="micromall-preview-") as tmp:
            serve(site_dir, Path(tmp) / "public", host, port)
        return

    preview_url = f"http://{host}:{port}/"
    result = build(site_dir, out_dir, base_url=preview_url)
    click.echo(result.summary())

    def rebuild() -> None:
        try:
            click.echo(build(site_dir, out_dir, base_url=preview_url).summary())
        except ContentError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(count_line(exc.problems) + " (still serving the last good build)", err=True)

    api = _order_api(result.site, site_dir, out_dir)
    server = _make_server(api)
    watched = [site_dir / "site.yml", site_dir / "content", site_dir / "templates", site_dir / "static"]
    watched += [site_dir / "locale"]  # the shop's own wording of interface text
    watched += [t.path for t in _theme_chain(site_dir)]
    for path in watched:
        if path.exists():
            server.watch(str(path), rebuild, delay=0.2)
    click.echo(f"Serving the shop on {preview_url} (Ctrl+C stops); edits rebuild it.")
    if api is not None:
        click.echo(f"Orders go to the preview order service at {preview_url}api/ (a throw-away database).")
    # restart_delay="forever": no reload of every open page when the server starts (livereload's default)
    server.serve(root=str(out_dir), host=host, port=port, open_url_delay=None, restart_delay="forever", debug=False)


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


def _make_server(api: Any) -> Any:
    """A livereload server that also routes /api/ to the order service when there is one."""
    from livereload import Server
    from tornado import web
    from tornado.wsgi import WSGIContainer

    class PreviewServer(Server):  # type: ignore[misc]
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
