"""Google Wallet: classes and objects as REST dicts, the save link, and a small API client.

No HTTP framework and no settings: the caller reads the service-account JSON and the issuer
id from config and passes them in.
"""

from passes.google.client import WalletClient
from passes.google.errors import GoogleWalletError, ObjectError, ServiceAccountError, WalletApiError
from passes.google.objects import balance_points, loyalty_class, loyalty_object, object_id, offer_class, offer_object
from passes.google.save_link import save_url

__all__ = [
    "GoogleWalletError", "ObjectError", "ServiceAccountError", "WalletApiError", "WalletClient", "balance_points",
    "loyalty_class", "loyalty_object", "object_id", "offer_class", "offer_object", "save_url",
]
