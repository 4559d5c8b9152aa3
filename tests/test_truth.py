"""One catalog, one truth: the build proves every output states the same price and stock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import REPO

from generator.build import build
from generator.errors import ContentError
from generator.load import load_site
from generator.render import output_path
from generator.truth import PRODUCT, check_truth, from_page


@pytest.fixture(scope="module")
def demo_files(built_demo: Path) -> dict[str, bytes]:
    site, _ = load_site(REPO)
    names = ["catalog.json", "products.xml", "products.csv"] + [output_path(p.url) for p in site.products]
    return {name: (built_demo / name).read_bytes() for name in names}


def test_the_demo_agrees_everywhere_and_every_output_is_read(built_demo: Path, demo_files: dict[str, bytes]) -> None:
    site, _ = load_site(REPO)
    assert check_truth(site, demo_files) == []
    # the readers find every offer on the pages, so the agreement above is not vacuous
    for product in site.products:
        stated = from_page(demo_files[output_path(product.url)], product.id, bool(product.variants))
        offers = {v.id for v in product.variants} or {""}
        for name in ("page", "JSON-LD", "cart"):
            assert offers <= set(stated[name]), (product.id, name, stated[name])
        assert set(stated["Open Graph"]) == {PRODUCT}
        assert PRODUCT in stated["page"]
    assert any(p.sold_out for p in site.products) or any(v.sold_out for p in site.products for v in p.variants)


def _tampered(files: dict[str, bytes], name: str, old: str, new: str) -> dict[str, bytes]:
    text = files[name].decode("utf-8")
    assert old in text, (name, old)
    return {**files, name: text.replace(old, new, 1).encode("utf-8")}


@pytest.mark.parametrize(
    ("output", "old", "new", "named"),
    [
        ("products.csv", "69.90 CNY", "59.90 CNY", "products.csv and catalog.json disagree"),
        ("products.xml", "<g:availability>in_stock", "<g:availability>out_of_stock", "products.xml and catalog.json"),
        ("products/longjing-2026/index.html", '"price":"168.00"', '"price":"16.80"', "(JSON-LD) and catalog.json "
         "disagree on variant '100g'"),
        ("products/longjing-2026/index.html", 'product:price:currency" content="CNY', 'product:price:currency" '
         'content="USD', "(Open Graph) and catalog.json disagree on the product's price"),
        ("products/jasmine-pearls/index.html", 'data-product="jasmine-pearls" data-title="Jasmine Dragon Pearls" '
         'data-price="6990"', 'data-product="jasmine-pearls" data-title="Jasmine Dragon Pearls" data-price="699"',
         "(cart) and catalog.json"),
        ("products/yixing-teapot/index.html", 'product:availability" content="out of stock',
         'product:availability" content="in stock', "(Open Graph) and catalog.json"),
    ],
)  # fmt: skip
def test_a_tampered_output_is_named_with_the_product(
    demo_files: dict[str, bytes], output: str, old: str, new: str, named: str
) -> None:
    site, _ = load_site(REPO)
    problems = check_truth(site, _tampered(demo_files, output, old, new))
    assert problems, output
    assert all(p.field.startswith("product '") for p in problems)
    assert any(named in p.message for p in problems), [str(p) for p in problems]
    assert len({p.field for p in problems}) == 1 or output.startswith("products.")


def test_a_variant_missing_from_a_feed_is_a_disagreement(demo_files: dict[str, bytes]) -> None:
    site, _ = load_site(REPO)
    product = next(p for p in site.products if len(p.variants) >= 2)
    rows = demo_files["products.csv"].decode("utf-8").splitlines(keepends=True)
    kept = [r for r in rows if not r.startswith(f"{product.id}-{product.variants[-1].id},")]
    assert len(kept) == len(rows) - 1
    problems = check_truth(site, {**demo_files, "products.csv": "".join(kept).encode()})
    assert [p.field for p in problems] == [f"product '{product.id}'"]
    assert f"variant '{product.variants[-1].id}'" in problems[0].message and "no offer" in problems[0].message


def test_a_theme_override_with_a_hard_coded_price_fails_the_build(
    make_site: Callable[..., Path], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    default = (REPO / "themes/default/templates/partials/price.html").read_text("utf-8")
    wrong = default.replace('data-amount="{{ item.price.minor }}"', 'data-amount="9900"')
    assert wrong != default
    site = make_site({"templates/partials/price.html": wrong})
    out = tmp_path / "out"
    with pytest.raises(ContentError) as raised:
        build(site, out)
    messages = [str(p) for p in raised.value.problems]
    assert any(
        m.startswith("content/catalog/tea.yml: product 'green': products/green/index.html and catalog.json disagree")
        and "says CN¥99.00, in stock" in m and "catalog.json says CN¥128.00, in stock" in m
        for m in messages
    ), messages  # fmt: skip
    assert not out.exists(), "nothing is written"
    result = cli("build", str(site), "--out", str(out))
    assert result.exit_code != 0
    assert "product 'green'" in result.output and "Traceback" not in result.output
