"""The order service for any WSGI server: `gunicorn -w 4 'generator.orders.wsgi:app'`.

Settings come from the environment: MICROMALL_SITE (the site folder, default the current
folder) and MICROMALL_ORDERS_CONFIG (default SITE/orders.yml when it exists). Each process
also runs an outbox worker; leased outbox rows keep two workers from sending one notification.
"""

from __future__ import annotations

import os
from pathlib import Path

from .app import OrderService, make_app
from .config import load_service_config
from .notify import OutboxWorker, make_notifiers

_site = Path(os.environ.get("MICROMALL_SITE", "."))
_file = os.environ.get("MICROMALL_ORDERS_CONFIG")
_config_file = Path(_file) if _file else (_site / "orders.yml" if (_site / "orders.yml").is_file() else None)
config = load_service_config(_config_file, _site)
service = OrderService(config)
worker = OutboxWorker(service.store, make_notifiers(config.notify, config.buyer_email))
worker.start()
app = make_app(config, service)
