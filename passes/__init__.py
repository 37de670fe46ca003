"""What a partner carries: the member QR (and, later, Apple and Google Wallet passes).

No Flask here: functions take keys and plain values.
"""
