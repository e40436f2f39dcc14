"""The scenario layer: scenario files and what they change.

The scenario model and its loader (check everything, then apply), request
rules (forced responses, the Nth call, rate limits), chaos delivery, and token
policies. Depends on the spec and runtime layers.
"""
