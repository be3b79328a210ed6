"""`hub service`: start the hub at boot, without a login, restarted when it fails.

Windows (where MiniQMT lives): a Task Scheduler task (no extra package, works on every Windows
edition): boot trigger, runs whether anyone is logged on or not, restarted every minute on
failure (999 times), no time limit, one instance. It runs `python -m hub start --config FILE
--log-file <data_dir>/logs/hub.log` (rotating log files). `hub service install` registers it
with `schtasks /Create /XML`; the task XML is written to `<data_dir>/service/` first, so what is
registered can be read. Linux: the same command prints a systemd unit (Restart=on-failure) and
where to put it; macOS: a launchd plist.

Everything here is pure (definitions and command lines) except `run`, so it is tested on any OS.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

TASK_NAME = "qmt-hub"


@dataclass(frozen=True)
class ServiceSpec:
    config: Path
    data_dir: Path
    python: str = sys.executable
    name: str = TASK_NAME
    user: str = ""  # Windows: "" = SYSTEM; else DOMAIN\\user (schtasks asks for the password)

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "hub.log"

    def argv(self) -> list[str]:
        """The hub's command line as the service runs it."""
        return [self.python, "-m", "hub", "start", "--config", str(self.config), "--log-file", str(self.log_file)]


def windows_task_xml(spec: ServiceSpec) -> str:
    """A Task Scheduler 1.2 definition (UTF-16 when written, as schtasks wants)."""
    args = " ".join(_win_quote(a) for a in spec.argv()[1:])
    principal = ("<UserId>S-1-5-18</UserId>\n      <RunLevel>HighestAvailable</RunLevel>" if not spec.user else
                 f"<UserId>{escape(spec.user)}</UserId>\n      <LogonType>Password</LogonType>\n"
                 f"      <RunLevel>HighestAvailable</RunLevel>")
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>qmt-hub: shares one MiniQMT account between strategies (hub start --config {escape(str(spec.config))})</Description>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
      <Delay>PT30S</Delay>
    </BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      {principal}
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(spec.python)}</Command>
      <Arguments>{escape(args)}</Arguments>
      <WorkingDirectory>{escape(str(spec.data_dir))}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
"""


def systemd_unit(spec: ServiceSpec) -> str:
    return f"""[Unit]
Description=qmt-hub (hub start --config {spec.config})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={" ".join(shlex.quote(a) for a in spec.argv())}
WorkingDirectory={spec.data_dir}
Restart=on-failure
RestartSec=10
KillSignal=SIGTERM
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
"""


def launchd_plist(spec: ServiceSpec) -> str:
    items = "\n".join(f"    <string>{escape(a)}</string>" for a in spec.argv())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>com.qmt-hub.{escape(spec.name)}</string>
  <key>ProgramArguments</key>
  <array>
{items}
  </array>
  <key>WorkingDirectory</key><string>{escape(str(spec.data_dir))}</string>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
</dict>
</plist>
"""


def windows_commands(action: str, spec: ServiceSpec, xml_path: Path) -> list[list[str]]:
    """The schtasks command lines of one action."""
    if action == "install":
        cmd = ["schtasks", "/Create", "/TN", spec.name, "/XML", str(xml_path), "/F"]
        if spec.user:
            cmd += ["/RU", spec.user, "/RP", "*"]
        return [cmd]
    return {
        "uninstall": [["schtasks", "/End", "/TN", spec.name], ["schtasks", "/Delete", "/TN", spec.name, "/F"]],
        "start": [["schtasks", "/Run", "/TN", spec.name]],
        "stop": [["schtasks", "/End", "/TN", spec.name]],
        "status": [["schtasks", "/Query", "/TN", spec.name, "/V", "/FO", "LIST"]],
    }[action]


def systemd_commands(action: str, spec: ServiceSpec) -> list[list[str]]:
    unit = f"{spec.name}.service"
    return {
        "install": [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", unit]],
        "uninstall": [["systemctl", "disable", "--now", unit]],
        "start": [["systemctl", "start", unit]],
        "stop": [["systemctl", "stop", unit]],
        "status": [["systemctl", "status", "--no-pager", unit]],
    }[action]


def write_task_xml(spec: ServiceSpec) -> Path:
    folder = spec.data_dir / "service"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.name}.xml"
    path.write_text(windows_task_xml(spec), encoding="utf-16")
    return path


def run(commands: Sequence[Sequence[str]]) -> tuple[int, str]:
    """Run the commands in order, stop at the first failure; (exit code, combined output)."""
    out = []
    for cmd in commands:
        try:
            proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 1, f"{' '.join(cmd)}: {exc}"
        out.append((proc.stdout or "") + (proc.stderr or ""))
        if proc.returncode != 0:
            return proc.returncode, "\n".join(out)
    return 0, "\n".join(out)


def _win_quote(arg: str) -> str:
    return f'"{arg}"' if (" " in arg or "\t" in arg or not arg) else arg
