"""`micromall orders ...`: run the order service, and the seller's tools on its database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import click

from ..money import Money, format_money
from .catalog import CatalogError
from .config import ConfigError, ServiceConfig, load_service_config
from .pricing import OrderError
from .store import TRANSITIONS, Busy, OrderStore, StoredOrder

STATUSES = sorted(TRANSITIONS)


def _config(site_dir: str, config: str | None, database: str | None, catalog: str | None) -> ServiceConfig:
    site = Path(site_dir)
    file = Path(config) if config else (site / "orders.yml" if (site / "orders.yml").is_file() else None)
    try:
        return load_service_config(file, site, {"database": database, "catalog": catalog})
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)


def common(fn: Any) -> Any:
    fn = click.option("--catalog", help="The built catalog.json (default: SITE_DIR/public/catalog.json).")(fn)
    fn = click.option("--database", help="A SQLite file or a postgresql:// URL (default: SITE_DIR/orders.sqlite3).")(fn)
    fn = click.option(
        "--config", type=click.Path(dir_okay=False), help="Service settings (default: SITE_DIR/orders.yml)."
    )(fn)
    return click.argument("site_dir", default=".", type=click.Path(file_okay=False))(fn)


def _store(cfg: ServiceConfig) -> OrderStore:
    from .app import make_store

    store = make_store(cfg)
    try:
        store.migrate()
    except Busy as exc:
        raise click.ClickException(f"the order database cannot be opened: {exc}") from None
    return store


@click.group()
def orders() -> None:
    """Run the order service and look after orders."""


@orders.command()
@common
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
def serve(site_dir: str, config: str | None, database: str | None, catalog: str | None, host: str, port: int,
          threads: int) -> None:  # fmt: skip
    """Serve the order API (POST /api/orders, ...) with waitress."""
    import logging
    import signal

    import waitress

    from .app import GroupBuySettler, OrderService, make_app
    from .notify import OutboxWorker, make_notifiers

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    cfg = _config(site_dir, config, database, catalog)
    try:
        service = OrderService(cfg)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    worker = OutboxWorker(service.store, make_notifiers(cfg.notify, cfg.buyer_email))
    worker.start()
    settler = GroupBuySettler(service)
    settler.start()
    click.echo(f"Order service for {service.catalog().title or 'the shop'} on http://{host}:{port}/api/ "
               f"({'PostgreSQL' if cfg.is_postgres else 'SQLite'}); Ctrl+C stops.")  # fmt: skip

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops like Ctrl+C: waitress finishes, the outbox hands back

    signal.signal(signal.SIGTERM, terminate)

    from .redact import install

    install(tuple(cfg.secrets()))
    try:
        # channel_timeout + cleanup_interval close idle (slowloris) connections within 10 s;
        # connection_limit leaves room for them beside real buyers; the listen backlog takes a
        # burst of simultaneous connects. The app answers bodies over max_body with a JSON 413;
        # waitress stops anything over 1 MB (an endless chunked body too) before buffering it.
        waitress.serve(make_app(cfg, service), host=host, port=port, threads=threads, backlog=1024,
                       channel_timeout=8, cleanup_interval=1, connection_limit=1000,
                       max_request_body_size=max(cfg.max_body, 1 << 20), ident="micromall", _quiet=True)  # fmt: skip
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        settler.stop()


def _line(order: StoredOrder) -> str:
    doc = order.document
    total = format_money(Money(order.total, doc["currency"]), "en")
    count = sum(i["quantity"] for i in order.items)
    where = doc["store"]["name"] if doc.get("store") else doc["shipping"]["label"]
    return f"{order.reference}  {order.created_at}  {order.status:<15} {total:>12}  {count} item(s)  {where}"


@orders.command(name="list")
@common
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--since", help="From this date (YYYY-MM-DD).")
@click.option("--until", help="Before this date (YYYY-MM-DD).")
def list_orders(site_dir: str, config: str | None, database: str | None, catalog: str | None, status: str | None,
                since: str | None, until: str | None) -> None:  # fmt: skip
    """List orders, oldest first."""
    store = _store(_config(site_dir, config, database, catalog))
    found = store.orders(status=status, since=since, until=until)
    for order in found:
        click.echo(_line(order))
    click.echo(f"{len(found)} order(s)")


@orders.command()
@common
@click.argument("reference")
def show(site_dir: str, config: str | None, database: str | None, catalog: str | None, reference: str) -> None:
    """Show one order with the customer's details."""
    store = _store(_config(site_dir, config, database, catalog))
    order = store.get(reference)
    if order is None:
        raise click.ClickException(f"no order {reference}")
    doc = order.document
    cur = doc["currency"]

    def m(v: int) -> str:
        return format_money(Money(v, cur), "en")

    click.echo(f"Order {order.reference}: {order.status}, placed {order.created_at}")
    for item in order.items:
        click.echo(f"  {item['quantity']} x {item['title']}  {m(item['unit_price'])}  = {m(item['line_total'])}")
    click.echo(f"  subtotal {m(doc['subtotal'])}, discount {m(doc['discount'])}, shipping {m(doc['shipping_cost'])}")
    click.echo(f"  total {m(doc['total'])}")
    click.echo(f"Delivery: {doc['shipping']['label']}" + (f" at {doc['store']['name']}" if doc.get("store") else ""))
    if doc.get("pickup_code"):
        click.echo(f"Pickup code: {doc['pickup_code']}")
    for key, value in order.customer.items():
        if value:
            click.echo(f"{key.capitalize()}: {value}")
    if order.note:
        click.echo(f"Note: {order.note}")


