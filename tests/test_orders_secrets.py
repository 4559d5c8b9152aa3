"""Secrets live in the service's settings and the environment, never in the built shop."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import REPO

from generator.build import build
from generator.orders.config import ConfigError, load_service_config

ORDERS_YML = """\
    catalog: public/catalog.json
    database: orders.sqlite3
    admin_token: env:TEST_ADMIN_TOKEN
    handler: stripe
    handler_options:
      secret_key: env:TEST_STRIPE_KEY
      webhook_secret: whsec_inline_secret_value_42
      success_url: https://example.com/order/?ref={reference}
      cancel_url: https://example.com/cart/
    coupons:
      - {code: SECRETSPRING, percent_off: 10, max_uses: 100}
    notify:
      - {type: webhook, url: "https://seller.example.com/hook", secret: env:TEST_HOOK_SECRET}
      - {type: email, host: smtp.example.com, sender: shop@example.com, to: me@example.com,
         username: me, password: smtp_password_value_99}
    """


def test_no_secret_or_coupon_code_reaches_the_built_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ADMIN_TOKEN", "admin_token_value_0123456789")
    monkeypatch.setenv("TEST_STRIPE_KEY", "sk_test_value_abcdefghijkl")
    monkeypatch.setenv("TEST_HOOK_SECRET", "whsec_env_value_mnopqrstuv")
    site = tmp_path / "demo"
    site.mkdir()
    shutil.copy(REPO / "site.yml", site / "site.yml")
    shutil.copytree(REPO / "content", site / "content")
    (site / "orders.yml").write_text(textwrap.dedent(ORDERS_YML), "utf-8")
    config = load_service_config(site / "orders.yml", site)
    secrets = config.secrets()
    assert set(secrets) >= {
        "admin_token_value_0123456789", "sk_test_value_abcdefghijkl", "whsec_inline_secret_value_42",
        "whsec_env_value_mnopqrstuv", "smtp_password_value_99",
    }  # fmt: skip
    build(site, site / "public")
    needles = [s.encode() for s in [*secrets, "SECRETSPRING"]]
    files = [p for p in (site / "public").rglob("*") if p.is_file()]
    assert len(files) > 50
    for file in files:
        data = file.read_bytes()
        for needle in needles:
            assert needle not in data, f"{file.relative_to(site)} contains a secret"
    assert not (site / "public" / "orders.yml").exists()


def test_a_missing_environment_secret_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_ADMIN_TOKEN", raising=False)
    (tmp_path / "orders.yml").write_text("admin_token: env:TEST_ADMIN_TOKEN\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_service_config(tmp_path / "orders.yml", tmp_path)
    expected = "orders.yml:1:14: admin_token: environment variable TEST_ADMIN_TOKEN is not set"
    assert str(err.value.problems[0]) == expected


def test_a_reference_prefix_must_be_url_safe(tmp_path: Path) -> None:
    (tmp_path / "orders.yml").write_text("reference_prefix: my shop\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_service_config(tmp_path / "orders.yml", tmp_path)
    assert "must be 1 to 10 capital letters or digits" in str(err.value)
