# sysim firmware agent, real-cell mode: the board runs the firmware against its REAL machine and
# time (its ADC reads the real cell, its pins drive the real loads, it sleeps for real) and reports
# what the firmware does, stamped with the board's own clock, so that the host can replay the same
# decisions on the simulated cell and compare the real readings with the simulated voltage.
# Executed after kernel.py (Link, escape, format_exception, Reset, AgentQuit come from there).
#
#   agent -> host   H sysim-agent <proto> realcell-<impl>     B <cause> <t_us>
#                   P <pin> <0|1> <t_us>    R <adc> <u16> <t_us>    U <adc> <uv> <t_us>
#                   S <b|l|i> <ms|-1> <t_us>    D <ms|-1> <t_us>    O <text>    X <traceback>    E <t_us>
#   host -> agent   C ... (as in hardware-in-the-loop mode), then nothing: Ctrl-C ends the session.
#
# A deep sleep would reset the board out of the session, so it is a light sleep followed by a
# restart of the script that reports DEEPSLEEP_RESET.

_R = {"link": None, "acc": 0, "last": 0, "cause": None, "pins": {}, "adcs": {}}


def _rt_us():
    now = _RT.ticks_us()
    _R["acc"] += _RT.ticks_diff(now, _R["last"])
    _R["last"] = now
    return _R["acc"]


def _report(line):
    link = _R["link"]
    link.send(line)
    link.flush()


def _ident(obj):
    if isinstance(obj, _RPin):
        return obj._name, obj._p
    return str(obj), obj


class _RPin:
    def __init__(self, id, *args, **kw):
        self._name, real = _ident(id)
        self._p = _RM.Pin(real, *args, **kw)
        self._level = None

    def value(self, x=None):
        if x is None:
            return self._p.value()
        level = 1 if x else 0
        self._p.value(level)
        if self._name in _R["pins"] and level != self._level:
            self._level = level
            _report("P %s %d %d" % (self._name, level, _rt_us()))

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def toggle(self):
        self.value(0 if self._p.value() else 1)

    def init(self, *args, **kw):
        return self._p.init(*args, **kw)


class _RADC:
    def __init__(self, id, *args, **kw):
        self._name, real = _ident(id)
        self._a = _RM.ADC(real, *args, **kw)

    def read_u16(self):
        v = self._a.read_u16()
        if self._name in _R["adcs"]:
            _report("R %s %d %d" % (self._name, v, _rt_us()))
        return v

    def read_uv(self):
        v = self._a.read_uv()
        if self._name in _R["adcs"]:
            _report("U %s %d %d" % (self._name, v, _rt_us()))
        return v


def _sleeper(kind, real):
    def sleep_for(ms=None):
        _report("S %s %d %d" % (kind, -1 if ms is None else int(ms), _rt_us()))
        return real() if ms is None else real(ms)
    return sleep_for


def _rc_deepsleep(time_ms=None):
    _report("D %d %d" % (-1 if time_ms is None else int(time_ms), _rt_us()))
    if time_ms is None:
        _real_lightsleep()
    else:
        _real_lightsleep(time_ms)
    _R["cause"] = 4
    raise Reset()


def _real_lightsleep(ms=None):
    f = getattr(_RM, "lightsleep", None)
    if f is None:
        _RT.sleep_ms(ms if ms is not None else 1 << 30)
    elif ms is None:
        f()
    else:
        f(ms)


def _rc_reset_cause():
    return _R["cause"] if _R["cause"] is not None else _RM.reset_cause()


def install_realcell():
    import sys
    global _RT, _RM
    import machine as _m
    import time as _t
    _RM, _RT = _m, _t
    _R["last"] = _t.ticks_us()
    m = _Module("machine")
    for attr in dir(_m):
        if not attr.startswith("__"):
            setattr(m, attr, getattr(_m, attr))
    for wrapper, real in ((_RPin, _m.Pin), (_RADC, _m.ADC)):
        for attr in dir(real):
            if attr[:1].isupper():  # constants such as Pin.OUT, ADC.ATTN_11DB
                setattr(wrapper, attr, getattr(real, attr))
    m.Pin, m.ADC = _RPin, _RADC
    m.lightsleep = _sleeper("l", _real_lightsleep)
    m.idle = _sleeper("i", lambda ms=None: _m.idle())
    m.deepsleep = _rc_deepsleep
    m.reset_cause = _rc_reset_cause
    t = _Module("time")
    for attr in dir(_t):
        if not attr.startswith("__"):
            setattr(t, attr, getattr(_t, attr))
    t.sleep_ms = _sleeper("b", _t.sleep_ms)

    def sleep_us(us):
        _report("S b %d %d" % (int(us) // 1000, _rt_us()))
        _t.sleep_us(us)

    def sleep(seconds):
        t.sleep_ms(int(seconds * 1000))

    t.sleep_us, t.sleep = sleep_us, sleep
    sys.modules["machine"], sys.modules["time"] = m, t


class _Module:
    def __init__(self, name):
        self.__name__ = name


def rc_print(*args, **kw):
    sep, end = kw.get("sep", " "), kw.get("end", "\n")
    text = (" " if sep is None else sep).join([str(a) for a in args]) + ("\n" if end is None else end)
    for line in text.rstrip("\n").split("\n"):
        _report("O " + escape(line))


def serve_realcell(link, implementation, run_script):
    _R["link"] = link
    link.send("H sysim-agent %d realcell-%s" % (PROTOCOL, implementation))
    f = link.recv().split(" ")
    if len(f) != 9 or f[0] != "C":
        raise ProtocolFault("bad configuration line")
    _R["adcs"] = {} if f[7] == "-" else dict((item.split(":")[0], 1) for item in f[7].split(","))
    _R["pins"] = {} if f[8] == "-" else dict((name, 1) for name in f[8].split(","))
    while True:
        _report("B %d %d" % (_rc_reset_cause(), _rt_us()))
        try:
            run_script()
            _report("E %d" % _rt_us())
            return
        except Reset:
            continue
        except (KeyboardInterrupt, AgentQuit):
            return
        except Exception as exc:
            _report("X " + escape(format_exception(exc)))
            return
