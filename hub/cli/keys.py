"""`hub keys init|add-client|list|remove`: the CurveZMQ keys of a hub with `curve = true`.

    hub keys init                     the hub's keypair: <curve_dir>/server.key(_secret)
    hub keys add-client alpha         alpha's keypair in <curve_dir>/clients/alpha/ (with server.key),
                                      alpha.key copied to <curve_dir>/authorized/ (the allow-list)
    hub keys list                     the hub's key and the authorised clients
    hub keys remove alpha             revoke: delete authorized/alpha.key

The allow-list is read when the hub starts: after adding or removing a client, restart the hub.
<curve_dir> is `curve_dir` from the config, else <data_dir>/curve (see docs/security.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import typer

from hub.cli import EXIT_CALL_FAILED, EXIT_OK, EXIT_USAGE, app
from hub.cli.common import fail

keys_app = typer.Typer(help="CurveZMQ keys: the hub's keypair and the allow-list of client keys "
                            "(see docs/security.md).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

ConfigOpt = typer.Option(None, "--config", help="The hub's TOML config (for data_dir / curve_dir).")
DataDirOpt = typer.Option(None, "--data-dir", metavar="DIR", help="The hub's data folder [~/.qmt-hub].")
CurveDirOpt = typer.Option(None, "--curve-dir", metavar="DIR", help="The hub's keys folder [<data-dir>/curve].")


def _curve_dir(config: Path | None, data_dir: Path | None, curve_dir: Path | None) -> Path:
    """The hub's keys folder, resolved exactly as the hub resolves it (config file, then flags)."""
    from hub.config import ConfigError, HubConfig

    try:
        cfg = HubConfig.load(config, {"data_dir": data_dir, "curve_dir": str(curve_dir) if curve_dir else None},
                             check_exposure=False)
    except ConfigError as exc:
        fail(EXIT_USAGE, str(exc))
    return cfg.curve_path


@keys_app.command("init")
def init_cmd(config: Optional[Path] = ConfigOpt, data_dir: Optional[Path] = DataDirOpt,
             curve_dir: Optional[Path] = CurveDirOpt,
             force: bool = typer.Option(False, "--force", help="Replace an existing server keypair (every client "
                                                                "then needs the new server.key).")) -> None:
    """Create the hub's keypair (server.key, server.key_secret) and the authorized/ folder."""
    from hub import security

    folder = _curve_dir(config, data_dir, curve_dir)
    secret = folder / security.SERVER_SECRET
    if secret.exists() and not force:
        fail(EXIT_USAGE, f"{secret} already exists; keeping it (pass --force to replace it: every client then needs the new "
             f"server.key)")
    try:
        (folder / security.AUTHORIZED).mkdir(parents=True, exist_ok=True)
        public, _ = security.create_keypair(folder, security.SERVER_NAME)
    except OSError as exc:
        fail(EXIT_CALL_FAILED, f"cannot write keys in {folder}: {exc}")
    typer.echo(f"created the hub's keypair in {folder}")
    typer.echo(f"  public  {public}  (goes to every client)")
    typer.echo(f"  secret  {secret}  (stays here, readable by you only)")
    typer.echo("next: `hub keys add-client NAME` for each strategy machine, then start the hub with curve = true "
               "(or --curve)")
    raise typer.Exit(EXIT_OK)


