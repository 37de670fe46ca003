"""A Python client generated from the served document with openapi-python-client, as a mobile or
till team would generate theirs, and clients of it that talk to a test app in-process.

Generated once per test session into a temporary directory (nothing is fetched: the document comes
from an app built here, and the generator's formatting hooks are off). Every non-JSON media type the
document answers with is generated as bytes (``application/octet-stream``), so no response is left
out; the generator's warnings are kept for the tests to assert there are none.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from flask import Flask

from api import create_app
from config import Settings
from tests.api.contract.checker import Exchange, check

PACKAGE = "partner_wallet_client"


@dataclass(frozen=True)
class Generated:
    package: ModuleType
    directory: Path
    document: dict[str, Any]
    output: str  # what the generator printed

    def module(self, name: str) -> ModuleType:
        """``"models"``, or a tag's operations: ``"api.pos"`` with ``.book_purchase``, ``.scan_member``..."""
        module = importlib.import_module(f"{PACKAGE}.{name}")
        if name.startswith("api."):
            for path in (self.directory / name.replace(".", "/")).glob("*.py"):
                importlib.import_module(f"{PACKAGE}.{name}.{path.stem}")
        return module

    def operation_modules(self) -> dict[str, str]:
        """Each generated operation module (``book_purchase``) and its tag folder (``pos``)."""
        return {p.stem: p.parent.name for p in (self.directory / "api").glob("*/*.py") if p.stem != "__init__"}

    def client(self, app: Flask, token: str | None = None) -> Any:
        """A generated client talking to ``app`` in-process; every response it gets is checked against the
        document (as the test client's are), and an undeclared status raises."""
        hooks = {"response": [lambda response: check(app, Exchange.of_httpx(response))]}
        httpx_args = {"transport": httpx.WSGITransport(app=app), "event_hooks": hooks}
        if token is None:
            return self.package.Client(base_url="http://localhost", httpx_args=httpx_args,
                                       raise_on_unexpected_status=True)
        return self.package.AuthenticatedClient(base_url="http://localhost", token=token, httpx_args=httpx_args,
                                                raise_on_unexpected_status=True)


def served_document(workdir: Path) -> dict[str, Any]:
    settings = Settings(app_env="test", database_url=f"sqlite:///{workdir / 'unused.sqlite3'}",
                        secret_key="s" * 40, jwt_secret="j" * 40, instance_dir=workdir / "instance",
                        upload_dir=workdir / "uploads")
    app = create_app({"SETTINGS": settings, "TESTING": True})
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def binary_media_types(document: dict[str, Any]) -> set[str]:
    types = set()
    for item in document["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for response in operation.get("responses", {}).values():
                types |= {t for t in response.get("content", {}) if t != "application/json"}
    return types


def generate(workdir: Path) -> Generated:
    """Generate the client from the served document into ``workdir`` and import it."""
    document = served_document(workdir)
    spec = workdir / "openapi.json"
    spec.write_text(json.dumps(document))
    config = workdir / "generator.json"
    config.write_text(json.dumps({
        "content_type_overrides": {t: "application/octet-stream" for t in binary_media_types(document)},
        "post_hooks": [],
    }))
    directory = workdir / PACKAGE
    done = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec),
                           "--output-path", str(directory), "--meta", "none", "--config", str(config)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(workdir))
    importlib.invalidate_caches()
    return Generated(importlib.import_module(PACKAGE), directory, document, done.stdout + done.stderr)
