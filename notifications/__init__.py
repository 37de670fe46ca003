"""Devices, segments, campaigns, push delivery and the in-app inbox.

A campaign targets a segment (rules compiled to one SQL query). Fan-out writes one
inbox notification per member and one delivery per device, each UNIQUE per campaign,
so a job that runs twice sends nothing twice. Quiet hours (in each member's own
timezone) defer a delivery to the morning; a frequency cap skips members who had
enough pushes this week. Delivery goes through firebase-admin in batches of up to
500; dead tokens are pruned, transient failures retried with backoff.

No Flask here: functions take a Session and plain values.
"""
