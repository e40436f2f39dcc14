"""A contract command that cannot run as asked: exit status 2, with a reason that quotes no secret."""


class UsageError(Exception):
    """A bad command line, a spec that does not load, a journal that is not one."""
