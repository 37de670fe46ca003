"""Starts the job worker (``flask jobs work``) with the tests' rule that nothing reaches the internet."""

import sys

from tests.conftest import refuse_the_internet

refuse_the_internet()

from flask.cli import main  # noqa: E402

sys.argv = ["flask", "--app", "wsgi", "jobs", "work", *sys.argv[1:]]
main()
