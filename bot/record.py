"""``@frozen`` (and ``@mutable``): dataclasses that cost little to define.

``@dataclass(frozen=True)`` writes the source of six methods for each class
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``) and compiles each with ``exec`` when the module loads: about
4 M instructions for a class of eight fields; and the ``dataclasses`` module
itself loads ``inspect`` (with ``ast``, ``dis``, ``tokenize``): 28 M more.
Together most of what ``status`` or a quiet ``poll`` spent beyond Python's own
start-up (issue 15). The records that every command defines (the config, the
rules, the status...) use ``@frozen`` instead; it behaves as
``@dataclass(frozen=True)`` (tests/test_record.py compares the two on one class
body): construction by position or keyword with defaults and default factories
(``field(default_factory=...)`` from this module), ``__post_init__``, ``==``
and ``hash`` over the compared fields, ``repr``, assignment and deletion
refused with ``FrozenInstanceError``, ``__match_args__``. Its methods are
shared functions closed over the class's fields: nothing is compiled. The
class is a dataclass for ``dataclasses.fields``, ``replace``, ``asdict`` and
``is_dataclass``: its ``__dataclass_fields__`` and ``__dataclass_params__`` are
made (and ``dataclasses`` imported) the first time someone asks for them.
``replace`` here does what ``dataclasses.replace`` does without that.

A class that defines one of the generated methods itself, inherits from a
dataclass, or has ``ClassVar``/``InitVar`` annotations or a
``dataclasses.field`` is handed to ``dataclasses.dataclass`` as it is.
"""
from __future__ import annotations

import threading
from operator import attrgetter
from reprlib import recursive_repr

# A class defining one of these is handed to dataclass() itself: it keeps, refuses or replaces them by rules
# of its own that are not worth copying here.
_GENERATED = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")
_SPECS = "__record_fields__"  # the class's own fields, in order (Field below)
_MADE = threading.Lock()  # the dataclass view of a class is made once, whichever thread asks first


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # no default (dataclasses has its own, which this module does not import)


class Field:
    """What ``field()`` says of one field (as ``dataclasses.field``: a default or a default factory,
    and whether the field is in ``__init__``, ``repr``, ``==`` and ``hash``)."""

    __slots__ = ("name", "type", "default", "default_factory", "init", "repr", "hash", "compare")

    def __init__(self, default=MISSING, default_factory=MISSING, init=True, repr=True, hash=None, compare=True):
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name, self.type = None, None
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.hash, self.compare = init, repr, hash, compare


def field(*, default=MISSING, default_factory=MISSING, init=True, repr=True, hash=None, compare=True):
    """A field of a ``@frozen``/``@mutable`` record with more than a plain default (as ``dataclasses.field``)."""
    return Field(default, default_factory, init, repr, hash, compare)


def frozen(cls: type) -> type:
    """``cls`` as ``@dataclass(frozen=True)`` would make it, with the same behaviour, defined without
    compiling code or loading ``dataclasses``."""
    return _record(cls, frozen=True)


def mutable(cls: type) -> type:
    """``cls`` as ``@dataclass`` would make it (fields may be assigned; ``==`` over the fields; not
    hashable), defined without compiling code or loading ``dataclasses``."""
    return _record(cls, frozen=False)


def replace(obj, /, **changes):
    """A copy of the record ``obj`` with ``changes`` (as ``dataclasses.replace``, whose errors it gives)."""
    specs = type(obj).__dict__.get(_SPECS)
    if specs is None or any(name not in specs or not specs[name].init for name in changes):
        import dataclasses  # any other dataclass, and the errors worded as dataclasses words them

        return dataclasses.replace(obj, **changes)
    values = {name: getattr(obj, name) for name, spec in specs.items() if spec.init}
    values.update(changes)
    return type(obj)(**values)


