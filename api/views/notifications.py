"""Devices and the inbox (partners); segments and campaigns (marketers)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_member, current_user, roles_required
from api.clock import now
from api.db import get_session
from api.pagination import PageArgs, page
from api.spec.marks import may_answer
from api.schemas.notifications import (
    CampaignCreateSchema,
    CampaignSchema,
    DeviceCreateSchema,
    DeviceSchema,
    NotificationMarkSchema,
    NotificationPageSchema,
    NotificationSchema,
    PreviewSchema,
    SegmentCreateSchema,
    SegmentSchema,
    StatsSchema,
    TestSendSchema,
    TestSentSchema,
)
from notifications import campaigns, devices, inbox, segments
from notifications.jobs import push_sender
from wallet.members.models import Role

me_blp = Blueprint("notifications", __name__, url_prefix="/api/v1/me", description="Devices and inbox")
blp = Blueprint("campaigns", __name__, url_prefix="/api/v1", description="Segments and campaigns")
MARKETING = (Role.MARKETER, Role.ADMIN)


@me_blp.route("/devices")
class Devices(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.arguments(DeviceCreateSchema)
    @me_blp.response(201, DeviceSchema)
    def post(self, body: dict[str, Any]) -> devices.Device:
        """Register this phone for pushes (upsert by token)"""
        return devices.register(get_session(), member_id=current_member().id, now=now(), **body)


@me_blp.route("/devices/<path:token>")
class DeviceByToken(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.response(204)
    def delete(self, token: str) -> None:
        """Stop pushes to this phone"""
        devices.unregister(get_session(), member_id=current_member().id, token=token)


@me_blp.route("/notifications")
class Inbox(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.arguments(PageArgs, location="query")
    @me_blp.response(200, NotificationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """What was sent to this member, newest first"""
        before = args["cursor"]["before"] if args["cursor"] else None
        rows = inbox.page(get_session(), member_id=current_member().id, before_id=before, limit=args["limit"] + 1)
        return page(rows, args["limit"])


@me_blp.route("/notifications/<id:notification_id>")
class InboxItem(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.arguments(NotificationMarkSchema)
    @me_blp.response(200, NotificationSchema)
    def patch(self, body: dict[str, Any], notification_id: int) -> inbox.Notification:
        """Mark read, or opened (the app reports a tap on the push)"""
        return inbox.mark(get_session(), member_id=current_member().id, notification_id=notification_id,
                          read=body["read"], opened=body["opened"], now=now())


@blp.route("/segments")
class Segments(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.arguments(SegmentCreateSchema)
    @blp.response(201, SegmentSchema)
    def post(self, body: dict[str, Any]) -> segments.Segment:
        """A segment of members by rules (country, city, tier, balance, activity, ...)"""
        return segments.create(get_session(), name=body["name"], rules=body["rules"],
                               created_by_user_id=current_user().id, now=now())


@blp.route("/segments/<id:segment_id>/preview")
class SegmentPreview(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.response(200, PreviewSchema)
    def get(self, segment_id: int) -> dict[str, Any]:
        """How many members the segment holds now, with a sample"""
        count, sample = segments.preview(get_session(), segment_id, now=now())
        return {"count": count, "sample": sample}


@blp.route("/campaigns")
class Campaigns(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    def post(self, body: dict[str, Any]) -> campaigns.Campaign:
        """A draft campaign: a localized message for a segment, an optional time and offer"""
        return campaigns.create(get_session(), name=body["name"], segment_id=body["segment_id"],
                                message=body["message"], send_at=body.get("send_at"), offer=body.get("offer"),
                                created_by_user_id=current_user().id, now=now())


@blp.route("/campaigns/<id:campaign_id>/test")
class CampaignTest(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.arguments(TestSendSchema)
    @blp.response(200, TestSentSchema)
    def post(self, body: dict[str, Any], campaign_id: int) -> dict[str, int]:
        """Send the campaign to one member's devices only, marked [TEST]"""
        return campaigns.send_test(get_session(), campaign_id, member_id=body["member_id"],
                                   sender=push_sender(current_app.extensions["resources"]))


@blp.route("/campaigns/<id:campaign_id>/schedule")
class CampaignSchedule(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.response(200, CampaignSchema)
    @may_answer(409)  # not a draft
    def post(self, campaign_id: int) -> campaigns.Campaign:
        """Queue the campaign for its send_at, or now; the job worker sends it"""
        return campaigns.schedule(get_session(), campaign_id, now=now(),
                                  senders=current_app.config["SETTINGS"].fanout_tasks)


@blp.route("/campaigns/<id:campaign_id>/stats")
class CampaignStats(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.response(200, StatsSchema)
    def get(self, campaign_id: int) -> dict[str, int]:
        """Targeted, sent, failed, skipped (cap, quiet hours), dead tokens removed, opened"""
        return campaigns.stats(get_session(), campaign_id)