@orders.command()
@common
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV: one row per line item.")
@click.option(
    "--group-buy",
    "group_buy",
    metavar="PRODUCT",
    help="Write a group buy's participant list to paste into a group chat (names and phones masked).",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of standard output.")
@click.option("--status", type=click.Choice(STATUSES))
def export(site_dir: str, config: str | None, database: str | None, catalog: str | None, as_csv: bool,
           group_buy: str | None, out: str | None, status: str | None) -> None:  # fmt: skip
    """Export orders as CSV, one row per line item (opens in a spreadsheet), or a group buy's list."""
    if as_csv == bool(group_buy):
        raise click.UsageError("give one of --csv or --group-buy PRODUCT")
    cfg = _config(site_dir, config, database, catalog)
    store = _store(cfg)
    if group_buy:
        text = _group_buy_text(cfg, store, group_buy)
        if out:
            Path(out).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["reference", "created_at", "status", "product", "variant", "title", "quantity", "unit_price",
                     "line_total", "order_total", "currency", "shipping", "store", "name", "phone", "email",
                     "address", "note", "ref", "source_store"])  # fmt: skip
    for order in store.orders(status=status):
        doc = order.document
        digits = 10 ** _digits(doc["currency"])
        for item in order.items:
            writer.writerow([
                order.reference, order.created_at, order.status, item["product"], item["variant"] or "",
                item["title"], item["quantity"], _decimal(item["unit_price"], digits),
                _decimal(item["line_total"], digits), _decimal(order.total, digits), doc["currency"],
                doc["shipping"]["id"], (doc.get("store") or {}).get("id", ""), order.customer.get("name", ""),
                order.customer.get("phone", ""), order.customer.get("email", ""), order.customer.get("address", ""),
                order.note, order.ref or "", order.source_store or "",
            ])  # fmt: skip
    data = "\ufeff" + buffer.getvalue()  # the BOM makes spreadsheet programs read UTF-8 (Chinese names)
    if out:
        Path(out).write_text(data, encoding="utf-8", newline="")
    else:
        click.echo(data, nl=False)


def mask_name(name: str) -> str:
    """As a group chat shows a participant: the first letter of each word ("L* W**", "李**")."""
    return " ".join(w[0] + "*" * min(len(w) - 1, 3) for w in name.split()) or "*"


