"""What a name or an attribute evaluates to before it is called: an imported name, a builtin,
a method of a list, a dict or a string the evaluator holds. Each ``call`` follows what Python
does where the values are known, and answers UNKNOWN (or forgets the value) where not."""

from __future__ import annotations

from conv_lint.interpreter.pyvalues import as_sequence, bounded_text, hashable, safe_template
from conv_lint.interpreter.values import UNKNOWN, ListValue
from conv_lint.records import record

# A semantics' answer for a value it does not know: the evaluator goes on with its own rules.
UNHANDLED = object()
# A dict method's answer when the dict changed in a way not followed: its names forget it.
FORGET = object()


@record(frozen=True)
class Qualified:
    """A reference to an imported name, e.g. torch.nn.Conv2d, not yet called."""

    name: str


@record(frozen=True)
class Builtin:
    """A Python builtin (``len``, ``range``...) used as a value."""

    name: str


@record(frozen=True)
class StrFormat:
    """``"...".format`` of a known string, waiting for its arguments."""

    template: str

    def call(self, args, complete):
        if not complete or not all(isinstance(a, (int, float, str)) for a in args) \
                or not safe_template(self.template):
            return UNKNOWN
        try:
            return bounded_text(self.template.format(*args))
        except (IndexError, KeyError, ValueError):
            return UNKNOWN


# Methods that leave a list as it is; any other (pop, sort, remove...) may change it.
READING_LIST_METHODS = frozenset({"index", "count", "copy"})


@record(eq=False)
class ListMethod:
    """A list method: append and extend followed; any other change forgets the items. What a
    method other than those returns is unknown."""

    target: ListValue
    name: str

    def call(self, args, complete):
        if self.target.items is None:
            return UNKNOWN
        if complete and self.name == "append" and len(args) == 1:
            self.target.items.append(args[0])
            return None
        if complete and self.name == "extend" and len(args) == 1 \
                and as_sequence(args[0]) is not None:
            self.target.items.extend(as_sequence(args[0]))
            return None
        self.target.items = None
        return UNKNOWN


_DICT_READS = frozenset({"get", "keys", "values", "items", "copy"})


@record(eq=False)
class DictMethod:
    """A method of a dict the interpreter holds: reads and changes followed where the keys are
    known (``d.keys()`` and the other views give a tuple); any other change gives FORGET."""

    target: dict
    name: str

    def call(self, args, kwargs, complete):
        target, name = self.target, self.name
        unfollowed = UNKNOWN if name in _DICT_READS else FORGET
        if not complete:
            return unfollowed
        if not args and not kwargs:
            if name in ("keys", "values", "items"):
                return tuple(getattr(target, name)())
            if name == "copy":
                return dict(target)
            if name == "clear":
                target.clear()
                return None
        if name == "update" and len(args) <= 1 and all(isinstance(a, dict) for a in args):
            target.update(*args, **kwargs)
            return None
        if kwargs or len(args) not in (1, 2) or args[0] is UNKNOWN or not hashable(args[0]):
            return unfollowed
        key, default = args[0], (args[1] if len(args) == 2 else None)
        if name == "get":
            return target.get(key, default)
        if name == "setdefault":
            return target.setdefault(key, default)
        if name == "pop" and (key in target or len(args) == 2):
            return target.pop(key, default)
        return unfollowed
