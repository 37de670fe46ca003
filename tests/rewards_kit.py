"""What the rewards tests share: an admin who makes rewards and uploads codes, and partners with points."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the conftest imports this module
    from tests.conftest import People, Till

VOUCHER = {
    "kind": "voucher", "category": "grocery", "country": "AE", "points_cost": 100,
    "face_value": {"amount": "50.00", "currency": "AED"},
    "names": {"en": "Carrefour voucher AED 50", "ar": "قسيمة كارفور ٥٠ درهم", "pl": "Bon Carrefour 50 AED"},
    "descriptions": {"en": "Spend it in any Carrefour in the UAE."},
}


def csv_file(text: str | bytes, name: str = "codes.csv") -> dict[str, Any]:
    data = text.encode() if isinstance(text, str) else text
    return {"file": (io.BytesIO(data), name, "text/csv")}


class Kit:
    """An admin, a till, and the calls the rewards tests make again and again."""

    def __init__(self, client: FlaskClient, people: "People", till: "Till") -> None:
        self.client, self.people, self.till = client, people, till
        self._admin: dict[str, Any] | None = None
        self._codes = 0

    @property
    def admin(self) -> dict[str, str]:
        if self._admin is None:
            self._admin = self.people.staff("admin")
        return self._admin["headers"]

    def reward(self, **fields: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/admin/rewards", json={**VOUCHER, **fields}, headers=self.admin)
        assert response.status_code == 201, response.json
        return response.json

    def upload(self, reward_id: int, text: str | bytes, name: str = "codes.csv") -> Any:
        return self.client.post(f"/api/v1/admin/rewards/{reward_id}/codes", data=csv_file(text, name),
                                headers=self.admin, content_type="multipart/form-data")

    def stock(self, reward_id: int, count: int) -> list[str]:
        """Upload ``count`` fresh codes; returns them in the order a claim takes them (by id)."""
        codes = []
        for _ in range(count):
            self._codes += 1
            codes.append(f"GIFT-{reward_id:03d}-{self._codes:06d}")
        response = self.upload(reward_id, "code\n" + "\n".join(codes) + "\n")
        assert response.status_code == 201 and response.json["imported"] == count, response.json
        return codes

    def voucher_reward(self, codes: int = 5, **fields: Any) -> tuple[dict[str, Any], list[str]]:
        reward = self.reward(**fields)
        return reward, self.stock(reward["id"], codes) if codes else []

    def later(self, *partners: dict[str, Any], **delta: float) -> None:
        """Move the clock on and sign everyone in again (access tokens live 15 minutes)."""
        self.people.clock.advance(**delta)
        for partner in partners:
            partner["headers"] = self.people.login(partner["email"])
        self.till.headers = self.people.login(self.till.cashier["email"])
        if self._admin is not None:
            self._admin["headers"] = self.people.login(self._admin["email"])

    def partner(self, points: int = 0, **fields: Any) -> dict[str, Any]:
        partner = self.people.partner(**fields)
        if points:
            assert self.till.buy(partner, f"{points}.00").status_code == 201
        return partner

    def redeem(self, partner: dict[str, Any], reward_id: int, headers: dict[str, str] | None = None,
               **body: Any) -> Any:
        return self.client.post("/api/v1/me/redemptions", json={"reward_id": reward_id, **body},
                                headers={**partner["headers"], **(headers or {})})

    def balance(self, partner: dict[str, Any]) -> int:
        return self.client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"]

    def take(self, *, code: str | None = None, qr_payload: str | None = None,
             headers: dict[str, str] | None = None) -> Any:
        body = {"code": code} if code is not None else {"qr_payload": qr_payload}
        return self.client.post("/api/v1/pos/vouchers/redeem", json=body, headers=headers or self.till.headers)