def mask_phone(phone: str) -> str:
    """The last four digits, and the first three of a long (mobile) number: 138****0000."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) >= 11:
        return digits[-11:-8] + "****" + digits[-4:]
    return "****" + digits[-4:]


def _group_buy_text(cfg: ServiceConfig, store: OrderStore, product: str) -> str:
    """The participant list (接龙) for `product`: one numbered line per order, oldest first."""
    from .catalog import load_catalog

    try:
        info = load_catalog(cfg.catalog).group_buys.get(product)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    if info is None:
        raise click.ClickException(f"no group buy for a product '{product}' in {cfg.catalog}")
    state = store.group_buy(product)
    found = [o for o in store.orders() if o.status != "cancelled" and any(i["product"] == product for i in o.items)]
    title = next((i["title"] for o in found for i in o.items if i["product"] == product), product)
    ends = info.ends.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    outcome = {"confirmed": "it goes ahead", "cancelled": "cancelled"}.get(state["outcome"] or "", f"until {ends}")
    lines = [f"{title}: group buy, {state['joined']} of {info.min_orders} joined ({outcome})", ""]
    for n, order in enumerate(found, 1):
        qty = sum(i["quantity"] for i in order.items if i["product"] == product)
        who = f"{mask_name(str(order.customer.get('name', '')))}  {mask_phone(str(order.customer.get('phone', '')))}"
        lines.append(f"{n}. {who}  x{qty}  {order.reference[-4:]}")
    if not found:
        lines.append("(nobody yet)")
    return "\n".join(lines) + "\n"


@orders.command(name="settle-group-buys")
@common
def settle_group_buys(site_dir: str, config: str | None, database: str | None, catalog: str | None) -> None:
    """Settle the group buys that have ended: confirm or cancel their orders, notify (cron-safe)."""
    from .app import OrderService

    cfg = _config(site_dir, config, database, catalog)
    try:
        service = OrderService(cfg)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        settled = service.settle_group_buys()
    finally:
        service.store.close()
    for product, outcome, refs in settled:
        click.echo(f"{product}: {outcome}, {len(refs)} order(s): {' '.join(refs) or '-'}")
    if not settled:
        click.echo("No group buy to settle.")


def _digits(currency: str) -> int:
    from ..money import minor_digits

    return minor_digits(currency)


def _decimal(minor: int, factor: int) -> str:
    from decimal import Decimal

    return str(Decimal(minor) / factor) if factor > 1 else str(minor)


@orders.command(name="set-status")
@common
@click.argument("reference")
@click.argument("status", type=click.Choice(["confirmed", "paid", "shipped", "completed", "cancelled"]))
def set_status(site_dir: str, config: str | None, database: str | None, catalog: str | None, reference: str,
               status: str) -> None:  # fmt: skip
    """Move an order on (cancelling gives its stock back)."""
    store = _store(_config(site_dir, config, database, catalog))
    try:
        order = store.set_status(reference, status)
    except OrderError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"{order.reference} is now {order.status}")


@orders.command()
@common
@click.option(
    "--by",
    "by",
    type=click.Choice(["day", "promoter"]),
    default="day",
    show_default=True,
    help="day: totals per day and per product; promoter: orders, revenue and commission per promoter.",
)
def report(site_dir: str, config: str | None, database: str | None, catalog: str | None, by: str) -> None:
    """Totals per day and per product, or per promoter (cancelled orders left out)."""
    store = _store(_config(site_dir, config, database, catalog))
    if by == "promoter":
        _promoter_report(Path(site_dir), store.orders())
        return
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_product: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    currency = ""
    for order in store.orders():
        if order.status == "cancelled":
            continue
        currency = order.document["currency"]
        day = per_day[order.created_at[:10]]
        day[0] += 1
        day[1] += order.total
        for item in order.items:
            row = per_product[item["title"]]
            row[0] += item["quantity"]
            row[1] += item["line_total"]

    def m(v: int) -> str:
        return format_money(Money(v, currency), "en") if currency else str(v)

    click.echo("Per day:")
    for day_name, (count, total) in sorted(per_day.items()):
        click.echo(f"  {day_name}  {count:>4} order(s)  {m(total):>14}")
    click.echo("Per product:")
    for title, (qty, total) in sorted(per_product.items(), key=lambda kv: -kv[1][1]):
        click.echo(f"  {title:<40} {qty:>5} sold  {m(total):>14}")


def commission_of(subtotal: int, rate: Decimal) -> int:
    """A promoter's commission on one order, in minor units: rate x subtotal, rounded half up."""
    return int((Decimal(subtotal) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _pad(text: str, width: int) -> str:
    """Left-aligned in `width` columns of a terminal, where a Chinese character takes two."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def _percent(rate: Decimal | None) -> str:
    return "-" if rate is None else format((rate * 100).normalize(), "f") + "%"


def _promoter_report(site_dir: Path, found: list[StoredOrder]) -> None:
    """Per promoter: orders, their subtotal (what commission is on), revenue (the totals the
    buyers pay) and commission at the rate in content/promoters.yml, rounded per order."""
    from ..promoters import read_promoters

    promoters, problems = read_promoters(site_dir)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    known = {p.code: p for p in promoters}
    rows: dict[str, list[int]] = {p.code: [0, 0, 0, 0] for p in promoters}  # orders, subtotal, revenue, commission
    direct = [0, 0, 0, 0]
    currency = ""
    for order in found:
        if order.status == "cancelled":
            continue
        currency = order.document["currency"]
        row = rows.setdefault(order.ref, [0, 0, 0, 0]) if order.ref else direct
        promoter = known.get(order.ref or "")
        rate = promoter.commission if promoter is not None else None
        row[0] += 1
        row[1] += order.subtotal
        row[2] += order.total
        row[3] += commission_of(order.subtotal, rate) if rate is not None else 0

    def m(v: int) -> str:
        return format_money(Money(v, currency), "en") if currency else str(v)

    click.echo("Per promoter (cancelled orders left out; commission on the subtotal, rounded per order):")
    click.echo(f"  {'code':<16} {'name':<20} {'orders':>6} {'subtotal':>14} {'revenue':>14} {'rate':>6} "
               f"{'commission':>14}")  # fmt: skip
    for code, (count, subtotal, revenue, commission) in sorted(rows.items(), key=lambda kv: (-kv[1][2], kv[0])):
        promoter = known.get(code)
        name = promoter.name if promoter is not None else "(not in promoters.yml)"
        shown = _percent(promoter.commission if promoter is not None else None)
        click.echo(f"  {code:<16} {_pad(name, 20)} {count:>6} {m(subtotal):>14} {m(revenue):>14} {shown:>6} "
                   f"{m(commission):>14}")  # fmt: skip
    click.echo(f"  {'(no promoter)':<37} {direct[0]:>6} {m(direct[1]):>14} {m(direct[2]):>14}")
