"""docs/openapi.yaml against the real order service.

The spec must be valid OpenAPI 3.1, list exactly the routes the app answers and exactly the
(status, error code) pairs the code emits, mirror pricing.py's request rules, and describe the
answers the app really gives: they are validated against its schemas (with `jsonschema` when it is
installed; neither it nor `openapi-spec-validator` is a project dependency, so those checks skip
without them). SQLite only, in-process.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from orders_fixtures import CUSTOMER, LAKE_STORE, PICKUP, STANDARD, TEST_PRODUCTS, order_body, site_yml, write_catalog
from wsgi_client import Response, call, post_json

from generator.orders import pricing
from generator.orders.app import IDEMPOTENCY_KEY, OrderService, make_app
from generator.orders.config import ServiceConfig
from generator.orders.pricing import Coupon
from generator.orders.store import BUSY_CODES, Busy
from generator.orders.stripe import StripeHandler, signature_header

try:
    import jsonschema
except ImportError:  # not a project dependency: schema validation is skipped without it
    jsonschema = None

REPO = Path(__file__).resolve().parent.parent
SPEC_FILE = REPO / "docs" / "openapi.yaml"
ORDERS = REPO / "generator" / "orders"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PROBE = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH")
ORIGIN = "https://shop.example.com"
WEBHOOK_SECRET = "whsec_openapi_test"

SHOP: dict[str, str | None] = {
    "site.yml": site_yml("OpenAPI Test Tea", STANDARD, PICKUP),
    "content/catalog/shop.yml": TEST_PRODUCTS,
    "content/stores.yml": LAKE_STORE,
}
COUPONS = {"TEN": Coupon("TEN", percent_off=10), "BIG": Coupon("BIG", percent_off=5, min_spend=Decimal(1000))}


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def catalog_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("openapi-shop"), SHOP)


@pytest.fixture
def service(catalog_path: Path, tmp_path: Path) -> Iterator[OrderService]:
    svc = OrderService(ServiceConfig(catalog=catalog_path, database=str(tmp_path / "orders.sqlite3"), coupons=COUPONS))
    yield svc
    svc.store.close()


@pytest.fixture
def app(service: OrderService) -> Any:
    return make_app(service.config, service)


@pytest.fixture
def stripe_app(catalog_path: Path, tmp_path: Path) -> Iterator[Any]:
    """The stripe handler for its webhook only: no order is placed, so Stripe's API is never called."""
    handler = StripeHandler(secret_key="sk_test_openapi", webhook_secret=WEBHOOK_SECRET,
                            success_url="https://shop.example.com/order/?ref={reference}",
                            cancel_url="https://shop.example.com/checkout/")  # fmt: skip
    config = ServiceConfig(catalog=catalog_path, database=str(tmp_path / "stripe.sqlite3"))
    svc = OrderService(config, handler=handler)
    yield make_app(config, svc)
    svc.store.close()


# -- reading the spec ----------------------------------------------------------------------------


