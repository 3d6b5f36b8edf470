"""``@frozen`` records behave as ``@dataclass(frozen=True)`` ones, ``@mutable`` ones as ``@dataclass``:
the same class body under both decorators gives the same construction, errors, equality, hash, repr,
immutability and dataclass helpers (the config, rules and status records the commands read are
``@frozen``), without loading ``dataclasses`` until a caller asks for the dataclass view."""
from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
from dataclasses import dataclass

import pytest

from bot import record
from bot.record import frozen, mutable


def body(decorate, field):
    """Three classes, as the bot's records use dataclasses: plain fields, defaults, default factories,
    fields out of ``compare``/``repr``/``init``, a property, a ``__post_init__``, one field, none."""

    @decorate
    class Point:
        x: int
        y: int = 0
        tags: tuple[str, ...] = ()
        notes: dict = field(default_factory=dict)
        cache: str = field(default="", compare=False, repr=False)
        made: list = field(default_factory=list, init=False)

        @property
        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

    @decorate
    class Checked:
        """A record that checks itself."""
        value: int

        def __post_init__(self):
            if self.value < 0:
                raise ValueError(f"negative: {self.value}")

    @decorate
    class Empty:
        pass

    return Point, Checked, Empty


REAL = body(dataclass(frozen=True), dataclasses.field)
CHEAP = body(frozen, record.field)
REAL_MUTABLE = body(dataclass, dataclasses.field)
CHEAP_MUTABLE = body(mutable, record.field)


def outcome(make):
    """What a call gives: its result's repr, or the error's type and message."""
    try:
        return repr(make())
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return type(error).__name__, str(error).replace(".<locals>", "")


CALLS = [
    lambda P, C, E: P(1),
    lambda P, C, E: P(1, 2, ("a",), {"k": 1}, "c"),
    lambda P, C, E: P(x=3, tags=("b",)),
    lambda P, C, E: P(1, y=5),
    lambda P, C, E: P(),
    lambda P, C, E: P(1, 2, (), {}, "", "extra"),
    lambda P, C, E: P(1, x=2),
    lambda P, C, E: P(1, colour="red"),
    lambda P, C, E: P(1, made=[]),
    lambda P, C, E: C(4),
    lambda P, C, E: C(-1),
    lambda P, C, E: C(),
    lambda P, C, E: E(),
    lambda P, C, E: E(1),
    lambda P, C, E: P(1, 2).norm,
    lambda P, C, E: P(1, 2) == P(1, 2, cache="other"),
    lambda P, C, E: P(1, 2) == P(2, 1),
    lambda P, C, E: P(1) == (1, 0, (), {}),
    lambda P, C, E: C(1) == C(1),
    lambda P, C, E: E() == E(),
    lambda P, C, E: hash(C(7)) == hash(C(7)),
    lambda P, C, E: hash(P(1, tags=("a",))),
    lambda P, C, E: dataclasses.replace(P(1, 2), y=9),
    lambda P, C, E: dataclasses.replace(C(1), value=-2),
    lambda P, C, E: record.replace(P(1, 2), y=9, tags=("r",)),
    lambda P, C, E: record.replace(C(1), value=-2),
    lambda P, C, E: record.replace(P(1), made=[1]),
    lambda P, C, E: record.replace(P(1), colour="red"),
    lambda P, C, E: dataclasses.asdict(P(1, tags=("t",))),
    lambda P, C, E: dataclasses.astuple(C(3)),
    lambda P, C, E: [(f.name, f.init, f.compare) for f in dataclasses.fields(P)],
    lambda P, C, E: (dataclasses.is_dataclass(P), dataclasses.is_dataclass(P(1)), P.__match_args__),
    lambda P, C, E: P(1).made is not P(1).made and P(1).notes is not P(1).notes,
    lambda P, C, E: C.__doc__,
    lambda P, C, E: copy.deepcopy(P(1, notes={"a": [1]})) == P(1, notes={"a": [1]}),
]


