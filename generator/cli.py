"""The `micromall` command: parses options, calls the library, maps errors to exit codes.

Exit codes: 0 ok, 1 content errors, 2 usage errors. Content problems are printed as
`path:line:column: field: message` lines with a count; any other exception is a bug in micromall
and keeps its traceback.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import ContentError, MicromallError, Problem, Severity, UsageError, count_line
from .model import Site


def _report(problems: list[Problem]) -> None:
    for problem in sorted(problems):
        click.echo(str(problem), err=True)


def _site_dir(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise click.BadParameter(f"{value} is not a folder", param_hint="SITE_DIR")
    return path


def _run(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except ContentError as exc:
        _report(exc.problems)
        click.echo(count_line(exc.problems), err=True)
        sys.exit(exc.exit_code)
    except UsageError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except MicromallError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)


#: Set by `entry`, the command as installed: a finished build then leaves without the
#: interpreter's teardown (see _leave).
_HARD_EXIT = False


def entry() -> None:
    """The `micromall` command (and `python -m generator`)."""
    global _HARD_EXIT
    _HARD_EXIT = True
    main()


def _leave() -> None:
    """End the process now that a build is done and reported. Python's teardown frees every
    object one by one: a second at 10,000 products, a fifth of a build with nothing to do.
    Everything the build writes is already in place (each file renamed into place), so only
    the terminal's buffers need flushing. Only for the command itself: tests call `main`."""
    if _HARD_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="micromall")
def main() -> None:
    """micromall: turn a YAML catalog and Markdown stories into a static shop."""


@main.command()
@click.argument("site_dir", default=".", type=click.Path(file_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: SITE_DIR/public).")
@click.option("--clean", is_flag=True, help="Also remove files in the output folder that this build did not make.")
@click.option("--profile", is_flag=True, help="Print the time of each phase.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Processes for pages and images (default: all cores).")
def build(site_dir: str, out_dir: str | None, clean: bool, profile: bool, jobs: int | None) -> None:
    """Build the shop in SITE_DIR (default: the current folder)."""
    from .build import build as run_build  # imported here: `check` and `orders` start faster without it
    from .progress import terminal_progress, wants_progress

    site = _site_dir(site_dir)
    log = (lambda line: click.echo(line, err=True)) if profile else (lambda _: None)
    stderr = sys.stderr
    progress = terminal_progress(stderr) if wants_progress(stderr) else None

    def action() -> None:
        if _HARD_EXIT:
            # the command builds once and leaves (_leave): the collector, paused during the build,
            # need not walk the shop when it ends (a tenth of a second at 10,000 products) to free
            # what the process's end frees anyway
            gc.disable()
        result = run_build(
            site, Path(out_dir) if out_dir else None, clean=clean, log=log, workers=jobs, progress=progress
        )
        _print_warnings(result.warnings)
        click.echo(result.summary())
        _print_kits(result.site)

    _run(action)
    _leave()


def _print_kits(site: Site) -> None:
    """Where each promoter's kit is: unlisted pages the shop owner sends to each promoter."""
    from .kits import kit_links

    links = kit_links(site)
    if links:
        click.echo("Promoter kits (unlisted: send each link to its promoter only):")
    for code, name, url in links:
        click.echo(f"  {code} ({name}): {url}")


@main.command()
@click.argument("site_dir", default=".", type=click.Path(file_okay=False))
def check(site_dir: str) -> None:
    """Check the content of SITE_DIR without writing anything."""
    from .load import load_site

    site = _site_dir(site_dir)

    def action() -> None:
        _, problems = load_site(site)  # raises with every error
        _print_warnings(problems)
        warnings = f" ({count_line(problems).split(', ')[-1]})" if problems else ""
        click.echo(f"{site}: content is valid{warnings}.")

    _run(action)


@main.command()
@click.argument("target", type=click.Path(file_okay=False))
@click.option("--title", default="My Shop", show_default=True, help="The new shop's name.")
def new(target: str, title: str) -> None:
    """Create a small starter shop in TARGET that builds as it is."""
    from .scaffold import create_site

    path = Path(target)

    def action() -> None:
        create_site(path, title)
        click.echo(f"Created a starter shop in {path}. Next: micromall serve {path}")

    _run(action)


@main.command()
@click.argument("site_dir", default=".", type=click.Path(file_okay=False))
@click.option("--host", help="Address to listen on.  [default: 127.0.0.1]")
@click.option(
    "--lan",
    is_flag=True,
    help="Listen on every interface and print this machine's network address and a QR code to open "
    "the preview on a phone. Anyone on the network can see the shop.",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: a temporary one).")
def serve(site_dir: str, host: str | None, lan: bool, port: int, out_dir: str | None) -> None:
    """Build, serve on HOST:PORT and rebuild when the content changes.

    A content error is printed and shown over the pages in the browser, which keep showing the
    last good build until the file is fixed."""
    from .devserver import serve as run_serve

    if lan and host is not None:
        raise click.UsageError("--lan and --host cannot be used together: --lan listens on every interface.")
    site = _site_dir(site_dir)
    _run(lambda: run_serve(site, Path(out_dir) if out_dir else None, host or "127.0.0.1", port, lan))


@main.group()
def theme() -> None:
    """Write and inspect themes."""


@theme.command("new")
@click.argument("name")
@click.option("--extends", "parent", default="default", show_default=True, help="The parent theme.")
@click.option(
    "--dir", "folder", default="themes", show_default=True, type=click.Path(file_okay=False),
    help="Where to create the theme: a shop's themes/ folder, or any folder.",
)  # fmt: skip
def theme_new(name: str, parent: str, folder: str) -> None:
    """Create NAME, a child theme of another theme, ready to edit."""
    from .scaffold import create_theme

    def action() -> None:
        path = create_theme(Path(folder), name, parent)
        click.echo(f"Created the theme {name} in {path}. Use it with `theme: {name}` in site.yml.")

    _run(action)


@theme.command("list")
@click.argument("site_dir", default=".", type=click.Path(file_okay=False))
def theme_list(site_dir: str) -> None:
    """List the themes SITE_DIR can use, with where each comes from."""
    from .themes import ThemeError, available_themes, load_theme

    site = _site_dir(site_dir)
    for name in available_themes(site):
        try:
            found = load_theme(name, site)
        except ThemeError as exc:
            click.echo(f"{name}  (broken: {exc})")
            continue
        parent = f", extends {found.parent.name}" if found.parent else ""
        click.echo(f"{name}  ({found.origin}{parent})")


def _register_orders() -> None:
    from .orders.cli import orders

    main.add_command(orders)


_register_orders()


def _register_i18n() -> None:
    from .i18n_cli import i18n

    main.add_command(i18n)


_register_i18n()


def _print_warnings(problems: list[Problem]) -> None:
    _report([p for p in problems if p.severity is Severity.WARNING])
