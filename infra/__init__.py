"""Shared infrastructure, the bottom floor: the declarative base and engines, the domain
error base, the clock, jobs, the HTTP/2 client, idempotency records and the file store.

Every domain package (``wallet``, ``notifications``, ``passes``) may import this package;
it imports none of them, nor ``api`` or Flask. What is specific to a feature lives with
the feature; only what two or more features share comes here.
"""
