"""A MicroPython board over a serial port (``runner = "serial:/dev/ttyACM0"``).

The bridge puts the agent on the board through the raw REPL (mpremote's serial transport, RAM
only: nothing is written to the board's flash) and then speaks the line protocol over the same
serial link. In hardware-in-the-loop mode (``board_mode = "hil"``) the board runs the firmware with
the emulated ``machine``/``time``: its ADC readings come from the simulated cell and its pins switch
the simulated loads, while the code itself runs on the real MCU. A port that disappears (a cable
pulled, a board reset) is a :class:`ChannelError` naming the port. In real-cell mode
(``board_mode = "real-cell"``) the board runs the firmware against its real ``machine``: see
:mod:`firmware_bridge.realcell`.
"""
from __future__ import annotations

import time
from pathlib import Path

from .channels import ChannelError, ChannelTimeout, _Lines, agent_path, agent_source

#: seconds to wait for the board's raw REPL
REPL_TIMEOUT_S = 10.0


def upload_code(script: Path, mode: str = "hil") -> str:
    """The program the bridge runs on the board: agent, firmware source, board entry point."""
    source = script.read_text(encoding="utf-8")
    api = agent_source() if mode == "hil" else "\n".join(
        agent_path(n).read_text(encoding="utf-8") for n in ("kernel.py", "realcell_api.py"))
    return (api + f"\n_MODE = {mode!r}\n_SCRIPT = {source!r}\n_NAME = {script.name!r}\n"
            + agent_path("board_main.py").read_text(encoding="utf-8"))


class SerialChannel:
    def __init__(self, port: str, script: str, baudrate: int = 115200, mode: str = "hil"):
        self.port, self.script, self.baudrate, self.mode = port, Path(script), baudrate, mode
        self.description = f"board on {port}"
        self.transport = None
        self._lines = _Lines()

    def open(self) -> None:
        try:
            from mpremote.transport import TransportError
            from mpremote.transport_serial import SerialTransport
        except ImportError:
            raise ChannelError("the serial runner needs mpremote and pyserial (pip install 'sysim[firmware]')") from None
        try:
            self.transport = SerialTransport(self.port, baudrate=self.baudrate, timeout=REPL_TIMEOUT_S)
            self.transport.enter_raw_repl(soft_reset=False, timeout_overall=REPL_TIMEOUT_S)
            self.transport.exec_raw_no_follow(upload_code(self.script, self.mode))
        except (TransportError, OSError) as exc:
            self._drop()
            raise ChannelError(f"cannot start the agent on the board at {self.port}: {exc}") from None
        self._lines = _Lines()

    def _vanished(self, exc) -> ChannelError:
        self._drop()
        return ChannelError(f"the serial port {self.port} vanished ({exc})")

    def send(self, line: str) -> None:
        try:
            self.transport.serial.write((line + "\n").encode())
        except Exception as exc:  # noqa: BLE001 - pyserial raises SerialException or OSError
            raise self._vanished(exc) from None

    def receive(self, timeout: float) -> str:
        lines = self._lines
        deadline = time.monotonic() + timeout
        while not lines.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelTimeout()
            ser = self.transport.serial
            try:
                ser.timeout = min(remaining, 1.0)
                chunk = ser.read(max(1, ser.in_waiting))
            except Exception as exc:  # noqa: BLE001
                raise self._vanished(exc) from None
            if chunk:
                lines.feed(chunk)
        return lines.pending.popleft()

    def restart(self) -> None:
        """Interrupt a hung firmware (Ctrl-C through the raw REPL) and start the agent again."""
        self.close()
        self.open()

    def diagnostics(self) -> str:
        return ""

    def close(self) -> None:
        if self.transport is None:
            return
        try:
            ser = self.transport.serial
            ser.write(b"Q\n")
            time.sleep(0.05)
            ser.write(b"\r\x03\x03")  # in case the firmware did not stop
            self.transport.exit_raw_repl()
        except Exception:  # noqa: BLE001 - the port may already be gone
            pass
        self._drop()

    def _drop(self) -> None:
        if self.transport is not None:
            try:
                self.transport.close()
            except Exception:  # noqa: BLE001
                pass
        self.transport = None
