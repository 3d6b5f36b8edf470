"""``@frozen``: a frozen dataclass that costs little to define.

``@dataclass(frozen=True)`` writes the source of six methods for each class
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``) and compiles each with ``exec`` when the module loads: about
5 M instructions for a class of eight fields, most of what ``status`` or a
quiet ``poll`` spent beyond Python's own start-up (issue 15). The records
that every command defines (the config, the rules, the status...) use
``@frozen`` instead: the class is the same dataclass (``dataclasses.fields``,
``replace``, ``asdict`` and ``is_dataclass`` see it as one, its
``__dataclass_params__`` say frozen, eq, init, repr), and its methods behave as
the generated ones do (construction by position or keyword with defaults and
default factories, ``__post_init__``, ``==`` and ``hash`` over the fields,
``repr``, assignment and deletion refused with ``FrozenInstanceError``), but
they are shared functions closed over the class's fields: nothing is compiled.
A class that defines one of these methods itself, inherits from a dataclass,
or has ``InitVar`` or keyword-only fields is left to ``dataclass(frozen=True)``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError
from operator import attrgetter
from reprlib import recursive_repr

# A class defining one of these is handed to dataclass() itself: it keeps, refuses or replaces them by rules
# of its own that are not worth copying here.
_GENERATED = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")


def frozen(cls: type) -> type:
    """``cls`` as ``@dataclass(frozen=True)`` would make it, with the same behaviour, defined without
    compiling code."""
    if (any(name in cls.__dict__ for name in _GENERATED)
            or any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:])):
        return dataclasses.dataclass(frozen=True)(cls)
    undocumented = cls.__doc__ is None
    if undocumented:
        cls.__doc__ = "-"  # dataclass() would otherwise ask inspect for a signature of the __init__ not there yet
    cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)  # fields only: no method written
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__) or any(f.kw_only for f in fields):
        raise TypeError(f"@frozen does not take InitVar, ClassVar or keyword-only fields ({cls.__qualname__})")
    params = cls.__dataclass_params__
    params.init = params.repr = params.eq = params.frozen = True
    _add_init(cls, fields)
    _add_comparison(cls, [f.name for f in fields if f.compare],
                    [f.name for f in fields if (f.compare if f.hash is None else f.hash)])
    _add_repr(cls, [f.name for f in fields if f.repr])
    _add_frozen(cls, {f.name for f in fields})
    if undocumented:
        cls.__doc__ = f"{cls.__name__}({', '.join(_described(f) for f in fields if f.init)})"
    return cls


def _described(field: dataclasses.Field) -> str:
    default = ("" if field.default is MISSING and field.default_factory is MISSING
               else " = <factory>" if field.default is MISSING else f" = {field.default!r}")
    return f"{field.name}: {field.type!r}{default}"


def _add_init(cls: type, fields: tuple[dataclasses.Field, ...]) -> None:
    names = tuple(f.name for f in fields if f.init)
    known = frozenset(names)
    defaults = {f.name: f.default for f in fields if f.init and f.default is not MISSING}
    factories = {f.name: f.default_factory for f in fields if f.init and f.default_factory is not MISSING}
    # fields left out of __init__ take their default or a new value of their factory
    fixed = {f.name: f.default for f in fields if not f.init and f.default is not MISSING}
    made = {f.name: f.default_factory for f in fields if not f.init and f.default_factory is not MISSING}
    post_init = getattr(cls, "__post_init__", None) is not None
    qualname = f"{cls.__qualname__}.__init__()"
    whole = len(names)
    required = sum(1 for name in names if name not in defaults and name not in factories)
    takes = f"from {required + 1} to {whole + 1}" if required < whole else str(whole + 1)  # as Python words it

    def __init__(self, *args, **kwargs):
        if len(args) == whole and not kwargs and not fixed and not made:
            values = dict(zip(names, args))  # every field by position, the common case
        else:
            if len(args) > whole:
                raise TypeError(f"{qualname} takes {takes} positional argument{'s' if whole else ''} "
                                f"but {len(args) + 1} were given")
            values = dict(zip(names, args))
            if kwargs:
                unknown = kwargs.keys() - known
                if unknown:
                    raise TypeError(f"{qualname} got an unexpected keyword argument {min(unknown)!r}")
                twice = kwargs.keys() & values.keys()
                if twice:
                    raise TypeError(f"{qualname} got multiple values for argument {min(twice)!r}")
                values.update(kwargs)
            if len(values) < whole:
                missing = [name for name in names if name not in values and name not in defaults
                           and name not in factories]
                if missing:
                    quoted = [repr(name) for name in missing]
                    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
                    raise TypeError(f"{qualname} missing {len(missing)} required positional argument"
                                    f"{'s' if len(missing) > 1 else ''}: {listed}")
                for name in names:
                    if name not in values:
                        values[name] = defaults[name] if name in defaults else factories[name]()
            values.update(fixed)
            for name, factory in made.items():
                values[name] = factory()
        self.__dict__.update(values)  # past the refusing __setattr__, as the generated code does
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = qualname[:-2]
    cls.__init__ = __init__


def _tuple_of(names: list[str]):
    """The function of a record to the tuple of these fields of it (what the generated methods compare)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda record: (one(record),)
    return lambda record: ()


def _add_comparison(cls: type, compared: list[str], hashed: list[str]) -> None:
    key, hash_key = _tuple_of(compared), _tuple_of(hashed)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self):
        return hash(hash_key(self))

    cls.__eq__, cls.__hash__ = __eq__, __hash__


def _add_repr(cls: type, names: list[str]) -> None:
    @recursive_repr()
    def __repr__(self):
        return (f"{self.__class__.__qualname__}("
                + ", ".join([f"{name}={getattr(self, name)!r}" for name in names]) + ")")

    cls.__repr__ = __repr__


def _add_frozen(cls: type, names: set[str]) -> None:
    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    cls.__setattr__, cls.__delattr__ = __setattr__, __delattr__
