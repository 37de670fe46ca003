"""The cashier's till. A cashier acts only at the store its account belongs to."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import BEARER_SECURITY, current_user, roles_required
from api.schemas.accounts import StoreSchema
from wallet import accounts
from wallet.accounts import Role

blp = Blueprint("pos", __name__, url_prefix="/api/v1/pos", description="Point of sale")


@blp.route("/store")
class TillStore(MethodView):
    decorators = [roles_required(Role.CASHIER)]

    @blp.response(200, StoreSchema)
    @blp.doc(security=BEARER_SECURITY)
    def get(self) -> accounts.Store:
        """The store this till is signed in at, with its currency"""
        store = current_user().store
        assert store is not None  # the database refuses a cashier without a store
        return store
