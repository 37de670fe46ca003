"""Files of the local file store, behind the short-lived signed links it makes
(``infra.storage.LocalFileStore.signed_url``): an admin's browser loads a receipt photo
without a bearer token, and the link stops working minutes later. (An S3 store's links go
to the bucket itself.)"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from api.clock import now
from infra.storage import LocalFileStore, file_store_from_settings
from infra.storage.errors import StorageError

blp = Blueprint("files", __name__)

# Shown in the browser; anything else is a download, so a stored file can never run as a page here.
INLINE = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"})


def file_store() -> object:
    return current_app.extensions["resources"].get("file_store", file_store_from_settings)


@blp.get("/files/<path:key>")
def signed_file(key: str) -> Response:
    store = file_store()
    expires, sig = request.args.get("expires", ""), request.args.get("sig", "")
    if not isinstance(store, LocalFileStore) or not store.verify_signed(key, expires, sig, now()):
        abort(404)
    try:
        stored = store.stat(key)
        stream = store.open(key)
    except StorageError:
        abort(404)
    inline = stored.content_type in INLINE
    response = Response(stream, mimetype=stored.content_type if inline else "application/octet-stream",
                        direct_passthrough=True)
    response.headers["Content-Length"] = str(stored.size)
    response.headers["Content-Disposition"] = "inline" if inline else "attachment"
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
