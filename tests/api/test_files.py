"""Signed links to the local file store: what an admin's browser loads a receipt photo from."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from api.views.files import file_store


@pytest.fixture
def store(app):
    with app.app_context():
        return file_store()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_signed_link_serves_the_photo_inline_until_it_expires(app, client, clock, store):
    # given a stored photo and a five-minute link to it
    store.put("receipts/abc.jpg", b"\xff\xd8\xff\xe0 a photo", content_type="image/jpeg")
    link = path_of(store.signed_url("receipts/abc.jpg", expires_in=300, now=clock()))

    # when the browser loads it
    response = client.get(link)

    # then it gets the bytes, shown inline and never sniffed
    assert response.status_code == 200
    assert response.data == b"\xff\xd8\xff\xe0 a photo"
    assert response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"] == "inline"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    # and five minutes later the same link is dead
    clock.advance(seconds=301)
    assert client.get(link).status_code == 404


def test_a_link_with_another_key_or_signature_is_404(client, clock, store):
    store.put("receipts/abc.jpg", b"photo", content_type="image/jpeg")
    store.put("receipts/other.jpg", b"other", content_type="image/jpeg")
    link = path_of(store.signed_url("receipts/abc.jpg", expires_in=300, now=clock()))
    assert client.get(link.replace("abc.jpg", "other.jpg")).status_code == 404
    assert client.get(link[:-2] + ("00" if not link.endswith("00") else "11")).status_code == 404
    assert client.get("/files/receipts/abc.jpg").status_code == 404


def test_a_file_that_is_not_an_image_is_only_ever_a_download(client, clock, store):
    # given something stored as HTML (the store keeps what it is told)
    store.put("receipts/page.html", b"<script>alert(1)</script>", content_type="text/html")
    response = client.get(path_of(store.signed_url("receipts/page.html", expires_in=60, now=clock())))
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment"
