"""Swagger UI's files for the docs page, from the pinned ``swagger-ui-bundle-v2`` wheel
(Apache-2.0; its licence ships in the wheel), so ``/api/v1/docs`` loads nothing from a CDN."""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

blp = Blueprint("docs_assets", __name__)

# Only what the docs page loads; not the bundle's example index or its source maps.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                    "favicon-16x16.png", "favicon-32x32.png"})


@blp.get("/api/v1/docs/assets/<name>")
def asset(name: str) -> Response:
    if name not in ASSETS:
        abort(404)
    response = send_from_directory(swagger_ui_path, name, max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
