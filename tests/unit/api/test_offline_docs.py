"""`/docs` works on a closed network: the page and every asset it loads come from this
server (the Swagger UI shipped in the swagger-ui-bundle package), none from a CDN."""
from __future__ import annotations

import re

from tests.unit.api.conftest import Api


def test_docs_load_only_local_assets(fake_api: Api) -> None:
    page = fake_api.client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/docs/static/") for a in assets), assets
    assert "cdn" not in page.text.lower() and "http" not in page.text.split("<body>")[1]
    for asset in assets:
        reply = fake_api.client.get(asset)
        assert reply.status_code == 200 and len(reply.content) > 100, asset
    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
    assert fake_api.client.get("/openapi.json").json()["info"]["title"] == "fwo operations API"