@pytest.mark.parametrize("call", range(len(CALLS)))
def test_a_frozen_record_behaves_as_a_frozen_dataclass(call):
    assert outcome(lambda: CALLS[call](*CHEAP)) == outcome(lambda: CALLS[call](*REAL))


@pytest.mark.parametrize("call", range(len(CALLS)))
def test_a_mutable_record_behaves_as_a_dataclass(call):
    assert outcome(lambda: CALLS[call](*CHEAP_MUTABLE)) == outcome(lambda: CALLS[call](*REAL_MUTABLE))


@pytest.mark.parametrize("change", [lambda p: setattr(p, "x", 2) or p, lambda p: delattr(p, "y") or p.y,
                                    lambda p: hash(p), lambda p: setattr(p, "other", 1) or p.other])
def test_a_mutable_record_can_be_changed_and_is_not_hashable(change):
    assert outcome(lambda: change(CHEAP_MUTABLE[0](1))) == outcome(lambda: change(REAL_MUTABLE[0](1)))


@pytest.mark.parametrize("decorate", [frozen, dataclass(frozen=True)])
@pytest.mark.parametrize("make", ["default_after", "mutable_default"])
def test_a_class_a_dataclass_refuses_is_refused_alike(decorate, make):
    def define():
        if make == "default_after":
            class Bad:
                a: int = 1
                b: int
        else:
            class Bad:
                a: list = []
        return decorate(Bad)

    expected = {"default_after": (TypeError, "non-default argument 'b' follows default argument"),
                "mutable_default": (ValueError, "mutable default <class 'list'> for field a is not allowed: "
                                                "use default_factory")}[make]
    with pytest.raises(expected[0], match=expected[1].replace("(", r"\(").replace(")", r"\)")):
        define()


def test_defining_and_using_records_loads_no_dataclasses_until_asked():
    code = """
import sys
from bot.record import frozen, field, replace
@frozen
class Paths:
    rules: str
    extra: tuple = field(default_factory=tuple)
a = Paths("r")
assert a == Paths("r") and hash(a) == hash(Paths("r")) and repr(a) == "Paths(rules='r', extra=())"
assert replace(a, rules="s").rules == "s"
before = "dataclasses" in sys.modules
import dataclasses
assert [f.name for f in dataclasses.fields(a)] == ["rules", "extra"] and dataclasses.is_dataclass(Paths)
assert dataclasses.asdict(a) == {"rules": "r", "extra": ()}
try:
    a.rules = "x"
except dataclasses.FrozenInstanceError as error:
    print(before, error)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False cannot assign to field 'rules'", done.stderr


@pytest.mark.parametrize("change", [
    lambda p: setattr(p, "x", 2), lambda p: setattr(p, "other", 2), lambda p: delattr(p, "x"),
    lambda p: object.__setattr__(p, "x", 2) or p.x,  # the escape hatch dataclasses document still works
])
def test_a_frozen_record_cannot_be_changed(change):
    assert outcome(lambda: change(CHEAP[0](1))) == outcome(lambda: change(REAL[0](1)))


@frozen
class Stored:
    """A record sent to a worker or kept: pickled."""
    name: str
    pages: tuple[int, ...] = ()


def test_a_frozen_record_keeps_its_params_and_survives_a_pickle():
    params = Stored.__dataclass_params__
    assert (params.init, params.repr, params.eq, params.frozen, params.order) == (True, True, True, True, False)
    record = Stored("a.pdf", (1, 2))
    assert pickle.loads(pickle.dumps(record)) == record
    assert vars(copy.copy(record)) == vars(record)


def test_a_class_with_methods_of_its_own_is_left_to_dataclass():
    @frozen
    class Named:
        name: str

        def __repr__(self):
            return f"<{self.name}>"

    assert repr(Named("a")) == "<a>"
    assert Named("a") == Named("a") and hash(Named("a")) == hash(Named("a"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Named("a").name = "b"
