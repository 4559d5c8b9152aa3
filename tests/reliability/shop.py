"""The shop the service checks of this suite buy from, and its service/app on SQLite."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from orders_fixtures import LAKE_STORE, PICKUP, STANDARD, TEST_PRODUCTS, site_yml

from generator.orders.app import OrderService, make_app
from generator.orders.config import ServiceConfig
from generator.orders.pricing import Coupon

SHOP: dict[str, str | None] = {
    "site.yml": site_yml("Reliability Tea", STANDARD, "{id: express, label: Express, price: 25.50}", PICKUP),
    "content/catalog/shop.yml": TEST_PRODUCTS
    + "  - {id: odd, title: Odd price, price: 0.99, stock: 100000}\n"
    + "      - {id: big, title: Big, price: 9999.99}\n",
    "content/stores.yml": LAKE_STORE,
}
COUPONS = {
    "TEN": Coupon("TEN", percent_off=10),
    "THIRD": Coupon("THIRD", percent_off=33),
    "FIVE": Coupon("FIVE", amount_off=Decimal("5.55")),
    "ALL": Coupon("ALL", percent_off=100),
}
ORIGIN = "https://shop.example.com"
ADMIN_TOKEN = "adm-SENTINEL-7f3a9c1e5b2d4f60"


def make(catalog: Path, db: Path, **settings: Any) -> tuple[OrderService, Any]:
    config = ServiceConfig(catalog=catalog, database=str(db), coupons=COUPONS, **settings)
    service = OrderService(config)
    return service, make_app(config, service)
