"""Devices and the inbox (partners); segments and campaigns (marketers)."""

from __future__ import annotations

import json
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import jobs
from api.auth import BEARER_SECURITY, current_member, current_user, roles_required
from api.clock import now
from api.db import get_session
from api.pagination import PageArgs, page
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
from wallet.accounts import Role

me_blp = Blueprint("notifications", __name__, url_prefix="/api/v1/me", description="Devices and inbox")
blp = Blueprint("campaigns", __name__, url_prefix="/api/v1", description="Segments and campaigns")
MARKETING = (Role.MARKETER, Role.ADMIN)


@me_blp.route("/devices")
class Devices(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.arguments(DeviceCreateSchema)
    @me_blp.response(201, DeviceSchema)
    @me_blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> devices.Device:
        """Register this phone for pushes (upsert by token)"""
        session = get_session()
        device = devices.register(session, member_id=current_member().id, now=now(), **body)
        session.commit()
        return device


@me_blp.route("/devices/<path:token>")
class DeviceByToken(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.response(204)
    @me_blp.doc(security=BEARER_SECURITY)
    def delete(self, token: str) -> None:
        """Stop pushes to this phone"""
        session = get_session()
        devices.unregister(session, member_id=current_member().id, token=token)
        session.commit()


@me_blp.route("/notifications")
class Inbox(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.arguments(PageArgs, location="query")
    @me_blp.response(200, NotificationPageSchema)
    @me_blp.doc(security=BEARER_SECURITY)
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
    @me_blp.doc(security=BEARER_SECURITY)
    def patch(self, body: dict[str, Any], notification_id: int) -> inbox.Notification:
        """Mark read, or opened (the app reports a tap on the push)"""
        session = get_session()
        item = inbox.mark(session, member_id=current_member().id, notification_id=notification_id,
                          read=body["read"], opened=body["opened"], now=now())
        session.commit()
        return item


@blp.route("/segments")
class Segments(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.arguments(SegmentCreateSchema)
    @blp.response(201, SegmentSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> segments.Segment:
        """A segment of members by rules (country, city, tier, balance, activity, ...)"""
        if len(json.dumps(body["rules"])) > 20_000:
            abort(422, message="rules are too long", errors={"json": {"rules": ["at most 20,000 characters"]}})
        session = get_session()
        segment = segments.create(session, name=body["name"], rules=body["rules"],
                                  created_by_user_id=current_user().id, now=now())
        session.commit()
        return segment


@blp.route("/segments/<id:segment_id>/preview")
class SegmentPreview(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.response(200, PreviewSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self, segment_id: int) -> dict[str, Any]:
        """How many members the segment holds now, with a sample"""
        session = get_session()
        count, sample = segments.preview(session, segments.get(session, segment_id), now=now())
        return {"count": count, "sample": sample}


@blp.route("/campaigns")
class Campaigns(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> campaigns.Campaign:
        """A draft campaign: a localized message for a segment, an optional time and offer"""
        session = get_session()
        offer = body.get("offer")
        if offer:
            offer = {**offer, "value": str(offer["value"]), "starts_at": offer["starts_at"].isoformat(),
                     "ends_at": offer["ends_at"].isoformat()}
        campaign = campaigns.create(session, name=body["name"], segment_id=body["segment_id"], message=body["message"],
                                    send_at=body.get("send_at"), offer=offer, created_by_user_id=current_user().id,
                                    now=now())
        session.commit()
        return campaign


@blp.route("/campaigns/<id:campaign_id>/test")
class CampaignTest(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.arguments(TestSendSchema)
    @blp.response(200, TestSentSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any], campaign_id: int) -> dict[str, int]:
        """Send the campaign to one member's devices only, marked [TEST]"""
        session = get_session()
        pushes = campaigns.test_send(session, campaigns.get(session, campaign_id), member_id=body["member_id"])
        outcomes = jobs.push_sender().send(pushes) if pushes else []  # FcmUnavailable: 503 (api/errors.py)
        return {"devices": len(pushes), "sent": sum(o.status == "sent" for o in outcomes),
                "failed": sum(o.status != "sent" for o in outcomes)}


@blp.route("/campaigns/<id:campaign_id>/schedule")
class CampaignSchedule(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.response(200, CampaignSchema)
    @blp.doc(security=BEARER_SECURITY)
    def post(self, campaign_id: int) -> campaigns.Campaign:
        """Queue the campaign for its send_at, or now"""
        session = get_session()
        campaign = campaigns.schedule(session, campaigns.get(session, campaign_id), now=now())
        session.commit()
        jobs.run_campaign(campaign.id, campaign.send_at)  # after the commit: the job reads what was committed
        session.refresh(campaign)
        return campaign


@blp.route("/campaigns/<id:campaign_id>/stats")
class CampaignStats(MethodView):
    decorators = [roles_required(*MARKETING)]

    @blp.response(200, StatsSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self, campaign_id: int) -> dict[str, int]:
        """Targeted, sent, failed, skipped (cap, quiet hours), dead tokens removed, opened"""
        session = get_session()
        campaigns.get(session, campaign_id)
        return campaigns.stats(session, campaign_id)
