"""What admins do with rewards: the catalog, code pools and pictures, vouchers and orders.

An admin sees how many codes a pool holds, never a code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_user, roles_required
from api.clock import now
from api.db import get_session
from api.guards import upload_limit
from api.idempotency import value_moving
from api.pagination import page
from api.schemas import reward_shapes as shapes
from api.schemas.rewards import (
    AdminVoucherArgs,
    AdminVoucherPageSchema,
    CancelledSchema,
    CancelSchema,
    CodeFileSchema,
    DeliveryTimesArgs,
    DeliveryTimesSchema,
    ImageFileSchema,
    ImportReportSchema,
    OrderArgs,
    OrderMoveSchema,
    OrderPageSchema,
    OrderSchema,
    RewardAdminArgs,
    RewardAdminPageSchema,
    RewardAdminSchema,
    RewardCreateSchema,
    RewardPatchSchema,
)
from api.views.files import file_store
from api.views.rewards import base_url, code_vault
from wallet.members.models import Role
from wallet.rewards import catalog, code_import, images, orders, vouchers
from wallet.rewards.models import Reward

blp = Blueprint("rewards_admin", __name__, url_prefix="/api/v1/admin", description="Rewards, codes, vouchers, orders")


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _shaped(reward: Reward) -> dict[str, Any]:
    counts = catalog.stock_counts(get_session(), [reward], now())[reward.id]
    return shapes.admin_reward(reward, counts, base_url=base_url())


@blp.route("/rewards")
class Rewards(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(RewardAdminArgs, location="query")
    @blp.response(200, RewardAdminPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every reward, switched off ones too, newest first, with its stock counts and low_stock"""
        before = args["cursor"]["before"] if args["cursor"] else None
        rows = catalog.admin_page(get_session(), before_id=before, limit=args["limit"] + 1,
                                  country=args.get("country"), kind=args.get("kind"))
        paged = page(rows, args["limit"])
        counts = catalog.stock_counts(get_session(), paged["items"], now())
        paged["items"] = [shapes.admin_reward(r, counts[r.id], base_url=base_url()) for r in paged["items"]]
        return paged

    @blp.arguments(RewardCreateSchema)
    @blp.response(201, RewardAdminSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new reward: a voucher (vendor pool or generated codes), a digital one, or a shipped one"""
        return _shaped(catalog.create_reward(get_session(), now=now(), **body))


@blp.route("/rewards/<id:reward_id>")
class RewardById(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.response(200, RewardAdminSchema)
    def get(self, reward_id: int) -> dict[str, Any]:
        """One reward with its counts"""
        return _shaped(catalog.get_reward(get_session(), reward_id))

    @blp.arguments(RewardPatchSchema(partial=True))
    @blp.response(200, RewardAdminSchema)
    def patch(self, body: dict[str, Any], reward_id: int) -> dict[str, Any]:
        """Change a reward: cost, stock, limits, window, texts, tiers, switched on or off"""
        return _shaped(catalog.update_reward(get_session(), reward_id, body, now=now()))


@blp.route("/rewards/<id:reward_id>/codes")
class RewardCodes(MethodView):
    decorators = [upload_limit(lambda: _settings().code_upload_max_bytes), roles_required(Role.ADMIN)]
    accepts_multipart = True

    @blp.arguments(CodeFileSchema, location="files")
    @blp.response(201, ImportReportSchema)
    def post(self, files: dict[str, Any], reward_id: int) -> dict[str, Any]:
        """Upload a vendor's CSV of codes (multipart field file); the bad lines come back by number.

        The same file again imports nothing and lists every line as already_held.
        """
        report = code_import.import_codes(get_session(), reward_id=reward_id, stream=files["file"].stream,
                                          vault=code_vault(), user_id=current_user().id, now=now(),
                                          max_rows=_settings().code_upload_max_rows)
        return report.as_dict()


@blp.route("/rewards/<id:reward_id>/image")
class RewardImage(MethodView):
    decorators = [upload_limit(lambda: images.MAX_BYTES), roles_required(Role.ADMIN)]
    accepts_multipart = True

    @blp.arguments(ImageFileSchema, location="files")
    @blp.response(200, RewardAdminSchema)
    def post(self, files: dict[str, Any], reward_id: int) -> dict[str, Any]:
        """Set the reward's picture (multipart field image: PNG, JPEG or WebP, at most 2 MB)"""
        upload = files["image"]
        data = upload.stream.read(images.MAX_BYTES + 1)
        reward = images.set_image(get_session(), reward_id, data=data, store=file_store(),  # type: ignore[arg-type]
                                  now=now(), filename=upload.filename, content_type=upload.mimetype or None)
        return _shaped(reward)


@blp.route("/vouchers")
class AdminVouchers(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(AdminVoucherArgs, location="query")
    @blp.response(200, AdminVoucherPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Vouchers by member, reward and status, newest first (for support; never their codes)"""
        before = args["cursor"]["before"] if args["cursor"] else None
        rows = vouchers.admin_page(get_session(), now=now(), member_id=args.get("member_id"),
                                   reward_id=args.get("reward_id"), status=args.get("status"), before_id=before,
                                   limit=args["limit"] + 1)
        paged = page(rows, args["limit"])
        paged["items"] = [shapes.voucher(v, language="en", now=now(), base_url=base_url()) for v in paged["items"]]
        return paged


@blp.route("/vouchers/<id:voucher_id>/cancel")
class VoucherCancel(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(CancelSchema)
    @value_moving
    @blp.response(200, CancelledSchema)
    def post(self, body: dict[str, Any], voucher_id: int) -> dict[str, Any]:
        """Cancel an unused voucher: its points come back to the member by a reversal"""
        done = vouchers.cancel(get_session(), voucher_id=voucher_id, actor_user_id=current_user().id,
                               reason=body["reason"], now=now())
        return {"voucher": shapes.voucher(done.voucher, language="en", now=now(), base_url=base_url()),
                "points_refunded": done.points_refunded, "balance": done.balance}


@blp.route("/orders")
class AdminOrders(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(OrderArgs, location="query")
    @blp.response(200, OrderPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Orders of physical rewards, newest first; ?status=ordered for the ones to confirm"""
        before = args["cursor"]["before"] if args["cursor"] else None
        paged = page(orders.page(get_session(), status=args.get("status"), before_id=before,
                                 limit=args["limit"] + 1), args["limit"])
        paged["items"] = [shapes.order(o, language="en", base_url=base_url()) for o in paged["items"]]
        return paged


@blp.route("/orders/delivery-times")
class DeliveryTimes(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(DeliveryTimesArgs, location="query")
    @blp.response(200, DeliveryTimesSchema)
    def get(self, args: dict[str, Any]) -> orders.DeliveryTimes:
        """Median and 90th percentile of working days from order to delivery"""
        return orders.delivery_times(get_session(), since=now() - dt.timedelta(days=args["days"]),
                                     country=args.get("country"))


@blp.route("/orders/<id:order_id>")
class AdminOrderById(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.response(200, OrderSchema)
    def get(self, order_id: int) -> dict[str, Any]:
        """One order with its timeline"""
        return shapes.order(orders.get(get_session(), order_id), language="en", base_url=base_url())


@blp.route("/orders/<id:order_id>/status")
class OrderStatus(MethodView):
    decorators = [roles_required(Role.ADMIN)]

    @blp.arguments(OrderMoveSchema)
    @value_moving
    @blp.response(200, OrderSchema)
    def post(self, body: dict[str, Any], order_id: int) -> dict[str, Any]:
        """Move an order along: confirmed, shipped (carrier, tracking_number), delivered; or cancelled
        (its points refunded)"""
        order = orders.move(get_session(), order_id, actor_user_id=current_user().id, now=now(), **body)
        return shapes.order(order, language="en", base_url=base_url())
