"""Apple Wallet passes: the signing identity, the content of a pass, the signed ``.pkpass``.

Pure building blocks, no HTTP and no settings: the caller reads the APPLE_PASS_* files and
passes their bytes to ``load_identity`` (or uses ``development_identity`` without them),
fills a ``StoreCard`` or ``Coupon`` and calls ``build_store_card`` / ``build_coupon``.
``content_hash`` tells whether a pass changed since it was last served.
"""

from passes.apple.certificates import Identity, development_identity, load_identity
from passes.apple.content import Coupon, StoreCard
from passes.apple.errors import CertificateError, ContentError, PassError
from passes.apple.pkpass import build_coupon, build_store_card, content_hash

__all__ = [
    "CertificateError", "ContentError", "Coupon", "Identity", "PassError", "StoreCard", "build_coupon",
    "build_store_card", "content_hash", "development_identity", "load_identity",
]