@keys_app.command("add-client")
def add_client_cmd(name: str = typer.Argument(..., help="The client's key name (letters, digits, _ - .)."),
                   out: Optional[Path] = typer.Option(None, "--out", metavar="DIR",
                                                      help="Where to write the client's folder "
                                                           "[<curve-dir>/clients/NAME]."),
                   config: Optional[Path] = ConfigOpt, data_dir: Optional[Path] = DataDirOpt,
                   curve_dir: Optional[Path] = CurveDirOpt,
                   force: bool = typer.Option(False, "--force", help="Replace an existing key of that name.")) -> None:
    """Create a client keypair, authorise it, and write the folder to hand to the strategy machine."""
    from hub import security
    from rpc_client.security import CurveKeyError

    folder = _curve_dir(config, data_dir, curve_dir)
    try:
        security.check_name(name)
    except CurveKeyError as exc:
        fail(EXIT_USAGE, str(exc))
    server_pub = folder / security.SERVER_KEY
    if not (folder / security.SERVER_SECRET).is_file() or not server_pub.is_file():
        fail(EXIT_USAGE, f"no hub keypair in {folder}: run `hub keys init` first (same --data-dir / --curve-dir)")
    authorized = folder / security.AUTHORIZED / f"{name}.key"
    dest = (out.expanduser() if out else folder / security.CLIENTS / name)
    if (authorized.exists() or (dest / f"{name}.key_secret").exists()) and not force:
        fail(EXIT_USAGE, f"a client key named {name!r} already exists ({authorized}); pick another name, or --force")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for stale in dest.glob("*.key_secret"):  # one client keypair per folder (what the client loads)
            if stale.name != f"{name}.key_secret":
                fail(EXIT_USAGE, f"{dest} already holds another client keypair ({stale.name}); use another --out")
        public, secret = security.create_keypair(dest, name)
        shutil.copyfile(server_pub, dest / security.SERVER_KEY)
        authorized.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(public, authorized)
    except OSError as exc:
        fail(EXIT_CALL_FAILED, f"cannot write keys: {exc}")
    typer.echo(f"client {name!r} authorised ({authorized})")
    typer.echo(f"  its folder: {dest}  ({security.SERVER_KEY}, {public.name}, {secret.name})")
    typer.echo("copy that folder to the strategy machine (privately: it holds a secret key), delete it here, and "
               "there set QMT_HUB_CURVE=<folder> (or --curve-dir / curve_dir=). Restart the hub to let it in.")
    raise typer.Exit(EXIT_OK)


@keys_app.command("list")
def list_cmd(config: Optional[Path] = ConfigOpt, data_dir: Optional[Path] = DataDirOpt,
             curve_dir: Optional[Path] = CurveDirOpt) -> None:
    """The hub's public key and the authorised client keys (the allow-list)."""
    from hub import security
    from rpc_client.security import CurveKeyError, load_cert

    folder = _curve_dir(config, data_dir, curve_dir)
    server_pub = folder / security.SERVER_KEY
    typer.echo(f"keys folder {folder}")
    if server_pub.is_file():
        try:
            typer.echo(f"  hub       {load_cert(server_pub)[0].decode()}")
        except CurveKeyError as exc:
            typer.echo(f"  hub       unreadable: {exc}")
    else:
        typer.echo("  hub       no keypair (run `hub keys init`)")
    keys = security.authorized_keys(folder)
    typer.echo(f"  authorised clients: {len(keys)}  (in {folder / security.AUTHORIZED}; read at hub start)")
    for k in keys:
        typer.echo(f"    {k.name:<24} {k.public.decode()}")
    raise typer.Exit(EXIT_OK)


@keys_app.command("remove")
def remove_cmd(name: str = typer.Argument(..., help="The client's key name."),
               config: Optional[Path] = ConfigOpt, data_dir: Optional[Path] = DataDirOpt,
               curve_dir: Optional[Path] = CurveDirOpt) -> None:
    """Revoke a client: delete its key from authorized/ (takes effect when the hub restarts)."""
    from hub import security

    folder = _curve_dir(config, data_dir, curve_dir)
    path = folder / security.AUTHORIZED / f"{name}.key"
    if not path.is_file():
        fail(EXIT_USAGE, f"no authorised client {name!r} ({path} does not exist)")
    path.unlink()
    typer.echo(f"revoked {name!r}: removed {path}. Restart the hub for it to take effect.")
    raise typer.Exit(EXIT_OK)