def _record(cls: type, frozen: bool) -> type:
    own = cls.__dict__
    annotations = own.get("__annotations__", {})
    if (any(name in own for name in _GENERATED) or any(_is_dataclass(base) for base in cls.__mro__[1:])
            or any(_special(kind) for kind in annotations.values())
            or any(type(value).__module__ == "dataclasses" for value in own.values())):
        import dataclasses  # not at the top: loaded only for the classes left to it

        return dataclasses.dataclass(frozen=frozen)(cls)
    specs: dict[str, Field] = {}
    for name, kind in annotations.items():
        value = own.get(name, MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name, spec.type = name, kind
        if spec.default is not MISSING and type(spec.default).__hash__ is None:  # as dataclasses refuses it
            raise ValueError(f"mutable default {type(spec.default)} for field {name} is not allowed: "
                             "use default_factory")
        if isinstance(value, Field):  # the class keeps a plain default, as a dataclass does
            if spec.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        specs[name] = spec
    fields = list(specs.values())
    init = [f for f in fields if f.init]
    seen_default = None
    for f in init:  # a dataclass's __init__ could not be written either
        if f.default is MISSING and f.default_factory is MISSING:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        else:
            seen_default = f.name
    setattr(cls, _SPECS, specs)
    cls.__match_args__ = tuple(f.name for f in init)
    cls.__dataclass_fields__ = _DataclassView(cls, "__dataclass_fields__", frozen)
    cls.__dataclass_params__ = _DataclassView(cls, "__dataclass_params__", frozen)
    if cls.__doc__ is None:
        cls.__doc__ = f"{cls.__name__}({', '.join(_described(f) for f in init)})"
    _add_init(cls, fields)
    _add_comparison(cls, [f.name for f in fields if f.compare],
                    [f.name for f in fields if (f.compare if f.hash is None else f.hash)], frozen)
    _add_repr(cls, [f.name for f in fields if f.repr])
    if frozen:
        _add_frozen(cls, set(specs))
    if "__replace__" not in own:  # copy.replace (Python 3.13), as dataclasses gives it
        cls.__replace__ = replace
    return cls


def _is_dataclass(klass: type) -> bool:
    return "__dataclass_fields__" in klass.__dict__ or any(
        "__dataclass_fields__" in vars(k) for k in klass.__mro__[1:])


def _special(kind) -> bool:
    """Whether an annotation names ClassVar or InitVar (a string under ``from __future__ import annotations``)."""
    text = kind if isinstance(kind, str) else repr(kind)
    return any(word in text for word in ("ClassVar", "InitVar"))


class _DataclassView:
    """``__dataclass_fields__`` or ``__dataclass_params__`` of a record, made on first use: the
    ``dataclasses`` module loads only for a caller of ``fields``, ``asdict``, ``is_dataclass``..."""

    def __init__(self, owner: type, name: str, frozen: bool):
        self.owner, self.name, self.frozen = owner, name, frozen

    def __get__(self, obj, klass=None):
        with _MADE:
            if isinstance(self.owner.__dict__.get(self.name), _DataclassView):
                _make_dataclass(self.owner, self.frozen)
        return self.owner.__dict__[self.name]


def _make_dataclass(cls: type, frozen: bool) -> None:
    """Give ``cls`` what ``dataclasses.dataclass`` gives a class, besides the methods it has."""
    import dataclasses  # not at the top: the reason for this module

    specs = cls.__dict__[_SPECS]
    kept = {}
    for name, spec in specs.items():
        kept[name] = cls.__dict__.get(name, MISSING)
        setattr(cls, name, dataclasses.field(
            default=dataclasses.MISSING if spec.default is MISSING else spec.default,
            default_factory=dataclasses.MISSING if spec.default_factory is MISSING else spec.default_factory,
            init=spec.init, repr=spec.repr, hash=spec.hash, compare=spec.compare))
    del cls.__dataclass_fields__, cls.__dataclass_params__
    dataclasses.dataclass(init=False, repr=False, eq=False)(cls)  # fields and params only: no method written
    params = cls.__dataclass_params__
    params.init = params.repr = params.eq = True
    params.frozen = frozen
    for name, value in kept.items():  # dataclass() already put back the plain defaults; nothing else
        if value is MISSING and name in cls.__dict__:
            delattr(cls, name)


def _described(field: Field) -> str:
    default = ("" if field.default is MISSING and field.default_factory is MISSING
               else " = <factory>" if field.default is MISSING else f" = {field.default!r}")
    return f"{field.name}: {field.type!r}{default}"


def _add_init(cls: type, fields: list[Field]) -> None:
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
        if fixed or made:
            values = bound(args, kwargs)
        elif not args and len(kwargs) == whole and kwargs.keys() == known:
            values = kwargs  # every field by keyword (a row of the store)
        elif len(args) == whole and not kwargs:
            values = zip(names, args)  # every field by position
        else:
            values = bound(args, kwargs)
        self.__dict__.update(values)  # past a frozen record's refusing __setattr__, as the generated code goes
        if post_init:
            self.__post_init__()

    def bound(args: tuple, kwargs: dict) -> dict:
        """Each field's value from the arguments, defaults and factories; Python's errors for the others."""
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
        return values

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


def _add_comparison(cls: type, compared: list[str], hashed: list[str], frozen: bool) -> None:
    key, hash_key = _tuple_of(compared), _tuple_of(hashed)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self):
        return hash(hash_key(self))

    cls.__eq__ = __eq__
    cls.__hash__ = __hash__ if frozen else None  # a dataclass that can change is not hashable


def _add_repr(cls: type, names: list[str]) -> None:
    @recursive_repr()
    def __repr__(self):
        return (f"{self.__class__.__qualname__}("
                + ", ".join([f"{name}={getattr(self, name)!r}" for name in names]) + ")")

    cls.__repr__ = __repr__


def _add_frozen(cls: type, names: set[str]) -> None:
    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise _frozen_error(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise _frozen_error(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    cls.__setattr__, cls.__delattr__ = __setattr__, __delattr__


def _frozen_error(message: str) -> Exception:
    from dataclasses import FrozenInstanceError  # what callers catch; loaded only when someone tries

    return FrozenInstanceError(message)