def lookup(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """`node` with every local $ref replaced by its target (the spec has no recursive schemas)."""
    if isinstance(node, list):
        return [resolve(spec, v) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = resolve(spec, lookup(spec, node["$ref"]))
        siblings = {k: resolve(spec, v) for k, v in node.items() if k != "$ref"}
        return {"allOf": [target], **siblings} if siblings else target
    return {k: resolve(spec, v) for k, v in node.items()}


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def validate(instance: Any, schema: dict[str, Any]) -> None:
    if jsonschema is not None:
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        jsonschema.Draft202012Validator(schema, format_checker=checker).validate(instance)


def codes_of(spec: dict[str, Any], response: dict[str, Any]) -> set[str]:
    """The error codes a documented answer may carry: its schema narrows Error's `code`."""
    response = lookup(spec, response["$ref"]) if "$ref" in response else response
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" not in schema:
        return set()
    for part in lookup(spec, schema["$ref"]).get("allOf", []):
        code = part.get("properties", {}).get("error", {}).get("properties", {}).get("code")
        if code:
            return set(code["enum"]) if "enum" in code else {code["const"]}
    return set()


def check(spec: dict[str, Any], res: Response, method: str, path: str) -> None:
    """The answer's status is documented for the operation, and its headers and body match."""
    op = spec["paths"][path][method]
    assert str(res.status) in op["responses"], f"{method.upper()} {path}: {res.status} is not documented"
    check_response(spec, res, op["responses"][str(res.status)])


def check_response(spec: dict[str, Any], res: Response, documented: dict[str, Any]) -> None:
    codes = codes_of(spec, documented)
    response = resolve(spec, documented)
    for name, header in response.get("headers", {}).items():
        if header.get("required"):
            assert name in res.headers, f"{res.status}: header {name} is missing"
        if name in res.headers:
            validate(res.headers[name], header["schema"])
    if "content" not in response:
        assert res.body == b""
        return
    assert res.headers["Content-Type"] == "application/json; charset=utf-8"
    assert res.headers["Cache-Control"] == "no-store"
    body = res.json
    if codes:
        assert body["error"]["code"] in codes, f"{res.status} {body['error']['code']} is not documented"
    validate(body, response["content"]["application/json"]["schema"])


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    resolved: dict[str, Any] = resolve(spec, spec["components"]["schemas"][name])
    return resolved


# -- the spec itself -----------------------------------------------------------------------------


def test_the_spec_is_openapi_3_1_with_sound_references(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    text = SPEC_FILE.read_text("utf-8")
    for ref in set(re.findall(r"\$ref: '([^']+)'", text)):
        lookup(spec, ref)  # raises KeyError for a reference to nothing
    ids = [op["operationId"] for _, _, op in operations(spec) if "operationId" in op]
    assert len(ids) == len(set(ids))
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert codes_of(spec, response), f"{method} {path} {status} names no error codes"


def test_the_spec_passes_openapi_spec_validator(spec: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator", reason="openapi-spec-validator is not installed")
    validator.validate(spec)


def test_every_example_matches_its_schema(spec: dict[str, Any]) -> None:
    if jsonschema is None:
        pytest.skip("jsonschema is not installed")
    seen = 0
    for _, _, op in operations(spec):
        media = [op.get("requestBody", {}).get("content", {})]
        media += [resolve(spec, r).get("content", {}) for r in op["responses"].values()]
        for content in media:
            for kind in content.values():
                examples = [e["value"] for e in kind.get("examples", {}).values()]
                examples += [kind["example"]] if "example" in kind else []
                for example in examples:
                    validate(example, resolve(spec, kind["schema"]))
                    seen += 1
        for parameter in resolve(spec, op.get("parameters", [])):
            if "example" in parameter:
                validate(parameter["example"], parameter["schema"])
    assert seen >= 8


def test_the_request_schema_mirrors_pricing(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    body, item, customer = schemas["OrderRequest"], schemas["OrderRequestItem"], schemas["Customer"]
    assert set(body["properties"]) == pricing.BODY_KEYS
    assert set(item["properties"]) == pricing.ITEM_KEYS
    assert set(customer["properties"]) == pricing.CUSTOMER_KEYS
    assert body["additionalProperties"] is item["additionalProperties"] is customer["additionalProperties"] is False
    assert (body["properties"]["items"]["minItems"], body["properties"]["items"]["maxItems"]) == (1, pricing.MAX_LINES)
    quantity = item["properties"]["quantity"]
    assert (quantity["type"], quantity["minimum"], quantity["maximum"]) == ("integer", 1, pricing.MAX_QUANTITY)
    assert body["properties"]["expected_total"]["type"] == "integer"
    # the text limits as pricing.py reads them: _text(data, key, path, limit, required)
    source = (ORDERS / "pricing.py").read_text("utf-8")
    limits = {key: int(n) for key, n in re.findall(r'_text\(data, "(\w+)", "[\w.]+", (\d+),', source)}
    assert set(limits) == {"name", "phone", "email", "address", "note", "coupon"}
    for key, limit in limits.items():
        where = customer if key in pricing.CUSTOMER_KEYS else body
        assert where["properties"][key]["maxLength"] == limit, key
    patterns = lambda s: [s.get("pattern")] + [p.get("pattern") for p in s.get("allOf", [])]  # noqa: E731
    assert pricing.PHONE.pattern in patterns(customer["properties"]["phone"])
    assert pricing.EMAIL.pattern in patterns(customer["properties"]["email"])
    key = spec["components"]["parameters"]["IdempotencyKey"]
    assert key["required"] is True and key["schema"]["pattern"] == IDEMPOTENCY_KEY.pattern
    max_body = ServiceConfig.__dataclass_fields__["max_body"].default
    assert f"{max_body:,}" in SPEC_FILE.read_text("utf-8")


def emitted_codes() -> set[tuple[int, str]]:
    """(status, code) pairs as the order service's code writes them."""
    pairs: set[tuple[int, str]] = set()
    for name in ("app.py", "pricing.py", "store.py", "stripe.py", "handlers.py"):
        text = (ORDERS / name).read_text("utf-8")
        for pattern in (
            r'OrderError\(\s*(\d{3}),\s*"(\w+)"',  # raise OrderError(409, "out_of_stock", ...)
            r'_json\(start, (\d{3}), _error\("(\w+)"',  # app.py's transport refusals
            r'_error\((\d{3}), "(\w+)"',  # stripe.py
            r'(\d{3}), \{"error": \{"code": "(\w+)"',  # return 404, {"error": {"code": "not_found", ...}}
        ):
            pairs |= {(int(status), code) for status, code in re.findall(pattern, text)}
        if re.search(r"\braise invalid\(", text):
            pairs.add((422, "invalid_field"))
    pairs |= {(503, code) for code in BUSY_CODES}  # app.py answers a Busy database with its code
    return pairs


def test_the_documented_error_codes_are_exactly_those_the_code_emits(spec: dict[str, Any]) -> None:
    emitted = emitted_codes()
    assert len(emitted) >= 20, "the patterns no longer find the codes: update emitted_codes()"
    documented = {
        (int(status), code)
        for _, _, op in operations(spec)
        for status, response in op["responses"].items()
        for code in codes_of(spec, response)
    }
    documented |= {(405, c) for c in codes_of(spec, spec["components"]["responses"]["MethodNotAllowed"])}
    assert emitted - documented == set(), "emitted but not documented"
    assert documented - emitted == set(), "documented but never emitted"
    assert set(spec["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"]) == {c for _, c in emitted}


# -- the spec against the running app ------------------------------------------------------------


def template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def routed_paths() -> set[str]:
    """The paths app.py routes, with each regex group written {}."""
    text = (ORDERS / "app.py").read_text("utf-8")
    literal = set(re.findall(r'path == "(/api/[^"]+)"', text))
    patterns = re.findall(r're\.fullmatch\(r"(/api/[^"]+)", path\)', text)
    return literal | {re.sub(r"\([^)]*\)", "{}", p) for p in patterns}


def test_the_spec_lists_exactly_the_routes_the_app_answers(spec: dict[str, Any], app: Any) -> None:
    assert {template(p) for p in spec["paths"]} == routed_paths()
    no_route = call(app, "GET", "/api/no-such-route").json["error"]["message"]
    samples = {"reference": "MM-ABCDEF", "handler": "manual", "product": "tea"}

    def answers(method: str, path: str) -> bool:
        res = call(app, method, path, b"" if method in ("POST", "PUT", "PATCH") else None)
        if res.status == 405:
            return False
        return not (res.status == 404 and res.json["error"]["message"] == no_route)

    answered = set()
    for path in spec["paths"]:
        concrete = re.sub(r"\{(\w+)\}", lambda m: samples[m.group(1)], path)
        answered |= {(method, path) for method in PROBE if answers(method, concrete)}
    assert answered == {(method.upper(), path) for method, path, _ in operations(spec)}


def test_answers_to_orders_match_the_spec(spec: dict[str, Any], app: Any) -> None:
    orders, one = "/api/orders", "/api/orders/{reference}"
    placed = post_json(app, orders, order_body(), Origin=ORIGIN)
    assert placed.status == 201, placed.body
    assert placed.headers["Access-Control-Allow-Origin"] == ORIGIN
    check(spec, placed, "post", orders)
    again = post_json(app, orders, order_body(), Origin=ORIGIN)
    assert again.status == 201 and again.body == placed.body
    pickup = order_body(shipping="pickup", store="lake", customer={**CUSTOMER, "address": None},
                        coupon="ten", expected_total=12800 + 7100 - 1990)  # fmt: skip
    res = post_json(app, orders, pickup, key="pickup")
    assert res.status == 201 and res.json["pickup_code"] and res.json["discount"] == 1990, res.body
    check(spec, res, "post", orders)

    doc = placed.json
    view = call(app, "GET", f"/api/orders/{doc['reference']}", headers={"X-Order-Token": doc["token"]})
    assert view.status == 200 and "token" not in view.json
    check(spec, view, "get", one)
    for token in ("", "wrong"):
        res = call(app, "GET", f"/api/orders/{doc['reference']}", headers={"X-Order-Token": token})
        assert res.status == 404
        check(spec, res, "get", one)

    short = order_body(items=[{"product": "cup", "variant": "s", "quantity": 6}], expected_total=19000)
    refusals = [
        (post_json(app, orders, short, key="k2"), "out_of_stock"),
        (post_json(app, orders, order_body(expected_total=1), key="k3"), "price_changed"),
        (post_json(app, orders, order_body(total=1), key="k4"), "invalid_field"),
        (post_json(app, orders, order_body(items=[{"product": "nope", "quantity": 1}]), key="k5"), "unknown_product"),
        (post_json(app, orders, order_body(coupon="NOPE"), key="k6"), "unknown_coupon"),
        (post_json(app, orders, order_body(coupon="BIG"), key="k7"), "coupon_min_spend"),
        (post_json(app, orders, order_body(note="changed")), "idempotency_conflict"),
        (post_json(app, orders, order_body(), key=None), "missing_idempotency_key"),
        (post_json(app, orders, order_body(), key="with space"), "invalid_idempotency_key"),
        (call(app, "POST", orders, b"{not json", {"Idempotency-Key": "k8"}), "invalid_json"),
        (call(app, "POST", orders, b"{" + b" " * 70_000 + b"}", {"Idempotency-Key": "k9"}), "body_too_large"),
        (
            call(app, "POST", orders, b"{}", {"Idempotency-Key": "k10"}, content_type="text/plain"),
            "unsupported_media_type",
        ),
    ]
    for res, code in refusals:
        assert res.json["error"]["code"] == code, res.body
        check(spec, res, "post", orders)
    assert set(refusals[1][0].json["error"]) == {"code", "message", "total", "expected_total", "request_id"}
    assert refusals[0][0].json["error"]["items"] == [{"product": "cup", "variant": "s", "available": 5}]


def test_other_answers_match_the_spec(spec: dict[str, Any], app: Any, service: OrderService,
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    check(spec, call(app, "GET", "/api/stock", headers={"Origin": ORIGIN}), "get", "/api/stock")
    check(spec, call(app, "GET", "/api/health"), "get", "/api/health")
    webhook = call(app, "POST", "/api/payments/manual/webhook", b"{}")
    assert webhook.status == 404
    check(spec, webhook, "post", "/api/payments/{handler}/webhook")

    nowhere = call(app, "GET", "/api/nowhere")
    assert nowhere.status == 404
    check_response(spec, nowhere, spec["paths"]["/api/orders/{reference}"]["get"]["responses"]["404"])
    responses = spec["components"]["responses"]
    wrong = call(app, "GET", "/api/orders")
    assert (wrong.status, wrong.headers["Allow"]) == (405, "POST")
    check_response(spec, wrong, responses["MethodNotAllowed"])
    preflight = call(app, "OPTIONS", "/api/orders", headers={"Origin": ORIGIN})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    for path in spec["paths"]:
        check(spec, preflight, "options", path)
    for name, header in resolve(spec, responses["Preflight"])["headers"].items():
        if "const" in header["schema"]:
            assert preflight.headers[name] == header["schema"]["const"]
    elsewhere = call(app, "OPTIONS", "/api/orders", headers={"Origin": "https://elsewhere.example"})
    assert elsewhere.status == 204 and "Access-Control-Allow-Origin" not in elsewhere.headers

    def busy() -> None:
        raise Busy("database is locked")

    monkeypatch.setattr(service.store, "stock", busy)
    res = call(app, "GET", "/api/stock")
    assert res.status == 503 and res.headers["Retry-After"] == "2"
    check(spec, res, "get", "/api/stock")

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service.store, "stock", broken)
    res = call(app, "GET", "/api/stock")
    assert res.status == 500 and b"boom" not in res.body
    check(spec, res, "get", "/api/stock")


def test_webhook_answers_match_the_spec(spec: dict[str, Any], stripe_app: Any) -> None:
    path = "/api/payments/{handler}/webhook"

    def deliver(payload: bytes, signed: bool = True, handler: str = "stripe") -> Response:
        headers = {"Stripe-Signature": signature_header(WEBHOOK_SECRET, payload, int(time.time()))} if signed else {}
        return call(stripe_app, "POST", f"/api/payments/{handler}/webhook", payload, headers)

    session = {"client_reference_id": "MM-NOSUCH", "payment_status": "paid"}
    event = json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": session}}).encode()
    cases = [
        (deliver(event), 200, None),
        (deliver(event), 200, None),
        (deliver(event, signed=False), 400, "invalid_signature"),
        (deliver(b"{not json"), 400, "invalid_json"),
        (deliver(b"{}"), 400, "invalid_event"),
        (deliver(b"{" + b" " * 70_000 + b"}"), 413, "body_too_large"),
        (deliver(event, handler="paypal"), 404, "not_found"),
    ]
    for res, status, code in cases:
        assert res.status == status, res.body
        assert (res.json.get("error") or {}).get("code") == code
        assert "Access-Control-Allow-Origin" not in res.headers
        check(spec, res, "post", path)
    assert cases[0][0].json == {"received": True, "result": "ignored: unknown order"}
    assert cases[1][0].json == {"received": True, "duplicate": True}


REQUEST_CASES: dict[str, dict[str, Any]] = {
    "unknown top-level field": order_body(total=1),
    "price on a line": order_body(items=[{"product": "tea", "variant": None, "quantity": 1, "price": 1}]),
    "no items": order_body(items=[]),
    "51 items": order_body(items=[{"product": "tea", "quantity": 1}] * 51),
    "quantity 0": order_body(items=[{"product": "tea", "quantity": 0}]),
    "quantity 100": order_body(items=[{"product": "tea", "quantity": 100}]),
    "quantity as text": order_body(items=[{"product": "tea", "quantity": "1"}]),
    "quantity true": order_body(items=[{"product": "tea", "quantity": True}]),
    "no product": order_body(items=[{"quantity": 1}]),
    "no shipping": {k: v for k, v in order_body().items() if k != "shipping"},
    "no customer": {k: v for k, v in order_body().items() if k != "customer"},
    "customer field": order_body(customer={**CUSTOMER, "age": 30}),
    "blank name": order_body(customer={**CUSTOMER, "name": "   "}),
    "long name": order_body(customer={**CUSTOMER, "name": "x" * 101}),
    "short phone": order_body(customer={**CUSTOMER, "phone": "1234"}),
    "phone with letters": order_body(customer={**CUSTOMER, "phone": "12a45678"}),
    "bad email": order_body(customer={**CUSTOMER, "email": "li.example.com"}),
    "control character": order_body(note="bell \x07"),
    "long note": order_body(note="x" * 501),
    "long coupon": order_body(coupon="X" * 41),
    "text total": order_body(expected_total="20900"),
    "no total": {k: v for k, v in order_body().items() if k != "expected_total"},
    "not an object": [order_body()],  # type: ignore[dict-item]
}


@pytest.mark.parametrize("name", REQUEST_CASES)
def test_the_request_schema_refuses_what_the_service_refuses(name: str, spec: dict[str, Any], app: Any) -> None:
    body = REQUEST_CASES[name]
    res = post_json(app, "/api/orders", body)
    assert res.status == 422 and res.json["error"]["code"] == "invalid_field", res.body
    if jsonschema is not None:
        with pytest.raises(jsonschema.ValidationError):
            validate(body, schema(spec, "OrderRequest"))


def test_the_request_schema_accepts_what_the_service_accepts(spec: dict[str, Any], app: Any) -> None:
    accepted = [
        order_body(),
        order_body(note="Line one\n\tline two", coupon=None, customer={**CUSTOMER, "phone": "(021) 555-0100"}),
        order_body(items=[{"product": "tea", "quantity": 2}], expected_total=25600),
        order_body(shipping="pickup", store="lake", customer={k: v for k, v in CUSTOMER.items() if k != "address"},
                   expected_total=19900),
    ]  # fmt: skip
    for i, body in enumerate(accepted):
        res = post_json(app, "/api/orders", body, key=f"ok-{i}")
        assert res.status == 201, res.body
        validate(body, schema(spec, "OrderRequest"))
