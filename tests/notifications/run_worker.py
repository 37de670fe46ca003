"""Starts a Celery worker with the tests' rule that nothing reaches the internet."""

import sys

from tests.conftest import refuse_the_internet

refuse_the_internet()

from notifications.worker import celery  # noqa: E402

celery.worker_main(sys.argv[1:])
