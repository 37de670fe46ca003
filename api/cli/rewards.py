"""``flask rewards ...``: re-encrypting codes after a key rotation, and the voucher jobs by hand
(the job worker runs the expiry sweep and the reminders every hour)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from api.clock import now
from notifications.jobs import push_sender
from notifications.policy import Policy
from notifications.voucher_reminders import send_reminders
from wallet.rewards import jobs, rotation
from wallet.rewards.codes import vault_from_settings

cli = AppGroup("rewards", help="Voucher codes and vouchers by hand.")


@cli.command("rotate-codes")
@click.option("--batch", default=rotation.BATCH, show_default=True, help="Codes per commit.")
def rotate_codes(batch: int) -> None:
    """Re-encrypt every stored code with the newest key of VOUCHER_CODE_KEYS (then drop the old key)."""
    vault = vault_from_settings(current_app.config["SETTINGS"])
    try:
        total = rotation.reseal_all(current_app.extensions["sessionmaker"], vault, batch=batch)
    except LookupError as exc:
        raise click.ClickException(f"{exc}: put the old key back in VOUCHER_CODE_KEYS (after the new one)") from exc
    click.echo(f"codes re-encrypted with key {vault.newest}: {total}")


@cli.command("expire")
def expire() -> None:
    """Mark every active voucher past its time as expired."""
    click.echo(f"vouchers expired: {jobs.expire_all(current_app.extensions['sessionmaker'], now())}")


@cli.command("remind")
def remind() -> None:
    """Send the reminders of vouchers expiring within a week that are due now."""
    done = send_reminders(current_app.extensions["sessionmaker"], now=now(),
                          sender=push_sender(current_app.extensions["resources"]),
                          policy=Policy.from_settings(current_app.config["SETTINGS"]))
    click.echo(f"vouchers reminded: {done['reminded']} (pushed: {done['pushed']})")
