"""Receipt scanning: partners send photos and follow them; admins work the review queue and set the rules."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.auth import current_member, current_user, roles_required
from api.clock import now
from api.db import get_session
from api.pagination import PageArgs, page
from api.spec.marks import may_answer
from api.schemas.receipts import (
    ApproveSchema,
    ReceiptPageSchema,
    ReceiptProgramSchema,
    ReceiptSchema,
    RejectSchema,
    ReviewArgs,
    ReviewPageSchema,
    SubmittedSchema,
    UploadSchema,
)
from infra.storage import file_store_from_settings
from wallet.members.models import Role
from wallet.receipts import images, programs, review, submission
from wallet.receipts.models import Receipt

me_blp = Blueprint("receipts", __name__, url_prefix="/api/v1/me", description="Receipt scanning")
admin_blp = Blueprint("receipt_review", __name__, url_prefix="/api/v1/admin", description="Receipt review")
PHOTO_LINK_SECONDS = 600


def _store() -> Any:
    return current_app.extensions["resources"].get("file_store", file_store_from_settings)


@me_blp.route("/receipts")
class Receipts(MethodView):
    decorators = [roles_required(Role.PARTNER)]
    accepts_multipart = True
    max_upload_bytes = images.MAX_BYTES + 64 * 1024  # the photo and the multipart envelope

    @me_blp.arguments(UploadSchema, location="files")
    @me_blp.response(202, SubmittedSchema)
    def post(self, files: dict[str, Any]) -> Receipt:
        """Send a photo of a receipt; it is read in the background (follow it at GET /me/receipts/{id})"""
        upload = files["image"]
        data = upload.stream.read(images.MAX_BYTES + 1)
        return submission.submit(get_session(), member=current_member(), data=data, filename=upload.filename,
                                 content_type=upload.mimetype, store=_store(), now=now())

    @me_blp.arguments(PageArgs, location="query")
    @me_blp.response(200, ReceiptPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The partner's receipts, newest first, with what was read and the decision"""
        before = args["cursor"]["before"] if args["cursor"] else None
        return page(review.of_member(get_session(), current_member().id, before_id=before, limit=args["limit"] + 1),
                    args["limit"])


@me_blp.route("/receipts/<id:receipt_id>")
class ReceiptById(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.response(200, ReceiptSchema)
    def get(self, receipt_id: int) -> Receipt:
        """One receipt: status, points, reason, and what was read even when it was rejected"""
        return review.get_for_member(get_session(), current_member().id, receipt_id)


def _with_photo(receipt: Receipt, session: Any) -> Receipt:
    """The receipt with what a reviewer needs beside it: a short-lived link to the photo, the decisions."""
    receipt.photo_url = (_store().signed_url(receipt.image_key, expires_in=PHOTO_LINK_SECONDS, now=now())  # type: ignore[attr-defined]
                         if receipt.image_key else None)
    receipt.decisions = review.decisions(session, receipt.id)  # type: ignore[attr-defined]
    return receipt


@admin_blp.route("/receipts")
class ReviewQueue(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @admin_blp.arguments(ReviewArgs, location="query")
    @admin_blp.arguments(PageArgs, location="query")
    @admin_blp.response(200, ReviewPageSchema)
    def get(self, filters: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        """Receipts by status (default: waiting for review), with the photo, what was read and the signals"""
        session = get_session()
        before = args["cursor"]["before"] if args["cursor"] else None
        rows = review.queue(session, status=filters["status"], before_id=before, limit=args["limit"] + 1)
        result = page(rows, args["limit"])
        result["items"] = [_with_photo(r, session) for r in result["items"]]
        return result


@admin_blp.route("/receipts/<id:receipt_id>/approve")
class Approve(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @admin_blp.arguments(ApproveSchema)
    @admin_blp.response(200, ReceiptSchema)
    @may_answer(409)  # not in review
    def post(self, body: dict[str, Any], receipt_id: int) -> Receipt:
        """Approve a receipt in review: its points are booked (the estimate, or the points given)"""
        return review.approve(get_session(), receipt_id, actor_user_id=current_user().id, reason=body["reason"],
                              points_given=body.get("points"), now=now())


@admin_blp.route("/receipts/<id:receipt_id>/reject")
class Reject(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @admin_blp.arguments(RejectSchema)
    @admin_blp.response(200, ReceiptSchema)
    @may_answer(409)  # not in review
    def post(self, body: dict[str, Any], receipt_id: int) -> Receipt:
        """Reject a receipt in review, with the reason the partner reads"""
        return review.reject(get_session(), receipt_id, actor_user_id=current_user().id, reason=body["reason"],
                             now=now())


@admin_blp.route("/receipt-programs/<string:country>")
class ReceiptProgramByCountry(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @admin_blp.response(200, ReceiptProgramSchema)
    def get(self, country: str) -> Any:
        """A country's receipt rules"""
        self._check(country)
        return programs.get(get_session(), country, now())

    @admin_blp.arguments(ReceiptProgramSchema)
    @admin_blp.response(200, ReceiptProgramSchema)
    def put(self, body: dict[str, Any], country: str) -> Any:
        """Set which sellers count, how old a receipt may be, the minimum, the caps and the product patterns"""
        self._check(country)
        return programs.save(get_session(), country=country, now=now(), **body)

    @staticmethod
    def _check(country: str) -> None:
        if country not in current_app.config["SETTINGS"].countries:
            abort(404, message=f"{country} is not a country of this program")
