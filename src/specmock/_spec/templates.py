"""Field values computed when something happens: `$now`, random counts, sums.

Declarations in specs and scenarios (lifecycle `onEnter`, an action's `set`)
are data, so the few computations they need are a tiny template language:

- ``$now``: the current time, as the documents write it;
- ``{$random: [low, high]}``: an integer in the range, from the seeded source;
- ``{$choice: [a, b, ...]}``: one of the values;
- ``{$faker: provider}``: a Faker value (``user_name``, ``catch_phrase``, ...);
- ``{$sum: [field, ...]}``: the sum of sibling fields, computed after them;
- ``{$caller: fallback}``: who is calling: the `subject` a scenario gives the
  request's token, else `fallback` (a stable value, never a random one).
"""

from __future__ import annotations

import random
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from .._clock import isoformat
from .._encoding import encode

if TYPE_CHECKING:
    from faker import Faker

OPERATORS = ("$random", "$choice", "$faker", "$sum", "$caller")


def template_errors(template: Any, where: str = "") -> list[str]:
    """What is wrong with a template, checked at load time."""
    errors: list[str] = []
    if isinstance(template, str) and template.startswith("$") and template != "$now":
        errors.append(f"{where or 'value'}: unknown placeholder {template!r} (only $now)")
    elif isinstance(template, dict):
        ops = [k for k in template if k.startswith("$")]
        if ops:
            op = ops[0]
            arg = template[op]
            if op not in OPERATORS or len(template) != 1:
                errors.append(f"{where or 'value'}: unknown operator {op!r} (known: {', '.join(OPERATORS)})")
            elif op == "$random" and not (
                isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, int) for a in arg) and arg[0] <= arg[1]
            ):
                errors.append(f"{where}: $random takes [low, high] integers")
            elif op in ("$choice", "$sum") and not (isinstance(arg, list) and arg):
                errors.append(f"{where}: {op} takes a non-empty list")
            elif op == "$caller" and not (isinstance(arg, str) and arg):
                errors.append(f"{where}: $caller takes the fallback value, a non-empty string")
            elif op == "$faker":
                problem = _provider_problem(arg) if isinstance(arg, str) else "takes a provider's name"
                if problem:
                    errors.append(f"{where}: $faker: {problem}")
        else:
            for key, sub in template.items():
                errors += template_errors(sub, f"{where}.{key}" if where else key)
    elif isinstance(template, list):
        for i, sub in enumerate(template):
            errors += template_errors(sub, f"{where}[{i}]")
    return errors


@cache
def _provider_problem(name: str) -> str | None:
    """Why `name` is not a Faker provider whose values can be stored, or None. A value is
    stored as JSON: a provider giving a date object, bytes or a set would make every write
    of it fail, so it is refused here, at load, with the place that names it. (Faker is
    imported here, on the first `$faker` met.)"""
    from faker import Faker

    faker = Faker()
    if name.startswith("_") or not callable(getattr(faker, name, None)):
        return f"no Faker provider {name!r}"
    faker.seed_instance(0)
    try:
        sample = getattr(faker, name)()
    except TypeError:
        return f"Faker's {name!r} needs arguments a template cannot give"
    try:
        encode(sample)
    except (TypeError, ValueError):
        kind = type(sample).__name__
        return f"Faker's {name!r} gives {kind} values, which JSON cannot hold (pick one that gives text or numbers)"
    return None


def render(template: Any, now: datetime, rng: random.Random, faker: Faker, caller: str | None = None) -> Any:
    """The value of `template` now, drawing from `rng` and `faker`; `caller` is the subject of
    the request's credential, where a scenario names one."""
    if template == "$now":
        return isoformat(now)
    if isinstance(template, list):
        return [render(v, now, rng, faker, caller) for v in template]
    if not isinstance(template, dict):
        return template
    if "$caller" in template:
        return caller if caller else template["$caller"]
    if "$random" in template:
        low, high = template["$random"]
        return rng.randint(low, high)
    if "$choice" in template:
        return render(rng.choice(template["$choice"]), now, rng, faker, caller)
    if "$faker" in template:
        faker.seed_instance(rng.getrandbits(32))
        return getattr(faker, template["$faker"])()
    out: dict[str, Any] = {}
    sums: dict[str, list[str]] = {}
    for key, sub in template.items():
        if isinstance(sub, dict) and "$sum" in sub:
            sums[key] = sub["$sum"]
        else:
            out[key] = render(sub, now, rng, faker, caller)
    for key, names in sums.items():
        out[key] = sum(v for v in (out.get(n) for n in names) if isinstance(v, (int, float)))
    return {key: out[key] for key in template}
