"""The name of every operation, as generated clients call it (``client.book_purchase(...)``,
``api.bookPurchase(...)``): verbs a till or an app developer would say, unique across the API.

Keyed by the Flask endpoint (``blueprint.ViewClass``) and the HTTP method, so renaming a path does
not rename the method in the clients. An operation missing here has no operationId and
``tests/api/contract/test_document.py`` fails naming it: add a line when you add an endpoint.
"""

from __future__ import annotations

OPERATION_IDS: dict[tuple[str, str], str] = {
    # accounts
    ("auth.Register", "post"): "register",
    ("auth.Login", "post"): "logIn",
    ("auth.Refresh", "post"): "refreshTokens",
    ("auth.Logout", "post"): "logOut",
    ("me.Me", "get"): "getProfile",
    ("me.Me", "patch"): "updateProfile",
    # wallet and member card
    ("wallet.Wallet", "get"): "getWallet",
    ("wallet.Transactions", "get"): "listTransactions",
    ("wallet.Card", "get"): "getCard",
    ("wallet.CardPng", "get"): "getCardQrPng",
    ("wallet.CardSvg", "get"): "getCardQrSvg",
    # wallet passes
    ("passes.MemberApplePass", "get"): "getApplePass",
    ("passes.MemberGooglePass", "get"): "getGooglePassLink",
    ("passes.VoucherApplePass", "get"): "getVoucherApplePass",
    ("passes.VoucherGooglePass", "get"): "getVoucherGooglePassLink",
    # devices and inbox
    ("notifications.Devices", "post"): "registerDevice",
    ("notifications.DeviceByToken", "delete"): "unregisterDevice",
    ("notifications.Inbox", "get"): "listNotifications",
    ("notifications.InboxItem", "patch"): "markNotification",
    # point of sale
    ("pos.TillStore", "get"): "getTillStore",
    ("pos.Scan", "post"): "scanMember",
    ("pos.Purchases", "post"): "bookPurchase",
    ("pos.Refund", "post"): "refundPurchase",
    # administration
    ("admin.Staff", "post"): "createStaff",
    ("admin.Stores", "post"): "createStore",
    ("admin.MemberById", "get"): "getMember",
    ("admin.Adjustments", "post"): "adjustPoints",
    # earning rules
    ("rules.ProgramByCountry", "get"): "getProgram",
    ("rules.ProgramByCountry", "put"): "setProgram",
    ("rules.BonusRules", "get"): "listBonusRules",
    ("rules.BonusRules", "post"): "createBonusRule",
    ("rules.BonusRuleApproval", "post"): "approveBonusRule",
    ("rules.BonusRuleById", "patch"): "updateBonusRule",
    ("rules.ProductBySku", "put"): "setProduct",
    # segments and campaigns
    ("campaigns.Segments", "post"): "createSegment",
    ("campaigns.SegmentPreview", "get"): "previewSegment",
    ("campaigns.Campaigns", "post"): "createCampaign",
    ("campaigns.CampaignTest", "post"): "sendTestCampaign",
    ("campaigns.CampaignSchedule", "post"): "scheduleCampaign",
    ("campaigns.CampaignStats", "get"): "getCampaignStats",
    # receipts
    ("receipts.Receipts", "post"): "submitReceipt",
    ("receipts.Receipts", "get"): "listReceipts",
    ("receipts.ReceiptById", "get"): "getReceipt",
    ("receipt_review.ReviewQueue", "get"): "listReceiptsForReview",
    ("receipt_review.Approve", "post"): "approveReceipt",
    ("receipt_review.Reject", "post"): "rejectReceipt",
    ("receipt_review.ReceiptProgramByCountry", "get"): "getReceiptProgram",
    ("receipt_review.ReceiptProgramByCountry", "put"): "setReceiptProgram",
    # rewards and vouchers
    ("catalog.Catalog", "get"): "listRewards",
    ("catalog.CatalogReward", "get"): "getReward",
    ("catalog.CatalogImage", "get"): "getRewardImage",
    ("rewards.Redemptions", "post"): "redeemReward",
    ("rewards.Vouchers", "get"): "listVouchers",
    ("rewards.VoucherById", "get"): "getVoucher",
    ("rewards.VoucherQr", "get"): "getVoucherQrPng",
    ("rewards.Orders", "get"): "listOrders",
    ("rewards.OrderById", "get"): "getOrder",
    ("rewards.Offers", "get"): "listOffers",
    ("rewards.OfferClaim", "post"): "claimOffer",
    ("pos.VoucherRedeem", "post"): "redeemVoucher",
    ("rewards_admin.Rewards", "get"): "listRewardsAdmin",
    ("rewards_admin.Rewards", "post"): "createReward",
    ("rewards_admin.RewardById", "get"): "getRewardAdmin",
    ("rewards_admin.RewardById", "patch"): "updateReward",
    ("rewards_admin.RewardCodes", "post"): "importRewardCodes",
    ("rewards_admin.RewardImage", "post"): "setRewardImage",
    ("rewards_admin.AdminVouchers", "get"): "listVouchersAdmin",
    ("rewards_admin.VoucherCancel", "post"): "cancelVoucher",
    ("rewards_admin.AdminOrders", "get"): "listOrdersAdmin",
    ("rewards_admin.DeliveryTimes", "get"): "getDeliveryTimes",
    ("rewards_admin.AdminOrderById", "get"): "getOrderAdmin",
    ("rewards_admin.OrderStatus", "post"): "moveOrder",
}
