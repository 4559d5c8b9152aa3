"""`micromall serve`: build, serve the output, rebuild and reload the browser on changes.

The live-reload library stays behind this module. Content problems found while serving are
printed and the last good build keeps being served.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from .build import build
from .errors import ContentError, count_line


def serve(site_dir: Path, out_dir: Path | None, host: str, port: int) -> None:
    """Serve a preview build; without `out_dir` it goes to a temporary folder, removed at exit,
    so that preview URLs (http://127.0.0.1:8000/) never end up in the published public/."""
    from livereload import Server

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

    server = Server()
    watched = [site_dir / "site.yml", site_dir / "content", site_dir / "templates", site_dir / "static"]
    watched += [t.path for t in _theme_chain(site_dir)]
    for path in watched:
        if path.exists():
            server.watch(str(path), rebuild, delay=0.2)
    click.echo(f"Serving the shop on {preview_url} (Ctrl+C stops); edits rebuild it.")
    server.serve(root=str(out_dir), host=host, port=port, open_url_delay=None, restart_delay=0)


def _theme_chain(site_dir: Path) -> list:  # type: ignore[type-arg]
    from .load import load_site
    from .themes import load_theme

    site, _ = load_site(site_dir)
    return load_theme(site.config.theme, site_dir).chain
