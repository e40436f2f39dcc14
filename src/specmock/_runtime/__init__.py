"""The runtime layer: what a request does to state.

The engine runs an operation's action against the store; around it, fake data,
ids, listing (filters, sorting, pages), the journal of exchanges and the state
file. Depends on the spec layer and the base modules only.
"""
